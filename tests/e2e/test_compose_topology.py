"""docker/compose.yaml works: its services, started as it declares them, serve a letter.

There is no Docker engine here, so the test starts exactly the processes and the
environment the file declares (tests/compose_topology.py): a fresh PostgreSQL
database on the local server, the migrate service's command to completion, two
replicas of the api service (`ebox serve --no-workers`), the workers service,
each with its secrets as files read through the `*_FILE` variables; the proxy's
round robin is done by the test's client, which alternates between the two
replicas. Through it: a sender's token, a signed publication, the person's
reading of the letter, /health and /metrics. Each service's healthcheck command
is run too, and every process's log must be JSON lines without personal data.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from nacl.signing import SigningKey
from prometheus_client.parser import text_string_to_metric_families

from ebox.adapters.certificate_seal import load_sealing_identity
from ebox.adapters.runtime import open_ledger
from ebox.api.oauth import ASSERTION_TYPE, GRANT_TYPE, make_client_assertion
from ebox.api.oidc import mint_person_token
from ebox.api.settings import Settings
from tests import pg
from tests.auth_helpers import register_test_client
from tests.builders import CITIZEN, SENDER_KBO
from tests.compose_topology import (
    REPO,
    Service,
    base_environment,
    interpolate,
    load_compose,
    running,
)
from tests.e2e.test_publication_api import PDF, files
from tests.e2e.test_submission_time_api import signed_body
from tests.served import LIVENESS_SECONDS, free_port

pytestmark = pytest.mark.postgres

CITIZEN_BASE = "/ebox/citizen/v2"


@dataclass
class Proxy:
    """The proxy's routing, done by the client: round robin over the replicas' URLs."""

    backends: list[str]
    answered_by: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._next = itertools.cycle(self.backends)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        backend = next(self._next)
        self.answered_by.append(backend)
        return httpx.request(method, f"{backend}{path}", timeout=LIVENESS_SECONDS, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)


def write_secrets(folder: Path, database_url: str) -> None:
    """What docker/make-secrets.sh writes, with the test's database as `database_url`."""
    folder.mkdir(mode=0o700)
    for name in ("kek", "ledger_key", "api_token_key", "person_issuer_key"):
        (folder / name).write_text(base64.b64encode(os.urandom(32)).decode() + "\n")
    (folder / "database_url").write_text(database_url + "\n")
    (folder / "db_password").write_text("unused: the local server trusts its user\n")
    made = load_sealing_identity("compose test operator", folder.parent / "seal-made")
    (folder / "seal_cert").write_bytes(made.chain_pem)
    (folder / "seal_key").write_bytes(made.key_pem)
    for path in folder.iterdir():
        path.chmod(0o600)


def until(predicate: Any, what: str) -> Any:
    """Wait (liveness only) until `predicate()` is truthy; its value."""
    deadline = time.monotonic() + LIVENESS_SECONDS
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {LIVENESS_SECONDS} s: {what}")
        time.sleep(0.2)


def healthy(command: list[str]) -> bool:
    return subprocess.run(command, capture_output=True, check=False).returncode == 0


@pytest.fixture
def empty_database(postgres_databases: pg.DatabaseFactory) -> Iterator[str]:
    name = postgres_databases.new_name("compose")
    url = postgres_databases.create(name)  # no template: empty, the migrate service's to fill
    yield url
    postgres_databases.drop(name)


