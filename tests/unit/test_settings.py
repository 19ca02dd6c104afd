"""The settings: one validated object, every field from its EBOX_* variable, secrets also as files.

What an operator relies on: each setting docs/OPERATIONS.md lists can be set from the
environment under that name, a bad value is refused with one line naming the
variable (never echoing a secret), and a secret given as `*_FILE` is the one the
ledger loads.
"""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path
from typing import Any

import pytest

from ebox.adapters.home import SecretUnavailable, load_secrets
from ebox.api.feed import event_provider_id
from ebox.api.oidc import load_person_seed, person_audience
from ebox.api.settings import SECRETS, Settings, SettingsError, env_name
from ebox.api.tokens import load_token_seed

REPO = Path(__file__).resolve().parents[2]
SEED = bytes(range(32))
SEED_B64 = base64.b64encode(SEED).decode()
SHORT_B64 = base64.b64encode(b"k" * 16).decode()

# variable, raw value, field, value read: one row for every field of Settings.
FROM_ENVIRONMENT: list[tuple[str, str, str, Any]] = [
    ("EBOX_HOME", "/srv/ebox", "home", Path("/srv/ebox")),
    ("EBOX_DATABASE_URL", "postgresql+psycopg2://db/ebox", "database_url", None),
    ("EBOX_LEDGER_ORIGIN", "ledger.example/log", "ledger_origin", None),
    ("EBOX_ENVIRONMENT", "acceptance", "environment", None),
    ("EBOX_PUBLIC_URL", "https://ebox.example/", "public_url", "https://ebox.example"),
    ("EBOX_TOKEN_TTL", "600", "token_ttl_seconds", 600),
    ("EBOX_MAX_UPLOAD_BYTES", "1024", "max_upload_bytes", 1024),
    ("EBOX_MAX_REQUEST_BYTES", "2048", "max_request_bytes", 2048),
    ("EBOX_HEADER_TIMEOUT", "1.5", "header_timeout_seconds", 1.5),
    ("EBOX_BODY_TIMEOUT", "2", "body_timeout_seconds", 2.0),
    ("EBOX_KEEP_ALIVE_TIMEOUT", "3", "keep_alive_timeout_seconds", 3.0),
    ("EBOX_MAX_CONCURRENCY", "7", "max_concurrency", 7),
    ("EBOX_REQUIRE_SIGNATURE", "true", "require_signature", True),
    ("EBOX_OIDC_ISSUER", "https://idp.example", "oidc_issuer", None),
    ("EBOX_OIDC_JWKS_FILE", "/etc/ebox/jwks.json", "oidc_jwks_file", None),
    ("EBOX_OIDC_AUDIENCE", "ebox-portal", "oidc_audience", None),
    ("EBOX_EVENT_PROVIDER_ID", "registry.example", "event_provider_id", None),
    ("EBOX_OAUTH_ADDRESS_BURST", "0", "oauth_address_burst", 0),
    ("EBOX_OAUTH_ADDRESS_PER_MINUTE", "6", "oauth_address_per_minute", 6.0),
    ("EBOX_OAUTH_CLIENT_BURST", "2", "oauth_client_burst", 2),
    ("EBOX_OAUTH_CLIENT_PER_MINUTE", "3", "oauth_client_per_minute", 3.0),
    ("EBOX_MAX_LAG", "50", "max_lag", 50),
    ("EBOX_PORTAL_OIDC_ISSUER", "https://idp.example", "portal_oidc_issuer", None),
    ("EBOX_PORTAL_OIDC_CLIENT_ID", "ebox-portal", "portal_oidc_client_id", None),
    ("EBOX_PORTAL_OIDC_CLIENT_SECRET", "s3cret", "portal_oidc_client_secret", None),
    (
        "EBOX_PORTAL_OIDC_CLIENT_SECRET_FILE",
        "/run/secret",
        "portal_oidc_client_secret_file",
        Path("/run/secret"),
    ),
    (
        "EBOX_PORTAL_OIDC_PRIVATE_KEY_FILE",
        "/run/key.pem",
        "portal_oidc_private_key_file",
        Path("/run/key.pem"),
    ),
    ("EBOX_PORTAL_IDLE_TIMEOUT", "60", "portal_idle_timeout_seconds", 60),
    ("EBOX_FOLLOWER_ATTEMPTS", "2", "follower_attempts", 2),
    ("EBOX_FOLLOWER_BACKOFF", "0.1", "follower_backoff", 0.1),
    ("EBOX_FOLLOWER_BACKOFF_MAX", "4", "follower_backoff_max", 4.0),
    ("EBOX_FOLLOWER_PARKED_POLL", "1", "follower_parked_poll", 1.0),
    ("EBOX_CLOSED_MAILBOX_RETENTION_DAYS", "30", "closed_mailbox_retention_days", 30),
    ("EBOX_LEGAL_RECEIPT_RULE", "first-opening", "legal_receipt_rule", None),
    ("EBOX_LEGAL_RECEIPT_WORKING_DAYS", "5", "legal_receipt_working_days", 5),
    ("EBOX_FOLLOWER_GATHER", "0.2", "follower_gather", 0.2),
    ("EBOX_SUBMISSION_SKEW_SECONDS", "60", "submission_skew_seconds", 60),
    ("EBOX_DATABASE_URL_FILE", "URL_FILE", "database_url_file", "URL_FILE"),
    ("EBOX_LOG_FORMAT", "text", "log_format", None),
    ("EBOX_LOG_LEVEL", "DEBUG", "log_level", None),
    ("EBOX_WORKERS_PROGRESS_SECONDS", "5", "workers_progress_seconds", 5.0),
    ("EBOX_WORKERS_METRICS_PORT", "9100", "workers_metrics_port", 9100),
    ("EBOX_SMTP_URL", "smtp://relay.example:587", "smtp_url", None),
    ("EBOX_SMTP_URL_FILE", "URL_FILE", "smtp_url_file", "URL_FILE"),
    ("EBOX_SMTP_USERNAME", "mailer", "smtp_username", "mailer"),
    ("EBOX_SMTP_PASSWORD", "s3cret", "smtp_password", None),
    ("EBOX_SMTP_PASSWORD_FILE", "URL_FILE", "smtp_password_file", "URL_FILE"),
    ("EBOX_SMTP_CA_FILE", "CA_FILE", "smtp_ca_file", "CA_FILE"),
    ("EBOX_DIGEST_HOUR", "7", "digest_hour", 7),
    ("EBOX_MAIL_FROM", "eBox <mail@ebox.example>", "mail_from", "eBox <mail@ebox.example>"),
    ("EBOX_REMINDER_DAYS", "10", "reminder_days", 10),
    ("EBOX_EXPIRY_ALERT_DAYS", "3", "expiry_alert_days", 3),
    ("EBOX_NOTIFY_RETRY_SECONDS", "60", "notify_retry_seconds", 60.0),
    ("EBOX_WITNESS_POLICY", "POLICY_FILE", "witness_policy", "POLICY_FILE"),
    ("EBOX_WITNESS_TIMEOUT", "2.5", "witness_timeout", 2.5),
    ("EBOX_TSA_URL", "https://tsa.example/rfc3161", "tsa_url", None),
    ("EBOX_TSA_CA_FILE", "CA_FILE", "tsa_ca_file", "CA_FILE"),
    ("EBOX_TSA_INTERVAL", "30", "tsa_interval", 30.0),
    ("EBOX_TSA_USERNAME", "ledger", "tsa_username", None),
    ("EBOX_TSA_PASSWORD", "s3cret", "tsa_password", None),
    ("EBOX_TSA_PASSWORD_FILE", "/run/secrets/t", "tsa_password_file", Path("/run/secrets/t")),
    ("EBOX_OPERATOR_NAME", "Operator NV", "operator_name", None),
    ("EBOX_OPERATOR_ADDRESS", "Rue 1, 1000 Brussels", "operator_address", None),
    ("EBOX_OPERATOR_LEGAL_BASIS", "Law of 27 February 2019", "operator_legal_basis", None),
    ("EBOX_SEAL_CERT_FILE", "/run/secrets/c", "seal_cert_file", Path("/run/secrets/c")),
    ("EBOX_SEAL_KEY_FILE", "/run/secrets/k", "seal_key_file", Path("/run/secrets/k")),
    (
        "EBOX_SEAL_KEY_PASSWORD_FILE",
        "/run/secrets/p",
        "seal_key_password_file",
        Path("/run/secrets/p"),
    ),
    *(
        (env_name(value_field), SEED_B64, value_field, SEED)
        for value_field in ("kek", "ledger_key", "api_token_key", "person_issuer_key")
    ),
    *(
        (env_name(file_field), "SECRET_FILE", file_field, "SECRET_FILE")
        for file_field in SECRETS.values()
    ),
]


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No EBOX_* variable of the shell: each test sets what it means."""
    for name in [name for name in os.environ if name.startswith("EBOX_")]:
        monkeypatch.delenv(name)


def _secret_file(tmp_path: Path, content: str = SEED_B64, name: str = "secret") -> Path:
    path = tmp_path / name
    path.write_text(content + "\n")
    return path


# ------------------------------------------------------------------ every setting from the env


def test_every_field_of_the_settings_has_a_row_above() -> None:
    assert sorted(row[2] for row in FROM_ENVIRONMENT) == sorted(Settings.model_fields)


@pytest.mark.parametrize(
    ("variable", "raw", "field", "expected"),
    FROM_ENVIRONMENT,
    ids=[row[0] for row in FROM_ENVIRONMENT],
)
def test_each_setting_is_read_from_its_variable(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    variable: str,
    raw: str,
    field: str,
    expected: Any,
) -> None:
    if raw == "SECRET_FILE":
        raw = str(_secret_file(tmp_path))
        expected = Path(raw)
    if raw == "URL_FILE":
        raw = str(_secret_file(tmp_path, "smtp://relay.example:25"))
        expected = Path(raw)
    if raw == "CA_FILE":  # read at start: a real certificate, made by openssl
        from tests.tsa_server import make_tsa

        raw = str(make_tsa(tmp_path / "tsa").ca_pem)
        expected = Path(raw)
    if raw == "POLICY_FILE":  # read at start: a real tlog-policy file
        raw = str(tmp_path / "witnesses.txt")
        Path(raw).write_text("quorum none\n")
        expected = Path(raw)
    monkeypatch.setenv(variable, raw)
    settings = Settings.from_env()
    value = getattr(settings, field)
    if field in SECRETS:
        value = settings.secret(field)
    if field == "smtp_url":
        value = settings.smtp
    if field == "portal_oidc_client_secret":
        value = settings.portal_client_secret
    if field in ("smtp_password", "tsa_password"):
        value = value.get_secret_value()
    assert value == (raw if expected is None else expected)
    assert settings.model_fields_set == {field}  # read under that name, and only that one


def test_the_defaults_without_any_variable() -> None:
    settings = Settings.from_env()
    assert settings.home == Path(".ebox")
    assert settings.database_url is None
    assert settings.public_url == "http://127.0.0.1:8000"
    assert (settings.max_lag, settings.max_concurrency, settings.require_signature) == (
        10_000,
        500,
        False,
    )
    assert all(settings.secret(name) is None for name in SECRETS)


def test_an_empty_variable_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EBOX_OIDC_ISSUER", "")
    monkeypatch.setenv("EBOX_MAX_LAG", "")
    settings = Settings.from_env()
    assert settings.oidc_issuer is None
    assert settings.max_lag == 10_000


def test_the_oidc_audience_and_the_event_provider_id_reach_their_users(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EBOX_PUBLIC_URL", "https://ebox.example")
    assert person_audience(Settings.from_env()) == "https://ebox.example"
    assert event_provider_id(Settings.from_env()) == "ebox.example"
    monkeypatch.setenv("EBOX_OIDC_AUDIENCE", "ebox-portal")
    monkeypatch.setenv("EBOX_EVENT_PROVIDER_ID", "registry.example")
    assert person_audience(Settings.from_env()) == "ebox-portal"
    assert event_provider_id(Settings.from_env()) == "registry.example"


@pytest.mark.parametrize(
    ("host", "port", "url"),
    [
        ("127.0.0.1", 8123, "http://127.0.0.1:8123"),
        ("ebox.internal", 9000, "http://ebox.internal:9000"),
        ("0.0.0.0", 8080, "http://127.0.0.1:8080"),
        ("::", 8080, "http://[::1]:8080"),
        ("::1", 8443, "http://[::1]:8443"),
    ],
)
def test_without_a_public_url_a_server_is_its_own_address(host: str, port: int, url: str) -> None:
    served = Settings.from_env().served_at(host, port)
    assert served.public_url == url
    assert person_audience(served) == url
    assert event_provider_id(served) == url.split("//")[1].rsplit(":", 1)[0].strip("[]")


def test_a_public_url_that_is_set_wins_over_the_listening_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EBOX_PUBLIC_URL", "https://ebox.example")
    assert Settings.from_env().served_at("127.0.0.1", 8123).public_url == "https://ebox.example"
    given = Settings(public_url="http://127.0.0.1:8000")  # set, even if equal to the default
    assert given.served_at("127.0.0.1", 8123).public_url == "http://127.0.0.1:8000"


def test_fields_given_in_code_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EBOX_PUBLIC_URL", "https://from-the-shell.example")
    assert Settings(public_url="https://ebox.test/").public_url == "https://ebox.test"


# ------------------------------------------------------------------ bad values: one line each


@pytest.mark.parametrize(
    ("variable", "raw"),
    [
        ("EBOX_MAX_LAG", "abc"),
        ("EBOX_MAX_LAG", "-1"),
        ("EBOX_TOKEN_TTL", "1.5"),
        ("EBOX_HEADER_TIMEOUT", "0"),
        ("EBOX_BODY_TIMEOUT", "nan"),
        ("EBOX_KEEP_ALIVE_TIMEOUT", "-3"),
        ("EBOX_MAX_CONCURRENCY", "0"),
        ("EBOX_MAX_UPLOAD_BYTES", "20MiB"),
        ("EBOX_REQUIRE_SIGNATURE", "maybe"),
        ("EBOX_OAUTH_CLIENT_BURST", "-1"),
        ("EBOX_OAUTH_ADDRESS_PER_MINUTE", "inf"),
        ("EBOX_FOLLOWER_ATTEMPTS", "0"),
        ("EBOX_SUBMISSION_SKEW_SECONDS", "soon"),
        ("EBOX_DATABASE_URL", "ebox.sqlite"),
    ],
)
def test_a_bad_value_is_one_line_naming_its_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, raw: str
) -> None:
    monkeypatch.setenv(variable, raw)
    with pytest.raises(SettingsError) as refused:
        Settings.from_env()
    message = str(refused.value)
    assert message.startswith(f"{variable}: ")
    assert "\n" not in message


def test_each_bad_variable_has_its_own_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EBOX_MAX_LAG", "abc")
    monkeypatch.setenv("EBOX_HEADER_TIMEOUT", "0")
    with pytest.raises(SettingsError) as refused:
        Settings.from_env()
    lines = str(refused.value).splitlines()
    assert sorted(line.split(":")[0] for line in lines) == ["EBOX_HEADER_TIMEOUT", "EBOX_MAX_LAG"]


def test_a_changed_copy_is_validated_like_the_environment() -> None:
    settings = Settings.from_env()
    assert settings.replace(max_concurrency=3).max_concurrency == 3
    assert settings.max_concurrency == 500
    with pytest.raises(SettingsError, match=r"^EBOX_MAX_CONCURRENCY: "):
        settings.replace(max_concurrency=0)


# ------------------------------------------------------------------ secrets, also as *_FILE


def test_secrets_from_files_are_the_ones_the_ledger_loads(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seeds = {name: bytes([index]) * 32 for index, name in enumerate(SECRETS, start=1)}
    for name, seed in seeds.items():
        path = _secret_file(tmp_path, base64.b64encode(seed).decode(), name)
        monkeypatch.setenv(f"{env_name(name)}_FILE", str(path))
    home = tmp_path / "home"  # would hold freshly made secrets if the files were ignored
    secrets = load_secrets(home)
    assert secrets.kek == seeds["kek"]
    assert secrets.ledger_seed == seeds["ledger_key"]
    assert load_token_seed(home) == seeds["api_token_key"]
    assert load_person_seed(home) == seeds["person_issuer_key"]
    assert not home.exists()
    assert Settings.from_env().secret("kek") == seeds["kek"]


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        pytest.param(
            lambda tmp: {"EBOX_KEK_FILE": str(tmp / "missing")},
            r"^EBOX_KEK_FILE: cannot read .*missing: No such file or directory$",
            id="missing-file",
        ),
        pytest.param(
            lambda tmp: {"EBOX_KEK_FILE": str(tmp)},
            r"^EBOX_KEK_FILE: cannot read .*: Is a directory$",
            id="a-directory",
        ),
        pytest.param(
            lambda tmp: {"EBOX_KEK_FILE": str(_secret_file(tmp, ""))},
            r"^EBOX_KEK_FILE: .* is empty$",
            id="empty-file",
        ),
        pytest.param(
            lambda tmp: {"EBOX_KEK": SEED_B64, "EBOX_KEK_FILE": str(_secret_file(tmp))},
            r"^EBOX_KEK and EBOX_KEK_FILE are both set",
            id="both",
        ),
        pytest.param(
            lambda tmp: {"EBOX_LEDGER_KEY": "not base64!"},
            r"^EBOX_LEDGER_KEY must be base64",
            id="not-base64",
        ),
        pytest.param(
            lambda tmp: {"EBOX_API_TOKEN_KEY_FILE": str(_secret_file(tmp, SHORT_B64))},
            r"^EBOX_API_TOKEN_KEY_FILE must be the base64 of 32 bytes, not 16$",
            id="short",
        ),
    ],
)
def test_an_unusable_secret_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, setup: Any, expected: str
) -> None:
    for name, value in setup(tmp_path).items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as refused:
        Settings.from_env()
    assert re.match(expected, str(refused.value)), str(refused.value)
    with pytest.raises(SecretUnavailable) as at_load:  # the loaders refuse it the same way
        load_secrets(tmp_path / "home")
        load_token_seed(tmp_path / "home")
    assert str(at_load.value) == str(refused.value)


def test_no_secret_value_is_shown(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    wrong = base64.b64encode(b"a confidential sixteen").decode()
    monkeypatch.setenv("EBOX_LEDGER_KEY", wrong)
    with pytest.raises(SettingsError) as refused:
        Settings.from_env()
    assert wrong not in str(refused.value)
    monkeypatch.setenv("EBOX_LEDGER_KEY", SEED_B64)
    settings = Settings.from_env()
    assert SEED_B64 not in repr(settings)
    assert SEED_B64 not in str(settings)


# ------------------------------------------------------------------ the one documented place


def test_the_operations_guide_lists_every_setting_with_its_default() -> None:
    guide = (REPO / "docs" / "OPERATIONS.md").read_text()
    section = re.split(r"\n#{2,3} ", guide.split("\n## Configuration\n", 1)[1], maxsplit=1)[0]
    rows = {
        match.group(1): match.group(2).strip()
        for match in re.finditer(r"^\| `(EBOX_[A-Z_]+)` \| ([^|]*) \|", section, re.MULTILINE)
    }
    assert sorted(rows) == sorted(env_name(field) for field in Settings.model_fields)
    assert all(rows.values()), "every row names its default (or what unset means)"


# ------------------------------------------------------------------ URLs from files


def test_the_database_url_is_read_from_its_file_where_the_ledger_opens(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from ebox.adapters.home import default_database_url

    url = "postgresql+psycopg2://ebox:s3cret@postgres:5432/ebox"
    monkeypatch.setenv("EBOX_DATABASE_URL_FILE", str(_secret_file(tmp_path, url)))
    assert Settings.from_env().database == url
    assert default_database_url() == url


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "EBOX_DATABASE_URL_FILE: cannot read"),
        ("", "is empty"),
        ("not a url", "EBOX_DATABASE_URL_FILE: not a SQLAlchemy URL"),
    ],
)
def test_an_unusable_database_url_file_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: str | None, problem: str
) -> None:
    path = tmp_path / "database_url"
    if content is not None:
        path.write_text(content)
    monkeypatch.setenv("EBOX_DATABASE_URL_FILE", str(path))
    with pytest.raises(SettingsError) as refused:
        Settings.from_env()
    assert problem in str(refused.value)
    assert "\n" not in str(refused.value)


def test_a_url_and_its_file_together_are_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("EBOX_DATABASE_URL", "sqlite:///x.sqlite")
    monkeypatch.setenv("EBOX_DATABASE_URL_FILE", str(_secret_file(tmp_path, "sqlite:///y")))
    with pytest.raises(SettingsError, match="both set"):
        Settings.from_env()


def test_production_refuses_to_start_without_a_sealing_certificate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EBOX_ENVIRONMENT", "production")
    with pytest.raises(SettingsError, match="EBOX_SEAL_CERT_FILE and EBOX_SEAL_KEY_FILE"):
        Settings.from_env()
    monkeypatch.setenv("EBOX_SEAL_CERT_FILE", "/run/secrets/seal.crt")
    monkeypatch.setenv("EBOX_SEAL_KEY_FILE", "/run/secrets/seal.key")
    assert Settings.from_env().production


def test_a_tsa_ca_file_that_holds_no_certificate_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "ca.pem").write_text("not a certificate\n")
    for path in (tmp_path / "ca.pem", tmp_path / "missing.pem"):
        monkeypatch.setenv("EBOX_TSA_CA_FILE", str(path))
        with pytest.raises(SettingsError, match="EBOX_TSA_CA_FILE"):
            Settings.from_env()
