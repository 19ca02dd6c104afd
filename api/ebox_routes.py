"""The consultation side of eBox REST 2.1: what a mailbox holder reads and changes.

Routes, under ``/ebox/citizen/v2`` and ``/ebox/enterprise/v2`` alike (the base
path names the type of the eBox read):

=======  ==============================================================  =========================
GET      /ebox                                                           getEBoxById
GET      /ebox/messages                                                  getMessagesByEBoxId
PATCH    /ebox/messages                                                  patchMessagesByEBoxId
GET      /ebox/messages/{messageId}                                      getMessageById
GET      /ebox/messages/{messageId}/attachments                          getAttachmentByMessageId
GET      /ebox/messages/{messageId}/attachments/{attachmentId}           getAttachmentById
GET      /ebox/messages/{messageId}/attachments/{attachmentId}/content   getAttachmentContentById
GET      /ebox/messages/{messageId}/body                                 getBodyContent
GET      /ebox/messages/{messageId}/paymentData                          getPaymentDataByMessageId
POST     /ebox/messages/{messageId}/archive                              extension (204; 409)
POST     /ebox/messages/{messageId}/unarchive                            extension (204; 409)
=======  ==============================================================  =========================

Which eBox is read is decided by `ebox.api.deps.mailbox_access`: a person's own
citizen eBox, or the one named by ``X-Ebox-Id`` that the person holds a mandate
for (always needed for an enterprise eBox); a partner app reads with the
person's token while the mailbox consents. A message outside that eBox answers
404 like a message that does not exist.

Reading content goes through ``ledger.app.hand_over``, which decrypts the
documents and prepares the answer before it records the handover: ``Read`` on
the first opening of a main content (an attachment with ``mainContent``, or the
body when ``bodyMainContent``), ``ContentAccessed`` afterwards, with the reader
and the channel of the access. Content that cannot be served records nothing.
Attachment bytes carry the document's own media type, or
application/octet-stream (the contract's) when the client's Accept prefers it.
getMessageById opens the payment data when the message has some (it is content,
encrypted like any document), so its handover is recorded too; listings never
open content and so never show ``paymentData``. Listing or summarising an eBox
records the consultation (the summary shows the consultation before this one).

Consistency. The listings read the inbox view, which follows the ledger a
moment behind. Every request that writes (opening content, PATCH, archive)
catches the view up before it answers and returns the ledger position it
reached in ``X-Ebox-Position``; a client that sends that number back in
``X-Ebox-Min-Position`` (to this or any other replica) is answered only once the
view has processed it (503 ``NOT_YET_CONSISTENT`` with ``Retry-After`` if that
takes longer than a few seconds; 400 for a position the ledger has not reached,
which no response ever gave). So a reader's readStatus flips in the very
next listing. The catch-up comes after the commit, so nothing that goes wrong in
it turns the committed action into an error: it is logged, and the answer is
the committed result.

Extensions to the contract, all optional for a client: ``archived`` in Message
and as a listing filter, archive/unarchive, ``X-Ebox-Id``, the two position
headers. Dates of the listing filters take a date (midnight UTC) or a
date-time; ``*After`` bounds are inclusive, ``*Before`` exclusive. Every
parameter is bounded by ebox.domain.limits (dates from 1900 to 9998 in UTC,
identifiers without control characters): anything else is a 400.
"""

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from functools import cached_property
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

from fastapi import BackgroundTasks, Depends, FastAPI, Header, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from ebox.api.contract import (
    EBOX_DOMAINS,
    MAX_PAGE_SIZE,
    PUBLISHABLE_MEDIA_TYPES,
    contract_datetime,
    parse_contract_datetime,
)
from ebox.api.deps import (
    CurrentPrincipal,
    EboxIdHeader,
    LedgerDep,
    MailboxAccess,
    SettingsDep,
    mailbox_access,
)
from ebox.api.errors import ApiError
from ebox.api.negotiation import OCTET_STREAM, content_media_type
from ebox.api.settings import Settings
from ebox.api.validation import (
    KboNumber,
    MessageTypeId,
    ReferenceId,
    SearchText,
    SenderApplicationId,
)
from ebox.domain.limits import LIMITS
from ebox.domain.proofs.canonical import b64url
from ebox.projections.inbox import (
    AttachmentInfo,
    EboxSummary,
    InboxMessage,
    InboxView,
    MessageFilter,
)
from ebox.projections.runner import (
    EboxId,
    ProjectionTimeout,
    canonical_message_id,
    latest_notification_id,
    wait_until_position,
)
from ebox.projections.runtime import Ledger

