"""The event feed of the eBox event API: newDocument on delivery, readDocument on reading."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ebox.adapters.runtime import Ledger
from ebox.projections.delivery import DeliveryWorker
from ebox.projections.feed import NEW_DOCUMENT, READ_DOCUMENT, FeedView
from ebox.projections.inbox import InboxView
from ebox.projections.runner import EboxId, InvalidQuery, ViewRunner
from tests.builders import CITIZEN, ENTERPRISE, SENDER_KBO, World, make_world

CITIZEN_BOX = EboxId(CITIZEN.ebox_type, CITIZEN.id_value)
ENTERPRISE_BOX = EboxId(ENTERPRISE.ebox_type, ENTERPRISE.id_value)


@pytest.fixture
def world(ledger: Ledger) -> World:
    return make_world(ledger)


def catch_up(ledger: Ledger) -> FeedView:
    ViewRunner(ledger, ["feed", "inbox"]).run_until_idle()
    return FeedView.of(ledger)


def test_delivery_and_first_reading_each_make_one_event(ledger: Ledger, world: World) -> None:
    message_id = ledger.app.publish(world.letter(ENTERPRISE))
    assert catch_up(ledger).page("enterprise").events == ()  # sent is not yet news

    DeliveryWorker(ledger).run_until_idle()
    ledger.app.open_document(message_id, "letter.pdf", ENTERPRISE.address, "portal")
    ledger.app.open_document(message_id, "letter.pdf", ENTERPRISE.address, "portal")  # not again
    ledger.app.archive(message_id, by=ENTERPRISE.address)  # not news either
    page = catch_up(ledger).page("enterprise")

    assert [(e.sequence_nbr, e.event_type) for e in page.events] == [
        (1, NEW_DOCUMENT),
        (2, READ_DOCUMENT),
    ]
    inbox = InboxView.of(ledger).message(ENTERPRISE_BOX, message_id)
    new, read = page.events
    for event in page.events:
        assert event.message_id == message_id
        assert event.ebox == ENTERPRISE_BOX  # eventData.enterpriseId is its id value
        assert event.receipt_date == inbox.receipt_date
        assert event.expiration_date == inbox.expiration_date
        assert event.registered_mail is True
        assert (event.message_type_id, event.sender_organization_id) == ("TAX", SENDER_KBO)
        assert event.sender_application_id == "mybox-publisher"
        assert event.subjects == {"nl": "Aanslag", "fr": "Avertissement"}
    assert new.event_time == inbox.receipt_date
    assert read.event_time == inbox.first_read_at
    assert (page.last_sequence_nbr, page.has_next) == (2, False)


def test_each_ebox_type_has_its_own_contiguous_sequence(ledger: Ledger, world: World) -> None:
    recipients = [CITIZEN, ENTERPRISE, CITIZEN, CITIZEN, ENTERPRISE]
    ledger.app.publish_many(
        [world.letter(r, idempotency_key=f"k{n}") for n, r in enumerate(recipients)]
    )
    DeliveryWorker(ledger).run_until_idle()
    runner = ViewRunner(ledger, ["feed"], batch_size=3)  # numbering carries across batches
    runner.run_until_idle()
    feed = FeedView.of(ledger)
    assert [e.sequence_nbr for e in feed.page("citizen").events] == [1, 2, 3]
    assert [e.sequence_nbr for e in feed.page("enterprise").events] == [1, 2]
    assert feed.last_sequence_nbr("citizen") == 3


def test_a_consumer_pages_through_with_the_last_sequence_number(
    ledger: Ledger, world: World
) -> None:
    ledger.app.publish_many([world.letter(idempotency_key=f"k{n}") for n in range(5)])
    DeliveryWorker(ledger).run_until_idle()
    feed = catch_up(ledger)

    seen, last, pages = [], 0, 0
    while True:
        page = feed.page("citizen", last_sequence_nbr=last, page_size=2)
        seen += [e.sequence_nbr for e in page.events]
        last, pages = page.last_sequence_nbr, pages + 1
        if not page.has_next:
            break
    assert (seen, pages) == ([1, 2, 3, 4, 5], 3)

    after_the_end = feed.page("citizen", last_sequence_nbr=5)
    assert (after_the_end.events, after_the_end.last_sequence_nbr) == ((), 5)

    events = feed.page("citizen").events
    later = feed.page("citizen", start_time=events[3].event_time).events
    assert [e.sequence_nbr for e in later] == [4, 5]
    assert feed.page("citizen", start_time=events[4].event_time + timedelta(seconds=1)).events == ()


def test_invalid_feed_requests_are_refused(ledger: Ledger) -> None:
    feed = FeedView.of(ledger)
    for ebox_type, last, size in [("person", 0, 10), ("citizen", -1, 10), ("citizen", 0, 0)]:
        with pytest.raises(InvalidQuery):
            feed.page(ebox_type, last_sequence_nbr=last, page_size=size)
