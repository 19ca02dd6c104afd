"""Replies: the recipient of a letter that allows it answers its sender.

A reply is a letter like any other (a Message with a Sent event, delivered,
sealed, proven), made by the same machinery as a publication (ebox.domain.
publishing: one batch, blobs and wrapped keys first, the events last), with
three differences that its events say in the open:

- its recipient is the sender organisation's enterprise eBox
  (``enterprise:<KBO>``), which must be open: opening an eBox is the
  organisation's own act (its consent, its key pair), so a reply never opens
  one on its behalf (`NoReplyEbox`, 409: the operator opens it first);
- who wrote it is said by its origin, ``replied``, and its details: the eBox
  that replies (``details.replied_from``: ``citizen:<NRN>``, or the enterprise
  a mandate holder acts for), the person the ledger authenticated
  (``details.replied_by``), the channel used (``details.reply_channel``) and
  ``details.sender_kind`` = ``ebox``. No organisation signed anything: the
  ledger attests the reply for that person, and vouches for its envelope by
  sealing the envelope's SHA-256 in the Sent event under its signed checkpoints,
  as for an attested publication. Its `sender` field stays the organisation of
  the thread (the letter's sender, whose eBox receives it): the contract's
  ``senderOrganizationId`` is a KBO number, and with it the reply is listed,
  searched and kept (its message type's validity) with that organisation's
  letters; the origin and details keep anyone from reading it as the
  organisation's own letter;
- its ``details.original_message_id`` names the letter answered, and the
  original records ``Replied`` naming the reply, in the same transaction: each
  message's evidence names the other.

The guards are the original's (`Message.record_reply`): delivered, not
expired (410), and its sender set ``replyAuthorized`` (403).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from ebox.domain.errors import ContentDestroyed, NoDigitalUser, NoReplyEbox
from ebox.domain.preparation import PreparedPublication, check_documents, encrypt_documents
from ebox.domain.proofs.canonical import parse_rfc3339
from ebox.domain.proofs.envelope import SubmissionEnvelope
from ebox.domain.publication import Document, Publication, Recipient
from ebox.domain.validity import expiry

if TYPE_CHECKING:
    from ebox.domain.mailbox import Mailbox
    from ebox.domain.message import Message
    from ebox.domain.publishing import _Letters
    from ebox.domain.sender import SenderOrganization

REPLIED = "replied"
"""The origin of a reply: attested by the ledger for the person it authenticated."""
REPLY_APPLICATION = "ebox-reply"
"""The `application` of every reply: the eBox itself, not an application of a sender."""
SENDER_KIND = "ebox"
"""`details.sender_kind` of a reply: its sender is an eBox, not a sender organisation."""


@dataclass(frozen=True)
class Reply:
    """What the person hands in: a subject, a body and attachments, as documents."""

    subjects: dict[str, str]
    documents: list[Document]
    replied_by: str
    """The person answering, as the ledger authenticated them (``citizen:<NRN>``)."""
    channel: str
    """How they reached the eBox: ``portal``, ``partner:<id>``, ``mandate:citizen:<NRN>``."""
    client_id: str


class ReplyUseCases:
    """A mixin of EboxLedger, which gives it loading and the publication machinery."""

    if TYPE_CHECKING:

        def message(self, message_id: str | UUID) -> Message: ...

        def sent(self, message_id: str | UUID) -> Any: ...

        def sender(self, kbo_number: str) -> SenderOrganization: ...

        def mailbox(self, ebox_type: str, id_value: str) -> Mailbox: ...

        def _letters(self, prepared: Any, versions: Any = None) -> _Letters: ...

        def _write(self, letters: _Letters) -> None: ...

    def reply(self, original_id: str | UUID, reply: Reply) -> str:
        """Answer letter `original_id` with `reply`; returns the reply's message id.

        Everything that can refuse runs before anything is written: the
        original's guards, the sender's enterprise eBox, the documents.
        """
        original = self.message(original_id)
        sent = self.sent(original.id)
        original.require_replyable()
        if parse_rfc3339(str(sent.expires_at)) <= datetime.now(UTC):
            raise ContentDestroyed(f"message {original.id} has expired: it takes no reply")
        destination = Recipient("enterprise", str(sent.sender))
        try:
            self.mailbox(destination.ebox_type, destination.id_value)
        except NoDigitalUser:
            raise NoReplyEbox(
                f"sender {sent.sender} has no enterprise eBox open to receive replies"
            ) from None
        prepared = self._prepare_reply(original, sent, destination, reply)
        letters = self._letters([(prepared, [destination])])
        (outcome,) = letters.outcomes
        if outcome.message_id is None:
            raise NoReplyEbox(
                f"the enterprise eBox of sender {sent.sender} cannot receive replies: "
                f"{outcome.error}"
            )
        original.record_reply(outcome.message_id, reply.replied_by, reply.channel)
        letters.messages.append(original)
        self._write(letters)
        return outcome.message_id

    def _prepare_reply(
        self, original: Message, sent: Any, destination: Recipient, reply: Reply
    ) -> PreparedPublication:
        """The reply as a prepared publication of origin `replied`, encrypted once.

        It lives as long as a letter of the original's message type (counted
        from the ledger's receipt of the reply); that type's sender is kept as
        the prepared publication's organisation, only ever consulted for a
        signed letter's key, which a reply never has (its origin is `replied`).
        """
        received_at = datetime.now(UTC)
        organisation = self.sender(str(sent.sender))
        message_type = organisation.message_type(str(sent.message_type))
        publication = Publication(
            sender=str(sent.sender),
            application=REPLY_APPLICATION,
            message_type=str(sent.message_type),
            subjects=dict(reply.subjects),
            documents=list(reply.documents),
            recipients=[destination],
            submitted_at=received_at,
            client_id=reply.client_id,
            details={
                "reply_authorized": False,
                "body_main_content": any(
                    d.kind == "body" and d.main_content for d in reply.documents
                ),
                "original_message_id": str(original.id),
                "replied_from": original.recipient,
                "replied_by": reply.replied_by,
                "reply_channel": reply.channel,
                "sender_kind": SENDER_KIND,
            },
        )
        check_documents(publication)
        envelope = SubmissionEnvelope.of(publication)
        data_key, documents, blobs = encrypt_documents(publication, envelope)
        expires_at = expiry(
            received_at, message_type["validity_unit"], message_type["validity_amount"]
        )
        return PreparedPublication(
            publication, organisation, envelope, REPLIED, data_key, documents, blobs, expires_at
        )