log = logging.getLogger("ebox.api.consultation")

MIN_POSITION_HEADER = "X-Ebox-Min-Position"
POSITION_HEADER = "X-Ebox-Position"
CONSISTENCY_TIMEOUT = 5.0
"""Seconds a request waits for a view (override with app.state.consistency_timeout)."""

Served = TypeVar("Served")

# --------------------------------------------------------------------------- shared by routers


class StatusMessage(BaseModel):
    """The contract's StatusMessage (for the OpenAPI document; answers are built in errors.py)."""

    id: str
    code: str
    message: str
    environment: str | None = None


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    texts = {
        400: "Invalid data supplied",
        401: "Invalid authorization",
        403: "Authenticated, but not allowed to do this",
        404: "Not found, or not visible to the caller",
        409: "Refused in the current state",
        410: "The content was destroyed (expiry or erasure); its proofs remain",
        503: f"The view did not reach {MIN_POSITION_HEADER} in time: retry",
    }
    return {s: {"model": StatusMessage, "description": texts[s]} for s in statuses}


MinPositionHeader = Annotated[
    int | None,
    Header(
        alias=MIN_POSITION_HEADER,
        ge=0,
        le=LIMITS.position,
        description=(
            "Extension, read your own writes: answer only once the read model has processed "
            f"this ledger position (the {POSITION_HEADER} of an earlier response); 503 if it "
            "does not in a few seconds, 400 if the ledger never reached it."
        ),
    ),
]


def consistency_timeout(request: Request) -> float:
    return float(getattr(request.app.state, "consistency_timeout", CONSISTENCY_TIMEOUT))


def wait_for_view(
    ledger: Ledger, projection: str, min_position: int | None, timeout: float
) -> None:
    """Honour X-Ebox-Min-Position: catch the view up to it, or 503.

    Also 503 when catching up fails (a view stuck on an event): the data asked
    for is not there yet, which is no fault of the request; only the error's
    class is logged (a view's database error carries personal data).
    """
    if not min_position:
        return
    latest = latest_notification_id(ledger)
    if min_position > latest:
        # Positions come from X-Ebox-Position, so they are never beyond the log's end:
        # waiting for one that is would only hold the request until the timeout.
        raise ApiError(
            400,
            "INVALID_REQUEST",
            f"{MIN_POSITION_HEADER} {min_position} lies beyond the ledger's last position {latest}",
        )
    try:
        wait_until_position(ledger, projection, min_position, timeout)
    except ProjectionTimeout as error:
        raise ApiError(
            503,
            "NOT_YET_CONSISTENT",
            f"the {projection} view has not reached position {min_position} yet "
            f"(it is at {error.position}); retry shortly",
            headers={"Retry-After": "1"},
        ) from None
    except Exception as error:
        log.error(
            "the %s view failed to catch up to position %d (%s)",
            projection,
            min_position,
            _name(error),
        )
        raise ApiError(
            503,
            "NOT_YET_CONSISTENT",
            f"the {projection} view cannot reach position {min_position} now; retry later",
            headers={"Retry-After": "1"},
        ) from None


def after_write(ledger: Ledger, timeout: float) -> dict[str, str]:
    """Catch the inbox view up with what was just written; the position reached, as a header.

    The write is committed whatever happens here, so nothing here fails the
    request: a view that is slow to follow, or one that fails (a handler that
    raises, a broken table), is logged and the committed result is answered; the
    client can still wait with X-Ebox-Min-Position, and the view's own runner
    retries. Only the error's class is logged: a view's database error carries
    its SQL parameters, which hold national register numbers and subjects.
    """
    try:
        position = latest_notification_id(ledger)
    except Exception as error:
        log.error("committed write: the ledger position could not be read (%s)", _name(error))
        return {}
    try:
        wait_until_position(ledger, "inbox", position, timeout)
    except ProjectionTimeout as error:
        log.warning("inbox view behind after a write: %s", error)
    except Exception as error:
        log.error(
            "committed write: the inbox view failed to catch up to position %d (%s)",
            position,
            _name(error),
        )
    return {POSITION_HEADER: str(position)}


