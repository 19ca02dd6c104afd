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

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from ebox.domain.proofs.checkpoint import Checkpoint
from ebox.domain.proofs.errors import KeyFormatError
from ebox.domain.proofs.evidence import EvidenceBundle, EvidenceFormatError
from ebox.domain.proofs.note import NoteVerifier
from ebox.domain.proofs.policy import Policy
from ebox.domain.proofs.tlogproof import TlogProof
from ebox.verifier.bundle_claims import (
    MAILBOX,
    _verify_confidentiality,
    _verify_destination,
    _verify_origin,
)
from ebox.verifier.bundle_integrity import (
    MESSAGE,
    _message_events,
    _open_checkpoint,
    _verify_chain,
    _verify_proven_event,
)
from ebox.verifier.bundle_sections import _limits, _sections
from ebox.verifier.errors import MalformedEvidence, UntrustedLedgerKey
from ebox.verifier.events import ref_of
from ebox.verifier.findings import BundleReport, Section
from ebox.verifier.legal_checks import check_etsi_labels, check_legal_moment
from ebox.verifier.life_sections import legal_moment_section, life_section
from ebox.verifier.timeline import timeline
from ebox.verifier.witnesses import Witnessed, check_witnesses, witnesses_section

if TYPE_CHECKING:
    from asn1crypto import x509

__all__ = ["MAILBOX", "MESSAGE", "trusted_verifier", "verify_bundle"]


def trusted_verifier(vkey: str) -> NoteVerifier:
    """The note verifier for the vkey the user trusts (a C2SP vkey string)."""
    try:
        return NoteVerifier(vkey.strip())
    except KeyFormatError as error:
        raise MalformedEvidence(f"the trusted vkey is not a C2SP verifier key ({error})") from error


def verify_bundle(
    bundle: EvidenceBundle | str | bytes,
    vkey: str,
    tsa_anchors: Sequence[x509.Certificate] = (),
    policy: Policy | None = None,
) -> BundleReport:
    """Check everything the bundle claims; return what is proven or raise why not.

    `tsa_anchors`: the trust anchors of the time-stamping authorities whose
    tokens are believed (ebox.verifier.trusted_time); none: integrity only.
    `policy`: a C2SP tlog-policy whose quorum every checkpoint relied on must
    meet (ebox.verifier.witnesses); none: cosignature lines are ignored.
    """
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
    witnessed = _witnesses(bundle, verifier, policy)

    sent_event = _message_events(bundle)
    sent = sent_event.data
    sent_ref = ref_of(sent_event.canonical, sent_event.leaf_index, "events[0]")
    origin, keys = _verify_origin(bundle, sent_event, sent_ref)
    mailbox_keys = _verify_destination(bundle, sent, sent_ref)
    documents = _verify_confidentiality(bundle, sent, sent_ref, mailbox_keys)
    check_etsi_labels(bundle)
    registered = bool(sent.get("registered"))
    legal_moment = check_legal_moment(bundle, checkpoint, registered)
    time = _time_section(bundle, verifier, checkpoint, tsa_anchors, witnessed)
    steps = timeline([(e.canonical, e.leaf_index, e.event_hash) for e in bundle.events])
    sender_names = keys.names.get(str(sent.get("sender")), {})
    profile = _mailbox_profile(bundle)
    return BundleReport(
        message_id=bundle.message_id,
        registered=registered,
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
        sections=(
            *_sections(bundle, sent, origin, checkpoint, steps, documents, mailbox_keys),
            *legal_moment_section(bundle, registered, legal_moment),
            *life_section(bundle),
            *((witnesses_section(witnessed),) if witnessed is not None else ()),
            *time,
        ),
        limits=_limits(bundle, origin, checkpoint),
        recipient_name=profile.get("recipient_name"),
        recipient_language=profile.get("recipient_language"),
        legal_moment=legal_moment,
    )


def _time_section(
    bundle: EvidenceBundle,
    verifier: NoteVerifier,
    checkpoint: Checkpoint,
    tsa_anchors: Sequence[x509.Certificate],
    witnessed: Witnessed | None,
) -> tuple[Section, ...]:
    """The TIME section when the bundle carries an RFC 3161 token (checked first), else none.

    Imported only then: a verifier of bundles without tokens needs no ASN.1 library.
    """
    if bundle.trusted_time is None:
        return ()
    from ebox.verifier.trusted_time import check_trusted_time, time_section

    proven = check_trusted_time(bundle, verifier, checkpoint, tsa_anchors)
    assert proven is not None
    return (time_section(bundle, checkpoint, proven, witnessed),)


def _witnesses(
    bundle: EvidenceBundle, verifier: NoteVerifier, policy: Policy | None
) -> Witnessed | None:
    """The policy's verdict on every checkpoint the bundle relies on (its own, each proof's)."""
    if policy is None:
        return None
    notes = [bundle.ledger.checkpoint]
    for events in (bundle.events, bundle.sender_events, bundle.mailbox_events):
        notes.extend(TlogProof.parse(event.proof).checkpoint_note for event in events)
    return check_witnesses(policy, verifier, notes)


PROFILE_FIELDS = {"recipient_name": ("name", "holder_name"), "recipient_language": ("language",)}


def _mailbox_profile(bundle: EvidenceBundle) -> dict[str, str]:
    """The holder's name and language as the mailbox's (verified) events last recorded them.

    Mailboxes that record neither give neither: the certificate then asks for
    a language and says the name is not recorded, rather than guess.
    """
    profile: dict[str, str] = {}
    for event in bundle.mailbox_events:
        data = event.canonical.get("data")
        if not isinstance(data, Mapping):
            continue
        for field_name, keys in PROFILE_FIELDS.items():
            for key in keys:
                value = data.get(key)
                if isinstance(value, str) and value.strip():
                    profile[field_name] = value.strip()
    return profile
