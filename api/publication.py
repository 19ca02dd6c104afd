"""publishMessage, linkEboxMessage and searchMessageStatus: the sender's side of the contract.

One ``APIRouter`` serves both base paths, ``/ebox/citizen/v2`` and
``/ebox/enterprise/v2``: `register` mounts it under each with ``include_router``
(ebox.api.mounting), which also names its operations (``postMessage_citizen``,
...). The routes do not depend on the base path: a sender publishes to either
type of eBox under either.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, File, Form, Header, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from ebox.adapters.runtime import Ledger
from ebox.api.contract import UPLOAD_PARTS, contract_datetime
from ebox.api.deps import CurrentPrincipal, LedgerDep, SenderKbo, SettingsDep
from ebox.api.errors import ApiError
from ebox.api.mounting import mount_per_domain
from ebox.api.publication_request import UploadedPart, publication_of, recipient_of
from ebox.api.schemas import (
    LinkResponse,
    MessagesStatusList,
    PublicationStatusMessage,
    StatusMessage,
    error_responses,
)
from ebox.api.validation import EboxIdValue, ReferenceId
from ebox.domain.proofs.legal_timing import LegalRule
from ebox.domain.publication import Recipient
from ebox.domain.submission import (
    IdempotencyKey,
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
    Submitted,
)
from ebox.projections.status import MessageRef, MessageStatus, StatusView

IN_FLIGHT_RETRY_AFTER_S = 1
"""Seconds a client is told to wait when its key's first request is still in flight."""


class EboxIdModel(BaseModel):
    eboxType: str = Field(pattern="^(citizen|enterprise)$")
    eboxIdValue: EboxIdValue


class MessageToLink(BaseModel):
    messageId: ReferenceId
    recipients: list[EboxIdModel] = Field(min_length=1, max_length=10_000)


class MessageIdEboxId(BaseModel):
    messageId: ReferenceId
    eboxId: EboxIdModel


async def read_parts(
    uploads: list[UploadFile | None], names: tuple[str, ...], limit: int
) -> dict[str, UploadedPart]:
    """The uploaded files by part name, each read up to `limit` bytes (413 beyond)."""
    parts: dict[str, UploadedPart] = {}
    for name, upload in zip(names, uploads, strict=True):
        if upload is None:
            continue
        content = await upload.read(limit + 1)
        if len(content) > limit:
            raise ApiError(413, "PAYLOAD_TOO_LARGE", f"{name} exceeds the limit of {limit} bytes")
        media_type = (
            (upload.content_type or "application/octet-stream").split(";")[0].strip().lower()
        )
        parts[name] = UploadedPart(name, upload.filename or name, media_type, content)
    return parts


def _request_digest(message: str, parts: dict[str, UploadedPart]) -> str:
    digest = hashlib.sha256(message.encode())
    for name in sorted(parts):
        part = parts[name]
        digest.update(f"\n{name}\n{part.filename}\n{part.media_type}\n".encode())
        digest.update(hashlib.sha256(part.content).digest())
    return digest.hexdigest()


def _submit(
    ledger: Ledger,
    message_to_publish: str,
    parts: dict[str, UploadedPart],
    kbo: str,
    client_id: str,
    idempotency_key: str | None,
) -> Submitted:
    """Parse, then submit: the use case owns the transaction and the key (EboxLedger.submit)."""
    publication = publication_of(
        message_to_publish,
        parts,
        sender_kbo=kbo,
        client_id=client_id,
        idempotency_key=idempotency_key,
    )
    key = (
        IdempotencyKey(idempotency_key, _request_digest(message_to_publish, parts))
        if idempotency_key
        else None
    )
    try:
        return ledger.app.submit(publication, key)
    except IdempotencyKeyReused as error:
        raise ApiError(422, error.code, error.message) from None
    except IdempotencyKeyInFlight as error:
        raise ApiError(
            409, error.code, error.message, headers={"Retry-After": str(IN_FLIGHT_RETRY_AFTER_S)}
        ) from None


def _answer(submitted: Submitted) -> JSONResponse:
    body = {
        "messageId": submitted.message_id,
        "expirationDate": contract_datetime(submitted.expires_at),
    }
    headers = {"Idempotent-Replayed": "true"} if submitted.replayed else {}
    if submitted.position is not None:
        headers["X-Ebox-Position"] = str(submitted.position)
    return JSONResponse(body, 201, headers=headers)


router = APIRouter()
"""Mounted under /ebox/citizen/v2 and /ebox/enterprise/v2 by `register` (ebox.api.mounting)."""

SENDER_ERRORS = error_responses(400, 401, 403, 404)
PUBLISH_ERRORS = {
    **SENDER_ERRORS,
    **error_responses(413, 422),
    409: {
        "model": StatusMessage,
        "description": "The Idempotency-Key's first request is still in flight: retry after "
        "Retry-After",
    },
}


