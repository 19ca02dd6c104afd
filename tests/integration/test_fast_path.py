"""The sender's fast path keeps every verdict: caches revalidated, Core writes in order.

A submission serves the sender and the mailbox from versioned caches, writes
events through Core statements and claims its Idempotency-Key under a short
lock wait. None of that may change what the ledger decides or records: a key
revoked, a message type registered or a mailbox closed by another process (here
a second application on the same database, with caches of its own) is seen by
the very next letter; the events' notification ids are those of the log, in
order; and the claim's short lock wait is over before the letter's events wait
for their table.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from ebox.adapters.runtime import Ledger, open_ledger
from ebox.cli.demo import signed_publication
from ebox.domain.errors import NoDigitalUser, SigningKeyRevoked, UnknownMessageType
from ebox.domain.ids import sender_id
from ebox.domain.publication import Document
from ebox.domain.submission import IdempotencyKey
from tests.builders import CITIZEN, SENDER_KBO, World, make_world


@pytest.fixture
def world(ledger: Ledger) -> World:
    return make_world(ledger)


@pytest.fixture
def elsewhere(database_url: str, ledger_home: Path) -> Iterator[Ledger]:
    """Another application on the same database: what another process would change."""
    other = open_ledger(database_url, home=ledger_home)
    try:
        yield other
    finally:
        other.close()


def test_a_key_revoked_elsewhere_is_refused_on_the_next_letter(
    ledger: Ledger, world: World, elsewhere: Ledger
) -> None:
    ledger.app.submit(world.letter(idempotency_key="k-1"), IdempotencyKey("k-1", "r-1"))
    assert ledger.app._senders.get(sender_id(SENDER_KBO)) is not None  # served from the cache

    elsewhere.app.revoke_signing_key(SENDER_KBO, world.sender.key_id, "key compromise")

    with pytest.raises(SigningKeyRevoked):
        ledger.app.submit(world.letter(idempotency_key="k-2"), IdempotencyKey("k-2", "r-2"))


def test_a_message_type_registered_elsewhere_is_accepted_on_the_next_letter(
    ledger: Ledger, world: World, elsewhere: Ledger
) -> None:
    documents = [Document("fine.pdf", "application/pdf", b"%PDF-1.4\n", main_content=True)]
    new_type = signed_publication(
        world.sender, CITIZEN, "FINE", {"nl": "Boete"}, documents, False, "k-1"
    )
    with pytest.raises(UnknownMessageType):
        ledger.app.submit(new_type)

    elsewhere.app.register_message_type(SENDER_KBO, "FINE", {"nl": "Boete"}, "MONTH", 3)

    assert ledger.app.submit(new_type).message_id


def test_a_mailbox_closed_elsewhere_gets_no_further_letter(
    ledger: Ledger, world: World, elsewhere: Ledger
) -> None:
    ledger.app.submit(world.letter(idempotency_key="k-1"))

    elsewhere.app.close_mailbox(CITIZEN.ebox_type, CITIZEN.id_value, "moved abroad")

    with pytest.raises(NoDigitalUser):
        ledger.app.submit(world.letter(idempotency_key="k-2"))


def test_events_saved_together_get_the_logs_ids_in_order(ledger: Ledger, world: World) -> None:
    outcomes = ledger.app.publish_many([world.letter(idempotency_key=f"k-{n}") for n in range(3)])

    ids = [str(o.message_id) for o in outcomes]
    with ledger.db.read() as session:
        logged = session.execute(
            text("SELECT id FROM ebox_events ORDER BY id DESC LIMIT 3")
        ).scalars()
        newest = sorted(int(i) for i in logged)
    notifications = ledger.app.recorder.select_notifications(newest[0], limit=3)
    assert [n.id for n in notifications] == newest
    assert [str(n.originator_id) for n in notifications] == ids
    assert ledger.app.recorder.max_notification_id() == newest[-1]


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_claims_short_lock_wait_ends_before_the_events_are_written(
    ledger: Ledger,
) -> None:
    """Else a letter whose events wait for their table lock beyond 2 s would fail."""
    stores = ledger.app.stores
    with ledger.db.read() as session:
        default = session.execute(text("SHOW lock_timeout")).scalar_one()

    with stores.unit_of_work() as session:
        stores.idempotency.claim("client", "k-1", "request")
        during_claim = session.execute(text("SHOW lock_timeout")).scalar_one()
        stores.idempotency.answer("client", "k-1", "message", datetime(2030, 1, 1, tzinfo=UTC))
        after_answer = session.execute(text("SHOW lock_timeout")).scalar_one()

    assert during_claim != default
    assert after_answer == default
