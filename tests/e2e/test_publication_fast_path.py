"""The single-letter path reads what a read can answer and re-reads nothing it wrote.

publishMessage over HTTP, counted at the database driver: a sender's later
letters revalidate the cached sender and mailbox by their versions (one query)
instead of replaying the sender's chain, the answer is made from the Sent event
as it was made, and a letter costs a handful of statements. A key revoked, or a
message type registered, after the sender was cached counts at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from ebox.adapters.runtime import Ledger
from tests.auth_helpers import api_client, app_settings, sender_token
from tests.builders import SENDER_KBO, World, make_world
from tests.e2e.test_publication_api import message_to_publish, publish
from tests.e2e.test_submission_time_api import signed_body

STATEMENTS_PER_LETTER = 10
"""Every statement of one publishMessage with an Idempotency-Key, token check included."""


@pytest.fixture
def world(ledger: Ledger) -> World:
    return make_world(ledger)


@pytest.fixture
def http(ledger: Ledger, ledger_home: Path) -> Iterator[TestClient]:
    with api_client(ledger, ledger_home, app_settings()) as client:
        yield client


@pytest.fixture
def token(http: TestClient, ledger: Ledger, world: World) -> str:
    return sender_token(http, ledger, SENDER_KBO)


@contextmanager
def statements(ledger: Ledger) -> Iterator[list[str]]:
    """The SQL text of every statement the ledger's engine runs meanwhile."""
    engine = ledger.app.factory.datastore.engine  # type: ignore[attr-defined]
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        seen.append(" ".join(sql.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def reads_events(sql: str) -> bool:
    """A read of stored events' state: a replay, or a re-read of what was written."""
    return sql.upper().startswith("SELECT") and "ebox_events" in sql and "state" in sql


def test_a_later_letter_replays_no_chain_and_rereads_nothing(
    http: TestClient, ledger: Ledger, token: str
) -> None:
    assert publish(http, token, message_to_publish(), idempotency_key="warm").status_code == 201
    with statements(ledger) as seen:
        response = publish(http, token, message_to_publish(), idempotency_key="fast")
    assert response.status_code == 201, response.text
    assert [sql for sql in seen if reads_events(sql)] == []
    # The client's standing is read once: the upload guard's verification serves the route.
    assert len([sql for sql in seen if "oauth_clients" in sql]) == 1, "\n".join(seen)
    assert len(seen) <= STATEMENTS_PER_LETTER, "\n".join(seen)


def test_a_key_revoked_after_the_sender_was_cached_is_refused_at_once(
    http: TestClient, ledger: Ledger, world: World, token: str
) -> None:
    key, key_id = world.sender.key, world.sender.key_id
    now = datetime.now(UTC)
    signed = publish(http, token, signed_body(key, key_id, now, "s-1"), idempotency_key="s-1")
    assert signed.status_code == 201, signed.text

    ledger.app.revoke_signing_key(SENDER_KBO, key_id, "key compromise")
    refused = publish(http, token, signed_body(key, key_id, now, "s-2"), idempotency_key="s-2")
    assert refused.status_code == 400, refused.text
    assert refused.json()["code"] == "INVALID_SIGNATURE"


def test_a_message_type_registered_after_the_sender_was_cached_is_usable_at_once(
    http: TestClient, ledger: Ledger, token: str
) -> None:
    assert publish(http, token, message_to_publish()).status_code == 201
    unknown = publish(http, token, message_to_publish(messageTypeId="NOTICE"))
    assert unknown.status_code == 404 and unknown.json()["code"] == "UNKNOWN_MESSAGE_TYPE"

    ledger.app.register_message_type(SENDER_KBO, "NOTICE", {"nl": "Bericht"}, "MONTH", 1)
    known = publish(http, token, message_to_publish(messageTypeId="NOTICE"))
    assert known.status_code == 201, known.text
