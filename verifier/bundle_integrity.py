"""The integrity checks of an evidence bundle: checkpoint, inclusion, hash chains.

Split out of :mod:`ebox.verifier.bundle` so that the first, trust-establishing
step (the checkpoint's signature by the trusted key, each event's hash and
inclusion proof, each aggregate's hash chain, and which events are the
message's) reads on its own, before anything the events say is believed.
"""

from __future__ import annotations

from collections.abc import Sequence

from ebox.domain.proofs.checkpoint import Checkpoint, open_checkpoint
from ebox.domain.proofs.errors import (
    CheckpointFormatError,
    NoteError,
    ProofError,
    TlogProofFormatError,
)
from ebox.domain.proofs.evidence import EvidenceBundle, ProvenEvent
from ebox.domain.proofs.merkle import leaf_hash, verify_inclusion
from ebox.domain.proofs.note import NoteVerifier
from ebox.domain.proofs.tlogproof import TlogProof
from ebox.verifier.errors import (
    CheckpointForged,
    EventMissing,
    EventModified,
    EventReordered,
    MalformedEvidence,
    NotIncluded,
)
from ebox.verifier.events import ZERO_HASH, check_shape, event_digest, ref_of

MESSAGE = "Message"


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
