"""What the bundle's events say, checked once they are known to be the ledger's.

Split out of :mod:`ebox.verifier.bundle`: origin (envelope, signature, the
sender's key history), destination (the mailbox and its keys at the time of
sending) and confidentiality (wrapped keys, optional disclosure). Each check
raises the :class:`~ebox.verifier.errors.VerificationError` naming why it fails.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from ebox.domain.proofs.encryption import DATA_KEY_BYTES, DecryptionError, decrypt_document
from ebox.domain.proofs.evidence import EvidenceBundle, ProvenEvent
from ebox.verifier.errors import (
    ConfidentialityNotProven,
    DestinationNotProven,
    DisclosureInvalid,
    EnvelopeMismatch,
    EventRef,
    MalformedEvidence,
    OriginNotProven,
)
from ebox.verifier.events import ref_of
from ebox.verifier.findings import DocumentFinding
from ebox.verifier.jcs import NotCanonicalJSON, jcs
from ebox.verifier.keys import SENDER, KeyHistory
from ebox.verifier.origin import Origin, check_binding, check_envelope_digest
from ebox.verifier.origin import check_key_and_signature as check_key

MAILBOX = "Mailbox"


# --- origin ------------------------------------------------------------------------------


def _verify_origin(
    bundle: EvidenceBundle, sent_event: ProvenEvent, ref: EventRef
) -> tuple[Origin, KeyHistory]:
    """The envelope, the signature, and the key judged at the Sent event's time and leaf."""
    sent = sent_event.data
    submission = bundle.submission
    try:
        raw = jcs(submission.envelope)
    except (NotCanonicalJSON, ValueError, TypeError) as error:
        raise EnvelopeMismatch(
            f"the envelope has no canonical form ({error})", event=ref
        ) from error
    check_envelope_digest(raw, sent, ref)
    check_binding(sent, submission.envelope, ref)
    for member in ("signature", "signing_key_id"):
        if getattr(submission, member) != sent.get(member):
            raise EnvelopeMismatch(
                f"the bundle's {member} is not the one the Sent event recorded",
                event=ref,
                expected=sent.get(member),
                actual=getattr(submission, member),
            )
    if not bundle.sender_events:
        raise OriginNotProven("the bundle holds no event of the sender organisation", event=ref)
    first = bundle.sender_events[0]
    first_ref = ref_of(first.canonical, first.leaf_index, "sender_events[0]")
    if first.canonical["aggregate_type"] != SENDER or first.type != "Registered":
        raise MalformedEvidence(
            "sender_events must start with the organisation's Registered event", event=first_ref
        )
    if first.data.get("kbo_number") != sent.get("sender"):
        raise OriginNotProven(
            "the sender events are those of another organisation",
            event=first_ref,
            expected=sent.get("sender"),
            actual=first.data.get("kbo_number"),
        )
    keys = KeyHistory()
    for event in bundle.sender_events:
        keys.apply(event.canonical, event.leaf_index)
    return check_key(sent, raw, keys, ref, sent_at=str(sent_event.canonical["timestamp"])), keys


# --- destination ------------------------------------------------------------------------


def _verify_destination(
    bundle: EvidenceBundle, sent: Mapping[str, Any], ref: EventRef
) -> dict[str, str] | None:
    """Check the mailbox; return its key fingerprints at the time of sending, if shown."""
    mailbox_id = sent.get("mailbox_id")
    for position, event in enumerate(bundle.events):
        if event.type == "Delivered" and event.data.get("mailbox_id") != mailbox_id:
            raise DestinationNotProven(
                "delivered to another mailbox than the one the letter was sent to",
                event=ref_of(event.canonical, event.leaf_index, f"events[{position}]"),
                expected=mailbox_id,
                actual=event.data.get("mailbox_id"),
            )
    if not bundle.mailbox_events:
        return None
    first = bundle.mailbox_events[0]
    first_ref = ref_of(first.canonical, first.leaf_index, "mailbox_events[0]")
    if first.canonical["aggregate_type"] != MAILBOX or first.type != "Opened":
        raise MalformedEvidence(
            "mailbox_events must start with the mailbox's Opened event", event=first_ref
        )
    if first.aggregate_id != mailbox_id:
        raise DestinationNotProven(
            "the mailbox events are those of another mailbox",
            event=first_ref,
            expected=mailbox_id,
            actual=first.aggregate_id,
        )
    address = f"{first.data.get('ebox_type')}:{first.data.get('id_value')}"
    if address != sent.get("recipient"):
        raise DestinationNotProven(
            "the mailbox was opened for another person or enterprise",
            event=first_ref,
            expected=sent.get("recipient"),
            actual=address,
        )
    keys: dict[str, str] = {}
    for event in bundle.mailbox_events:
        if ref.leaf_index is not None and event.leaf_index > ref.leaf_index:
            break
        if event.type == "EncryptionKeyAdded":
            keys[str(event.data.get("fingerprint"))] = f"encryption key of {address}"
        elif event.type == "MandateGranted" and event.data.get("key_fingerprint"):
            keys[str(event.data["key_fingerprint"])] = (
                f"key of mandate holder {event.data.get('holder')}"
            )
        elif event.type == "MandateRevoked":
            keys = {
                fp: who
                for fp, who in keys.items()
                if who != f"key of mandate holder {event.data.get('holder')}"
            }
    return keys


