"""A letter recorded after its key's revocation is not proven, from a real ledger's evidence.

The use cases refuse such a letter (tests/integration/test_signature_at_receipt.py),
so the ledger state is made through the domain in a crafted order: the
publication is prepared (key checked) while the key is valid, the key is
revoked, and only then is the letter recorded, bypassing the use case's check
at the Sent time. The stated submission time lies before the revocation; the
verifier must judge at the Sent event and in the log's order all the same.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ebox.adapters.evidence import build_evidence
from ebox.adapters.runtime import Ledger
from ebox.adapters.transparency import TransparencyLog
from ebox.domain.preparation import PreparedPublication
from ebox.domain.proofs.canonical import unb64url
from ebox.domain.proofs.encryption import wrap_key
from ebox.projections.delivery import DeliveryWorker
from ebox.verifier.bundle import verify_bundle
from ebox.verifier.errors import SigningKeyNotValid
from tests.builders import CITIZEN, SENDER_KBO, make_world
from tests.integration.test_audit import audit
from tests.integration.test_evidence import seal


def letter_recorded_after_its_keys_revocation(ledger: Ledger) -> str:
    app = ledger.app
    world = make_world(ledger)
    letter = world.letter()
    prepared = PreparedPublication.of(
        letter,
        app.sender(SENDER_KBO),
        False,
        received_at=datetime.now(UTC),
        skew=app.submission_skew,
    )
    app.revoke_signing_key(SENDER_KBO, world.sender.key_id, "key compromise")
    mailbox = app.mailbox(CITIZEN.ebox_type, CITIZEN.id_value)
    message = prepared.send_to(mailbox)
    with app.stores.unit_of_work():
        app.save(message)
        app.stores.blobs.put_many(prepared.blobs)
        app.stores.wrapped_keys.put_many(
            (str(message.id), fingerprint, wrap_key(prepared.data_key, unb64url(public)))
            for fingerprint, public in mailbox.encryption_keys.items()
        )
    DeliveryWorker(ledger).run_until_idle()
    seal(ledger)
    return str(message.id)


def test_its_evidence_does_not_prove_origin(ledger: Ledger) -> None:
    message_id = letter_recorded_after_its_keys_revocation(ledger)
    bundle = build_evidence(ledger, message_id)
    revocation = bundle.sender_events[-1]
    assert revocation.type == "SigningKeyRevoked"
    assert bundle.events[0].data["submitted_at"] < revocation.data["revoked_at"]

    with pytest.raises(SigningKeyNotValid, match="revoked") as refused:
        verify_bundle(bundle.to_json(), TransparencyLog(ledger).vkey())

    assert refused.value.event is not None
    assert refused.value.event.leaf_index == bundle.events[0].leaf_index


def test_the_whole_ledger_audit_names_it(ledger: Ledger) -> None:
    message_id = letter_recorded_after_its_keys_revocation(ledger)

    result = audit(ledger)

    assert not result.ok and isinstance(result.failure, SigningKeyNotValid)
    assert result.failure.event is not None
    assert result.failure.event.aggregate_id == message_id
