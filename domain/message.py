"""Message: one letter to one mailbox, from submission to archive.

Event names follow the evidence vocabulary of ETSI EN 319 522: Sent is the
SubmissionAcceptance, Delivered the ContentConsignment, Read the
ContentHandover, ContentAccessed the ContentAccessTracking, Expired the
ContentHandoverFailure or end of retention (keys destroyed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from ebox.domain.chain import ChainedAggregate
from ebox.domain.errors import (
    AlreadyArchived,
    AlreadyDelivered,
    AlreadyExpired,
    Conflict,
    ContentDestroyed,
    NotArchived,
    NotDelivered,
    RepliesNotAllowed,
    UnknownDocument,
)


def message_id(publication_id: str, mailbox_id: str) -> UUID:
    """The one id a publication's letter can have in one mailbox.

    A publication reaches a mailbox at most once: a second copy (a recipient
    listed twice, linked twice, or linked to the eBox that already has it) would
    have the same id, so the event store's uniqueness refuses it even between
    concurrent requests.
    """
    return uuid5(NAMESPACE_URL, f"urn:ebox:message:{publication_id}:{mailbox_id}")


class Message(ChainedAggregate):
    aggregate_type = "Message"

    @staticmethod
    def create_id(publication_id: str, mailbox_id: str, **_: Any) -> Any:  # type: ignore[override]
        return message_id(publication_id, mailbox_id)

    class Sent(ChainedAggregate.Created):
        """Submission accepted. Holds digests and metadata, never content."""

        publication_id: str
        sender: str
        application: str
        mailbox_id: str
        recipient: str
        message_type: str
        subjects: dict[str, str]
        documents: list[dict[str, Any]]
        registered: bool
        submitted_at: str
        expires_at: str
        envelope_sha256: str
        origin: str
        signing_key_id: str | None
        signature: str | None
        client_id: str
        wrapped_for: list[str]
        details: dict[str, Any]

        def apply(self, message: Message) -> None:
            message.mailbox_id = self.mailbox_id
            message.recipient = self.recipient
            message.sender = self.sender
            message.documents = [dict(d) for d in self.documents]
            message.registered = self.registered
            message.delivered = False
            message.read = False
            message.archived = False
            message.visible = True
            message.expired = False
            message.reply_authorized = bool((self.details or {}).get("reply_authorized", False))

    class Delivered(ChainedAggregate.Event):
        """Made available in the mailbox (ContentConsignment)."""

        mailbox_id: str

        def apply(self, message: Message) -> None:
            message.delivered = True

    class Read(ChainedAggregate.Event):
        """First opening of a main content (ContentHandover)."""

        reader: str
        channel: str
        document: str

        def apply(self, message: Message) -> None:
            message.read = True

    class ContentAccessed(ChainedAggregate.Event):
        """Any later opening (ContentAccessTracking)."""

        reader: str
        channel: str
        document: str

    class Archived(ChainedAggregate.Event):
        by: str

        def apply(self, message: Message) -> None:
            message.archived = True

    class Unarchived(ChainedAggregate.Event):
        by: str

        def apply(self, message: Message) -> None:
            message.archived = False

    class Hidden(ChainedAggregate.Event):
        by: str

        def apply(self, message: Message) -> None:
            message.visible = False

    class Shown(ChainedAggregate.Event):
        by: str

        def apply(self, message: Message) -> None:
            message.visible = True

    class Replied(ChainedAggregate.Event):
        """The recipient answered: `reply_message_id` is a letter to the sender's enterprise eBox.

        Recorded on the original so that its chain, and so its evidence, names
        every reply; the reply's own Sent names the original in turn.
        """

        reply_message_id: str
        by: str
        channel: str

    class Notified(ChainedAggregate.Event):
        """The owner was told by mail (ConsignmentNotification).

        `kind` is the event API's word (newDocument, newDocumentReminder,
        documentExpirationAlert); `address_sha256` the SHA-256 hex of the
        normalised address, never the address; `mail_sha256` that of the mail
        as sent; `mail_id` its Message-ID, the same for every attempt.
        """

        kind: str
        channel: str
        address_sha256: str
        mail_sha256: str
        mail_id: str

    class NotificationFailed(ChainedAggregate.Event):
        """An attempt to tell the owner failed (ConsignmentNotificationFailure); retried."""

        kind: str
        channel: str
        reason: str
        attempt: int

    class Expired(ChainedAggregate.Event):
        """Validity or retention ended: wrapped keys and ciphertexts destroyed.

        `due_at` is when it became due (the end of validity, or of a closed
        mailbox's retention), `None` when an operator expired it by hand;
        `content_handover_failure` is ETSI EN 319 522's ContentHandoverFailure:
        the letter expired without its main content ever being opened.
        """

        reason: str
        due_at: str | None
        content_handover_failure: bool

        def apply(self, message: Message) -> None:
            message.expired = True

    if TYPE_CHECKING:  # state set by the events' apply(); not dataclass fields
        mailbox_id: str
        recipient: str
        sender: str
        documents: list[dict[str, Any]]
        registered: bool
        delivered: bool
        read: bool
        archived: bool
        visible: bool
        expired: bool
        reply_authorized: bool

    @classmethod
    def send(cls, **sent: Any) -> Message:
        return cls._create(cls.Sent, **sent)

    def deliver(self) -> None:
        if self.delivered:
            raise AlreadyDelivered(f"message {self.id} was already delivered")
        self.trigger_event(self.Delivered, mailbox_id=self.mailbox_id)

    def open_document(self, document: str, reader: str, channel: str) -> None:
        """Record who opened what: `Read` the first time a main content is opened."""
        self.require_delivered()
        if self.expired:
            raise ContentDestroyed(f"the content of message {self.id} was destroyed")
        main = self.document(document).get("main_content", False)
        event = self.Read if main and not self.read else self.ContentAccessed
        self.trigger_event(event, reader=reader, channel=channel, document=document)

    def archive(self, by: str) -> None:
        self.require_delivered()
        if self.archived:
            raise AlreadyArchived(f"message {self.id} is already archived")
        self.trigger_event(self.Archived, by=by)

    def unarchive(self, by: str) -> None:
        if not self.archived:
            raise NotArchived(f"message {self.id} is not archived")
        self.trigger_event(self.Unarchived, by=by)

    def hide(self, by: str) -> None:
        self.require_delivered()
        if not self.visible:
            raise Conflict(f"message {self.id} is already hidden")
        self.trigger_event(self.Hidden, by=by)

    def show(self, by: str) -> None:
        if self.visible:
            raise Conflict(f"message {self.id} is already visible")
        self.trigger_event(self.Shown, by=by)

    def require_replyable(self) -> None:
        """A letter takes a reply once delivered, before it expires, if its sender allowed it."""
        self.require_delivered()
        if self.expired:
            raise ContentDestroyed(f"message {self.id} has expired: it takes no reply")
        if not self.reply_authorized:
            raise RepliesNotAllowed(f"the sender of message {self.id} does not allow replies")

    def record_reply(self, reply_message_id: str, by: str, channel: str) -> None:
        self.require_replyable()
        self.trigger_event(self.Replied, reply_message_id=reply_message_id, by=by, channel=channel)

    def record_notified(
        self, kind: str, channel: str, address_sha256: str, mail_sha256: str, mail_id: str
    ) -> None:
        self.trigger_event(
            self.Notified,
            kind=kind,
            channel=channel,
            address_sha256=address_sha256,
            mail_sha256=mail_sha256,
            mail_id=mail_id,
        )

    def record_notification_failed(
        self, kind: str, channel: str, reason: str, attempt: int
    ) -> None:
        self.trigger_event(
            self.NotificationFailed, kind=kind, channel=channel, reason=reason, attempt=attempt
        )

    def expire(self, reason: str, due_at: str | None = None) -> None:
        if self.expired:
            raise AlreadyExpired(f"message {self.id} has already expired")
        self.trigger_event(
            self.Expired, reason=reason, due_at=due_at, content_handover_failure=not self.read
        )

    def require_delivered(self) -> None:
        if not self.delivered:
            raise NotDelivered(f"message {self.id} has not been delivered to the mailbox")

    def document(self, name: str) -> dict[str, Any]:
        for doc in self.documents:
            if doc["name"] == name:
                return doc
        raise UnknownDocument(f"message {self.id} has no document {name!r}")