def _name(error: BaseException) -> str:
    return f"{type(error).__module__}.{type(error).__qualname__}"


def kilobytes(size: int) -> float:
    """The contract's sizes: kB of 1024 bytes, as a number."""
    return round(size / 1024, 3)


# --------------------------------------------------------------------------- a consultation


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
        """A delivered message of this eBox (404 otherwise, whoever's it is)."""
        return self.view.message(self.ebox, message_id)

    def hand_over(
        self, message_id: str, documents: Sequence[str], serve: Callable[[list[bytes]], Served]
    ) -> Served:
        """Decrypt documents and prepare the answer with `serve`, then record Read or
        ContentAccessed for this reader and channel: nothing is recorded unless it is served."""
        return self.ledger.app.hand_over(
            message_id, documents, self.access.reader, self.access.channel, serve
        )

    def written(self) -> dict[str, str]:
        return after_write(self.ledger, self.timeout)

    def base_url(self) -> str:
        return f"{self.settings.public_url}/ebox/{self.domain}/v2"


def _consultation_of(domain: str) -> Any:
    def consultation(
        request: Request,
        principal: CurrentPrincipal,
        ledger: LedgerDep,
        settings: SettingsDep,
        ebox_id: EboxIdHeader = None,
        min_position: MinPositionHeader = None,
    ) -> Consultation:
        access = mailbox_access(principal, domain, ledger, ebox_id)
        timeout = consistency_timeout(request)
        wait_for_view(ledger, "inbox", min_position, timeout)
        return Consultation(access, ledger, settings, domain, timeout)

    return consultation


# --------------------------------------------------------------------------- JSON shapes


def attachment_json(c: Consultation, message: InboxMessage, a: AttachmentInfo) -> dict[str, Any]:
    href = (
        f"{c.base_url()}/ebox/messages/{quote(message.message_id, safe='')}"
        f"/attachments/{quote(a.attachment_id, safe='')}/content"
    )
    body: dict[str, Any] = {
        "attachmentId": a.attachment_id,
        "fileName": a.name,
        "mainContent": a.main_content,
        "mediaType": a.media_type,
        "size": kilobytes(a.size),
        "digest": {"digestMethod": "sha_256", "digestValue": b64url(bytes.fromhex(a.sha256))},
        "attachmentSigned": a.signed,
        "contentHref": href,
    }
    if a.title:
        body["attachmentTitle"] = dict(a.title)
    return body


def attachments_json(c: Consultation, message: InboxMessage) -> dict[str, Any]:
    items = [attachment_json(c, message, a) for a in message.attachments]
    return {"items": items, "totalItems": len(items)}


def _business_data(items: list[dict[str, Any]]) -> dict[str, Any]:
    rendered = []
    for item in items:
        entry: dict[str, Any] = {
            "key": item["key"],
            "name": item.get("name") or {},
            "values": list(item.get("values") or []),
        }
        if item.get("description"):
            entry["description"] = item["description"]
        rendered.append(entry)
    return {"items": rendered, "totalItems": len(rendered)}


def message_json(
    c: Consultation, m: InboxMessage, payment_data: dict[str, Any] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "messageId": m.message_id,
        "subject": dict(m.subjects),
        "receiptDate": contract_datetime(m.receipt_date),
        "expirationDate": contract_datetime(m.expiration_date),
        "readStatus": m.read,
        "visible": m.visible,
        "archived": m.archived,
        "registeredMail": m.registered_mail,
        "messageTypeId": m.message_type_id,
        "senderOrganizationId": m.sender_organization_id,
        "senderApplicationId": m.sender_application_id,
        "attachments": attachments_json(c, m),
        "bodyMainContent": m.body_main_content,
        "replyAuthorized": m.reply_authorized,
    }
    if m.business_data:
        body["businessDataList"] = _business_data(m.business_data)
    if m.for_the_attention_of:
        body["forTheAttentionOf"] = dict(m.for_the_attention_of)
    if m.original_message_id:
        body["originalMessageId"] = m.original_message_id
    if payment_data is not None:
        body["paymentData"] = payment_data
    return body


