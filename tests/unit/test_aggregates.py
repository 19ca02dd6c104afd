"""Guards of the mailbox model, in the domain's words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ebox.domain.errors import (
    AlreadyArchived,
    AlreadyDelivered,
    MailboxClosed,
    NoConsent,
    NotArchived,
    NotDelivered,
    SigningKeyNotValid,
    SigningKeyRevoked,
    UnknownApplication,
    UnknownDocument,
    UnknownMessageType,
    UnknownSigningKey,
)
from ebox.domain.ids import is_kbo_number, is_national_register_number, mailbox_id, sender_id
from ebox.domain.mailbox import Mailbox
from ebox.domain.proofs.canonical import rfc3339
from ebox.domain.sender import SenderOrganization
from ebox.domain.validity import expiry
from tests.unit.test_chain import a_message

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def a_sender() -> SenderOrganization:
    sender = SenderOrganization.register(
        "0308357159", {"nl": "FOD Financiën", "fr": "SPF Finances"}
    )
    sender.add_signing_key(
        "k1", "cHVibGlj", rfc3339(NOW - timedelta(days=1)), rfc3339(NOW + timedelta(days=1))
    )
    return sender


def test_sender_and_mailbox_ids_derive_from_their_public_identifiers() -> None:
    assert a_sender().id == sender_id("0308357159")
    assert Mailbox.open("citizen", "58102882214").id == mailbox_id("citizen", "58102882214")


def test_a_key_is_valid_only_inside_its_period_and_until_revoked() -> None:
    sender = a_sender()
    assert sender.signing_key_valid_at("k1", NOW)
    with pytest.raises(SigningKeyNotValid):
        sender.signing_key_valid_at("k1", NOW + timedelta(days=2))
    with pytest.raises(UnknownSigningKey):
        sender.signing_key_valid_at("k2", NOW)
    sender.revoke_signing_key("k1", rfc3339(NOW), "compromised")
    with pytest.raises(SigningKeyRevoked):
        sender.signing_key_valid_at("k1", NOW + timedelta(seconds=1))
    assert sender.signing_key_valid_at("k1", NOW - timedelta(seconds=1))
    with pytest.raises(SigningKeyRevoked):
        sender.revoke_signing_key("k1", rfc3339(NOW), "again")


def test_unknown_applications_and_message_types_are_refused() -> None:
    sender = a_sender()
    with pytest.raises(UnknownApplication):
        sender.require_application("nope")
    with pytest.raises(UnknownMessageType):
        sender.message_type("nope")
    sender.register_message_type("TAX", {"nl": "Belasting"}, "MONTH", 6)
    assert sender.message_type("TAX")["validity_amount"] == 6


def test_a_closed_mailbox_is_no_digital_user_and_consent_is_per_partner() -> None:
    mailbox = Mailbox.open("citizen", "58102882214")
    mailbox.grant_partner_consent("partner-a")
    mailbox.require_consent("partner-a")
    with pytest.raises(NoConsent):
        mailbox.require_consent("partner-b")
    mailbox.revoke_partner_consent("partner-a")
    with pytest.raises(NoConsent):
        mailbox.require_consent("partner-a")
    mailbox.close("deceased")
    with pytest.raises(MailboxClosed) as refused:
        mailbox.require_open()
    assert refused.value.code == "NO_DIGITAL_USER"


def test_reading_needs_delivery_and_only_the_first_main_opening_is_read() -> None:
    message = a_message()
    with pytest.raises(NotDelivered):
        message.open_document("a.pdf", "owner", "portal")
    message.deliver()
    with pytest.raises(AlreadyDelivered):
        message.deliver()
    message.open_document("a.pdf", "owner", "portal")
    message.open_document("a.pdf", "partner:x", "partner")
    kinds = [type(e).__name__ for e in message.collect_events()]
    assert kinds == ["Sent", "Delivered", "Read", "ContentAccessed"]
    with pytest.raises(UnknownDocument):
        message.open_document("b.pdf", "owner", "portal")


def test_archiving_twice_and_unarchiving_what_is_not_archived_are_refused() -> None:
    message = a_message()
    message.deliver()
    message.archive("owner")
    with pytest.raises(AlreadyArchived):
        message.archive("owner")
    message.unarchive("owner")
    with pytest.raises(NotArchived):
        message.unarchive("owner")


def test_validity_periods_follow_the_calendar() -> None:
    start = datetime(2026, 1, 31, tzinfo=UTC)
    assert expiry(start, "MONTH", 1) == datetime(2026, 2, 28, tzinfo=UTC)
    assert expiry(start, "YEAR", 1) == datetime(2027, 1, 31, tzinfo=UTC)
    assert expiry(start, "DAY", 30) == datetime(2026, 3, 2, tzinfo=UTC)


def test_belgian_identifiers_are_checked_modulo_97() -> None:
    assert is_kbo_number("0308.357.159")
    assert not is_kbo_number("0308357158")
    assert is_national_register_number("58102882214")
    assert not is_national_register_number("58102882215")
