"""What a sender hands in: a publication to one or many recipients."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ebox.domain import ids

DOCUMENT_KINDS = ("attachment", "body", "payment_data")


@dataclass(frozen=True)
class Document:
    """One encrypted part of a publication.

    Besides attachments, the contract's body (a text per language) and payment
    data are stored as documents of their own kind, so that they are encrypted,
    signed and disclosed exactly like attachments.
    """

    name: str
    media_type: str
    content: bytes
    main_content: bool = False
    language: str | None = None
    kind: str = "attachment"
    title: dict[str, str] | None = None
    signed: bool = False


@dataclass(frozen=True)
class Recipient:
    """An eBox, named as the contract names it (its EboxId: `eboxType` + `eboxIdValue`).

    One name for one concept: the read models' queries call it EboxId
    (ebox.projections.queries), an alias of this class.
    """

    ebox_type: str
    id_value: str

    @property
    def mailbox_id(self) -> str:
        """The id of the eBox's Mailbox aggregate, as text (ebox.domain.ids)."""
        return str(ids.mailbox_id(self.ebox_type, self.id_value))

    @property
    def address(self) -> str:
        return f"{self.ebox_type}:{self.id_value}"

    @classmethod
    def parse(cls, address: str) -> Recipient:
        """From the `type:value` form the domain's events use."""
        ebox_type, _, id_value = address.partition(":")
        return cls(ebox_type, id_value)


@dataclass(frozen=True)
class Publication:
    sender: str
    application: str
    message_type: str
    subjects: dict[str, str]
    documents: list[Document]
    recipients: list[Recipient]
    submitted_at: datetime
    client_id: str
    registered: bool = False
    idempotency_key: str | None = None
    signing_key_id: str | None = None
    signature: str | None = None
    publication_id: str | None = None
    expires_at: datetime | None = None
    details: dict[str, Any] = field(default_factory=dict)
    """Contract metadata that is not content (reply authorised, original message, for the
    attention of, business data): recorded in clear in Sent and covered by the signature."""


@dataclass(frozen=True)
class Outcome:
    """One recipient's result: a message id, or the refusal in the contract's words."""

    recipient: Recipient
    message_id: str | None = None
    error_code: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.message_id is not None