def ebox_json(summary: EboxSummary) -> dict[str, Any]:
    body: dict[str, Any] = {
        "numberOfMessages": summary.number_of_messages,
        "numberOfUnreadMessages": summary.number_of_unread_messages,
        "eboxSize": kilobytes(summary.total_size),
    }
    if summary.last_receipt_date is not None:
        body["lastReceiptDate"] = contract_datetime(summary.last_receipt_date)
    if summary.last_consultation_date is not None:
        body["lastConsultationDate"] = contract_datetime(summary.last_consultation_date)
    return body


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


def _attachment(message: InboxMessage, attachment_id: str) -> AttachmentInfo:
    for attachment in message.attachments:
        if attachment.attachment_id == attachment_id:
            return attachment
    raise ApiError(
        404, "ATTACHMENT_NOT_FOUND", f"message {message.message_id} has no such attachment"
    )


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback and the exact UTF-8 name (RFC 6266, RFC 5987)."""
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _payment_document(ledger: Ledger, message_id: str) -> str | None:
    for document in ledger.app.message(message_id).documents:
        if document.get("kind") == "payment_data":
            return str(document["name"])
    return None


def _json_of(content: bytes) -> Any:
    return json.loads(content.decode("utf-8"))


def _body_texts(bodies: Sequence[Any], contents: list[bytes]) -> dict[str, str]:
    """The body documents as the contract's TranslatedString."""
    texts: dict[str, str] = {}
    for body, content in zip(bodies, contents, strict=True):
        if body.media_type == "application/json":
            parsed = _json_of(content)
            if isinstance(parsed, dict):
                texts.update({k: v for k, v in parsed.items() if isinstance(v, str)})
        elif body.language:
            texts[body.language] = content.decode("utf-8", errors="replace")
    return texts


# --------------------------------------------------------------------------- routes


def register(app: FastAPI) -> None:
    for domain in EBOX_DOMAINS:
        _register_domain(app, domain)


