"""Every use case of the ledger core, on SQLite and on PostgreSQL."""

from __future__ import annotations

import dataclasses

import pytest
from nacl.signing import SigningKey

from ebox.adapters.runtime import Ledger
from ebox.domain.errors import (
    AlreadyArchived,
    InvalidSignature,
    MailboxAlreadyOpen,
    NoDigitalUser,
    NotDelivered,
    SenderAlreadyRegistered,
    SigningKeyRevoked,
    UnknownMessage,
    UnknownMessageType,
    UnknownSender,
    UnknownSigningKey,
)
from ebox.domain.publication import Recipient
from ebox.projections.delivery import DeliveryWorker
from tests.builders import CITIZEN, ENTERPRISE, SECRET_SENTENCE, SENDER_KBO, make_world


def event_types(ledger: Ledger, message_id: str) -> list[str]:
    from uuid import UUID

    return [type(e).__name__ for e in ledger.app.events.get(UUID(message_id))]


def test_a_letter_goes_sent_delivered_read_archived(ledger: Ledger) -> None:
    world = make_world(ledger)
    message_id = ledger.app.publish(world.letter())
    assert event_types(ledger, message_id) == ["Sent"]

    assert DeliveryWorker(ledger).run_until_idle() == 1
    content = ledger.app.open_document(message_id, "letter.pdf", "citizen:58102882214", "portal")
    assert SECRET_SENTENCE in content
    ledger.app.open_document(message_id, "letter.pdf", "partner:doccle", "partner")
    ledger.app.archive(message_id, by="owner")
    ledger.app.unarchive(message_id, by="owner")
    ledger.app.hide(message_id, by="owner")
    ledger.app.show(message_id, by="owner")
    assert event_types(ledger, message_id) == [
        "Sent",
        "Delivered",
        "Read",
        "ContentAccessed",
        "Archived",
        "Unarchived",
        "Hidden",
        "Shown",
    ]
    message = ledger.app.message(message_id)
    assert message.read and message.visible and not message.archived


def test_sent_records_the_signed_origin_and_digests_but_no_content(ledger: Ledger) -> None:
    world = make_world(ledger)
    message = ledger.app.message(ledger.app.publish(world.letter()))
    (sent,) = [e for e in ledger.app.events.get(message.id)]
    assert sent.origin == "signed" and sent.signing_key_id == world.sender.key_id
    assert sent.registered is True
    assert sent.recipient == CITIZEN.address
    assert all(len(d["sha256"]) == 64 for d in sent.documents)
    assert SECRET_SENTENCE.decode() not in repr(sent)


def test_an_unsigned_publication_is_recorded_as_attested(ledger: Ledger) -> None:
    world = make_world(ledger)
    letter = dataclasses.replace(world.letter(), signature=None, signing_key_id=None)
    message_id = ledger.app.publish(letter)
    (sent,) = ledger.app.events.get(ledger.app.message(message_id).id)
    assert sent.origin == "attested" and sent.signature is None


def test_a_bad_signature_a_revoked_or_unknown_key_are_refused(ledger: Ledger) -> None:
    world = make_world(ledger)
    forged = dataclasses.replace(world.letter(), subjects={"nl": "changed after signing"})
    with pytest.raises(InvalidSignature):
        ledger.app.publish(forged)
    with pytest.raises(UnknownSigningKey):
        ledger.app.publish(dataclasses.replace(world.letter(), signing_key_id="ff" * 32))
    ledger.app.revoke_signing_key(SENDER_KBO, world.sender.key_id, "key compromise")
    with pytest.raises(SigningKeyRevoked):
        ledger.app.publish(world.letter())


def test_refused_publications_leave_no_event(ledger: Ledger) -> None:
    world = make_world(ledger)
    before = ledger.app.recorder.max_notification_id()
    with pytest.raises(NoDigitalUser):
        ledger.app.publish(world.letter(recipient=Recipient("citizen", "85073003328")))
    with pytest.raises(UnknownMessageType):
        ledger.app.publish(dataclasses.replace(world.letter(), message_type="NOPE"))
    with pytest.raises(UnknownSender):
        ledger.app.publish(dataclasses.replace(world.letter(), sender="0201653102"))
    assert ledger.app.recorder.max_notification_id() == before


def test_a_closed_mailbox_is_no_digital_user(ledger: Ledger) -> None:
    world = make_world(ledger)
    ledger.app.close_mailbox(CITIZEN.ebox_type, CITIZEN.id_value, "moved abroad")
    with pytest.raises(NoDigitalUser) as refused:
        ledger.app.publish(world.letter())
    assert refused.value.code == "NO_DIGITAL_USER"