# --- confidentiality ------------------------------------------------------------------------


def _verify_confidentiality(
    bundle: EvidenceBundle,
    sent: Mapping[str, Any],
    ref: EventRef,
    mailbox_keys: Mapping[str, str] | None,
) -> list[DocumentFinding]:
    wrapped_for = sent.get("wrapped_for")
    if not isinstance(wrapped_for, list) or not wrapped_for:
        raise ConfidentialityNotProven(
            "the Sent event names no key the data key was wrapped for", event=ref
        )
    if mailbox_keys is not None:
        strangers = [fp for fp in wrapped_for if fp not in mailbox_keys]
        if strangers:
            raise ConfidentialityNotProven(
                "the data key was wrapped for a key that is not the mailbox's",
                event=ref,
                expected=sorted(mailbox_keys),
                actual=strangers,
            )
    documents = [d for d in sent.get("documents") or [] if isinstance(d, Mapping)]
    disclosed: dict[str, bytes] = {}
    if bundle.disclosure is not None:
        disclosed = _open_disclosure(bundle, documents, ref)
    return [
        DocumentFinding(
            name=str(d.get("name")),
            media_type=str(d.get("media_type")),
            size=d.get("size") if isinstance(d.get("size"), int) else None,
            sha256=str(d.get("sha256")),
            ciphertext_sha256=str(d.get("ciphertext_sha256")),
            disclosed=str(d.get("name")) in disclosed,
        )
        for d in documents
    ]


def _open_disclosure(
    bundle: EvidenceBundle, documents: Sequence[Mapping[str, Any]], ref: EventRef
) -> dict[str, bytes]:
    """Decrypt every disclosed document and compare with the digests in the Sent event."""
    assert bundle.disclosure is not None
    disclosure = bundle.disclosure
    if len(disclosure.data_key) != DATA_KEY_BYTES:
        raise DisclosureInvalid(
            "the disclosed data key has the wrong length",
            event=ref,
            expected=f"{DATA_KEY_BYTES} bytes",
            actual=f"{len(disclosure.data_key)} bytes",
        )
    given = {d.name: d.ciphertext for d in disclosure.documents}
    recorded = {str(d.get("name")): d for d in documents}
    unknown = sorted(set(given) - set(recorded))
    if unknown:
        raise DisclosureInvalid(
            "the disclosure holds documents the letter does not have", event=ref, actual=unknown
        )
    plaintexts: dict[str, bytes] = {}
    for name, document in recorded.items():
        if name not in given:
            raise DisclosureInvalid(f"document {name!r} is not disclosed", event=ref)
        ciphertext = given[name]
        actual = hashlib.sha256(ciphertext).hexdigest()
        if actual != document.get("ciphertext_sha256"):
            raise DisclosureInvalid(
                f"the ciphertext of {name!r} is not the one the ledger recorded",
                event=ref,
                expected=document.get("ciphertext_sha256"),
                actual=actual,
            )
        try:
            plaintext = decrypt_document(disclosure.data_key, ciphertext)
        except DecryptionError as error:
            raise DisclosureInvalid(
                f"the data key does not open {name!r}: {error}", event=ref
            ) from error
        digest = hashlib.sha256(plaintext).hexdigest()
        if digest != document.get("sha256"):
            raise DisclosureInvalid(
                f"the plaintext of {name!r} does not hash to the digest the sender signed",
                event=ref,
                expected=document.get("sha256"),
                actual=digest,
            )
        plaintexts[name] = plaintext
    return plaintexts
