"""The lifecycle scheduler: what becomes due is recorded from the log, done as of a clock, once.

A letter's validity (the message type's, counted from the ledger's receipt)
ends in an expiry that shreds its keys and ciphertexts and records `Expired`;
a closed mailbox's letters are shredded after the retention. Due work runs
as of any stated time and is done exactly once, whoever runs it and however
often.
"""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select

from ebox.adapters.clock import FixedClock
from ebox.adapters.runtime import Ledger, open_ledger
from ebox.adapters.tables import blobs, lifecycle_due
from ebox.domain.proofs.canonical import parse_rfc3339
from ebox.projections.delivery import DeliveryWorker
from ebox.projections.follower import set_position
from ebox.projections.lifecycle import DueWork, LifecycleScheduler, utc
from tests.builders import CITIZEN, ENTERPRISE, World, make_world


def events_of(ledger: Ledger, message_id: str) -> list[object]:
    return list(ledger.app.events.get(ledger.app.message(message_id).id))


def expired_events(ledger: Ledger, message_id: str) -> list[object]:
    return [e for e in events_of(ledger, message_id) if type(e).__name__ == "Expired"]


def blob_digests(ledger: Ledger) -> set[str]:
    with ledger.db.read() as session:
        return set(session.execute(select(blobs.c.digest)).scalars())


def due_rows(ledger: Ledger) -> list[tuple[str, str, str | None]]:
    with ledger.db.read() as session:
        query = select(lifecycle_due.c.message_id, lifecycle_due.c.kind, lifecycle_due.c.outcome)
        return sorted((m, k, o) for m, k, o in session.execute(query))


def sent_letter(world: World, key: str = "k-1") -> tuple[str, str]:
    """A delivered letter, scheduled: its id and its stated expiry."""
    ledger = world.ledger
    message_id = ledger.app.publish(world.letter(idempotency_key=key))
    DeliveryWorker(ledger).run_until_idle()
    LifecycleScheduler(ledger).run_until_idle()
    return message_id, str(ledger.app.sent(message_id).expires_at)


def test_the_expiry_is_due_at_the_end_of_validity_from_receipt(ledger: Ledger) -> None:
    message_id, expires_at = sent_letter(make_world(ledger))
    sent = ledger.app.sent(message_id)
    # TAX is valid two years, counted from the ledger's own receipt (the Sent event's time).
    assert parse_rfc3339(expires_at).year == sent.timestamp.year + 2
    with ledger.db.read() as session:
        row = session.execute(select(lifecycle_due)).one()
    assert (row.message_id, row.kind, row.done_at) == (message_id, "expire", None)
    assert utc(row.due_at) == parse_rfc3339(expires_at)


def test_nothing_is_done_before_it_is_due_and_everything_after(ledger: Ledger) -> None:
    world = make_world(ledger)
    message_id, expires_at = sent_letter(world)
    before = blob_digests(ledger)
    a_second_early = FixedClock(parse_rfc3339(expires_at) - timedelta(seconds=1))
    assert DueWork(ledger).run(a_second_early).done == 0
    assert ledger.app.stores.wrapped_keys.get(message_id) != {}

    assert DueWork(ledger).run(FixedClock(parse_rfc3339(expires_at))).done == 1

    [expired] = expired_events(ledger, message_id)
    assert expired.due_at == expires_at  # type: ignore[attr-defined]
    assert expired.content_handover_failure is True  # type: ignore[attr-defined]
    assert ledger.app.stores.wrapped_keys.get(message_id) == {}
    ciphertexts = {d["ciphertext_sha256"] for d in ledger.app.message(message_id).documents}
    assert ciphertexts <= before
    assert blob_digests(ledger) == before - ciphertexts  # the signed envelope stays
    assert due_rows(ledger) == [(message_id, "expire", "expired")]


def test_a_letter_read_before_expiry_is_no_handover_failure(ledger: Ledger) -> None:
    message_id, expires_at = sent_letter(make_world(ledger))
    ledger.app.open_document(message_id, "letter.pdf", CITIZEN.id_value, "web")
    DueWork(ledger).run(FixedClock(parse_rfc3339(expires_at) + timedelta(days=1)))
    [expired] = expired_events(ledger, message_id)
    assert expired.content_handover_failure is False  # type: ignore[attr-defined]


def test_due_work_is_done_once_by_two_runners_and_after_a_restart(
    ledger: Ledger, database_url: str, ledger_home: object
) -> None:
    world = make_world(ledger)
    ids = [sent_letter(world, key=f"k-{n}")[0] for n in range(4)]
    later = FixedClock(parse_rfc3339(str(ledger.app.sent(ids[0]).expires_at)) + timedelta(days=1))
    other = open_ledger(database_url, ledger.home)
    try:
        runners = [DueWork(ledger), DueWork(other)]
        start = threading.Barrier(2)
        done: list[int] = []

        def run(work: DueWork) -> None:
            start.wait()
            done.append(work.run(later).done)

        threads = [threading.Thread(target=run, args=(w,)) for w in runners]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sum(done) == 4
    finally:
        other.close()
    assert all(len(expired_events(ledger, m)) == 1 for m in ids)

    # A restart: a new runner, the scheduler followed again from zero. Nothing is done twice.
    with ledger.db.write() as session:
        set_position(session, LifecycleScheduler.name, 0)
    LifecycleScheduler(ledger).run_until_idle()
    assert DueWork(ledger).run(later).done == 0
    assert all(len(expired_events(ledger, m)) == 1 for m in ids)
    assert {o for _, _, o in due_rows(ledger)} == {"expired"}


def test_expiry_recorded_by_hand_closes_the_due_item(ledger: Ledger) -> None:
    message_id, expires_at = sent_letter(make_world(ledger))
    ledger.app.expire(message_id, "erased on request")
    LifecycleScheduler(ledger).run_until_idle()
    assert DueWork(ledger).run(FixedClock(parse_rfc3339(expires_at))).done == 0
    assert len(expired_events(ledger, message_id)) == 1


def test_a_closed_mailboxs_letters_are_shredded_after_the_retention(ledger: Ledger) -> None:
    world = make_world(ledger)
    citizen_copy, enterprise_copy = (
        o.message_id
        for o in ledger.app.publish_many([world.letter([CITIZEN, ENTERPRISE], idempotency_key="b")])
    )
    DeliveryWorker(ledger).run_until_idle()
    ledger.app.close_mailbox(CITIZEN.ebox_type, CITIZEN.id_value, "deceased")
    retention = timedelta(days=30)
    LifecycleScheduler(ledger, retention=retention).run_until_idle()
    closed_at = ledger.app.mailbox(CITIZEN.ebox_type, CITIZEN.id_value).modified_on
    assert DueWork(ledger).run(FixedClock(closed_at + retention - timedelta(seconds=1))).done == 0

    assert DueWork(ledger).run(FixedClock(closed_at + retention)).done == 1

    assert citizen_copy is not None and enterprise_copy is not None
    [shredded] = expired_events(ledger, citizen_copy)
    assert "closed" in shredded.reason  # type: ignore[attr-defined]
    assert ledger.app.stores.wrapped_keys.get(citizen_copy) == {}
    # The broadcast's other letter shares the ciphertexts: they stay while it holds a key.
    assert expired_events(ledger, enterprise_copy) == []
    opened = ledger.app.open_document(enterprise_copy, "letter.pdf", ENTERPRISE.id_value, "web")
    assert opened.startswith(b"%PDF")
