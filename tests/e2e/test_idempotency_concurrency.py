"""Concurrent retries of one publication with one Idempotency-Key make one letter, never a 500.

A sender's client that times out retries at once, often several times and in
parallel; every copy carries the same Idempotency-Key. Exactly one letter is
recorded; each answer is either that letter's 201 (replayed) or a 409 telling
the client that the first request is still in flight, never a server error.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, insert, text
from sqlalchemy.pool import NullPool

from ebox.adapters.runtime import Ledger
from ebox.adapters.tables import idempotency_keys
from tests.auth_helpers import (
    api_client,
    app_settings,
    client_token,
    register_test_client,
    sender_token,
)
from tests.builders import SENDER_KBO, make_world
from tests.e2e.test_publication_api import message_to_publish, publish

RETRIES = 30
LIVENESS_S = 60
"""Generous bound on waiting for an answer: liveness only, never a latency limit."""


@pytest.fixture
def http(ledger: Ledger, ledger_home: Path) -> Iterator[TestClient]:
    make_world(ledger)
    with api_client(ledger, ledger_home, app_settings()) as client:
        yield client


def events(ledger: Ledger) -> int:
    with ledger.db.read() as session:
        return int(session.execute(text("SELECT count(*) FROM ebox_events")).scalar_one())


def concurrently(count: int, request: Callable[[int], Any]) -> list[Any]:
    """`request(i)` for i in range(count), released together so that they overlap in the server."""
    start = threading.Barrier(count)

    def one(i: int) -> Any:
        start.wait(timeout=60)
        return request(i)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


def test_concurrent_retries_with_one_key_make_one_letter_and_no_server_error(
    http: TestClient, ledger: Ledger
) -> None:
    token = sender_token(http, ledger, SENDER_KBO)
    body = message_to_publish()
    before = events(ledger)

    answers = concurrently(RETRIES, lambda _: publish(http, token, body, idempotency_key="dup-1"))

    statuses = sorted(a.status_code for a in answers)
    assert set(statuses) <= {201, 409}, [(a.status_code, a.text[:200]) for a in answers]
    accepted = [a for a in answers if a.status_code == 201]
    assert accepted, statuses
    assert len({a.json()["messageId"] for a in accepted}) == 1
    for busy in (a for a in answers if a.status_code == 409):
        assert busy.json()["code"] == "IDEMPOTENCY_KEY_IN_FLIGHT"
        assert int(busy.headers["Retry-After"]) >= 1
    assert events(ledger) == before + 1, "exactly one Sent event: one letter"
    replay = publish(http, token, body, idempotency_key="dup-1")
    assert replay.status_code == 201
    assert replay.json() == accepted[0].json()
    assert replay.headers["Idempotent-Replayed"] == "true"


def test_concurrent_requests_reusing_a_key_for_another_body_are_refused_without_a_letter(
    http: TestClient, ledger: Ledger
) -> None:
    token = sender_token(http, ledger, SENDER_KBO)
    first = message_to_publish()
    other = message_to_publish(subject={"nl": "Een andere brief", "fr": "Une autre lettre"})
    before = events(ledger)

    answers = concurrently(
        RETRIES,
        lambda i: publish(http, token, first if i % 2 else other, idempotency_key="dup-2"),
    )

    statuses = {a.status_code for a in answers}
    assert statuses <= {201, 409, 422}, [(a.status_code, a.text[:200]) for a in answers]
    assert len({a.json()["messageId"] for a in answers if a.status_code == 201}) == 1
    assert events(ledger) == before + 1


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_retry_while_the_first_request_is_still_in_flight_is_told_to_come_back(
    http: TestClient, ledger: Ledger
) -> None:
    """PostgreSQL: a retry waits for the first request a bounded time, then answers 409."""
    client = register_test_client(ledger, "sender", SENDER_KBO)
    token = client_token(http, client)
    body = message_to_publish()
    engine = create_engine(ledger.url, poolclass=NullPool)
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        with engine.connect() as first:
            in_flight = first.begin()
            # The first request has claimed the key and not committed yet.
            first.execute(
                insert(idempotency_keys).values(
                    client_id=client.client_id,
                    key="slow-1",
                    request_sha256="0" * 64,
                    status=0,
                    response="null",
                    created_at=datetime.now(UTC),
                )
            )
            retry = pool.submit(publish, http, token, body, idempotency_key="slow-1")
            try:
                busy = retry.result(timeout=LIVENESS_S)  # a bounded wait, not a hang
            finally:
                in_flight.rollback()  # the first request failed: nothing was recorded
    finally:
        pool.shutdown(wait=True)
        engine.dispose()
    assert busy.status_code == 409, busy.text
    assert busy.json()["code"] == "IDEMPOTENCY_KEY_IN_FLIGHT"
    assert busy.headers["Retry-After"] == "1"
    before = events(ledger)
    retried = publish(http, token, body, idempotency_key="slow-1")
    assert retried.status_code == 201, retried.text
    assert events(ledger) == before + 1
