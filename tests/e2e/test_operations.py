"""What an operator watches: /metrics over real HTTP, and the logs of a real `ebox serve`.

- /metrics is Prometheus text that prometheus-client's own parser reads; after a
  publication its counters have moved: requests by route template and status,
  the latency histogram, publications, deliveries, token refusals by reason;
  the followers' lag and the checkpoint come from the database.
- The log is one JSON object a line; every line written while serving a request
  carries its request id; the access log names the route's template, never the
  raw path; no national register number, subject or token appears in it.
- A 500's answer `id` is the `error_id` of its log line, which holds the traceback.
"""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from ebox.adapters.runtime import open_ledger
from ebox.api.logging_setup import configure_logging
from ebox.api.oidc import mint_person_token
from ebox.api.settings import Settings
from tests.auth_helpers import ClientKey, bare_app, register_test_client, served_token
from tests.builders import CITIZEN, SENDER_KBO, make_world
from tests.e2e.test_publication_api import files
from tests.e2e.test_submission_time_api import signed_body
from tests.served import LIVENESS_SECONDS, Server, served

PUBLISH_ROUTE = "/ebox/citizen/v2/publishMessage"
MESSAGE_ROUTE = "/ebox/citizen/v2/ebox/messages/{messageId}"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(server: Server) -> Samples:
    """Every sample of /metrics, parsed by prometheus-client: (name, labels) -> value."""
    answer = httpx.get(f"{server.url}/metrics", timeout=LIVENESS_SECONDS)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def until(predicate: Any, what: str) -> Any:
    deadline = time.monotonic() + LIVENESS_SECONDS
    while not (result := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {LIVENESS_SECONDS} s: {what}")
        time.sleep(0.2)
    return result


@pytest.fixture
def onboarded(database_url: str, tmp_path: Path) -> tuple[Path, ClientKey, Any]:
    home = tmp_path / "home"
    ledger = open_ledger(database_url, home=home)
    try:
        world = make_world(ledger)
        client = register_test_client(ledger, "sender", SENDER_KBO)
    finally:
        ledger.close()
    return home, client, world.sender


@pytest.fixture
def server(onboarded: tuple[Path, ClientKey, Any], database_url: str) -> Iterator[Server]:
    with served(onboarded[0], db=database_url, workers=True) as running:
        yield running


def sender_token(server: Server, client: ClientKey) -> str:
    return served_token(
        server.url, client.private_pem, client.client_id, kid=client.kid, timeout=LIVENESS_SECONDS
    )


def publish_and_read(
    server: Server, onboarded: tuple[Path, ClientKey, Any], request_id: str
) -> tuple[str, str, str]:
    """A signed letter published and read by its person; (message id, tokens)."""
    home, client, sender = onboarded
    token = sender_token(server, client)
    body = signed_body(sender.key, sender.key_id, datetime.now(UTC), "ops-1")
    published = httpx.post(
        f"{server.url}{PUBLISH_ROUTE}",
        data={"messageToPublish": json.dumps(body)},
        files=files(),
        headers={
            "Authorization": f"Bearer {token}",
            "Idempotency-Key": "ops-1",
            "X-Request-Id": request_id,
        },
        timeout=LIVENESS_SECONDS,
    )
    assert published.status_code == 201, published.text
    message_id = str(published.json()["messageId"])
    person = mint_person_token(
        home, CITIZEN.id_value, settings=Settings(public_url=server.url, environment="test")
    )
    path = f"{server.url}/ebox/citizen/v2/ebox/messages/{message_id}"
    until(
        lambda: httpx.get(path, headers={"Authorization": f"Bearer {person}"}).status_code == 200,
        "the letter is delivered",
    )
    return message_id, token, person


def test_metrics_are_prometheus_text_and_move_with_a_publication(
    server: Server, onboarded: tuple[Path, ClientKey, Any]
) -> None:
    before = scrape(server)
    message_id, _, _ = publish_and_read(server, onboarded, "ops-metrics")
    # Refused tokens are counted by reason, never by their content.
    for headers in ({}, {"Authorization": "Bearer not-a-jwt"}):
        refused = httpx.get(f"{server.url}/ebox/citizen/v2/ebox", headers=headers)
        assert refused.status_code == 401

    after = until(
        lambda: (
            (s := scrape(server))
            and value(s, "ebox_follower_lag_events", follower="sealer") == 0
            and value(s, "ebox_checkpoint_size") > 0
            and s
        ),
        "the sealer catches up and signs a checkpoint",
    )
    assert value(after, "ebox_publications_total") == value(before, "ebox_publications_total") + 1
    published = {"route": PUBLISH_ROUTE, "method": "POST", "status": "201"}
    assert value(after, "ebox_http_requests_total", **published) == 1
    assert value(after, "ebox_http_requests_total", route=MESSAGE_ROUTE, method="GET", status="200")
    timed = {"route": PUBLISH_ROUTE, "method": "POST"}
    assert value(after, "ebox_http_request_duration_seconds_count", **timed) == 1
    assert value(after, "ebox_http_request_duration_seconds_sum", **timed) > 0
    assert value(after, "ebox_deliveries_total") >= value(before, "ebox_deliveries_total") + 1
    assert value(after, "ebox_follower_processed_total", follower="delivery") >= 1
    assert value(after, "ebox_token_refusals_total", reason="missing") == 1
    assert value(after, "ebox_token_refusals_total", reason="malformed") == 1
    assert value(after, "ebox_follower_lag_events", follower="delivery") == 0
    assert value(after, "ebox_follower_parked", follower="delivery") == 0
    assert value(after, "ebox_metrics_database_up") == 1
    assert 0 <= value(after, "ebox_checkpoint_age_seconds") < 3600
    # No label is a raw path: the letter's id and the person's number appear nowhere.
    text = httpx.get(f"{server.url}/metrics").text
    assert message_id not in text
    assert CITIZEN.id_value not in text


def test_the_log_is_json_with_request_ids_and_without_personal_data(
    server: Server, onboarded: tuple[Path, ClientKey, Any]
) -> None:
    message_id, sender, person = publish_and_read(server, onboarded, "ops-logs")
    missing = httpx.get(
        f"{server.url}/ebox/citizen/v2/ebox/messages/{message_id}-gone",
        headers={"Authorization": f"Bearer {person}", "X-Request-Id": "ops-404"},
    )
    assert missing.status_code == 404
    until(lambda: '"ops-404"' in server.output(), "the access line is written")

    records = [json.loads(line) for line in server.output().splitlines() if line.strip()]
    access = [r for r in records if r["logger"] == "ebox.access"]
    (publication,) = [r for r in access if r.get("request_id") == "ops-logs"]
    assert publication["route"] == PUBLISH_ROUTE
    assert (publication["method"], publication["status"]) == ("POST", 201)
    assert publication["duration_ms"] > 0
    (lookup,) = [r for r in access if r.get("request_id") == "ops-404"]
    assert lookup["route"] == MESSAGE_ROUTE  # the template: the id is not in the line
    assert lookup["status"] == 404
    assert all(r.get("request_id") for r in access)  # every line of a request names it
    text = server.output()
    for personal in (CITIZEN.id_value, "Uw aanslagbiljet", "Votre avertissement", sender, person):
        assert personal not in text, personal[:16]
    assert message_id not in text


def test_a_500_logs_its_error_id_with_the_traceback(ledger: Any, ledger_home: Path) -> None:
    def broken_route(app: Any) -> None:
        @app.get("/broken")
        def broken(nrn: str) -> None:
            raise RuntimeError(f"while projecting {nrn}")

    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    quiet = {name: logging.getLogger(name).level for name in ("httpx", "httpcore")}
    configure_logging("json", "INFO", stream=stream)
    try:
        app = bare_app(ledger, ledger_home, routers=(broken_route,))
        with TestClient(app, raise_server_exceptions=False) as client:
            answer = client.get(
                "/broken", params={"nrn": CITIZEN.id_value}, headers={"X-Request-Id": "r-500"}
            )
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        for name, level in quiet.items():
            logging.getLogger(name).setLevel(level)
    assert answer.status_code == 500
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    (logged,) = [r for r in lines if r.get("error_id")]
    assert logged["error_id"] == answer.json()["id"]
    assert logged["request_id"] == "r-500"
    assert logged["level"] == "ERROR"
    assert "in broken" in logged["traceback"]  # the frames...
    assert CITIZEN.id_value not in stream.getvalue()  # ...never the error's text