def test_duplicates_are_refused(ledger: Ledger) -> None:
    make_world(ledger)
    with pytest.raises(SenderAlreadyRegistered):
        ledger.app.register_sender(SENDER_KBO, {"nl": "again"})
    with pytest.raises(MailboxAlreadyOpen):
        ledger.app.open_mailbox(CITIZEN.ebox_type, CITIZEN.id_value)


def test_reading_before_delivery_and_archiving_twice_are_refused(ledger: Ledger) -> None:
    world = make_world(ledger)
    message_id = ledger.app.publish(world.letter())
    with pytest.raises(NotDelivered):
        ledger.app.open_document(message_id, "letter.pdf", "owner", "portal")
    ledger.app.deliver(message_id)
    ledger.app.archive(message_id, by="owner")
    with pytest.raises(AlreadyArchived):
        ledger.app.archive(message_id, by="owner")
    with pytest.raises(UnknownMessage):
        ledger.app.message("00000000-0000-4000-8000-000000000000")


def test_a_broadcast_reaches_every_open_mailbox_and_reports_the_others(ledger: Ledger) -> None:
    world = make_world(ledger)
    unknown = Recipient("citizen", "85073003328")
    letter = world.letter(recipient=[CITIZEN, unknown, ENTERPRISE])
    outcomes = ledger.app.broadcast(letter, batch_size=2)
    assert [o.ok for o in outcomes] == [True, False, True]
    assert outcomes[1].error_code == "NO_DIGITAL_USER"
    assert DeliveryWorker(ledger).run_until_idle() == 2
    publication_ids = {
        ledger.app.events.get(ledger.app.message(o.message_id).id).__next__().publication_id
        for o in outcomes
        if o.message_id
    }
    assert len(publication_ids) == 1


def test_partner_consent_and_mandates(ledger: Ledger) -> None:
    make_world(ledger)
    app = ledger.app
    app.grant_partner_consent(CITIZEN.ebox_type, CITIZEN.id_value, "doccle")
    app.grant_mandate(CITIZEN.ebox_type, CITIZEN.id_value, "citizen:85073003328")
    mailbox = app.mailbox(CITIZEN.ebox_type, CITIZEN.id_value)
    assert mailbox.partners == ["doccle"] and "citizen:85073003328" in mailbox.mandates
    app.revoke_partner_consent(CITIZEN.ebox_type, CITIZEN.id_value, "doccle")
    app.revoke_mandate(CITIZEN.ebox_type, CITIZEN.id_value, "citizen:85073003328")
    mailbox = app.mailbox(CITIZEN.ebox_type, CITIZEN.id_value)
    assert mailbox.partners == [] and mailbox.mandates == {}


def test_a_new_signing_key_works_beside_the_old_one(ledger: Ledger) -> None:
    world = make_world(ledger)
    new_key = SigningKey.generate()
    key_id = ledger.app.add_signing_key(SENDER_KBO, bytes(new_key.verify_key))
    world.sender.key, world.sender.key_id = new_key, key_id
    assert ledger.app.publish(world.letter())


def test_expiry_destroys_the_content_but_not_the_history(ledger: Ledger) -> None:
    world = make_world(ledger)
    message_id = ledger.app.publish(world.letter())
    ledger.app.deliver(message_id)
    ledger.app.expire(message_id, "retention period ended")
    assert ledger.app.stores.wrapped_keys.get(message_id) == {}
    assert event_types(ledger, message_id)[-1] == "Expired"


def test_delivery_is_idempotent_across_workers(ledger: Ledger) -> None:
    world = make_world(ledger)
    ids = [
        o.message_id
        for o in ledger.app.publish_many([world.letter(idempotency_key=f"k{i}") for i in range(5)])
    ]
    ledger.app.deliver(ids[0])  # delivered by hand before the worker runs
    assert DeliveryWorker(ledger).run_until_idle() == 5
    assert DeliveryWorker(ledger).run_until_idle() == 0
    for message_id in ids:
        assert event_types(ledger, message_id).count("Delivered") == 1


def test_linking_a_message_sends_the_same_documents_to_further_mailboxes(ledger: Ledger) -> None:
    world = make_world(ledger)
    original = ledger.app.publish(world.letter())
    unknown = Recipient("citizen", "85073003328")
    outcomes = ledger.app.link(original, SENDER_KBO, [ENTERPRISE, unknown], client_id="sender:test")
    assert [o.ok for o in outcomes] == [True, False]
    linked = outcomes[0].message_id
    DeliveryWorker(ledger).run_until_idle()
    content = ledger.app.open_document(linked, "letter.pdf", ENTERPRISE.address, "portal")
    assert SECRET_SENTENCE in content
    (sent, *_) = ledger.app.events.get(ledger.app.message(linked).id)
    assert sent.origin == "linked" and sent.details["linked_from"] == original
    from ebox.domain.errors import UnknownMessage as Unknown

    with pytest.raises(Unknown):
        ledger.app.link(original, "0206731645", [ENTERPRISE], client_id="sender:other")
