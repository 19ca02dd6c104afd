"""A publication checked, signed origin judged and documents encrypted, once.

What a sender hands in is turned here into what each of its letters records:
the signed envelope (kept, content-addressed), the origin (`signed` when the
signature verifies with a key valid at the ledger's receipt, else `attested`),
the encrypted documents under a fresh data key, and the expiry counted from
receipt. A broadcast prepares once and sends to each recipient.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

from ebox.domain.errors import InvalidPublication, InvalidSignature, SignatureRequired
from ebox.domain.mailbox import Mailbox
from ebox.domain.message import Message
from ebox.domain.proofs.canonical import rfc3339
from ebox.domain.proofs.encryption import encrypt_document, new_data_key, sha256_hex
from ebox.domain.proofs.envelope import (
    EnvelopeSignatureError,
    SubmissionEnvelope,
    verify_envelope,
)
from ebox.domain.publication import Publication
from ebox.domain.sender import SenderOrganization
from ebox.domain.validity import check_submission_time, expiry


class PreparedPublication:
    """A publication checked and encrypted once, ready to be sent to each recipient."""

    def __init__(
        self,
        publication: Publication,
        sender: SenderOrganization,
        envelope: SubmissionEnvelope,
        origin: str,
        data_key: bytes,
        documents: list[dict[str, Any]],
        blobs: list[tuple[str, bytes]],
        expires_at: datetime,
    ) -> None:
        self.publication = publication
        self.sender = sender
        self.envelope = envelope
        self.origin = origin
        self.data_key = data_key
        self.documents = documents
        self.blobs = blobs
        self.expires_at = expires_at
        self.publication_id = publication.publication_id or str(uuid4())

    @classmethod
    def of(
        cls,
        publication: Publication,
        sender: SenderOrganization,
        require_signature: bool,
        *,
        received_at: datetime,
        skew: timedelta,
    ) -> PreparedPublication:
        """Check and encrypt a publication received at `received_at` (the ledger's clock)."""
        check_submission_time(publication.submitted_at, received_at, skew)
        sender.require_application(publication.application)
        message_type = sender.message_type(publication.message_type)
        check_documents(publication)
        envelope = SubmissionEnvelope.of(publication)
        origin = _check_origin(publication, sender, envelope, require_signature, received_at)
        data_key, documents, blobs = encrypt_documents(publication, envelope)
        expires_at = _expiry_of(publication, message_type, received_at)
        return cls(publication, sender, envelope, origin, data_key, documents, blobs, expires_at)

    def require_key_valid_at(self, sent_at: datetime) -> None:
        """A signed letter's key must be valid at its own Sent event's time."""
        if self.origin == "signed":
            assert self.publication.signing_key_id is not None
            self.sender.signing_key_valid_at(self.publication.signing_key_id, sent_at)

    def send_to(self, mailbox: Mailbox) -> Message:
        p = self.publication
        return Message.send(
            publication_id=self.publication_id,
            sender=p.sender,
            application=p.application,
            mailbox_id=str(mailbox.id),
            recipient=mailbox.address,
            message_type=p.message_type,
            subjects=dict(p.subjects),
            documents=self.documents,
            registered=p.registered,
            submitted_at=self.envelope.submitted_at,
            expires_at=rfc3339(self.expires_at),
            envelope_sha256=self.envelope.digest(),
            origin=self.origin,
            signing_key_id=p.signing_key_id if self.origin == "signed" else None,
            signature=p.signature if self.origin == "signed" else None,
            client_id=p.client_id,
            wrapped_for=sorted(mailbox.encryption_keys),
            details=dict(p.details),
        )


def check_documents(publication: Publication) -> None:
    """At least one document, one of them a main content, and no name used twice."""
    if not publication.documents:
        raise InvalidPublication("a publication needs at least one document")
    if not any(d.main_content for d in publication.documents):
        raise InvalidPublication("a publication needs at least one main content")
    names = [d.name for d in publication.documents]
    if len(set(names)) != len(names):
        raise InvalidPublication("document names must be unique within a publication")


def encrypt_documents(
    publication: Publication, envelope: SubmissionEnvelope
) -> tuple[bytes, list[dict[str, Any]], list[tuple[str, bytes]]]:
    """A fresh data key, each document encrypted under it, and what the Sent event lists.

    The blobs are the envelope (first) and the ciphertexts, content-addressed.
    Shared by every kind of letter (a publication, a reply: ebox.domain.replies).
    """
    data_key = new_data_key()
    documents: list[dict[str, Any]] = []
    # The signed envelope is kept, content-addressed, so evidence can show exactly what
    # was signed; its SHA-256 is the `envelope_sha256` of every Sent event.
    blobs: list[tuple[str, bytes]] = [(envelope.digest(), envelope.to_bytes())]
    for number, (doc, digest) in enumerate(
        zip(publication.documents, envelope.documents, strict=True), start=1
    ):
        ciphertext = encrypt_document(data_key, doc.content)
        ciphertext_sha256 = sha256_hex(ciphertext)
        blobs.append((ciphertext_sha256, ciphertext))
        documents.append(
            {
                "name": doc.name,
                "media_type": doc.media_type,
                "sha256": digest.sha256,
                "size": len(doc.content),
                "ciphertext_sha256": ciphertext_sha256,
                "main_content": doc.main_content,
                "language": doc.language,
                "kind": doc.kind,
                "attachment_id": str(number),
                "title": dict(doc.title) if doc.title else None,
                "signed": doc.signed,
            }
        )
    return data_key, documents, blobs


def _expiry_of(
    publication: Publication, message_type: dict[str, Any], received_at: datetime
) -> datetime:
    """The message type's validity period from receipt, or an earlier expiry the sender asked for.

    Counted from the ledger's receipt, never from the sender's stated time, so
    that no stated time can lengthen a letter's life.
    """
    latest = expiry(received_at, message_type["validity_unit"], message_type["validity_amount"])
    asked = publication.expires_at
    if asked is None:
        return latest
    if asked <= received_at or asked > latest:
        raise InvalidPublication(
            f"expirationDate must lie after receipt and no later than {rfc3339(latest)}"
        )
    return asked


def _check_origin(
    publication: Publication,
    sender: SenderOrganization,
    envelope: SubmissionEnvelope,
    require_signature: bool,
    received_at: datetime,
) -> str:
    """`signed` when the signature verifies with a key valid at receipt, else `attested`.

    The key is judged at the ledger's receipt, not at the sender's stated time:
    a backdated time must not revive a revoked or expired key.
    """
    if publication.signature is None:
        if require_signature:
            raise SignatureRequired("this ledger accepts signed publications only")
        return "attested"
    if publication.signing_key_id is None:
        raise InvalidSignature("a signature needs the id of the key that made it")
    public_key = sender.signing_key_valid_at(publication.signing_key_id, received_at)
    try:
        verify_envelope(envelope, publication.signature, public_key)
    except EnvelopeSignatureError as error:
        raise InvalidSignature(str(error)) from error
    return "signed"
