"""The submission envelope and the sender's Ed25519 signature over it (origin).

The envelope is what a sender commits to: who sends what to whom, and the
SHA-256 of every document's plaintext. It is signed as its JCS bytes so that
the same bytes can be rebuilt by any verifier from the evidence alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, Protocol

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from ebox.domain.proofs.canonical import b64url, canonical_json, rfc3339, unb64url

ENVELOPE_FORMAT = "ebox-envelope/v1"


class EnvelopeSignatureError(ValueError):
    """The signature does not verify over the envelope with the given key."""


def key_fingerprint(public_key: bytes) -> str:
    """Hex SHA-256 of a raw 32-byte public key: how events name keys."""
    return hashlib.sha256(public_key).hexdigest()


@dataclass(frozen=True)
class DocumentDigest:
    name: str
    media_type: str
    sha256: str

    def as_json(self) -> dict[str, str]:
        return {"name": self.name, "media_type": self.media_type, "sha256": self.sha256}


class SubmittedDocument(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def media_type(self) -> str: ...
    @property
    def content(self) -> bytes: ...


class SubmittedRecipient(Protocol):
    @property
    def address(self) -> str: ...


class Submission(Protocol):
    """What a publication must tell for its envelope (ebox.domain.publication.Publication).

    A protocol, so that the proof machinery stays free of the mailbox model.
    """

    @property
    def sender(self) -> str: ...
    @property
    def application(self) -> str: ...
    @property
    def recipients(self) -> Sequence[SubmittedRecipient]: ...
    @property
    def message_type(self) -> str: ...
    @property
    def subjects(self) -> Mapping[str, str]: ...
    @property
    def documents(self) -> Sequence[SubmittedDocument]: ...
    @property
    def registered(self) -> bool: ...
    @property
    def submitted_at(self) -> datetime: ...
    @property
    def idempotency_key(self) -> str | None: ...
    @property
    def details(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class SubmissionEnvelope:
    """What the sender signs; `recipients` has one entry for a letter, many for a broadcast."""

    sender: str
    application: str
    recipients: Sequence[str]
    message_type: str
    subjects: Mapping[str, str]
    documents: Sequence[DocumentDigest]
    registered: bool
    submitted_at: str
    idempotency_key: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, publication: Submission) -> SubmissionEnvelope:
        """The envelope of a publication: the one place it is built.

        The ledger builds it to check a signature and keeps it as evidence; a
        sender (the demo, the tests) builds it the same way to sign it.
        """
        return cls(
            sender=publication.sender,
            application=publication.application,
            recipients=[r.address for r in publication.recipients],
            message_type=publication.message_type,
            subjects=publication.subjects,
            documents=[
                DocumentDigest(d.name, d.media_type, hashlib.sha256(d.content).hexdigest())
                for d in publication.documents
            ],
            registered=publication.registered,
            submitted_at=rfc3339(publication.submitted_at),
            idempotency_key=publication.idempotency_key,
            extra=publication.details,
        )

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "format": ENVELOPE_FORMAT,
            "sender": self.sender,
            "application": self.application,
            "recipients": list(self.recipients),
            "message_type": self.message_type,
            "subjects": dict(self.subjects),
            "documents": [d.as_json() for d in self.documents],
            "registered": self.registered,
            "submitted_at": self.submitted_at,
            "idempotency_key": self.idempotency_key,
        }
        if self.extra:
            body["extra"] = dict(self.extra)
        return body

    def to_bytes(self) -> bytes:
        return self._bytes

    @cached_property
    def _bytes(self) -> bytes:
        return canonical_json(self.as_json())

    def digest(self) -> str:
        return hashlib.sha256(self._bytes).hexdigest()

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> SubmissionEnvelope:
        if body.get("format") != ENVELOPE_FORMAT:
            raise ValueError(f"unknown envelope format {body.get('format')!r}")
        return cls(
            sender=body["sender"],
            application=body["application"],
            recipients=list(body["recipients"]),
            message_type=body["message_type"],
            subjects=dict(body["subjects"]),
            documents=[DocumentDigest(**d) for d in body["documents"]],
            registered=bool(body["registered"]),
            submitted_at=body["submitted_at"],
            idempotency_key=body.get("idempotency_key"),
            extra=dict(body.get("extra") or {}),
        )


def sign_envelope(envelope: SubmissionEnvelope, key: SigningKey) -> str:
    """Detached Ed25519 signature, base64url."""
    return b64url(key.sign(envelope.to_bytes()).signature)


def verify_envelope(envelope: SubmissionEnvelope, signature: str, public_key: bytes) -> None:
    try:
        VerifyKey(public_key).verify(envelope.to_bytes(), unb64url(signature))
    except (BadSignatureError, ValueError, TypeError) as error:
        raise EnvelopeSignatureError(
            f"signature does not verify with key {key_fingerprint(public_key)[:16]}"
        ) from error