def test_the_compose_services_serve_a_signed_letter_through_two_replicas(
    empty_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    compose = load_compose()
    services = compose["services"]
    secrets = tmp_path / "secrets"
    write_secrets(secrets, empty_database)
    volumes = {"ebox-data": tmp_path / "ebox-data"}
    volumes["ebox-data"].mkdir(mode=0o700)

    def service(name: str) -> Service:
        return Service(name, services[name], secrets, volumes)

    def env_of(svc: Service, **extra: str) -> dict[str, str]:
        return {**base_environment(), **svc.environment, **extra}

    migrate, api, workers = service("migrate"), service("api"), service("workers")
    # The one-shot migration, to completion, before anything else (as depends_on says).
    done = subprocess.run(
        migrate.command(),
        env=env_of(migrate),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr

    ports = [free_port(), free_port()]
    metrics_port = free_port()
    public_url = api.environment["EBOX_PUBLIC_URL"]  # the proxy's: the same on every replica
    logs = {name: tmp_path / f"{name}.log" for name in ("api-1", "api-2", "workers")}
    with (
        running(api.command(ports[0]), env_of(api), logs["api-1"], tmp_path),
        running(api.command(ports[1]), env_of(api), logs["api-2"], tmp_path),
        running(
            workers.command(),
            env_of(workers, EBOX_WORKERS_METRICS_PORT=str(metrics_port)),
            logs["workers"],
            tmp_path,
        ),
    ):
        # Each service's own healthcheck passes (compose starts the proxy after the api's).
        for port in ports:
            until(lambda p=port: healthy(api.healthcheck({8000: p})), f"api on {port} healthy")
        until(lambda: healthy(workers.healthcheck({9100: metrics_port})), "workers healthy")

        proxy = Proxy([f"http://127.0.0.1:{port}" for port in ports])
        # Onboarding with the deployment's own keys (the KEK wraps the mailbox's key).
        for key, value in api.environment.items():
            monkeypatch.setenv(key, value)
        ledger = open_ledger(empty_database, home=volumes["ebox-data"])
        try:
            app = ledger.app
            app.register_sender(SENDER_KBO, {"nl": "FOD Financiën", "fr": "SPF Finances"})
            app.register_application(SENDER_KBO, "mybox-publisher", {"en": "gateway"})
            app.register_message_type(SENDER_KBO, "TAX", {"nl": "Aanslag"}, "YEAR", 2, True)
            signing = SigningKey.generate()
            key_id = app.add_signing_key(SENDER_KBO, bytes(signing.verify_key))
            app.open_mailbox(CITIZEN.ebox_type, CITIZEN.id_value)
            client = register_test_client(ledger, "sender", SENDER_KBO)
        finally:
            ledger.close()

        # The sender's token from one replica is good on the other: one key for all.
        assertion = make_client_assertion(
            client.private_pem, client.client_id, f"{public_url}/oauth/token", kid=client.kid
        )
        answer = proxy.post(
            "/oauth/token",
            data={
                "grant_type": GRANT_TYPE,
                "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": assertion,
                "scope": "ebox:publication",
            },
        )
        assert answer.status_code == 200, answer.text
        sender = {"Authorization": f"Bearer {answer.json()['access_token']}"}

        body = signed_body(signing, key_id, datetime.now(UTC), "compose-1")
        published = proxy.post(
            f"{CITIZEN_BASE}/publishMessage",
            data={"messageToPublish": json.dumps(body)},
            files=files(),
            headers={**sender, "Idempotency-Key": "compose-1"},
        )
        assert published.status_code == 201, published.text
        message_id = published.json()["messageId"]

        # The person reads it, on either replica, once the workers process delivered it.
        settings = Settings(public_url=public_url)
        person_token = mint_person_token(volumes["ebox-data"], CITIZEN.id_value, settings=settings)
        person = {"Authorization": f"Bearer {person_token}"}
        until(
            lambda: (
                proxy.get(f"{CITIZEN_BASE}/ebox/messages/{message_id}", headers=person).status_code
                == 200
            ),
            "the letter is in the mailbox",
        )
        content = proxy.get(
            f"{CITIZEN_BASE}/ebox/messages/{message_id}/attachments/1/content", headers=person
        )
        assert content.status_code == 200, content.text
        assert content.content == PDF
        again = proxy.get(f"{CITIZEN_BASE}/ebox/messages/{message_id}", headers=person)
        assert again.status_code == 200, again.text

        # /health on each replica: delivery and sealer lag from the database, reaching 0
        # although neither API process runs a follower.
        for port in ports:

            def caught_up(p: int = port) -> bool:
                health = httpx.get(f"http://127.0.0.1:{p}/health", timeout=30).json()
                assert health["lags"] == {}  # this process runs no follower...
                return bool(health["delivery_lag"] == 0 and health["sealer_lag"] == 0)

            until(caught_up, f"replica {port} reports the workers' progress")

        # Each replica counted the requests it served; the lags agree across replicas.
        served_counts = []
        for port in ports:
            text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=30).text
            families = {f.name: f for f in text_string_to_metric_families(text)}
            requests = families["ebox_http_requests"].samples
            served_counts.append(sum(s.value for s in requests if s.name.endswith("_total")))
            lag_samples = families["ebox_follower_lag_events"].samples
            lags = {s.labels["follower"]: s.value for s in lag_samples}
            assert lags["delivery"] == 0 and lags["sealer"] == 0
        assert all(count >= 2 for count in served_counts), served_counts
        workers_text = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=30).text
        workers_families = {f.name: f for f in text_string_to_metric_families(workers_text)}
        (delivered,) = [
            s.value
            for s in workers_families["ebox_deliveries"].samples
            if s.name.endswith("_total")
        ]
        assert delivered == 1

    assert set(proxy.answered_by) == set(proxy.backends)
    for name, log in logs.items():
        lines = [line for line in log.read_text().splitlines() if line.strip()]
        assert lines, name
        for line in lines:
            record = json.loads(line)  # one JSON object a line, every line
            assert {"time", "level", "logger", "message"} <= set(record), line
        text = log.read_text()
        bearer_token = sender["Authorization"].removeprefix("Bearer ")
        for personal in (CITIZEN.id_value, "Uw aanslagbiljet", person_token, bearer_token):
            assert personal not in text, (name, personal[:12])


