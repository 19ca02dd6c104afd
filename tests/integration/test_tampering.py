"""Changing stored events behind the application's back makes loading fail."""

from __future__ import annotations

from uuid import UUID

import pytest
from sqlalchemy import text

from ebox.adapters.runtime import Ledger
from ebox.domain.errors import ChainIntegrityError
from ebox.projections.delivery import DeliveryWorker
from tests.builders import make_world


def stored_state(ledger: Ledger, message_id: str, version: int) -> tuple[int, bytes]:
    with ledger.db.read() as session:
        rows = session.execute(
            text("SELECT id, originator_id, originator_version, state FROM ebox_events")
        ).all()
    for row_id, originator_id, row_version, state in rows:
        stored_id = originator_id.hex() if isinstance(originator_id, bytes) else str(originator_id)
        if stored_id.replace("-", "") == UUID(message_id).hex and row_version == version:
            return row_id, bytes(state)
    raise AssertionError("event not found")


def overwrite(ledger: Ledger, row_id: int, state: bytes) -> None:
    with ledger.db.write() as session:
        session.execute(
            text("UPDATE ebox_events SET state = :s WHERE id = :i"), {"s": state, "i": row_id}
        )


@pytest.fixture
def delivered_letter(ledger: Ledger) -> str:
    world = make_world(ledger)
    message_id = ledger.app.publish(world.letter())
    DeliveryWorker(ledger).run_until_idle()
    ledger.app.open_document(message_id, "letter.pdf", "citizen:58102882214", "portal")
    return message_id


def test_one_changed_byte_in_stored_state_stops_the_load(
    ledger: Ledger, delivered_letter: str
) -> None:
    row_id, state = stored_state(ledger, delivered_letter, 3)
    assert b"portal" in state
    overwrite(ledger, row_id, state.replace(b"portal", b"portaL"))
    with pytest.raises(ChainIntegrityError) as refused:
        ledger.app.message(delivered_letter)
    assert refused.value.version == 3
    assert refused.value.aggregate_id == delivered_letter


def test_a_byte_that_breaks_the_encoding_stops_the_load_too(
    ledger: Ledger, delivered_letter: str
) -> None:
    row_id, state = stored_state(ledger, delivered_letter, 1)
    overwrite(ledger, row_id, b"\xff" + state[1:])
    with pytest.raises(ChainIntegrityError):
        ledger.app.message(delivered_letter)


def test_a_deleted_event_stops_the_load(ledger: Ledger, delivered_letter: str) -> None:
    row_id, _ = stored_state(ledger, delivered_letter, 2)
    with ledger.db.write() as session:
        session.execute(text("DELETE FROM ebox_events WHERE id = :i"), {"i": row_id})
    with pytest.raises(ChainIntegrityError, match="missing or reordered"):
        ledger.app.message(delivered_letter)