def _register_domain(app: FastAPI, domain: str) -> None:
    base = f"/ebox/{domain}/v2"
    tags: list[str | Enum] = [f"Consultation ({domain})"]
    consultation = _consultation_of(domain)
    Reading = Annotated[Consultation, Depends(consultation)]
    read_errors = error_responses(400, 401, 403, 404, 503)
    message_path = f"{base}/ebox/messages/{{messageId}}"

    @app.get(
        f"{base}/ebox",
        tags=tags,
        operation_id=f"getEBoxById_{domain}",
        summary="The summary of the eBox (records the consultation).",
        responses={200: {"description": "The contract's Ebox"}, **read_errors},
    )
    def get_ebox(c: Reading, later: BackgroundTasks) -> JSONResponse:
        summary = c.view.summary(c.ebox)
        # After the answer: the consultation row is bookkeeping, not part of the reply.
        later.add_task(c.view.record_consultation, c.ebox)
        return JSONResponse(ebox_json(summary))

    @app.get(
        f"{base}/ebox/messages",
        tags=tags,
        operation_id=f"getMessagesByEBoxId_{domain}",
        summary="One page of the eBox's messages, newest first (records the consultation).",
        responses={200: {"description": "The contract's Messages"}, **read_errors},
    )
    def get_messages(
        c: Reading,
        later: BackgroundTasks,
        page: Annotated[int, Query(ge=1, le=LIMITS.page)] = 1,
        pageSize: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 25,
        receivedBefore: Annotated[
            str | None, Query(description="date or date-time, exclusive")
        ] = None,
        receivedAfter: Annotated[
            str | None, Query(description="date or date-time, inclusive")
        ] = None,
        expiredBefore: Annotated[
            str | None, Query(description="date or date-time, exclusive")
        ] = None,
        expiredAfter: Annotated[
            str | None, Query(description="date or date-time, inclusive")
        ] = None,
        readStatus: bool | None = None,
        visible: bool | None = None,
        archived: Annotated[bool | None, Query(description="extension")] = None,
        messageTypeId: MessageTypeId | None = None,
        senderOrganizationId: KboNumber | None = None,
        senderApplicationId: SenderApplicationId | None = None,
        registeredMail: bool | None = None,
        q: Annotated[SearchText | None, Query(description="words, needs qlang")] = None,
        qlang: Annotated[str | None, Query(max_length=2, description="nl, fr, de or en")] = None,
    ) -> JSONResponse:
        if q is not None and qlang is None:
            raise ApiError(
                400, "INVALID_REQUEST", "q needs qlang: the language whose texts to search"
            )
        filters = MessageFilter(
            received_after=date_bound("receivedAfter", receivedAfter),
            received_before=date_bound("receivedBefore", receivedBefore),
            expires_after=date_bound("expiredAfter", expiredAfter),
            expires_before=date_bound("expiredBefore", expiredBefore),
            read=readStatus,
            visible=visible,
            archived=archived,
            message_type_id=messageTypeId,
            sender_organization_id=senderOrganizationId,
            sender_application_id=senderApplicationId,
            registered_mail=registeredMail,
            q=q,
            qlang=qlang,
        )
        found = c.view.messages(c.ebox, filters, page, pageSize)
        later.add_task(c.view.record_consultation, c.ebox)
        items = [message_json(c, m) for m in found.items]
        return JSONResponse({"items": items, "totalItems": found.total_items})

    @app.patch(
        f"{base}/ebox/messages",
        tags=tags,
        operation_id=f"patchMessagesByEBoxId_{domain}",
        summary="Hide or show messages (visible); sent as application/merge-patch+json.",
        dependencies=[Depends(require_patch_media_type)],
        response_class=Response,
        responses={
            200: {"description": f"Done; {POSITION_HEADER} names the ledger position"},
            415: {"model": StatusMessage, "description": "Not a JSON merge patch"},
            **error_responses(400, 401, 403, 404, 503),
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    media_type: {"schema": {"$ref": "#/components/schemas/MessagesToUpdate"}}
                    for media_type in PATCH_MEDIA_TYPES
                },
            }
        },
    )
    def patch_messages(c: Reading, body: MessagesToUpdate) -> Response:
        wanted: dict[str, bool] = {}
        for item in body.items:
            message_id = canonical_message_id(item.messageId)
            if wanted.setdefault(message_id, item.visible) != item.visible:
                raise ApiError(
                    400, "INVALID_REQUEST", f"message {message_id} is both shown and hidden"
                )
        for message_id in wanted:
            c.message(message_id)  # every one of them is in this eBox, or nothing changes
        changed = c.ledger.app.set_visibility(wanted, by=c.access.reader)
        return Response(status_code=200, headers=c.written() if changed else None)

    @app.get(
        message_path,
        tags=tags,
        operation_id=f"getMessageById_{domain}",
        summary="One message (opening its payment data, if any, is recorded).",
        responses={
            200: {"description": "The contract's Message"},
            **read_errors,
            **error_responses(410),
        },
    )
    def get_message(c: Reading, messageId: MessageId) -> JSONResponse:
        message = c.message(messageId)
        document = (
            _payment_document(c.ledger, message.message_id) if message.has_payment_data else None
        )
        if document is None:
            return JSONResponse(message_json(c, message))
        answer = c.hand_over(
            message.message_id,
            [document],
            lambda contents: JSONResponse(message_json(c, message, _json_of(contents[0]))),
        )
        answer.headers.update(c.written())
        return answer

    @app.get(
        f"{message_path}/attachments",
        tags=tags,
        operation_id=f"getAttachmentByMessageId_{domain}",
        summary="The attachments' metadata of a message.",
        responses={200: {"description": "The contract's Attachments"}, **read_errors},
    )
    def get_attachments(c: Reading, messageId: MessageId) -> JSONResponse:
        return JSONResponse(attachments_json(c, c.message(messageId)))

    @app.get(
        f"{message_path}/attachments/{{attachmentId}}",
        tags=tags,
        operation_id=f"getAttachmentById_{domain}",
        summary="One attachment's metadata.",
        responses={200: {"description": "The contract's Attachment"}, **read_errors},
    )
    def get_attachment(
        c: Reading, messageId: MessageId, attachmentId: AttachmentId
    ) -> JSONResponse:
        message = c.message(messageId)
        return JSONResponse(attachment_json(c, message, _attachment(message, attachmentId)))

    @app.get(
        f"{message_path}/attachments/{{attachmentId}}/content",
        tags=tags,
        operation_id=f"getAttachmentContentById_{domain}",
        summary="The attachment's bytes; the first opening of a main content records Read.",
        response_class=Response,
        responses={
            200: {
                "description": (
                    "The bytes, with the attachment's media type, Content-Disposition and "
                    f"{POSITION_HEADER}"
                ),
                "content": {
                    media_type: {"schema": {"type": "string", "format": "binary"}}
                    for media_type in (OCTET_STREAM, *PUBLISHABLE_MEDIA_TYPES)
                },
            },
            **read_errors,
            **error_responses(410),
        },
    )
    def get_attachment_content(
        c: Reading,
        messageId: MessageId,
        attachmentId: AttachmentId,
        accept: Annotated[
            str | None,
            Header(
                description=(
                    "application/octet-stream (the contract's) to receive the bytes under that "
                    "type; otherwise they carry the attachment's own media type"
                )
            ),
        ] = None,
    ) -> Response:
        message = c.message(messageId)
        attachment = _attachment(message, attachmentId)
        headers = {
            "Content-Type": content_media_type(accept, attachment.media_type),
            "Content-Disposition": content_disposition(attachment.name),
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
            # A sender's HTML or SVG must never run as a page of this origin.
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "Vary": "Accept",
        }
        answer = c.hand_over(
            message.message_id,
            [attachment.name],
            lambda contents: Response(contents[0], headers=headers),
        )
        answer.headers.update(c.written())
        return answer

    @app.get(
        f"{message_path}/body",
        tags=tags,
        operation_id=f"getBodyContent_{domain}",
        summary="The body (a TranslatedString); reading it records Read when bodyMainContent.",
        responses={
            200: {"description": "The contract's TranslatedString"},
            **read_errors,
            **error_responses(410),
        },
    )
    def get_body(c: Reading, messageId: MessageId) -> JSONResponse:
        message = c.message(messageId)
        if not message.bodies:
            raise ApiError(404, "BODY_NOT_FOUND", f"message {message.message_id} has no body")
        answer = c.hand_over(
            message.message_id,
            [body.name for body in message.bodies],
            lambda contents: JSONResponse(_body_texts(message.bodies, contents)),
        )
        answer.headers.update(c.written())
        return answer

    @app.get(
        f"{message_path}/paymentData",
        tags=tags,
        operation_id=f"getPaymentDataByMessageId_{domain}",
        summary="The payment data of a message (its opening is recorded).",
        responses={
            200: {"description": "The contract's PaymentData"},
            **read_errors,
            **error_responses(410),
        },
    )
    def get_payment_data(c: Reading, messageId: MessageId) -> JSONResponse:
        message = c.message(messageId)
        document = (
            _payment_document(c.ledger, message.message_id) if message.has_payment_data else None
        )
        if document is None:
            raise ApiError(
                404, "PAYMENT_DATA_NOT_FOUND", f"message {message.message_id} has no payment data"
            )
        answer = c.hand_over(
            message.message_id, [document], lambda contents: JSONResponse(_json_of(contents[0]))
        )
        answer.headers.update(c.written())
        return answer

    for action in ("archive", "unarchive"):
        _register_archiving(app, base, domain, tags, consultation, action)


def _register_archiving(
    app: FastAPI, base: str, domain: str, tags: list[str | Enum], consultation: Any, action: str
) -> None:
    Reading = Annotated[Consultation, Depends(consultation)]

    @app.post(
        f"{base}/ebox/messages/{{messageId}}/{action}",
        status_code=204,
        response_class=Response,
        tags=tags,
        operation_id=f"{action}Message_{domain}",
        summary=f"Extension: {action} a message (recorded in the ledger).",
        responses={
            204: {"description": f"Done; {POSITION_HEADER} names the ledger position"},
            **error_responses(400, 401, 403, 404, 503),
            409: {
                "model": StatusMessage,
                "description": "Already archived (archive) or not archived (unarchive)",
            },
        },
    )
    def change(c: Reading, messageId: MessageId) -> Response:
        message = c.message(messageId)
        use_case = c.ledger.app.archive if action == "archive" else c.ledger.app.unarchive
        use_case(message.message_id, by=c.access.reader)
        return Response(status_code=204, headers=c.written())
