"""EboxLedger.submit: one letter, made once, answered from what was written.

The use case behind publishMessage, on SQLite and PostgreSQL: the answer is the
Sent event as it was made (its id, its expiry, the write's position); under one
Idempotency-Key a retry gets that letter again, another request is refused, and
a refused submission keeps neither the letter nor the key.
"""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from sqlalchemy import text

from ebox.adapters.runtime import Ledger
from ebox.domain.errors import NoDigitalUser
from ebox.domain.proofs.canonical import parse_rfc3339
from ebox.domain.publication import Recipient
from ebox.domain.submission import IdempotencyKey, IdempotencyKeyReused, Submitted
from tests.builders import CITIZEN, World, make_world


@pytest.fixture
def world(ledger: Ledger) -> World:
    return make_world(ledger)


def events(ledger: Ledger) -> int:
    with ledger.db.read() as session:
        return int(session.execute(text("SELECT count(*) FROM ebox_events")).scalar_one())


def keys(ledger: Ledger) -> int:
    with ledger.db.read() as session:
        return int(session.execute(text("SELECT count(*) FROM idempotency_keys")).scalar_one())


def test_the_answer_is_the_sent_event_as_it_was_written(ledger: Ledger, world: World) -> None:
    submitted = ledger.app.submit(world.letter(idempotency_key="k-1"), IdempotencyKey("k-1", "r"))

    sent = ledger.app.sent(submitted.message_id)
    assert submitted.expires_at == parse_rfc3339(sent.expires_at)
    assert submitted.position == ledger.app.recorder.max_notification_id()
    assert not submitted.replayed


def test_a_retry_under_the_same_key_is_answered_with_the_first_letter(
    ledger: Ledger, world: World
) -> None:
    letter = world.letter(idempotency_key="k-1")
    first = ledger.app.submit(letter, IdempotencyKey("k-1", "request-1"))
    written = events(ledger)

    again = ledger.app.submit(letter, IdempotencyKey("k-1", "request-1"))

    assert again == Submitted(first.message_id, first.expires_at, position=None, replayed=True)
    assert events(ledger) == written


def test_another_request_under_the_same_key_is_refused_and_writes_nothing(
    ledger: Ledger, world: World
) -> None:
    ledger.app.submit(world.letter(idempotency_key="k-1"), IdempotencyKey("k-1", "request-1"))
    written = events(ledger)

    with pytest.raises(IdempotencyKeyReused):
        ledger.app.submit(
            world.letter(content=b"another letter", idempotency_key="k-1"),
            IdempotencyKey("k-1", "request-2"),
        )
    assert events(ledger) == written


def test_a_refused_submission_keeps_neither_the_letter_nor_the_key(
    ledger: Ledger, world: World
) -> None:
    nobody = Recipient("citizen", "85073003328")
    letter = world.letter(recipient=nobody, idempotency_key="k-1")
    written = events(ledger)

    with pytest.raises(NoDigitalUser):
        ledger.app.submit(letter, IdempotencyKey("k-1", "request-1"))
    assert (events(ledger), keys(ledger)) == (written, 0)

    ledger.app.open_mailbox(nobody.ebox_type, nobody.id_value)
    submitted = ledger.app.submit(letter, IdempotencyKey("k-1", "request-1"))
    assert not submitted.replayed


def test_a_letter_without_a_key_is_submitted_once(ledger: Ledger, world: World) -> None:
    letter = world.letter()
    first = ledger.app.submit(letter)
    second = ledger.app.submit(letter)
    assert first.message_id != second.message_id
    assert ledger.app.message(first.message_id).recipient == CITIZEN.address


def test_a_publication_sent_again_under_its_own_id_is_answered_with_the_letter_it_made(
    ledger: Ledger, world: World
) -> None:
    letter = dataclasses.replace(world.letter(), publication_id=str(uuid.uuid4()))
    first = ledger.app.submit(letter)
    written = events(ledger)

    again = ledger.app.submit(letter)

    assert (again.message_id, again.expires_at) == (first.message_id, first.expires_at)
    assert events(ledger) == written