def test_every_service_has_a_restart_policy_and_every_long_running_one_a_healthcheck() -> None:
    services = load_compose()["services"]
    assert set(services) == {"postgres", "migrate", "api", "workers", "proxy"}
    for name, spec in services.items():
        assert spec.get("restart"), name
        if name != "migrate":
            assert spec["healthcheck"]["test"], name
    assert services["migrate"]["healthcheck"] == {"disable": True}  # a one-shot: its exit code
    for name in ("api", "workers"):
        depends = services[name]["depends_on"]["migrate"]["condition"]
        assert depends == "service_completed_successfully", name
    assert services["proxy"]["depends_on"]["api"]["condition"] == "service_healthy"


def test_only_the_proxy_publishes_a_port() -> None:
    services = load_compose()["services"]
    published = {name for name, spec in services.items() if spec.get("ports")}
    assert published == {"proxy"}
    # The API trusts X-Forwarded-For (the caller's address, for the per-address rate limit)
    # only because nothing but the proxy reaches it.
    assert services["api"]["environment"]["FORWARDED_ALLOW_IPS"] == "*"
    assert services["proxy"]["ports"] == ["8080:80"]
    assert services["proxy"]["image"].startswith("caddy:")
    assert services["api"]["deploy"]["replicas"] >= 2


def test_secrets_are_files_and_never_values() -> None:
    compose = load_compose()
    declared = set(compose["secrets"])
    for name, spec in compose["services"].items():
        environment = spec.get("environment") or {}
        for key, value in environment.items():
            assert not (key.endswith(("_KEY", "_KEK", "PASSWORD")) or key == "EBOX_KEK"), (
                name,
                key,
            )
            if str(value).startswith("/run/secrets/"):
                assert key.endswith("_FILE"), (name, key)
                assert str(value).removeprefix("/run/secrets/") in spec["secrets"], (name, key)
        assert set(spec.get("secrets", [])) <= declared, name
    for spec in compose["secrets"].values():
        assert spec["file"].startswith("./secrets/")
    assert "docker/secrets/" in (REPO / ".gitignore").read_text().splitlines()
    # Every secret the settings know is given to the API as a file.
    api = compose["services"]["api"]["environment"]
    for variable in (
        "EBOX_DATABASE_URL_FILE",
        "EBOX_KEK_FILE",
        "EBOX_LEDGER_KEY_FILE",
        "EBOX_API_TOKEN_KEY_FILE",
        "EBOX_PERSON_ISSUER_KEY_FILE",
    ):
        assert api[variable].startswith("/run/secrets/"), variable


def test_variables_default_as_compose_would_resolve_them() -> None:
    text = "${EBOX_PUBLIC_URL:-http://localhost:8080} ${MISSING:-} ${SET}"
    assert interpolate(text, {"SET": "x"}) == "http://localhost:8080  x"
    with pytest.raises(KeyError, match="NEEDED"):
        interpolate("${NEEDED:?set it}", {})
    public = load_compose({"EBOX_PUBLIC_URL": "https://ebox.example.be"})["services"]["api"]
    assert public["environment"]["EBOX_PUBLIC_URL"] == "https://ebox.example.be"


def test_the_data_directory_is_shared_by_the_api_and_the_workers() -> None:
    services = load_compose()["services"]
    for name in ("api", "workers"):
        assert "ebox-data:/var/lib/ebox" in services[name]["volumes"], name
        assert services[name]["environment"]["EBOX_HOME"] == "/var/lib/ebox", name
    assert (REPO / "docker" / "Caddyfile").exists()
