"""What a sender hands in: a publication to one or many recipients."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Document:
    name: str
    media_type: str
    content: bytes
    main_content: bool = False
    language: str | None = None


@dataclass(frozen=True)
class Recipient:
    ebox_type: str
    id_value: str

    @property
    def address(self) -> str:
        return f"{self.ebox_type}:{self.id_value}"


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
    extra: dict[str, str] = field(default_factory=dict)


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
