"""Origin: the Sent event, the envelope the sender signed, and the signature.

Three things must hold for a letter's origin to be proven:

1. the envelope's bytes hash to the `envelope_sha256` recorded in the Sent
   event (so it is the envelope that the ledger accepted);
2. the envelope says what the Sent event says: same sender, application,
   message type, subjects, documents (name, media type, SHA-256 of the
   plaintext), registered flag, submission time, details, and it names the
   recipient (a broadcast envelope names every recipient);
3. for a signed letter, the Ed25519 signature verifies over those bytes with a
   key of the sender that was valid at the time of sending (see keys.py).

"The time of sending" is the ledger's receipt: the `timestamp` of the Sent
event, never the `submitted_at` the sender stated (which the sender could
backdate to borrow a key's earlier validity). And the log must agree: the
key's `SigningKeyAdded` stands at a lower leaf than the Sent event, and a
`SigningKeyRevoked` of that key, if any, at a higher one.

An *attested* letter has no signature: its origin rests on the client the
ledger authenticated, and the verifier says so rather than proving more. A
*linked* letter (linkEboxMessage) is the same publication sent on to a further
recipient: it carries the original's envelope, which names the original
recipients only, so it is bound to that envelope in everything but the
recipient, its details name the original (`linked_from`), and its origin, like
an attested one, rests on the authenticated client. A *replied* letter is a
person's answer to a letter (ebox.domain.replies), sent to the enterprise eBox
of the letter's sender, which stays its `sender` (the organisation of the
thread) although nobody signed it: the ledger attests it for the person it
authenticated, named in its details (`replied_by`, from the eBox
`replied_from`) beside the letter answered (`original_message_id`), and binds
it to its envelope like any other.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from ebox.domain.proofs.canonical import CanonicalFormError, parse_rfc3339, unb64url
from ebox.verifier.errors import (
    EnvelopeMismatch,
    EventRef,
    MalformedEvidence,
    OriginNotProven,
    SignatureInvalid,
    SigningKeyNotValid,
)
from ebox.verifier.jcs import NotCanonicalJSON, loads
from ebox.verifier.keys import KeyHistory, KeyRecord

ENVELOPE_FORMAT = "ebox-envelope/v1"
SIGNED, ATTESTED, LINKED, REPLIED = "signed", "attested", "linked", "replied"
LINKED_FROM = "linked_from"
ORIGINAL_MESSAGE_ID, REPLIED_BY, REPLIED_FROM = "original_message_id", "replied_by", "replied_from"

# Sent event member -> envelope member that must be equal to it.
_SAME = (
    ("sender", "sender"),
    ("application", "application"),
    ("message_type", "message_type"),
    ("subjects", "subjects"),
    ("registered", "registered"),
    ("submitted_at", "submitted_at"),
)


@dataclass(frozen=True)
class Origin:
    """What the origin checks established for one letter."""

    kind: str  # "signed" or "attested"
    sender: str
    application: str
    client_id: str | None
    key: KeyRecord | None
    envelope_sha256: str
    submitted_at: str
    """As the sender stated it, signed; it decides nothing."""
    sent_at: str = ""
    """The ledger's receipt (the Sent event's timestamp): the key is judged at this time."""
    linked_from: str | None = None
    """For a linked letter, the message whose publication it continues."""
    replied_to: str | None = None
    """For a reply, the letter it answers."""
    replied_by: str | None = None
    """For a reply, the person who replied, as the ledger authenticated them."""
    replied_from: str | None = None
    """For a reply, the eBox it was sent from (the letter's recipient)."""


def parse_envelope(raw: bytes, ref: EventRef) -> Mapping[str, Any]:
    try:
        envelope = loads(raw)
    except (ValueError, NotCanonicalJSON) as error:
        raise EnvelopeMismatch(f"the stored envelope is not JSON ({error})", event=ref) from error
    if not isinstance(envelope, dict):
        raise EnvelopeMismatch("the stored envelope is not a JSON object", event=ref)
    return envelope


def check_binding(sent: Mapping[str, Any], envelope: Mapping[str, Any], ref: EventRef) -> None:
    """Refuse an envelope that says something else than the Sent event (expected = Sent)."""
    if envelope.get("format") != ENVELOPE_FORMAT:
        raise EnvelopeMismatch(
            "envelope format", event=ref, expected=ENVELOPE_FORMAT, actual=envelope.get("format")
        )
    for sent_key, envelope_key in _SAME:
        if sent.get(sent_key) != envelope.get(envelope_key):
            raise EnvelopeMismatch(
                f"the signed envelope's {envelope_key} differs from the Sent event's",
                event=ref,
                expected=sent.get(sent_key),
                actual=envelope.get(envelope_key),
            )
    recipients = envelope.get("recipients")
    linked = sent.get("origin") == LINKED
    if not isinstance(recipients, list) or (not linked and sent.get("recipient") not in recipients):
        raise EnvelopeMismatch(
            "the signed envelope does not name the recipient",
            event=ref,
            expected=sent.get("recipient"),
            actual=recipients,
        )
    signed_documents = [
        (d.get("name"), d.get("media_type"), d.get("sha256"))
        for d in _dicts(envelope.get("documents"))
    ]
    sent_documents = [
        (d.get("name"), d.get("media_type"), d.get("sha256")) for d in _dicts(sent.get("documents"))
    ]
    if signed_documents != sent_documents:
        raise EnvelopeMismatch(
            "the signed envelope lists other documents (name, media type, SHA-256)",
            event=ref,
            expected=sent_documents,
            actual=signed_documents,
        )
    details = dict(sent.get("details") or {})
    if linked:
        details.pop(LINKED_FROM, None)
    if "details" in sent and (envelope.get("extra") or {}) != details:
        raise EnvelopeMismatch(
            "the signed envelope's details differ from the Sent event's",
            event=ref,
            expected=sent.get("details"),
            actual=envelope.get("extra"),
        )


def _dicts(value: Any) -> list[Mapping[str, Any]]:
    return [d for d in value if isinstance(d, Mapping)] if isinstance(value, list) else []


def check_envelope_digest(raw: bytes, sent: Mapping[str, Any], ref: EventRef) -> None:
    actual = hashlib.sha256(raw).hexdigest()
    if actual != sent.get("envelope_sha256"):
        raise EnvelopeMismatch(
            "the envelope does not hash to the envelope_sha256 of the Sent event",
            event=ref,
            expected=sent.get("envelope_sha256"),
            actual=actual,
        )


def check_signature(raw: bytes, signature: str, public_key: bytes, ref: EventRef) -> None:
    try:
        VerifyKey(public_key).verify(raw, unb64url(signature))
    except (BadSignatureError, ValueError, TypeError) as error:
        raise SignatureInvalid(
            "the sender's signature does not verify over the envelope with the sender's key",
            event=ref,
        ) from error


def check_origin(
    sent: Mapping[str, Any],
    raw_envelope: bytes,
    keys: KeyHistory,
    ref: EventRef,
    *,
    sent_at: str,
    verify_signature: bool = True,
) -> Origin:
    """All origin checks for one Sent event's data, given the envelope's exact bytes."""
    check_envelope_digest(raw_envelope, sent, ref)
    check_binding(sent, parse_envelope(raw_envelope, ref), ref)
    return check_key_and_signature(sent, raw_envelope, keys, ref, verify_signature, sent_at=sent_at)


def check_key_and_signature(
    sent: Mapping[str, Any],
    raw_envelope: bytes | None,
    keys: KeyHistory,
    ref: EventRef,
    verify_signature: bool = True,
    *,
    sent_at: str,
) -> Origin:
    """The key part of the origin checks; the signature too when the envelope is at hand.

    `sent_at` is the Sent event's own timestamp (the ledger's receipt) and
    `ref.leaf_index` its leaf: the key is judged at that time and at that place
    in the log.
    """
    kind = sent.get("origin")
    key = None
    if kind == SIGNED:
        signature, key_id = sent.get("signature"), sent.get("signing_key_id")
        if not isinstance(signature, str) or not isinstance(key_id, str):
            raise OriginNotProven("a signed letter without signature or key id", event=ref)
        try:
            moment = parse_rfc3339(sent_at)
        except (ValueError, CanonicalFormError) as error:
            raise MalformedEvidence(
                f"the Sent event's timestamp is not a time ({error})", event=ref
            ) from error
        key = keys.valid_key(str(sent.get("sender")), key_id, moment, ref)
        _check_key_events_precede(key, ref)
        if verify_signature and raw_envelope is not None:
            check_signature(raw_envelope, signature, key.public_key, ref)
    elif kind in (ATTESTED, LINKED, REPLIED):
        if sent.get("signature") is not None:
            raise OriginNotProven(f"an {kind} letter carries a signature", event=ref)
        details = sent.get("details") or {}
        if kind == LINKED and not isinstance(details.get(LINKED_FROM), str):
            raise OriginNotProven(
                "a linked letter does not name the letter it was linked from", event=ref
            )
        if kind == REPLIED and not (
            isinstance(details.get(ORIGINAL_MESSAGE_ID), str)
            and isinstance(details.get(REPLIED_BY), str)
            and isinstance(details.get(REPLIED_FROM), str)
        ):
            raise OriginNotProven(
                "a reply does not name the letter it answers and the person who replied",
                event=ref,
            )
    else:
        raise OriginNotProven(
            f"unknown origin {kind!r}", event=ref, expected="signed, attested, linked or replied"
        )
    return Origin(
        kind=str(kind),
        sender=str(sent.get("sender")),
        application=str(sent.get("application")),
        client_id=sent.get("client_id") if isinstance(sent.get("client_id"), str) else None,
        key=key,
        envelope_sha256=str(sent.get("envelope_sha256")),
        submitted_at=str(sent.get("submitted_at")),
        sent_at=sent_at,
        linked_from=(sent.get("details") or {}).get(LINKED_FROM) if kind == LINKED else None,
        replied_to=(sent.get("details") or {}).get(ORIGINAL_MESSAGE_ID)
        if kind == REPLIED
        else None,
        replied_by=(sent.get("details") or {}).get(REPLIED_BY) if kind == REPLIED else None,
        replied_from=(sent.get("details") or {}).get(REPLIED_FROM) if kind == REPLIED else None,
    )


def _check_key_events_precede(key: KeyRecord, ref: EventRef) -> None:
    """The key was added before the Sent leaf, and not revoked before it, in log order.

    Times can be argued about; the order of the leaves cannot: a letter sealed
    after its key's revocation is not proven, whatever times the events carry.
    """
    sent_leaf = ref.leaf_index
    if sent_leaf is None:
        return
    if key.added_leaf is not None and key.added_leaf > sent_leaf:
        raise OriginNotProven(
            f"signing key {key.key_id} was registered in the ledger after the letter was sent",
            event=ref,
            expected=f"key added before leaf {sent_leaf}",
            actual=f"added at leaf {key.added_leaf}",
        )
    if key.revoked_leaf is not None and key.revoked_leaf < sent_leaf:
        raise SigningKeyNotValid(
            f"signing key {key.key_id} was revoked in the log (leaf {key.revoked_leaf}) "
            f"before the letter was sent (leaf {sent_leaf})",
            event=ref,
            expected=f"no revocation before leaf {sent_leaf}",
            actual=f"revoked at leaf {key.revoked_leaf}",
        )
