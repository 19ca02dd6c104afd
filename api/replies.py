"""Replies: ``POST /ebox/{citizen,enterprise}/v2/ebox/messages/{messageId}/replies``.

An extension of eBox REST 2.1 (the contract has ``replyAuthorized`` and
``originalMessageId`` but no route for a person to answer). The request is
shaped like publishMessage: a multipart body with a ``messageToPublish`` JSON
part and up to six files ``upfile1``..``upfile6``; the JSON holds only what a
reply chooses (``subject``, ``bodyContent``, ``bodyMainContent``,
``attachments``), under the same text rules and limits as a publication
(ebox.api.publication_request). Its recipient, its sender and its original are
not the caller's to say: the letter named in the path is answered, from the
eBox it lies in, to its sender organisation's enterprise eBox.

Who may reply is who may read the letter (ebox.api.deps.MailboxInScope): a
person in their own citizen eBox, a mandate holder in the eBox named by
``X-Ebox-Id``, a partner app with the person's token while the eBox consents.
A letter outside that eBox answers 404 like reading it. Before any byte of the
body is read, the upload guard (ebox.api.upload_guard) refuses a caller that is
no person with ebox:consultation, and holds the body to the same parts and
limits as publishMessage.

Answers: 201 with the reply's ``messageId``; 403 REPLY_NOT_AUTHORIZED when the
letter's sender did not allow replies; 409 NO_REPLY_EBOX when the sender
organisation has no enterprise eBox open (a reply never opens one: see
ebox.domain.replies); 410 when the letter has expired.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, File, Form, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from ebox.api.consultation import Consultation, MessageId, Reading
from ebox.api.contract import UPLOAD_PARTS
from ebox.api.deps import CurrentPrincipal
from ebox.api.mounting import mount_per_domain
from ebox.api.publication import read_parts
from ebox.api.publication_request import (
    UploadedPart,
    bounded,
    documents_of,
    invalid,
    searchable_within_bounds,
    translated,
)
from ebox.api.schemas import StatusMessage, error_responses
from ebox.api.validation import parse_json
from ebox.domain.limits import LIMITS
from ebox.domain.replies import Reply

REPLY_FIELDS = frozenset(
    {"subject", "bodyContent", "bodyMainContent", "attachments", "originalMessageId"}
)
"""What a reply's messageToPublish may hold; the rest is the ledger's to decide."""


class ReplyCreated(BaseModel):
    """The reply made: a message in the sender organisation's enterprise eBox."""

    messageId: str = Field(description="The reply's message id")
    originalMessageId: str = Field(description="The letter answered")


router = APIRouter()
"""Mounted under /ebox/citizen/v2 and /ebox/enterprise/v2 by `register` (ebox.api.mounting)."""

REPLY_ERRORS: dict[int | str, dict[str, Any]] = {
    **error_responses(400, 401, 404, 410, 413, 503),
    403: {
        "model": StatusMessage,
        "description": "The letter's sender does not allow replies (REPLY_NOT_AUTHORIZED), or "
        "the caller may not read this eBox",
    },
    409: {
        "model": StatusMessage,
        "description": "The sender organisation has no enterprise eBox open to receive "
        "replies (NO_REPLY_EBOX)",
    },
}


def reply_of(
    text: str, parts: dict[str, UploadedPart], original_id: str
) -> tuple[dict[str, str], list[Any]]:
    """The subjects and documents of a reply's messageToPublish; 400 for anything else."""
    body = bounded(parse_json, text, "messageToPublish")
    if not isinstance(body, dict):
        raise invalid("messageToPublish must be a JSON object")
    unknown = set(body) - REPLY_FIELDS
    if unknown:
        raise invalid(
            f"a reply's messageToPublish holds only {', '.join(sorted(REPLY_FIELDS))}; "
            f"not {', '.join(sorted(unknown))} (the ledger sets recipient and sender)"
        )
    if "subject" not in body:
        raise invalid("messageToPublish.subject is required")
    named = body.get("originalMessageId")
    if named is not None and named != original_id:
        raise invalid("originalMessageId, when given, is the message of the path")
    subjects = translated(body["subject"], "subject", required=True, max_length=LIMITS.subject)
    # A reply of a body alone has that body as its main content, unless it says otherwise.
    body.setdefault("bodyMainContent", body.get("bodyContent") is not None)
    documents = documents_of(body, parts)
    searchable_within_bounds(subjects, documents, [])
    return subjects, documents


@router.post(
    "/ebox/messages/{messageId}/replies",
    status_code=201,
    name="replyToMessage_{domain}",
    response_model=ReplyCreated,
    summary="Extension: reply to a letter whose sender allows replies (multipart, like "
    "publishMessage).",
    description=(
        "The reply goes to the sender organisation's enterprise eBox with originalMessageId = "
        "the letter, encrypted to that eBox's keys; its sender is the eBox replying and the "
        "person is named (origin `replied`, attested by the ledger). The letter records "
        "`Replied`, so each message's evidence names the other."
    ),
    responses=REPLY_ERRORS,
)
async def reply_to_message(
    c: Reading,
    principal: CurrentPrincipal,
    messageId: MessageId,
    messageToPublish: Annotated[
        str, Form(description="JSON: subject, bodyContent, bodyMainContent, attachments")
    ],
    upfile1: Annotated[UploadFile | None, File()] = None,
    upfile2: Annotated[UploadFile | None, File()] = None,
    upfile3: Annotated[UploadFile | None, File()] = None,
    upfile4: Annotated[UploadFile | None, File()] = None,
    upfile5: Annotated[UploadFile | None, File()] = None,
    upfile6: Annotated[UploadFile | None, File()] = None,
) -> JSONResponse:
    uploads = [upfile1, upfile2, upfile3, upfile4, upfile5, upfile6]
    parts = await read_parts(uploads, UPLOAD_PARTS, c.settings.max_upload_bytes)
    # Database work is blocking: keep it off the event loop.
    return await run_in_threadpool(
        _reply, c, principal.client_id, messageId, messageToPublish, parts
    )


def _reply(
    c: Consultation, client_id: str, message_id: str, text: str, parts: dict[str, UploadedPart]
) -> JSONResponse:
    # 404 outside the eBox read, as reading it; an expired letter is found, to answer 410.
    original = c.view.message(c.ebox, message_id, include_expired=True)
    subjects, documents = reply_of(text, parts, original.message_id)
    reply = Reply(subjects, documents, c.access.reader, c.access.channel, client_id)
    reply_id = c.ledger.app.reply(original.message_id, reply)
    body = {"messageId": reply_id, "originalMessageId": original.message_id}
    return JSONResponse(body, 201, headers=c.written())


def register(app: FastAPI) -> None:
    mount_per_domain(app, router, "/ebox/{domain}/v2", "Replies ({domain})")
