"""The evidence bundle `ebox-evidence/v1`: one message's proof, as a JSON file.

A court or an auditor receives this file and the ledger's public key (vkey),
nothing else. Everything needed to check it offline is inside: every event of
the message in canonical form with its hash, leaf index and C2SP tlog-proof
against one signed checkpoint; the sender organisation's events (its key
history) and the recipient mailbox's events with the same proofs; the envelope
the sender signed; optionally a disclosure (the data key and the ciphertexts)
so that the content itself can be checked.

This module is the data model and its JSON form only: parsing is strict about
shape (so that a verifier never reasons on a half-read file) and says where a
file is malformed. Verification lives in ``ebox.verifier.bundle``; the field
by field description is in docs/EVIDENCE.md.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ebox.domain.proofs.canonical import b64url, rfc3339, unb64url
from ebox.domain.proofs.errors import ProofError
from ebox.domain.proofs.legal_timing import LegalMoment

FORMAT = "ebox-evidence/v1"

_MAX_SAFE_INT = 2**53 - 1
_HEX64 = re.compile(r"[0-9a-f]{64}", re.ASCII)
_B64URL = re.compile(r"[A-Za-z0-9_-]*", re.ASCII)


class EvidenceFormatError(ProofError):
    """The file is not a well-formed `ebox-evidence/v1` bundle; `where` names the member."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem


@dataclass(frozen=True)
class ProvenEvent:
    """One ledger event with what proves it: its hash and its place in the Merkle log.

    ``proof`` is the C2SP tlog-proof text (index, audit path, signed checkpoint).
    """

    canonical: Mapping[str, Any]
    event_hash: str
    leaf_index: int
    proof: str
    etsi_event: str | None = None
    """ETSI EN 319 522 identifier of the event (`http://uri.etsi.org/19522/Event/...`), if any.

    Not covered by the event hash: a label the verifier checks against the
    event type; bundles made before it was added have none.
    """

    @property
    def aggregate_id(self) -> str:
        return str(self.canonical.get("aggregate_id"))

    @property
    def version(self) -> int:
        version = self.canonical.get("version")
        return version if isinstance(version, int) else -1

    @property
    def type(self) -> str:
        return str(self.canonical.get("type"))

    @property
    def data(self) -> Mapping[str, Any]:
        data = self.canonical.get("data")
        return data if isinstance(data, Mapping) else {}

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "leaf_index": self.leaf_index,
            "event_hash": self.event_hash,
            "canonical": dict(self.canonical),
            "proof": self.proof,
        }
        if self.etsi_event is not None:
            body["etsi_event"] = self.etsi_event
        return body

    @classmethod
    def from_json(cls, value: Any, where: str) -> ProvenEvent:
        body = _object(value, where)
        canonical = _object(body.get("canonical"), f"{where}.canonical")
        return cls(
            canonical=canonical,
            event_hash=_hex64(body.get("event_hash"), f"{where}.event_hash"),
            leaf_index=_natural(body.get("leaf_index"), f"{where}.leaf_index"),
            proof=_string(body.get("proof"), f"{where}.proof"),
            etsi_event=_optional_string(body.get("etsi_event"), f"{where}.etsi_event"),
        )


@dataclass(frozen=True)
class Submission:
    """What the sender submitted: the envelope object (its JCS bytes are what was signed)."""

    envelope: Mapping[str, Any]
    signature: str | None
    signing_key_id: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "envelope": dict(self.envelope),
            "signature": self.signature,
            "signing_key_id": self.signing_key_id,
        }

    @classmethod
    def from_json(cls, value: Any, where: str) -> Submission:
        body = _object(value, where)
        return cls(
            envelope=_object(body.get("envelope"), f"{where}.envelope"),
            signature=_optional_string(body.get("signature"), f"{where}.signature"),
            signing_key_id=_optional_string(body.get("signing_key_id"), f"{where}.signing_key_id"),
        )


@dataclass(frozen=True)
class DisclosedDocument:
    name: str
    ciphertext: bytes

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "ciphertext": b64url(self.ciphertext)}

    @classmethod
    def from_json(cls, value: Any, where: str) -> DisclosedDocument:
        body = _object(value, where)
        return cls(
            name=_string(body.get("name"), f"{where}.name"),
            ciphertext=_bytes(body.get("ciphertext"), f"{where}.ciphertext"),
        )


