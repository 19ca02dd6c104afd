"""The report's words: the sections and limits of a verified bundle's report.

Split out of :mod:`ebox.verifier.bundle` because turning proven findings into
the human-readable sections (origin, destination, integrity, confidentiality)
and the stated limits of the proof is presentation, not verification: it runs
only after every check has passed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ebox.domain.proofs.canonical import rfc3339
from ebox.domain.proofs.checkpoint import Checkpoint
from ebox.domain.proofs.evidence import EvidenceBundle
from ebox.domain.proofs.note import b64encode
from ebox.verifier.findings import DocumentFinding, Section
from ebox.verifier.origin import ATTESTED, LINKED, REPLIED, Origin
from ebox.verifier.timeline import Step

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
        *_expiry_section(bundle, sent),
    )


def _expiry_section(bundle: EvidenceBundle, sent: Mapping[str, Any]) -> tuple[Section, ...]:
    """When the letter expired: the content was destroyed at the Expired event's time, and why."""
    for event in bundle.events:
        if event.canonical.get("type") != "Expired":
            continue
        data = event.canonical.get("data")
        data = data if isinstance(data, Mapping) else {}
        at = event.canonical.get("timestamp")
        lines = [
            f"The content was destroyed at {at} (ledger time, UTC): the wrapped data keys and "
            f"the ciphertexts were deleted (crypto-shredding); reason: {data.get('reason')}.",
            f"It was due at {data.get('due_at') or '(expired by hand)'}; the letter's stated "
            f"expiry was {sent.get('expires_at')}.",
            "The events, their proofs and the digests above remain and verify.",
        ]
        if data.get("content_handover_failure"):
            lines.append(
                "The main content was never opened before it expired: ContentHandoverFailure "
                "(http://uri.etsi.org/19522/Event/ContentHandoverFailure)."
            )
            verdict = f"DESTROYED AT {at}, NEVER READ"
        else:
            verdict = f"DESTROYED AT {at}"
        return (Section("Expiry", verdict, tuple(lines)),)
    return ()


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
    if origin.kind == REPLIED:
        return Section(
            "Origin",
            "ATTESTED (a reply, not signed)",
            (
                f"A reply to letter {origin.replied_to} of sender {origin.sender}, sent from "
                f"the eBox {origin.replied_from} by {origin.replied_by}, whom the ledger "
                f"authenticated (client {origin.client_id}). Neither the person nor the "
                f"organisation signed it: {origin.sender} is named as the organisation of "
                "the thread whose eBox receives it, not as its author, and the origin rests "
                "on the ledger operator's authentication. The letter answered records the "
                "reply in its own chain (its Replied event).",
                envelope,
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
        f"{fp} ({mailbox_keys.get(fp, 'unknown')})" if mailbox_keys is not None else fp
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
