"""Building one message's evidence bundle from the ledger database.

Everything goes into the bundle as stored and as sealed: canonical events
decoded from the event store, their leaf indices and inclusion proofs against
the latest signed checkpoint, the envelope the sender signed (from the blob
store), and, on request, a disclosure: the data key, unwrapped with the
mailbox's private key from the vault, and the ciphertexts. The bundle is
checked by ``ebox.verifier``, which trusts none of this code.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from ebox.adapters.runtime import Ledger
from ebox.adapters.timestamps import covering
from ebox.adapters.transparency import TransparencyLog
from ebox.domain.chain import aggregate_type_of, project_verified
from ebox.domain.ids import sender_id
from ebox.domain.proofs.canonical import canonical_json, rfc3339
from ebox.domain.proofs.checkpoint import Checkpoint
from ebox.domain.proofs.encryption import DecryptionError, unwrap_key
from ebox.domain.proofs.errors import NoteError
from ebox.domain.proofs.etsi_events import etsi_event_uri
from ebox.domain.proofs.evidence import (
    DisclosedDocument,
    Disclosure,
    EvidenceBundle,
    LedgerReference,
    LegalMomentClaim,
    ProvenEvent,
    Submission,
    TrustedTime,
)
from ebox.domain.proofs.legal_timing import (
    DEFAULT_WORKING_DAYS,
    LegalRule,
    ReceiptRule,
    legal_moment_of_events,
)
from ebox.domain.proofs.note import NoteVerifier

RULE_SETTING = "EBOX_LEGAL_RECEIPT_RULE"
WORKING_DAYS_SETTING = "EBOX_LEGAL_RECEIPT_WORKING_DAYS"


def legal_rule(env: Mapping[str, str] | None = None) -> LegalRule:
    """The operator's rule for the moment of receipt (validated at start-up by the settings)."""
    env = os.environ if env is None else env
    return LegalRule.parse(
        env.get(RULE_SETTING) or ReceiptRule.EARLIEST_OF.value,
        int(env.get(WORKING_DAYS_SETTING) or DEFAULT_WORKING_DAYS),
    )


class EvidenceUnavailable(LookupError):
    """The bundle cannot be made (yet): say why and what to do."""


def build_evidence(
    ledger: Ledger,
    message_id: str,
    *,
    disclose: bool = False,
    now: datetime | None = None,
    rule: LegalRule | None = None,
) -> EvidenceBundle:
    """The `ebox-evidence/v1` bundle of one message, against the latest checkpoint.

    Raises :class:`EvidenceUnavailable` when the message has events that no
    checkpoint covers yet (run the sealer), or when a disclosure is asked for
    but the data key is gone (expired: crypto-shredded). A registered letter's
    bundle states its legal moment of receipt under `rule` (default: the
    EBOX_LEGAL_RECEIPT_* settings) once that moment is settled.
    """
    app = ledger.app
    message = app.message(message_id)  # UnknownMessage if absent; the chain is verified on load
    log = TransparencyLog(ledger)
    size, note = log.checkpoint()
    events = _proven_events(ledger, log, message.id, size, note, whole=True)
    sent = events[0].canonical["data"]
    sender_events = _proven_events(ledger, log, sender_id(sent["sender"]), size, note, whole=False)
    mailbox_events = _proven_events(ledger, log, UUID(sent["mailbox_id"]), size, note, whole=False)
    moment = None
    if sent.get("registered"):
        sealed_at = Checkpoint.parse(note[: note.index("\n\n") + 1]).time
        moment = legal_moment_of_events(
            rule or legal_rule(), (e.canonical for e in events), sealed_at
        )
    return EvidenceBundle(
        message_id=str(message.id),
        created_at=rfc3339(now or datetime.now(UTC)),
        ledger=LedgerReference(origin=ledger.secrets.origin, vkey=log.vkey(), checkpoint=note),
        events=tuple(events),
        sender_events=tuple(sender_events),
        mailbox_events=tuple(mailbox_events),
        submission=Submission(
            envelope=_envelope(ledger, sent["envelope_sha256"]),
            signature=sent.get("signature"),
            signing_key_id=sent.get("signing_key_id"),
        ),
        disclosure=_disclosure(ledger, str(message.id), sent["documents"]) if disclose else None,
        legal_moment=None if moment is None else LegalMomentClaim.of(moment),
        trusted_time=_trusted_time(log, size, (*events, *sender_events, *mailbox_events)),
    )