@dataclass(frozen=True)
class Disclosure:
    """The message's data key and ciphertexts: lets a court open and check the content.

    Whoever holds a bundle with a disclosure can read the letter: hand it out
    like the letter itself.
    """

    data_key: bytes
    documents: tuple[DisclosedDocument, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "data_key": b64url(self.data_key),
            "documents": [d.as_json() for d in self.documents],
        }

    @classmethod
    def from_json(cls, value: Any, where: str) -> Disclosure:
        body = _object(value, where)
        documents = _array(body.get("documents"), f"{where}.documents")
        return cls(
            data_key=_bytes(body.get("data_key"), f"{where}.data_key"),
            documents=tuple(
                DisclosedDocument.from_json(d, f"{where}.documents[{i}]")
                for i, d in enumerate(documents)
            ),
        )


@dataclass(frozen=True)
class LedgerReference:
    """Which log the proofs point into: its origin, its public key and one signed checkpoint."""

    origin: str
    vkey: str
    checkpoint: str

    def as_json(self) -> dict[str, Any]:
        return {"origin": self.origin, "vkey": self.vkey, "checkpoint": self.checkpoint}

    @classmethod
    def from_json(cls, value: Any, where: str) -> LedgerReference:
        body = _object(value, where)
        return cls(
            origin=_string(body.get("origin"), f"{where}.origin"),
            vkey=_string(body.get("vkey"), f"{where}.vkey"),
            checkpoint=_string(body.get("checkpoint"), f"{where}.checkpoint"),
        )


@dataclass(frozen=True)
class LegalMomentClaim:
    """The bundle's statement of when a registered letter counts as received, and why.

    A claim, not a proof: the verifier recomputes it from the events and the
    stated rule and refuses a bundle whose claim differs.
    """

    at: str
    rule: str
    working_days: int
    reason: str

    @classmethod
    def of(cls, moment: LegalMoment) -> LegalMomentClaim:
        return cls(rfc3339(moment.at), moment.rule.value, moment.working_days, moment.reason)

    def as_json(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "rule": self.rule,
            "working_days": self.working_days,
            "reason": self.reason,
        }

    @classmethod
    def from_json(cls, value: Any, where: str) -> LegalMomentClaim:
        body = _object(value, where)
        return cls(
            at=_string(body.get("at"), f"{where}.at"),
            rule=_string(body.get("rule"), f"{where}.rule"),
            working_days=_natural(body.get("working_days"), f"{where}.working_days"),
            reason=_string(body.get("reason"), f"{where}.reason"),
        )


@dataclass(frozen=True)
class TrustedTime:
    """An RFC 3161 token over an earlier checkpoint that already covers every event.

    ``checkpoint`` is that checkpoint's signed note; ``token`` the DER
    TimeStampToken whose imprint is SHA-256 of the note's body
    (ebox.domain.proofs.timestamp); ``consistency`` the proof from it to the
    bundle's checkpoint (empty when they are the same).
    """

    checkpoint: str
    token: bytes
    consistency: tuple[bytes, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "checkpoint": self.checkpoint,
            "token": base64.b64encode(self.token).decode("ascii"),
            "consistency": [base64.b64encode(h).decode("ascii") for h in self.consistency],
        }

    @classmethod
    def from_json(cls, value: Any, where: str) -> TrustedTime:
        body = _object(value, where)
        hashes = _array(body.get("consistency"), f"{where}.consistency")
        return cls(
            checkpoint=_string(body.get("checkpoint"), f"{where}.checkpoint"),
            token=_base64(body.get("token"), f"{where}.token"),
            consistency=tuple(
                _base64(h, f"{where}.consistency[{i}]") for i, h in enumerate(hashes)
            ),
        )


