"""Every setting of the ledger, as one validated object read from the environment.

`Settings` is a `pydantic-settings` model (full-stack-fastapi-template style):
each field is read from its `EBOX_*` variable, checked, and refused with one
line naming the variable (`SettingsError`), so that `ebox` stops with that line
and a non-zero exit rather than a traceback halfway through. docs/OPERATIONS.md's
settings table lists the same variables with the same defaults.

Some settings are also read where they are used, below the API: the data
directory and the secrets (`ebox.adapters.home`), the followers' retry policy
(`ebox.projections.supervisor`) and the submission skew (the domain, through the
eventsourcing environment). They are fields here too, so that one object
documents and validates them all before anything runs; each secret is checked
with the very function that later loads it (`decode_secret`).

Constructing `Settings(...)` directly also reads the environment for the fields
not given (that is what pydantic-settings does); a test that wants none of the
shell's values passes the fields it relies on.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from ebox.adapters.certificate_seal import SealingIdentity

from ebox.adapters.home import DEFAULT_ORIGIN, decode_secret, decode_text
from ebox.domain.proofs.legal_timing import LegalRule
from ebox.verifier.certificate_facts import (
    DEMO_OPERATOR_ADDRESS,
    DEMO_OPERATOR_LEGAL_BASIS,
    DEMO_OPERATOR_NAME,
    Issuer,
)

MAX_UPLOAD_BYTES_DEFAULT = 20 * 1024 * 1024
# Bodies of the JSON routes (linkEboxMessage's 10,000 recipients are about 0.6 MiB).
MAX_REQUEST_BYTES_DEFAULT = 2 * 1024 * 1024
# Transport: a client gets this long to send a request's head, and this long between
# two pieces of its body; an idle keep-alive connection is closed after the third.
HEADER_TIMEOUT_DEFAULT = 10.0
BODY_TIMEOUT_DEFAULT = 30.0
KEEP_ALIVE_TIMEOUT_DEFAULT = 5.0
MAX_CONCURRENCY_DEFAULT = 500
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
WILDCARD_HOSTS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


class SettingsError(ValueError):
    """A setting from the environment is refused: one line per refused variable."""


def _env(name: str, default: Any = None, **constraints: Any) -> Any:
    """A field read from the environment variable `name` (or by its field name, in code)."""
    return Field(default, validation_alias=AliasChoices(name), **constraints)


Seconds = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Rate = Annotated[float, Field(ge=0, allow_inf_nan=False)]

SECRETS = {
    # field of the base64 value -> field of the file holding it
    "kek": "kek_file",
    "ledger_key": "ledger_key_file",
    "api_token_key": "api_token_key_file",
    "person_issuer_key": "person_issuer_key_file",
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        frozen=True,
        populate_by_name=True,
        case_sensitive=True,
        env_ignore_empty=True,  # EBOX_OIDC_ISSUER= means unset, as it always did
        extra="ignore",
    )

    # ----------------------------------------------------------------- storage
    home: Path = _env("EBOX_HOME", Path(".ebox"))
    """The data directory: the SQLite database and the secrets not given below."""
    database_url: str | None = _env("EBOX_DATABASE_URL")
    """A SQLAlchemy URL; unset: the SQLite file `$EBOX_HOME/ebox.sqlite`."""
    database_url_file: Path | None = _env("EBOX_DATABASE_URL_FILE")
    """A file holding the database URL (it holds the database password: a mounted secret)."""
    ledger_origin: str = _env("EBOX_LEDGER_ORIGIN", DEFAULT_ORIGIN, min_length=1)
    """The origin line of the ledger's checkpoints."""

    # ----------------------------------------------------------------- secrets (base64 of 32 B)
    kek: SecretStr | None = _env("EBOX_KEK")
    kek_file: Path | None = _env("EBOX_KEK_FILE")
    ledger_key: SecretStr | None = _env("EBOX_LEDGER_KEY")
    ledger_key_file: Path | None = _env("EBOX_LEDGER_KEY_FILE")
    api_token_key: SecretStr | None = _env("EBOX_API_TOKEN_KEY")
    api_token_key_file: Path | None = _env("EBOX_API_TOKEN_KEY_FILE")
    person_issuer_key: SecretStr | None = _env("EBOX_PERSON_ISSUER_KEY")
    person_issuer_key_file: Path | None = _env("EBOX_PERSON_ISSUER_KEY_FILE")
    """The key of the person-token issuer: the same on every API replica of one deployment."""

    # ----------------------------------------------------------------- the API
    environment: str = _env("EBOX_ENVIRONMENT", "development")
    public_url: str = _env("EBOX_PUBLIC_URL", DEFAULT_PUBLIC_URL, min_length=1)
    """The API's own URL; unset, `ebox serve` uses the address it listens on (`served_at`)."""
    token_ttl_seconds: int = _env("EBOX_TOKEN_TTL", 3600, ge=1)
    max_upload_bytes: int = _env("EBOX_MAX_UPLOAD_BYTES", MAX_UPLOAD_BYTES_DEFAULT, ge=1)
    max_request_bytes: int = _env("EBOX_MAX_REQUEST_BYTES", MAX_REQUEST_BYTES_DEFAULT, ge=1)
    header_timeout_seconds: Seconds = _env("EBOX_HEADER_TIMEOUT", HEADER_TIMEOUT_DEFAULT)
    body_timeout_seconds: Seconds = _env("EBOX_BODY_TIMEOUT", BODY_TIMEOUT_DEFAULT)
    keep_alive_timeout_seconds: Seconds = _env(
        "EBOX_KEEP_ALIVE_TIMEOUT", KEEP_ALIVE_TIMEOUT_DEFAULT
    )
    max_concurrency: int = _env("EBOX_MAX_CONCURRENCY", MAX_CONCURRENCY_DEFAULT, ge=1)
    require_signature: bool = _env("EBOX_REQUIRE_SIGNATURE", False)
    """Refuse unsigned publications (else they are recorded as attested)."""
    oidc_issuer: str | None = _env("EBOX_OIDC_ISSUER")
    oidc_jwks_file: str | None = _env("EBOX_OIDC_JWKS_FILE")
    oidc_audience: str | None = _env("EBOX_OIDC_AUDIENCE")
    """The audience person tokens must carry; unset: the public URL."""
    event_provider_id: str | None = _env("EBOX_EVENT_PROVIDER_ID")
    """`eventProviderId` of the event feed; unset: the public URL's host name."""
    # POST /oauth/token, per process (see ebox.api.rate_limit): a burst, then so many a minute.
    # Per address: every request; per client: requests whose assertion's signature verifies.
    oauth_address_burst: int = _env("EBOX_OAUTH_ADDRESS_BURST", 30, ge=0)
    oauth_address_per_minute: Rate = _env("EBOX_OAUTH_ADDRESS_PER_MINUTE", 60.0)
    oauth_client_burst: int = _env("EBOX_OAUTH_CLIENT_BURST", 10, ge=0)
    oauth_client_per_minute: Rate = _env("EBOX_OAUTH_CLIENT_PER_MINUTE", 30.0)
    max_lag: int = _env("EBOX_MAX_LAG", 10_000, ge=0)
    """Events a follower may lag behind before /health says degraded."""

    # ----------------------------------------------------------------- the portal (api/portal)
    portal_oidc_issuer: str | None = _env("EBOX_PORTAL_OIDC_ISSUER")
    """The identity provider people sign in with (its discovery document is read); unset:
    the embedded issuer's development sign-in page (refused in production)."""
    portal_oidc_client_id: str | None = _env("EBOX_PORTAL_OIDC_CLIENT_ID")
    portal_oidc_client_secret: SecretStr | None = _env("EBOX_PORTAL_OIDC_CLIENT_SECRET")
    portal_oidc_client_secret_file: Path | None = _env("EBOX_PORTAL_OIDC_CLIENT_SECRET_FILE")
    portal_oidc_private_key_file: Path | None = _env("EBOX_PORTAL_OIDC_PRIVATE_KEY_FILE")
    """A PEM private key: the portal authenticates to the provider with private_key_jwt."""
    portal_idle_timeout_seconds: int = _env("EBOX_PORTAL_IDLE_TIMEOUT", 900, ge=1)
    """A portal session unused this long is signed out."""

    # ----------------------------------------------------------------- operations
    log_format: Literal["json", "text"] = _env("EBOX_LOG_FORMAT", "json")
    """`ebox serve` and `ebox workers`: one JSON object a line, or text for a terminal."""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = _env("EBOX_LOG_LEVEL", "INFO")
    workers_progress_seconds: Seconds = _env("EBOX_WORKERS_PROGRESS_SECONDS", 60.0)
    """How often `ebox workers` logs each follower's position, lag and work done."""
    workers_metrics_port: int | None = _env("EBOX_WORKERS_METRICS_PORT", None, ge=1, le=65535)
    """`ebox workers` serves its own counters at http://0.0.0.0:PORT/metrics; unset: none."""

    # ----------------------------------------------------------------- for later issues
    smtp_url: SecretStr | None = _env("EBOX_SMTP_URL")
    """Notification mail relay, e.g. smtp://user:password@relay:587 (may hold a password)."""
    smtp_url_file: Path | None = _env("EBOX_SMTP_URL_FILE")
    smtp_username: str | None = _env("EBOX_SMTP_USERNAME")
    """The relay's login (ebox.adapters.mail); overrides a user part of the URL."""
    smtp_password: SecretStr | None = _env("EBOX_SMTP_PASSWORD")
    smtp_password_file: Path | None = _env("EBOX_SMTP_PASSWORD_FILE")
    smtp_ca_file: Path | None = _env("EBOX_SMTP_CA_FILE")
    """PEM trust anchors for the relay's TLS certificate; unset: the system store."""
    mail_from: str | None = _env("EBOX_MAIL_FROM")
    """The From of notification mails; unset: eBox <noreply@ebox.invalid>."""
    reminder_days: int = _env("EBOX_REMINDER_DAYS", 15, ge=1)
    """Days after delivery an unread letter's reminder is mailed (ebox.projections.notifier)."""
    expiry_alert_days: int = _env("EBOX_EXPIRY_ALERT_DAYS", 7, ge=1)
    """Days before expiry an unread letter's alert is mailed."""
    notify_retry_seconds: Seconds = _env("EBOX_NOTIFY_RETRY_SECONDS", 300.0)
    """Backoff after a refused mail, doubled on each attempt (at most a day)."""
    digest_hour: int = _env("EBOX_DIGEST_HOUR", 8, ge=0, le=23)
    """The Brussels local hour (0-23) at which a mailbox's daily digest is sent."""
    witness_policy: Path | None = _env("EBOX_WITNESS_POLICY")
    """A C2SP tlog-policy file: the witnesses (with submission URLs) that cosign checkpoints,
    and the quorum a checkpoint needs before it is served (ebox.projections.witnessing)."""
    witness_timeout: Seconds = _env("EBOX_WITNESS_TIMEOUT", 5.0)
    """Seconds an add-checkpoint request to one witness may take."""
    tsa_url: str | None = _env("EBOX_TSA_URL")
    """An RFC 3161 time-stamping authority for checkpoints (ebox.projections.timestamper)."""
    tsa_ca_file: Path | None = _env("EBOX_TSA_CA_FILE")
    """PEM trust anchors that the TSA's replies must chain to before they are stored."""
    tsa_interval: Seconds = _env("EBOX_TSA_INTERVAL", 60.0)
    """At most one time-stamp every so many seconds (the latest checkpoint not yet stamped)."""
    tsa_username: str | None = _env("EBOX_TSA_USERNAME")
    """HTTP basic authentication at the TSA, with EBOX_TSA_PASSWORD(_FILE)."""
    tsa_password: SecretStr | None = _env("EBOX_TSA_PASSWORD")
    tsa_password_file: Path | None = _env("EBOX_TSA_PASSWORD_FILE")

    # ----------------------------------------------------------------- the certificate
    operator_name: str = _env("EBOX_OPERATOR_NAME", DEMO_OPERATOR_NAME, min_length=1)
    """Who issues the PDF certificate (printed on it and named in its seal)."""
    operator_address: str = _env("EBOX_OPERATOR_ADDRESS", DEMO_OPERATOR_ADDRESS, min_length=1)
    operator_legal_basis: str = _env(
        "EBOX_OPERATOR_LEGAL_BASIS", DEMO_OPERATOR_LEGAL_BASIS, min_length=1
    )
    """The law under which the operator issues evidence of notification."""
    seal_cert_file: Path | None = _env("EBOX_SEAL_CERT_FILE")
    """PEM chain, sealing certificate first; unset: a demo one made in EBOX_HOME."""
    seal_key_file: Path | None = _env("EBOX_SEAL_KEY_FILE")
    """Its PEM private key (a mounted secret)."""
    seal_key_password_file: Path | None = _env("EBOX_SEAL_KEY_PASSWORD_FILE")
    """A file holding the password of an encrypted sealing key."""

    # ----------------------------------------------------------------- followers, domain
    follower_attempts: int = _env("EBOX_FOLLOWER_ATTEMPTS", 5, ge=1)
    follower_backoff: Seconds = _env("EBOX_FOLLOWER_BACKOFF", 0.5)
    follower_backoff_max: Seconds = _env("EBOX_FOLLOWER_BACKOFF_MAX", 30.0)
    follower_parked_poll: Seconds = _env("EBOX_FOLLOWER_PARKED_POLL", 5.0)
    closed_mailbox_retention_days: int = _env("EBOX_CLOSED_MAILBOX_RETENTION_DAYS", 90, ge=0)
    """Days a closed mailbox's letters are kept before they are shredded (read by the
    lifecycle scheduler, ebox.projections.lifecycle)."""
    legal_receipt_rule: Literal["first-opening", "deemed-working-day", "earliest-of"] = _env(
        "EBOX_LEGAL_RECEIPT_RULE", "earliest-of"
    )
    """When a registered letter counts as received (read where evidence and statuses are
    made, ebox.adapters.evidence.legal_rule): its first opening, its deemed receipt, or
    whichever comes first."""
    legal_receipt_working_days: int = _env("EBOX_LEGAL_RECEIPT_WORKING_DAYS", 3, ge=1, le=366)
    """The N of the deemed receipt: the N-th Belgian working day after availability."""
    follower_gather: float = _env("EBOX_FOLLOWER_GATHER", 0.1, ge=0, allow_inf_nan=False)
    submission_skew_seconds: int = _env("EBOX_SUBMISSION_SKEW_SECONDS", 300, ge=0)
    """How far a sender's stated time may be from receipt (read by the domain itself)."""

    @field_validator("database_url")
    @classmethod
    def _a_sqlalchemy_url(cls, url: str | None) -> str | None:
        """Refused here, in one line, rather than as a traceback when the engine opens."""
        if url is not None:
            check_database_url(url)
        return url

    @field_validator("public_url")
    @classmethod
    def _without_trailing_slash(cls, url: str) -> str:
        return url.rstrip("/")

    @model_validator(mode="after")
    def _secrets_load(self) -> Settings:
        """Refuse now what loading a secret would refuse later (same function)."""
        for value_field in SECRETS:
            self.secret(value_field)
        url = self.database
        if self.database_url_file is not None and url is not None:
            try:  # the file's URL, checked like the variable's
                check_database_url(url)
            except ValueError as error:
                raise ValueError(f"EBOX_DATABASE_URL_FILE: {error}") from None
        if self.smtp is not None:
            from ebox.adapters.mail import parse_smtp_url, refuse_credentials_in_the_clear

            relay = parse_smtp_url(self.smtp)
            has_password = self.smtp_password is not None or self.smtp_password_file is not None
            if self.smtp_username or has_password:
                relay = replace(relay, username=self.smtp_username or "set")
            refuse_credentials_in_the_clear(relay)
        if self.smtp_ca_file is not None:
            from ebox.adapters.mail import tls_context

            try:
                tls_context(self.smtp_ca_file)
            except (OSError, ValueError):
                raise ValueError(
                    "EBOX_SMTP_CA_FILE: not a readable PEM file of certificates"
                ) from None
        if self.tsa_ca_file is not None:
            from ebox.adapters.tsa import read_anchors

            read_anchors(self.tsa_ca_file)
        if self.witness_policy is not None:
            from ebox.adapters.witnessing import load_witness_policy

            load_witness_policy(self.witness_policy, self.ledger_origin)
        if self.production and (self.seal_cert_file is None or self.seal_key_file is None):
            raise ValueError(
                "EBOX_SEAL_CERT_FILE and EBOX_SEAL_KEY_FILE: required when "
                "EBOX_ENVIRONMENT=production (a demo self-signed seal proves nothing about the "
                "operator)"
            )
        return self

    @property
    def production(self) -> bool:
        return self.environment.strip().lower() == "production"

    def sealing_identity(self) -> SealingIdentity:
        """The operator's sealing certificate and key, else the demo one of the data directory.

        Raises `SealUnavailable` (a ValueError) naming the setting.
        """
        from ebox.adapters.certificate_seal import load_sealing_identity

        return load_sealing_identity(
            self.operator_name,
            cert_file=self.seal_cert_file,
            key_file=self.seal_key_file,
            password_file=self.seal_key_password_file,
        )

    @property
    def issuer(self) -> Issuer:
        """Who issues the PDF certificates, as printed on them."""
        return Issuer(self.operator_name, self.operator_address, self.operator_legal_basis)

    @property
    def database(self) -> str | None:
        """The database URL from EBOX_DATABASE_URL or EBOX_DATABASE_URL_FILE (None: SQLite)."""
        return decode_text("EBOX_DATABASE_URL", self.database_url, self.database_url_file)

    def legal_rule(self) -> LegalRule:
        """The rule for a registered letter's moment of receipt (status query, evidence)."""
        return LegalRule.parse(self.legal_receipt_rule, self.legal_receipt_working_days)

    @property
    def portal_client_secret(self) -> str | None:
        """The portal's OIDC client secret from its variable or its file."""
        value = (
            self.portal_oidc_client_secret.get_secret_value()
            if self.portal_oidc_client_secret
            else None
        )
        return decode_text(
            "EBOX_PORTAL_OIDC_CLIENT_SECRET", value, self.portal_oidc_client_secret_file
        )

    @property
    def smtp(self) -> str | None:
        """The SMTP relay URL from EBOX_SMTP_URL or EBOX_SMTP_URL_FILE."""
        value = self.smtp_url.get_secret_value() if self.smtp_url else None
        return decode_text("EBOX_SMTP_URL", value, self.smtp_url_file)

    def secret(self, value_field: str) -> bytes | None:
        """The decoded secret of `value_field` (e.g. "kek"), from its value or its file.

        Raises `SecretUnavailable` (a ValueError) naming the variable.
        """
        value: SecretStr | None = getattr(self, value_field)
        file: Path | None = getattr(self, SECRETS[value_field])
        plain = value.get_secret_value() if value else None
        return decode_secret(env_name(value_field), plain, file)

    @property
    def extra(self) -> dict[str, str]:
        """Former free-form settings, now fields: kept for callers that still read them."""
        values = {"oidc_audience": self.oidc_audience, "event_provider_id": self.event_provider_id}
        return {key: value for key, value in values.items() if value}

    @classmethod
    def from_env(cls) -> Settings:
        """The settings of this process, or `SettingsError` naming each bad variable."""
        try:
            return cls()
        except ValidationError as error:
            raise SettingsError(describe(error)) from None

    def served_at(self, host: str, port: int) -> Settings:
        """These settings for a server listening on `host`:`port`.

        Without EBOX_PUBLIC_URL the API's own URL (token issuer and audiences,
        ``contentHref``, the OAuth metadata) is the address it serves, not the
        default's port 8000: a server on another port must accept the tokens it
        issues. A wildcard address names this machine's loopback; behind a proxy
        or on another host name, set EBOX_PUBLIC_URL.
        """
        if "public_url" in self.model_fields_set:
            return self
        return self.replace(public_url=listening_url(host, port))

    def replace(self, **changes: Any) -> Settings:
        """A copy with `changes` (field names), validated like the environment's values."""
        try:
            return type(self).model_validate({**self.model_dump(), **changes})
        except ValidationError as error:
            raise SettingsError(describe(error)) from None


def listening_url(host: str, port: int) -> str:
    """``http://host:port`` of a listening address (IPv6 in brackets, wildcards as loopback)."""
    host = WILDCARD_HOSTS.get(host, host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def check_database_url(url: str) -> None:
    """Refused here, in one line, rather than as a traceback when the engine opens."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        make_url(url)
    except ArgumentError:
        raise ValueError("not a SQLAlchemy URL (dialect+driver://...)") from None


def env_name(field_name: str) -> str:
    """The environment variable a field is read from."""
    alias = Settings.model_fields[field_name].validation_alias
    assert isinstance(alias, AliasChoices)
    return str(alias.choices[0])


def describe(error: ValidationError) -> str:
    """One line per refused setting, naming its variable and never echoing a secret."""
    lines = []
    for problem in error.errors(include_url=False, include_input=False):
        where = str(problem["loc"][0]) if problem["loc"] else ""
        name = env_name(where) if where in Settings.model_fields else where
        message = problem["msg"].removeprefix("Value error, ")
        lines.append(f"{name}: {message}" if name and not message.startswith(name) else message)
    return "\n".join(lines)
