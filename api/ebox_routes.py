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

Which eBox is read is decided by `ebox.api.deps.MailboxInScope`: a person's own
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

Consistency (``X-Ebox-Position``, ``X-Ebox-Min-Position``): ebox.api.consistency.
The JSON shapes are ebox.api.presenters, their schemas (the routes'
``response_model``) ebox.api.schemas, the reading itself ebox.api.consultation.

One ``APIRouter`` serves both base paths: `register` mounts it under each
with ``include_router``, a dependency naming the eBox type
(ebox.api.mounting.mounted_for) and the operation ids of that domain
(ebox.api.mounting: ``getEBoxById_citizen``, ...).

Extensions to the contract, all optional for a client: ``archived`` in Message
and as a listing filter, archive/unarchive, ``X-Ebox-Id``, the two position
headers. Dates of the listing filters take a date (midnight UTC) or a
date-time; ``*After`` bounds are inclusive, ``*Before`` exclusive. Every
parameter is bounded by ebox.domain.limits (dates from 1900 to 9998 in UTC,
identifiers without control characters): anything else is a 400.
"""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, FastAPI, Header, Query
from fastapi.responses import JSONResponse, Response

from ebox.api.consistency import POSITION_HEADER
from ebox.api.consultation import (
    PATCH_MEDIA_TYPES,
    AttachmentId,
    MessageId,
    MessagesToUpdate,
    Reading,
    attachment_of,
    date_bound,
    require_patch_media_type,
)
from ebox.api.contract import MAX_PAGE_SIZE, PUBLISHABLE_MEDIA_TYPES
from ebox.api.errors import ApiError
from ebox.api.mounting import mount_per_domain
from ebox.api.negotiation import OCTET_STREAM, content_media_type
from ebox.api.presenters import (
    attachment_json,
    attachments_json,
    body_texts,
    content_disposition,
    ebox_json,
    json_of,
    message_json,
)
from ebox.api.schemas import (
    Attachment,
    Attachments,
    Ebox,
    Message,
    Messages,
    PaymentData,
    StatusMessage,
    TranslatedString,
    contract_answer,
    error_responses,
)
from ebox.api.validation import (
    KboNumber,
    MessageTypeId,
    SearchText,
    SenderApplicationId,
)
from ebox.domain.limits import LIMITS
from ebox.projections.inbox_view import MessageFilter
from ebox.projections.queries import canonical_message_id

# Re-exported: the other routers import them from here, where they were first.
__all__ = ["StatusMessage", "error_responses", "register", "router"]

router = APIRouter()
"""Mounted under /ebox/citizen/v2 and /ebox/enterprise/v2 by `register` (ebox.api.mounting)."""

MESSAGE_PATH = "/ebox/messages/{messageId}"
read_errors = error_responses(400, 401, 403, 404, 503)
content_errors = {**read_errors, **error_responses(410)}
"""Opening content: also 410 when expiry or erasure destroyed it."""


def json_reading(
    path: str,
    operation: str,
    model: Any,
    summary: str,
    errors: dict[int | str, dict[str, Any]] = read_errors,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A GET answering the contract's definition `model` (named as the contract names it)."""
    definition = "TranslatedString" if model is TranslatedString else model.__name__
    return router.get(
        path,
        name=f"{operation}_{{domain}}",
        response_model=model,
        summary=summary,
        responses=contract_answer(definition, errors),
    )


@json_reading("/ebox", "getEBoxById", Ebox, "The summary of the eBox (records the consultation).")
def get_ebox(c: Reading, later: BackgroundTasks) -> JSONResponse:
    summary = c.view.summary(c.ebox)
    # After the answer: the consultation row is bookkeeping, not part of the reply.
    later.add_task(c.view.record_consultation, c.ebox)
    return JSONResponse(ebox_json(summary))