def sender_operation(
    path: str,
    name: str,
    model: type[BaseModel],
    summary: str,
    description: str | None = None,
    errors: dict[int | str, dict[str, Any]] = SENDER_ERRORS,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A sender's POST: each answers 201 with `model`, and refuses in StatusMessage shape."""
    return router.post(
        path,
        status_code=201,
        name=f"{name}_{{domain}}",
        response_model=model,
        summary=summary,
        description=description,
        responses=errors,
    )


@sender_operation(
    "/publishMessage",
    "postMessage",
    PublicationStatusMessage,
    "Publish a new message (multipart: messageToPublish + up to six files).",
    errors=PUBLISH_ERRORS,
)
async def publish_message(
    principal: CurrentPrincipal,
    kbo: SenderKbo,
    ledger: LedgerDep,
    settings: SettingsDep,
    messageToPublish: Annotated[str, Form(description="JSON MessageToPublish")],
    upfile1: Annotated[UploadFile | None, File()] = None,
    upfile2: Annotated[UploadFile | None, File()] = None,
    upfile3: Annotated[UploadFile | None, File()] = None,
    upfile4: Annotated[UploadFile | None, File()] = None,
    upfile5: Annotated[UploadFile | None, File()] = None,
    upfile6: Annotated[UploadFile | None, File()] = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
) -> JSONResponse:
    uploads = [upfile1, upfile2, upfile3, upfile4, upfile5, upfile6]
    parts = await read_parts(uploads, UPLOAD_PARTS, settings.max_upload_bytes)
    client_id = principal.client_id or principal.subject
    # Database work is blocking: keep it off the event loop.
    submitted = await run_in_threadpool(
        _submit, ledger, messageToPublish, parts, kbo, client_id, idempotency_key
    )
    return _answer(submitted)


@sender_operation(
    "/linkEboxMessage",
    "linkMessage",
    LinkResponse,
    "Link a published message to a list of further recipients (broadcast).",
    description=(
        "Each recipient gets at most one copy of the publication: a recipient listed "
        "several times is linked once, and one that already has it (the original "
        "recipient, an earlier link) keeps its letter and counts as a success, so that "
        "a retried request answers the same nbSuccessLinks and writes nothing."
    ),
)
def link_message(
    principal: CurrentPrincipal, kbo: SenderKbo, ledger: LedgerDep, body: MessageToLink
) -> JSONResponse:
    recipients = [recipient_of(r.model_dump()) for r in body.recipients]
    # Read before linking: nothing that can fail comes after the commit.
    expiry = ledger.app.sent(body.messageId).expires_at
    outcomes = ledger.app.link(
        body.messageId, kbo, recipients, client_id=principal.client_id or kbo
    )
    answer: dict[str, Any] = {
        "messageId": body.messageId,
        "expirationDate": contract_datetime(expiry),
        "nbSuccessLinks": sum(o.ok for o in outcomes),
        "errorCases": [
            {"eboxType": o.recipient.ebox_type, "eboxIdValue": o.recipient.id_value}
            for o in outcomes
            if not o.ok
        ],
    }
    return JSONResponse(answer, 201)


@sender_operation(
    "/searchMessageStatus",
    "getStatus",
    MessagesStatusList,
    "The status of a list of the sender's own messages.",
)
def search_status(
    kbo: SenderKbo, ledger: LedgerDep, settings: SettingsDep, body: list[MessageIdEboxId]
) -> JSONResponse:
    refs = [
        MessageRef(i.messageId, Recipient(i.eboxId.eboxType, i.eboxId.eboxIdValue)) for i in body
    ]
    rule, now = settings.legal_rule(), datetime.now(UTC)
    rows = [
        {
            "messageId": status.message_id,
            "eboxId": {"eboxType": status.ebox.ebox_type, "eboxIdValue": status.ebox.id_value},
            "expirationDate": contract_datetime(status.expiration_date),
            "readStatus": status.read,
            "visible": status.visible,
            **_legal_fields(status, rule, now),
        }
        for status in StatusView.of(ledger).statuses(kbo, refs)
    ]
    if not rows:
        raise ApiError(
            404, "MESSAGE_NOT_FOUND", "none of these messages is a message of this sender"
        )
    return JSONResponse(rows, 201)


def _legal_fields(status: MessageStatus, rule: LegalRule, now: datetime) -> dict[str, Any]:
    """The extension fields of a registered letter: its legal moment (null: not yet) and rule."""
    if not status.registered:
        return {}
    moment = status.legal_moment(rule, now)
    return {
        "legalReceiptRule": {"rule": rule.rule.value, "workingDays": rule.working_days},
        "legalMoment": None
        if moment is None
        else {"at": contract_datetime(moment.at), "reason": moment.reason},
    }


def register(app: FastAPI) -> None:
    mount_per_domain(app, router, "/ebox/{domain}/v2", "Messages ({domain})")
