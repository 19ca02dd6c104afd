"""Verify an `ebox-evidence/v1` bundle offline, with nothing but the ledger's vkey.

The order of the checks is the order of trust: first the checkpoint's
signature by the key the verifier trusts, then each event's hash and its
inclusion proof into that checkpoint, then each aggregate's hash chain, and
only then what the events say (origin, destination, confidentiality,
timeline), since only then are they known to be the ledger's. The first
failure raises a :class:`~ebox.verifier.errors.VerificationError` naming the
exact reason; success returns a :class:`~ebox.verifier.findings.BundleReport`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from ebox.domain.proofs.canonical import rfc3339
from ebox.domain.proofs.checkpoint import Checkpoint, open_checkpoint
from ebox.domain.proofs.encryption import DATA_KEY_BYTES, DecryptionError, decrypt_document
from ebox.domain.proofs.errors import (
    CheckpointFormatError,
    KeyFormatError,
    NoteError,
    ProofError,
    TlogProofFormatError,
)
from ebox.domain.proofs.evidence import EvidenceBundle, EvidenceFormatError, ProvenEvent
from ebox.domain.proofs.merkle import leaf_hash, verify_inclusion
from ebox.domain.proofs.note import NoteVerifier, b64encode
from ebox.domain.proofs.tlogproof import TlogProof
from ebox.verifier.errors import (
    CheckpointForged,
    ConfidentialityNotProven,
    DestinationNotProven,
    DisclosureInvalid,
    EnvelopeMismatch,
    EventMissing,
    EventModified,
    EventRef,
    EventReordered,
    MalformedEvidence,
    NotIncluded,
    OriginNotProven,
    UntrustedLedgerKey,
)
from ebox.verifier.events import ZERO_HASH, check_shape, event_digest, ref_of
from ebox.verifier.findings import BundleReport, DocumentFinding, Section
from ebox.verifier.jcs import NotCanonicalJSON, jcs
from ebox.verifier.keys import SENDER, KeyHistory
from ebox.verifier.origin import ATTESTED, LINKED, Origin, check_binding, check_envelope_digest
from ebox.verifier.origin import check_key_and_signature as check_key
from ebox.verifier.timeline import Step, timeline

MESSAGE, MAILBOX = "Message", "Mailbox"


def trusted_verifier(vkey: str) -> NoteVerifier:
    """The note verifier for the vkey the user trusts (a C2SP vkey string)."""
    try:
        return NoteVerifier(vkey.strip())
    except KeyFormatError as error:
        raise MalformedEvidence(f"the trusted vkey is not a C2SP verifier key ({error})") from error


def verify_bundle(bundle: EvidenceBundle | str | bytes, vkey: str) -> BundleReport:
    """Check everything the bundle claims; return what is proven or raise why not."""
    if not isinstance(bundle, EvidenceBundle):
        try:
            bundle = EvidenceBundle.parse(bundle)
        except EvidenceFormatError as error:
            raise MalformedEvidence(str(error)) from error
    verifier = trusted_verifier(vkey)
    if bundle.ledger.vkey.strip() != verifier.vkey:
        raise UntrustedLedgerKey(
            "the bundle was made for another ledger key than the one you trust",
            expected=verifier.vkey,
            actual=bundle.ledger.vkey,
        )
    checkpoint = _open_checkpoint(bundle.ledger.checkpoint, verifier, bundle.ledger.origin)
    note = bundle.ledger.checkpoint
    for group, events in (
        ("events", bundle.events),
        ("sender_events", bundle.sender_events),
        ("mailbox_events", bundle.mailbox_events),
    ):
        for position, event in enumerate(events):
            _verify_proven_event(event, f"{group}[{position}]", checkpoint, note)
        _verify_chain(events, group)

    sent_event = _message_events(bundle)
    sent = sent_event.data
    sent_ref = ref_of(sent_event.canonical, sent_event.leaf_index, "events[0]")
    origin, keys = _verify_origin(bundle, sent_event, sent_ref)
    mailbox_keys = _verify_destination(bundle, sent, sent_ref)
    documents = _verify_confidentiality(bundle, sent, sent_ref, mailbox_keys)
    steps = timeline([(e.canonical, e.leaf_index, e.event_hash) for e in bundle.events])
    sender_names = keys.names.get(str(sent.get("sender")), {})
    return BundleReport(
        message_id=bundle.message_id,
        registered=bool(sent.get("registered")),
        message_type=str(sent.get("message_type")),
        subjects=dict(sent.get("subjects") or {}),
        sender_kbo=str(sent.get("sender")),
        sender_names=sender_names,
        recipient=str(sent.get("recipient")),
        mailbox_id=str(sent.get("mailbox_id")),
        origin=origin,
        vkey=verifier.vkey,
        checkpoint=checkpoint,
        checkpoint_note=note,
        steps=tuple(steps),
        documents=tuple(documents),
        disclosed=bundle.disclosure is not None,
        sections=_sections(bundle, sent, origin, checkpoint, steps, documents, mailbox_keys),
        limits=_limits(bundle, origin, checkpoint),
    )


# --- integrity ---------------------------------------------------------------------


def _open_checkpoint(note: str, verifier: NoteVerifier, origin: str) -> Checkpoint:
    try:
        return open_checkpoint(note, verifier, origin=origin)
    except (NoteError, CheckpointFormatError) as error:
        kind = (
            CheckpointForged if not isinstance(error, CheckpointFormatError) else MalformedEvidence
        )
        raise kind(
            f"the bundle's checkpoint does not open with the trusted key: {error}"
        ) from error


def _verify_proven_event(event: ProvenEvent, where: str, checkpoint: Checkpoint, note: str) -> None:
    ref = ref_of(event.canonical, event.leaf_index, where)
    check_shape(event.canonical, ref)
    digest = event_digest(event.canonical, ref)
    if digest.hex() != event.event_hash:
        raise EventModified(
            "the canonical object does not hash to its event_hash",
            event=ref,
            expected=event.event_hash,
            actual=digest.hex(),
        )
    try:
        proof = TlogProof.parse(event.proof)
    except TlogProofFormatError as error:
        raise MalformedEvidence(f"the tlog-proof is malformed: {error}", event=ref) from error
    if proof.index != event.leaf_index:
        raise NotIncluded(
            "the tlog-proof is for another leaf",
            event=ref,
            expected=event.leaf_index,
            actual=proof.index,
        )
    if proof.checkpoint_note != note:
        raise NotIncluded("the tlog-proof leads to another checkpoint than the bundle's", event=ref)
    try:
        verify_inclusion(
            leaf_hash(digest), proof.index, checkpoint.size, proof.hashes, checkpoint.root
        )
    except ProofError as error:
        raise NotIncluded(
            f"the inclusion proof does not lead to the signed root of checkpoint "
            f"{checkpoint.size}: "
            f"{error}",
            event=ref,
        ) from error


def _verify_chain(events: Sequence[ProvenEvent], group: str) -> None:
    """Versions 1..n of one aggregate, each linked to the hash of the one before."""
    previous: ProvenEvent | None = None
    for position, event in enumerate(events):
        ref = ref_of(event.canonical, event.leaf_index, f"{group}[{position}]")
        if previous is not None and (
            event.aggregate_id != previous.aggregate_id
            or event.canonical["aggregate_type"] != previous.canonical["aggregate_type"]
        ):
            raise MalformedEvidence(
                f"{group} mixes aggregates",
                event=ref,
                expected=previous.aggregate_id,
                actual=event.aggregate_id,
            )
        expected_version = position + 1
        if event.version != expected_version:
            later = [e.version for e in events[position + 1 :]]
            kind, what = (
                (EventReordered, f"version {expected_version} stands later, out of order")
                if expected_version in later or event.version < expected_version
                else (EventMissing, f"version {expected_version} is missing")
            )
            raise kind(
                f"{group} must hold versions 1, 2, 3... in order: {what}",
                event=ref,
                expected=f"version {expected_version}",
                actual=f"version {event.version}",
            )
        expected_prev = ZERO_HASH if previous is None else previous.event_hash
        if event.canonical["prev_hash"] != expected_prev:
            raise EventModified(
                "the hash chain is broken: prev_hash is not the hash of the previous version",
                event=ref,
                expected=expected_prev,
                actual=event.canonical["prev_hash"],
            )
        if previous is not None and event.leaf_index <= previous.leaf_index:
            raise EventReordered(
                "a later version sits at an earlier leaf of the log",
                event=ref,
                expected=f"a leaf after {previous.leaf_index}",
                actual=event.leaf_index,
            )
        previous = event


def _message_events(bundle: EvidenceBundle) -> ProvenEvent:
    if not bundle.events:
        raise MalformedEvidence("the bundle holds no event of the message")
    first = bundle.events[0]
    ref = ref_of(first.canonical, first.leaf_index, "events[0]")
    if first.aggregate_id != bundle.message_id or first.canonical["aggregate_type"] != MESSAGE:
        raise MalformedEvidence(
            "the events are not those of the message the bundle names",
            event=ref,
            expected=f"{MESSAGE} {bundle.message_id}",
            actual=f"{first.canonical['aggregate_type']} {first.aggregate_id}",
        )
    if first.type != "Sent":
        raise MalformedEvidence(
            "the message's first event is not Sent", event=ref, actual=first.type
        )
    return first


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


# --- the report's words ---------------------------------------------------------------------


def _sections(
    bundle: EvidenceBundle,
    sent: Mapping[str, Any],
    origin: Origin,
    checkpoint: Checkpoint,
    steps: Sequence[Step],
    documents: Sequence[DocumentFinding],
    mailbox_keys: Mapping[str, str] | None,
) -> tuple[Section, ...]:
    return (
        _origin_section(bundle, origin),
        _destination_section(bundle, sent, steps),
        _integrity_section(bundle, checkpoint),
        _confidentiality_section(bundle, sent, documents, mailbox_keys),
    )


def _origin_section(bundle: EvidenceBundle, origin: Origin) -> Section:
    sender_versions = len(bundle.sender_events)
    chain = (
        f"The sender organisation's {sender_versions} events (versions 1-{sender_versions}, "
        "its key "
        "history) form one hash chain and are each included in the checkpoint."
    )
    envelope = (
        f"The submission envelope (SHA-256 {origin.envelope_sha256}) says exactly what the "
        "Sent event "
        "records: sender, application, recipient, message type, subjects, each document's name, "
        "media type and SHA-256, registered flag and submission time."
    )
    if origin.kind == LINKED:
        return Section(
            "Origin",
            "ATTESTED (linked, not signed for this recipient)",
            (
                f"The ledger attests that the authenticated client {origin.client_id} linked "
                f"letter {origin.linked_from} of sender {origin.sender} (application "
                f"{origin.application}) to this recipient (linkEboxMessage); this rests on the "
                "ledger operator's authentication, not on a signature.",
                "The envelope is that of the original publication: it names the original "
                "recipients, not this one, and says what the Sent event says in everything else "
                f"(SHA-256 {origin.envelope_sha256}).",
                chain,
            ),
        )
    if origin.kind == ATTESTED or origin.key is None:
        return Section(
            "Origin",
            "ATTESTED (not signed)",
            (
                "The letter was not signed by the sender. The ledger attests that the "
                f"authenticated "
                f"client {origin.client_id} submitted it for sender {origin.sender} "
                f"(application {origin.application}); this rests on the ledger operator's "
                "authentication, not on a signature.",
                envelope,
                chain,
            ),
        )
    key = origin.key
    return Section(
        "Origin",
        "PROVEN",
        (
            f"Signed by sender {origin.sender} with Ed25519 key {key.key_id} "
            f"(application {origin.application}).",
            f"The key was added to the sender's key history at {key.added_at} "
            f"(leaf {key.added_leaf}) "
            f"and is {key.describe_validity()}: it was valid at the time of sending, "
            f"the ledger's receipt of the letter ({origin.sent_at}, the Sent event at leaf "
            f"{bundle.events[0].leaf_index}); in the log its addition precedes that leaf and no "
            "revocation does. "
            f"The sender stated {origin.submitted_at} as its submission time.",
            "The signature verifies over the RFC 8785 bytes of the submission envelope.",
            envelope,
            chain,
        ),
    )


def _destination_section(
    bundle: EvidenceBundle, sent: Mapping[str, Any], steps: Sequence[Step]
) -> Section:
    delivered = next((s for s in steps if s.type == "Delivered"), None)
    lines = [
        f"Addressed to the eBox of {sent.get('recipient')} (mailbox {sent.get('mailbox_id')}), "
        "as named in the envelope the sender submitted."
    ]
    if bundle.mailbox_events:
        opened = bundle.mailbox_events[0]
        lines.append(
            f"The mailbox's own events show it was opened for {sent.get('recipient')} at "
            f"{opened.canonical['timestamp']} (leaf {opened.leaf_index})."
        )
    lines.append(
        f"Made available in that mailbox at {delivered.time}."
        if delivered
        else "Not delivered to the mailbox as of this checkpoint."
    )
    return Section("Destination", "PROVEN" if delivered else "NOT DELIVERED", tuple(lines))


def _integrity_section(bundle: EvidenceBundle, checkpoint: Checkpoint) -> Section:
    count = len(bundle.events)
    time = rfc3339(checkpoint.time) if checkpoint.time else "(no time line)"
    return Section(
        "Integrity",
        "PROVEN",
        (
            f"Each of the message's {count} events hashes (SHA-256 of its RFC 8785 canonical JSON) "
            "to its recorded event_hash.",
            f"They form one hash chain, versions 1-{count}, each naming the hash of the one "
            "before.",
            f"Each is included, by an RFC 6962 inclusion proof, in checkpoint {checkpoint.size} of "
            f"log {checkpoint.origin} (root {b64encode(checkpoint.root)}, signed at {time}), "
            "whose signature verifies with the trusted ledger key.",
        ),
    )


def _confidentiality_section(
    bundle: EvidenceBundle,
    sent: Mapping[str, Any],
    documents: Sequence[DocumentFinding],
    mailbox_keys: Mapping[str, str] | None,
) -> Section:
    wrapped = [str(fp) for fp in sent.get("wrapped_for") or []]
    holders = ", ".join(
        f"{fp[:16]} ({mailbox_keys.get(fp, 'unknown')})" if mailbox_keys is not None else fp[:16]
        for fp in wrapped
    )
    lines = [
        f"The ledger records only digests of the {len(documents)} document(s): the SHA-256 of each "
        "plaintext (signed by the sender) and of each ciphertext. The content is stored only "
        "encrypted, under a fresh data key (XSalsa20-Poly1305, NaCl SecretBox).",
        f"The data key was wrapped (X25519 SealedBox) only for: {holders}.",
    ]
    if bundle.disclosure is None:
        lines.append("No disclosure: the content itself was not checked, only its digests.")
        verdict = "PROVEN (digests)"
    else:
        names = ", ".join(d.name for d in documents)
        lines.append(
            f"Disclosure: the data key decrypts every document ({names}) and each plaintext's "
            "SHA-256 "
            "equals the digest the sender signed."
        )
        verdict = "PROVEN (content disclosed and checked)"
    return Section("Confidentiality", verdict, tuple(lines))


def _limits(bundle: EvidenceBundle, origin: Origin, checkpoint: Checkpoint) -> tuple[str, ...]:
    limits = [
        f"The bundle shows versions 1-{len(bundle.events)} of the message as of checkpoint "
        f"{checkpoint.size}. Inclusion proofs show what is in the log, not that nothing else "
        "is: an "
        "event recorded later, or withheld, is not excluded; a whole-ledger audit (ebox audit) "
        "proves completeness.",
        "Event times are the ledger's clock; the submission time is the sender's own, signed, "
        "and decides nothing: the key is judged at the ledger's receipt (the Sent event).",
    ]
    if origin.kind in (ATTESTED, LINKED):
        limits.append("Origin is attested by the ledger operator, not signed by the sender.")
    return tuple(limits)