@json_reading(
    "/ebox/messages",
    "getMessagesByEBoxId",
    Messages,
    "One page of the eBox's messages, newest first (records the consultation).",
)
def get_messages(
    c: Reading,
    later: BackgroundTasks,
    page: Annotated[int, Query(ge=1, le=LIMITS.page)] = 1,
    pageSize: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 25,
    receivedBefore: Annotated[str | None, Query(description="date or date-time, exclusive")] = None,
    receivedAfter: Annotated[str | None, Query(description="date or date-time, inclusive")] = None,
    expiredBefore: Annotated[str | None, Query(description="date or date-time, exclusive")] = None,
    expiredAfter: Annotated[str | None, Query(description="date or date-time, inclusive")] = None,
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
        raise ApiError(400, "INVALID_REQUEST", "q needs qlang: the language whose texts to search")
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
    items = [message_json(c.base_url(), m) for m in found.items]
    return JSONResponse({"items": items, "totalItems": found.total_items})


@router.patch(
    "/ebox/messages",
    name="patchMessagesByEBoxId_{domain}",
    summary="Hide or show messages (visible); sent as application/merge-patch+json.",
    dependencies=[Depends(require_patch_media_type)],
    response_class=Response,
    responses={
        200: {"description": f"Done; {POSITION_HEADER} names the ledger position"},
        415: {"model": StatusMessage, "description": "Not a JSON merge patch"},
        **read_errors,
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
            raise ApiError(400, "INVALID_REQUEST", f"message {message_id} is both shown and hidden")
    for message_id in wanted:
        c.message(message_id)  # every one of them is in this eBox, or nothing changes
    changed = c.ledger.app.set_visibility(wanted, by=c.access.reader)
    return Response(status_code=200, headers=c.written() if changed else None)


@json_reading(
    MESSAGE_PATH,
    "getMessageById",
    Message,
    "One message (opening its payment data, if any, is recorded).",
    content_errors,
)
def get_message(c: Reading, messageId: MessageId) -> JSONResponse:
    message, document = c.with_payment_data(messageId)
    if document is None:
        return JSONResponse(message_json(c.base_url(), message))
    return c.opened(
        message.message_id,
        [document],
        lambda contents: JSONResponse(message_json(c.base_url(), message, json_of(contents[0]))),
    )


@json_reading(
    f"{MESSAGE_PATH}/attachments",
    "getAttachmentByMessageId",
    Attachments,
    "The attachments' metadata of a message.",
)
def get_attachments(c: Reading, messageId: MessageId) -> JSONResponse:
    return JSONResponse(attachments_json(c.base_url(), c.message(messageId)))


@json_reading(
    f"{MESSAGE_PATH}/attachments/{{attachmentId}}",
    "getAttachmentById",
    Attachment,
    "One attachment's metadata.",
)
def get_attachment(c: Reading, messageId: MessageId, attachmentId: AttachmentId) -> JSONResponse:
    message = c.message(messageId)
    return JSONResponse(
        attachment_json(c.base_url(), message, attachment_of(message, attachmentId))
    )


@router.get(
    f"{MESSAGE_PATH}/attachments/{{attachmentId}}/content",
    name="getAttachmentContentById_{domain}",
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
        **content_errors,
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
    attachment = attachment_of(message, attachmentId)
    headers = {
        "Content-Type": content_media_type(accept, attachment.media_type),
        "Content-Disposition": content_disposition(attachment.name),
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
        # A sender's HTML or SVG must never run as a page of this origin.
        "Content-Security-Policy": "sandbox; default-src 'none'",
        "Vary": "Accept",
    }
    return c.opened(
        message.message_id,
        [attachment.name],
        lambda contents: Response(contents[0], headers=headers),
    )


@json_reading(
    f"{MESSAGE_PATH}/body",
    "getBodyContent",
    TranslatedString,
    "The body (a TranslatedString); reading it records Read when bodyMainContent.",
    content_errors,
)
def get_body(c: Reading, messageId: MessageId) -> JSONResponse:
    message = c.message(messageId)
    if not message.bodies:
        raise ApiError(404, "BODY_NOT_FOUND", f"message {message.message_id} has no body")
    return c.opened(
        message.message_id,
        [body.name for body in message.bodies],
        lambda contents: JSONResponse(body_texts(message.bodies, contents)),
    )


@json_reading(
    f"{MESSAGE_PATH}/paymentData",
    "getPaymentDataByMessageId",
    PaymentData,
    "The payment data of a message (its opening is recorded).",
    content_errors,
)
def get_payment_data(c: Reading, messageId: MessageId) -> JSONResponse:
    message, document = c.with_payment_data(messageId)
    if document is None:
        raise ApiError(
            404, "PAYMENT_DATA_NOT_FOUND", f"message {message.message_id} has no payment data"
        )
    return c.opened(
        message.message_id, [document], lambda contents: JSONResponse(json_of(contents[0]))
    )


def _archiving(action: str) -> None:
    @router.post(
        f"{MESSAGE_PATH}/{action}",
        status_code=204,
        response_class=Response,
        name=f"{action}Message_{{domain}}",
        summary=f"Extension: {action} a message (recorded in the ledger).",
        responses={
            204: {"description": f"Done; {POSITION_HEADER} names the ledger position"},
            **read_errors,
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


for _action in ("archive", "unarchive"):
    _archiving(_action)


def register(app: FastAPI) -> None:
    mount_per_domain(app, router, "/ebox/{domain}/v2", "Consultation ({domain})")
