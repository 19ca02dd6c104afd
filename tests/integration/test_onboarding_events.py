"""Every onboarding act is a ledger event, and a bulk import is all or nothing per batch.

On SQLite and PostgreSQL: the operator's acts (a sender, its key and its
revocation, an application, a message type, a mailbox with its contact, a
partner, a consent, a mandate, an OAuth client registered, given a key and
disabled) each leave their event in the notification log, chained and sealed
like a letter's. A bulk open writes nothing when one row is wrong, and a
re-run opens only what is missing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from nacl.signing import SigningKey

from ebox.adapters.clients import add_client_key, disable_client, generate_key
from ebox.adapters.onboarding import add_client
from ebox.adapters.runtime import Ledger
from ebox.domain.application import MailboxToOpen
from ebox.domain.client_record import OAuthClientRecord
from ebox.domain.errors import InvalidIdentifier, PartnerAlreadyRegistered
from ebox.domain.ids import client_aggregate_id
from ebox.domain.limits import FieldRejected
from ebox.projections.sealer import Sealer
from tests.builders import CITIZEN, SENDER_KBO
from tests.onboarding import nrns


def logged(ledger: Ledger, after: int = 0) -> list[str]:
    """`Aggregate.Event` names of the notification log after position `after`."""
    notifications = ledger.app.recorder.select_notifications(start=after + 1, limit=10_000)
    return [".".join(n.topic.rsplit(":", 1)[-1].split(".")[-2:]) for n in notifications]


def position(ledger: Ledger) -> int:
    return int(ledger.app.recorder.max_notification_id() or 0)


def test_every_onboarding_act_is_an_event_of_the_ledger(ledger: Ledger) -> None:
    app = ledger.app
    app.register_sender(SENDER_KBO, {"nl": "FOD Financiën"})
    key_id = app.add_signing_key(SENDER_KBO, bytes(SigningKey.generate().verify_key))
    app.revoke_signing_key(SENDER_KBO, key_id, "rotated")
    app.register_application(SENDER_KBO, "mybox-publisher", {"en": "gateway"})
    assert app.register_message_type_for(SENDER_KBO, "TAX", {"nl": "Aanslag"}, "3m") == (
        "MONTH",
        3,
    )
    app.open_mailbox("citizen", CITIZEN.id_value, "an@example.be", "nl")
    app.register_partner("doccle", "Doccle")
    app.grant_partner_consent("citizen", CITIZEN.id_value, "doccle")
    app.grant_mandate("citizen", CITIZEN.id_value, "citizen:85073003328")
    client_id = add_client(ledger, "admin", "ops", generate_key().public_jwk)
    add_client_key(ledger, client_id, generate_key().public_jwk)
    disable_client(ledger, client_id)

    assert logged(ledger) == [
        "SenderOrganization.Registered",
        "SenderOrganization.SigningKeyAdded",
        "SenderOrganization.SigningKeyRevoked",
        "SenderOrganization.ApplicationRegistered",
        "SenderOrganization.MessageTypeRegistered",
        "Mailbox.Opened",
        "Mailbox.EncryptionKeyAdded",
        "Mailbox.ContactSet",
        "Partner.Registered",
        "Mailbox.PartnerConsentGranted",
        "Mailbox.MandateGranted",
        "OAuthClientRecord.Registered",
        "OAuthClientRecord.KeyAdded",
        "OAuthClientRecord.Disabled",
    ]
    record: OAuthClientRecord = app.repository.get(client_aggregate_id(client_id))
    assert (record.kind, record.subject, record.disabled, len(record.key_ids)) == (
        "admin",
        "ops",
        True,
        2,
    )
    with pytest.raises(FieldRejected, match=r"ends .* before it starts"):
        app.add_signing_key(
            SENDER_KBO,
            bytes(SigningKey.generate().verify_key),
            valid_from=datetime(2027, 1, 2, tzinfo=UTC),
            valid_until=datetime(2027, 1, 1, tzinfo=UTC),
        )
    sealer = Sealer(ledger)
    assert sealer.run_until_idle() == len(logged(ledger))  # sealed like any other event
    with pytest.raises(PartnerAlreadyRegistered):
        app.register_partner("doccle", "Doccle again")


def test_a_bulk_open_writes_nothing_when_a_row_is_wrong_and_a_rerun_only_what_is_missing(
    ledger: Ledger,
) -> None:
    people = [MailboxToOpen("citizen", n, None, "fr") for n in nrns(50)]
    before = position(ledger)
    with pytest.raises(InvalidIdentifier, match="wrong check digits"):
        ledger.app.open_mailboxes([*people[:10], MailboxToOpen("citizen", "58102882215")])
    assert position(ledger) == before

    assert ledger.app.open_mailboxes(people[:20]) == (20, 0)
    assert ledger.app.open_mailboxes(people) == (30, 20)
    types: dict[str, Any] = {}
    for name in logged(ledger, before):
        types[name] = types.get(name, 0) + 1
    assert types == {
        "Mailbox.Opened": 50,
        "Mailbox.EncryptionKeyAdded": 50,
        "Mailbox.ContactSet": 50,
    }
    mailbox = ledger.app.mailbox("citizen", people[-1].id_value)
    assert (mailbox.language, len(mailbox.encryption_keys)) == ("fr", 1)
    fingerprint = next(iter(mailbox.encryption_keys))
    assert len(ledger.app.stores.vault.load(fingerprint)) == 32  # its private key, sealed, kept


def test_a_bulk_open_racing_another_import_looks_again_and_opens_only_what_is_missing(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another import opened some of the batch between the existence read and the write."""
    people = [MailboxToOpen("citizen", n) for n in nrns(10)]
    assert ledger.app.open_mailboxes(people[:4]) == (4, 0)  # "the other import"
    reader = ledger.app.stores.events
    real = reader.latest_versions
    reads: list[int] = []

    def stale_first(ids: Any) -> dict[Any, int]:
        reads.append(1)
        return {} if len(reads) == 1 else real(ids)  # the first read predates the other import

    monkeypatch.setattr(reader, "latest_versions", stale_first)
    before = position(ledger)
    assert ledger.app.open_mailboxes(people) == (6, 4)
    assert len(reads) == 2
    assert len(logged(ledger, before)) == 12  # Opened + EncryptionKeyAdded for the six alone
