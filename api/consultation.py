"""One request's reading of one eBox: who reads it, through what channel, and the view read.

`Reading` is the dependency of every consultation route (ebox.api.ebox_routes):
the mailbox in scope (ebox.api.deps.MailboxInScope: a person's own eBox, one
held by mandate, or one that consents to the partner app used), the wait for
``X-Ebox-Min-Position`` (ebox.api.consistency) and the inbox view. Also the
inputs those routes parse beyond what FastAPI checks: date bounds, the PATCH
body and its media type.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Annotated, TypeVar

from fastapi import Depends, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from ebox.adapters.runtime import Ledger
from ebox.api.consistency import (
    MinPositionHeader,
    after_write,
    consistency_timeout,
    wait_for_view,
)
from ebox.api.contract import MAX_PAGE_SIZE, parse_contract_datetime
from ebox.api.deps import (
    CurrentPrincipal,
    EboxDomain,
    LedgerDep,
    MailboxAccess,
    MailboxInScope,
    SettingsDep,
)
from ebox.api.errors import ApiError
from ebox.api.settings import Settings
from ebox.api.validation import ReferenceId
from ebox.domain.errors import ContentDestroyed
from ebox.projections.inbox_view import AttachmentInfo, InboxMessage, InboxView
from ebox.projections.queries import EboxId

Served = TypeVar("Served")


@dataclass(frozen=True)
class Consultation:
    """One request's reading of one eBox: who reads it, through what, and the view."""

    access: MailboxAccess
    ledger: Ledger
    settings: Settings
    domain: str
    timeout: float

    @property
    def ebox(self) -> EboxId:
        return EboxId(self.access.mailbox.ebox_type, self.access.mailbox.id_value)

    @cached_property
    def view(self) -> InboxView:
        return InboxView.of(self.ledger)

    def message(self, message_id: str) -> InboxMessage:
        """A delivered message of this eBox (404 otherwise, whoever's it is).

        An expired one is no longer available (the contract's validity period):
        410 CONTENT_EXPIRED, its keys and ciphertexts are destroyed.
        """
        message = self.view.message(self.ebox, message_id, include_expired=True)
        if message.expired:
            raise ContentDestroyed(f"message {message_id} expired: its content was destroyed")
        return message

    def hand_over(
        self, message_id: str, documents: Sequence[str], serve: Callable[[list[bytes]], Served]
    ) -> Served:
        """Decrypt documents and prepare the answer with `serve`, then record Read or
        ContentAccessed for this reader and channel: nothing is recorded unless it is served."""
        return self.ledger.app.hand_over(
            message_id, documents, self.access.reader, self.access.channel, serve
        )

    def opened(
        self, message_id: str, documents: Sequence[str], serve: Callable[[list[bytes]], Response]
    ) -> Response:
        """`hand_over`, and the answer says the ledger position its handover was written at."""
        answer = self.hand_over(message_id, documents, serve)
        answer.headers.update(self.written())
        return answer

    def written(self) -> dict[str, str]:
        return after_write(self.ledger, self.timeout)

    def base_url(self) -> str:
        return f"{self.settings.public_url}/ebox/{self.domain}/v2"

    def with_payment_data(self, message_id: str) -> tuple[InboxMessage, str | None]:
        """A message of this eBox and the name of its payment data document, if it has one."""
        message = self.message(message_id)
        return message, self.payment_document(message)

    def payment_document(self, message: InboxMessage) -> str | None:
        """The name of the message's payment data document, if it has one."""
        if not message.has_payment_data:
            return None
        for document in self.ledger.app.message(message.message_id).documents:
            if document.get("kind") == "payment_data":
                return str(document["name"])
        return None


def consultation(
    request: Request,
    access: MailboxInScope,
    ledger: LedgerDep,
    settings: SettingsDep,
    domain: EboxDomain,
    min_position: MinPositionHeader = None,
) -> Consultation:
    timeout = consistency_timeout(request)
    wait_for_view(ledger, "inbox", min_position, timeout)
    return Consultation(access, ledger, settings, domain, timeout)


Reading = Annotated[Consultation, Depends(consultation)]


# --------------------------------------------------------------------------- inputs


def date_bound(name: str, value: str | None) -> datetime | None:
    """A date (its midnight, UTC) or an RFC 3339 date-time (naive: UTC); 400 for anything else.

    A ``+`` of an offset that the query string turned into a space is read as ``+``.
    """
    if value is None:
        return None
    return parse_contract_datetime(
        value.replace(" ", "+"), name, date_allowed=True, offset_required=False
    )


class MessageToUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    messageId: ReferenceId = Field(min_length=1)
    visible: StrictBool


class MessagesToUpdate(BaseModel):
    """The contract's MessagesToUpdate: at most 100 items per request."""

    model_config = ConfigDict(extra="ignore")

    items: list[MessageToUpdate] = Field(default_factory=list, max_length=MAX_PAGE_SIZE)
    totalItems: int | None = None


PATCH_MEDIA_TYPES = ("application/merge-patch+json", "application/json")
MessageId = Annotated[ReferenceId, Path(description="The identifier of the message")]
AttachmentId = Annotated[ReferenceId, Path(description="The identifier of the attachment")]


async def require_patch_media_type(request: Request, principal: CurrentPrincipal) -> None:
    """400 without a body (the contract's answer), 415 for a body that is not JSON (merge patch).

    After authentication, so 401 comes first.
    """
    del principal
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not media_type and not await request.body():
        raise ApiError(400, "INVALID_REQUEST", "the MessagesToUpdate body is required")
    if media_type not in PATCH_MEDIA_TYPES:
        raise ApiError(
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            f"send the MessagesToUpdate as {' or '.join(PATCH_MEDIA_TYPES)}",
        )


def attachment_of(message: InboxMessage, attachment_id: str) -> AttachmentInfo:
    for attachment in message.attachments:
        if attachment.attachment_id == attachment_id:
            return attachment
    raise ApiError(
        404, "ATTACHMENT_NOT_FOUND", f"message {message.message_id} has no such attachment"
    )
