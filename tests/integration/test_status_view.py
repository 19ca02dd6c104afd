"""The sender status view answers searchMessageStatus: a sender sees its own letters only."""

from __future__ import annotations

from uuid import uuid4

import pytest

from ebox.adapters.runtime import Ledger
from ebox.projections.delivery import DeliveryWorker
from ebox.projections.runner import EboxId, InvalidQuery, ViewRunner
from ebox.projections.status import MessageRef, StatusView
from tests.builders import CITIZEN, ENTERPRISE, OTHER_KBO, SENDER_KBO, World, make_world

CITIZEN_BOX = EboxId(CITIZEN.ebox_type, CITIZEN.id_value)
ENTERPRISE_BOX = EboxId(ENTERPRISE.ebox_type, ENTERPRISE.id_value)


@pytest.fixture
def world(ledger: Ledger) -> World:
    return make_world(ledger)


def statuses(ledger: Ledger, sender: str, *refs: MessageRef) -> dict[str, tuple[bool, bool, bool]]:
    """message id -> (delivered, read, visible), as the sender is told."""
    ViewRunner(ledger, ["status"]).run_until_idle()
    return {
        s.message_id: (s.delivered, s.read, s.visible)
        for s in StatusView.of(ledger).statuses(sender, list(refs))
    }


def test_a_letter_is_followed_from_sent_to_read_and_hidden(ledger: Ledger, world: World) -> None:
    message_id = ledger.app.publish(world.letter())
    ref = MessageRef(message_id, CITIZEN_BOX)
    assert statuses(ledger, SENDER_KBO, ref) == {message_id: (False, False, True)}

    DeliveryWorker(ledger).run_until_idle()
    assert statuses(ledger, SENDER_KBO, ref) == {message_id: (True, False, True)}

    ledger.app.open_document(message_id, "letter.pdf", CITIZEN.address, "portal")
    ledger.app.hide(message_id, by=CITIZEN.address)
    assert statuses(ledger, SENDER_KBO, ref) == {message_id: (True, True, False)}

    (status,) = StatusView.of(ledger).statuses(SENDER_KBO, [ref])
    assert status.ebox == CITIZEN_BOX and status.sender_organization_id == SENDER_KBO
    assert status.delivered_at is not None and status.read_at is not None
    assert status.read_at >= status.delivered_at
    assert status.expiration_date > status.delivered_at
    assert not status.expired


def test_only_the_senders_own_letters_with_the_right_ebox_are_answered(
    ledger: Ledger, world: World
) -> None:
    ledger.app.register_sender(OTHER_KBO, {"nl": "Andere dienst"})
    to_citizen = ledger.app.publish(world.letter(CITIZEN))
    to_enterprise = ledger.app.publish(world.letter(ENTERPRISE, idempotency_key="k-2"))
    asked = [
        MessageRef(to_enterprise, ENTERPRISE_BOX),
        MessageRef(to_citizen.upper(), CITIZEN_BOX),
        MessageRef(to_enterprise, CITIZEN_BOX),  # not that letter's eBox
        MessageRef(str(uuid4()), CITIZEN_BOX),  # no such letter
        MessageRef("not-an-id", CITIZEN_BOX),
    ]
    ViewRunner(ledger, ["status"]).run_until_idle()
    view = StatusView.of(ledger)
    assert [s.message_id for s in view.statuses(SENDER_KBO, asked)] == [to_enterprise, to_citizen]
    assert view.statuses(OTHER_KBO, asked) == []  # another sender learns nothing
    assert view.statuses(SENDER_KBO, []) == []


def test_every_recipient_of_a_publication(ledger: Ledger, world: World) -> None:
    ids = [o.message_id for o in ledger.app.broadcast(world.letter([CITIZEN, ENTERPRISE]))]
    ViewRunner(ledger, ["status"]).run_until_idle()
    view = StatusView.of(ledger)
    (first,) = view.statuses(SENDER_KBO, [MessageRef(ids[0], CITIZEN_BOX)])
    recipients = view.publication_statuses(SENDER_KBO, first.publication_id)
    assert [s.ebox for s in recipients] == [CITIZEN_BOX, ENTERPRISE_BOX]
    assert sorted(s.message_id for s in recipients) == sorted(i for i in ids if i)
    assert view.publication_statuses(OTHER_KBO, first.publication_id) == []


def test_an_expired_letter_says_so(ledger: Ledger, world: World) -> None:
    message_id = ledger.app.publish(world.letter())
    ledger.app.expire(message_id, reason="retention period over")
    ViewRunner(ledger, ["status"]).run_until_idle()
    (status,) = StatusView.of(ledger).statuses(SENDER_KBO, [MessageRef(message_id, CITIZEN_BOX)])
    assert status.expired and not status.delivered


def test_a_request_has_a_size_limit(ledger: Ledger) -> None:
    refs = [MessageRef(str(uuid4()), CITIZEN_BOX) for _ in range(1001)]
    with pytest.raises(InvalidQuery):
        StatusView.of(ledger).statuses(SENDER_KBO, refs)