def _trusted_time(
    log: TransparencyLog, size: int, events: Sequence[ProvenEvent]
) -> TrustedTime | None:
    """The earliest stamped checkpoint that covers every event, with its consistency proof
    to the bundle's checkpoint of `size` leaves; None if no stamped one covers them yet.

    Only a checkpoint signed by the bundle's ledger key will do: one signed before a key
    rotation does not open with the key the bundle names (ebox.domain.ledger_keys).
    """
    covered = max((e.leaf_index for e in events), default=-1) + 1
    verifier = NoteVerifier(log.vkey())
    for stamped in covering(log.ledger, covered, size):
        try:
            verifier.verify(stamped.note)
        except NoteError:
            continue
        proof = () if stamped.size == size else tuple(log.consistency(stamped.size, size))
        return TrustedTime(checkpoint=stamped.note, token=stamped.token, consistency=proof)
    return None


def _proven_events(
    ledger: Ledger, log: TransparencyLog, aggregate_id: UUID, size: int, note: str, *, whole: bool
) -> list[ProvenEvent]:
    """An aggregate's events with their proofs, up to the checkpoint of `size` leaves.

    `whole`: every event must be covered (the message itself); otherwise the
    events sealed after the checkpoint are left out (sender and mailbox history).
    """
    app = ledger.app
    stored: Sequence[StoredEvent] = app.recorder.select_events(aggregate_id)
    domain_events = [app.mapper.to_domain_event(s) for s in stored]
    project_verified(None, domain_events)  # refuse to prove a chain that does not verify
    proven = []
    for event in domain_events:
        version = event.originator_version
        leaf = log.leaf_of(str(aggregate_id), version)
        if leaf is None or leaf >= size:
            if whole:
                raise EvidenceUnavailable(
                    f"event {version} of {aggregate_id} is not covered by a signed checkpoint yet "
                    f"(latest checkpoint: {size} leaves); run the sealer (`ebox workers --once`) "
                    "and ask again"
                )
            break
        canonical = event.canonical(aggregate_type_of(event))
        proven.append(
            ProvenEvent(
                canonical=canonical,
                event_hash=event.event_hash,
                leaf_index=leaf,
                proof=log.inclusion(leaf, size).encode(),
                etsi_event=etsi_event_uri(canonical["type"], canonical["data"]) if whole else None,
            )
        )
    if whole and not proven:
        raise EvidenceUnavailable(f"no event of {aggregate_id} is sealed yet")
    return proven


def _envelope(ledger: Ledger, digest: str) -> dict[str, Any]:
    raw = ledger.app.stores.blobs.get(digest)
    envelope: dict[str, Any] = json.loads(raw)
    if canonical_json(envelope) != raw:
        raise EvidenceUnavailable(f"the stored envelope {digest} is not in canonical form")
    return envelope


def _disclosure(
    ledger: Ledger, message_id: str, documents: Sequence[Mapping[str, Any]]
) -> Disclosure:
    stores = ledger.app.stores
    for fingerprint, wrapped in stores.wrapped_keys.get(message_id).items():
        try:
            data_key = unwrap_key(wrapped, stores.vault.load(fingerprint))
        except (KeyError, DecryptionError):
            continue
        return Disclosure(
            data_key=data_key,
            documents=tuple(
                DisclosedDocument(d["name"], stores.blobs.get(d["ciphertext_sha256"]))
                for d in documents
            ),
        )
    raise EvidenceUnavailable(
        f"message {message_id} cannot be disclosed: its data key is gone (the message expired and "
        "its keys were destroyed) or no key in the vault opens it"
    )