@dataclass(frozen=True)
class EvidenceBundle:
    """Evidence of notification for one message (ARCHITECTURE section 4)."""

    message_id: str
    created_at: str
    ledger: LedgerReference
    events: tuple[ProvenEvent, ...]
    sender_events: tuple[ProvenEvent, ...]
    mailbox_events: tuple[ProvenEvent, ...]
    submission: Submission
    disclosure: Disclosure | None = None
    legal_moment: LegalMomentClaim | None = None
    """Registered letters whose moment of receipt is settled; absent in older bundles."""
    trusted_time: TrustedTime | None = None
    """An RFC 3161 token proving the events existed by its genTime; absent if none yet."""

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "format": FORMAT,
            "message_id": self.message_id,
            "created_at": self.created_at,
            "ledger": self.ledger.as_json(),
            "events": [e.as_json() for e in self.events],
            "sender_events": [e.as_json() for e in self.sender_events],
            "mailbox_events": [e.as_json() for e in self.mailbox_events],
            "submission": self.submission.as_json(),
            "disclosure": None if self.disclosure is None else self.disclosure.as_json(),
        }
        if self.legal_moment is not None:
            body["legal_moment"] = self.legal_moment.as_json()
        if self.trusted_time is not None:
            body["trusted_time"] = self.trusted_time.as_json()
        return body

    def to_json(self) -> str:
        """Indented UTF-8 JSON: meant to be read by people as well as programs."""
        return json.dumps(self.as_json(), ensure_ascii=False, indent=2) + "\n"

    @classmethod
    def parse(cls, text: str | bytes) -> EvidenceBundle:
        """Parse a bundle file; raise :class:`EvidenceFormatError` naming the bad member."""
        try:
            value = json.loads(
                text, parse_constant=_no_constant, parse_float=_no_float, parse_int=_safe_int
            )
        except (ValueError, UnicodeDecodeError) as error:
            raise EvidenceFormatError("file", f"not JSON ({error})") from error
        return cls.from_json(value)

    @classmethod
    def from_json(cls, value: Any) -> EvidenceBundle:
        body = _object(value, "bundle")
        if body.get("format") != FORMAT:
            raise EvidenceFormatError("format", f"is {body.get('format')!r}, expected {FORMAT!r}")
        disclosure = body.get("disclosure")
        legal_moment = body.get("legal_moment")
        trusted_time = body.get("trusted_time")
        return cls(
            message_id=_string(body.get("message_id"), "message_id"),
            created_at=_string(body.get("created_at"), "created_at"),
            ledger=LedgerReference.from_json(body.get("ledger"), "ledger"),
            events=_events(body.get("events"), "events"),
            sender_events=_events(body.get("sender_events"), "sender_events"),
            mailbox_events=_events(body.get("mailbox_events", []), "mailbox_events"),
            submission=Submission.from_json(body.get("submission"), "submission"),
            disclosure=None
            if disclosure is None
            else Disclosure.from_json(disclosure, "disclosure"),
            legal_moment=None
            if legal_moment is None
            else LegalMomentClaim.from_json(legal_moment, "legal_moment"),
            trusted_time=None
            if trusted_time is None
            else TrustedTime.from_json(trusted_time, "trusted_time"),
        )


# --- strict readers ------------------------------------------------------------


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _no_float(text: str) -> Any:
    raise ValueError(f"number {text} is not an integer (canonical data has no floats)")


def _safe_int(text: str) -> int:
    """I-JSON integers only, so that every canonical object read has one JCS form."""
    value = int(text)
    if abs(value) > _MAX_SAFE_INT:
        raise ValueError(f"integer {text} is outside the I-JSON safe range")
    return value


def _events(value: Any, where: str) -> tuple[ProvenEvent, ...]:
    return tuple(
        ProvenEvent.from_json(item, f"{where}[{i}]") for i, item in enumerate(_array(value, where))
    )


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise EvidenceFormatError(where, f"expected an object, found {_kind(value)}")
    return value


def _array(value: Any, where: str) -> Sequence[Any]:
    if not isinstance(value, list):
        raise EvidenceFormatError(where, f"expected an array, found {_kind(value)}")
    return value


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise EvidenceFormatError(where, f"expected a string, found {_kind(value)}")
    return value


def _optional_string(value: Any, where: str) -> str | None:
    return None if value is None else _string(value, where)


def _natural(value: Any, where: str) -> int:
    if type(value) is not int or value < 0:
        raise EvidenceFormatError(where, f"expected a non-negative integer, found {value!r}")
    return value


def _hex64(value: Any, where: str) -> str:
    text = _string(value, where)
    if not _HEX64.fullmatch(text):
        raise EvidenceFormatError(where, f"expected 64 lowercase hex digits, found {text[:70]!r}")
    return text


def _bytes(value: Any, where: str) -> bytes:
    text = _string(value, where)
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise EvidenceFormatError(where, "expected base64url without padding")
    raw = unb64url(text)
    if b64url(raw) != text:
        raise EvidenceFormatError(where, "base64url is not in its canonical spelling")
    return raw


def _base64(value: Any, where: str) -> bytes:
    text = _string(value, where)
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError:
        raise EvidenceFormatError(where, "expected standard base64") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise EvidenceFormatError(where, "base64 is not in its canonical spelling")
    return raw


def _kind(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), "null" if value is None else type(value).__name__
    )
