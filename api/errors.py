"""Every refusal leaves the API as the contract's StatusMessage, with one status per error."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ebox.api.request_id import HEADER as REQUEST_ID_HEADER
from ebox.api.request_id import current_request_id
from ebox.domain import errors as domain
from ebox.domain.redaction import code_location, error_classes, stack_without_text

log = logging.getLogger("ebox.api")


class ApiError(Exception):
    """An HTTP-level refusal (authentication, malformed input) in StatusMessage form."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


def status_message(code: str, message: str, environment: str = "production") -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "code": code, "message": message, "environment": environment}


# One status per domain error class; the most specific class wins (checked in MRO order).
DOMAIN_STATUS: dict[type[domain.EboxError], int] = {
    domain.ChainIntegrityError: 500,
    domain.ContentUnavailable: 500,
    domain.NoDigitalUser: 400,
    domain.NoConsent: 403,
    domain.SigningKeyError: 400,
    domain.InvalidPublication: 400,
    domain.ContentDestroyed: 410,
    domain.NotFound: 404,
    domain.Conflict: 409,
    domain.EboxError: 400,
}


# What a caller is told of a 5xx domain error: the operator's log has the rest, under the id.
SERVER_FAULT_MESSAGES: dict[type[domain.EboxError], str] = {
    domain.ChainIntegrityError: "the ledger refused to serve data that failed verification",
    domain.ContentUnavailable: (
        "the content of this document is missing from the ledger's store: the operator "
        "must restore it; quote this id"
    ),
}


def status_of(error: domain.EboxError) -> int:
    for cls in type(error).__mro__:
        if cls in DOMAIN_STATUS:
            return DOMAIN_STATUS[cls]
    return 400


def install_error_handlers(app: FastAPI, environment: str) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, error: ApiError) -> JSONResponse:
        return JSONResponse(
            status_message(error.code, error.message, environment),
            error.status,
            headers=error.headers,
        )

    @app.exception_handler(domain.EboxError)
    async def domain_error(_: Request, error: domain.EboxError) -> JSONResponse:
        status = status_of(error)
        if status < 500:
            return JSONResponse(status_message(error.code, error.message, environment), status)
        # Never the caller's fault: a generic text for the caller, the details (ids and
        # digests, never personal data) for the operator under the answer's error id.
        public = next(
            (SERVER_FAULT_MESSAGES[c] for c in type(error).__mro__ if c in SERVER_FAULT_MESSAGES),
            "internal error",
        )
        body = status_message(error.code, public, environment)
        log.error(
            "server fault %s (error id %s): %s",
            error.code,
            body["id"],
            error.message,
            extra={"error_id": body["id"]},
        )
        return JSONResponse(body, status)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, error: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}"
            for e in error.errors()[:5]
        )
        return JSONResponse(
            status_message("INVALID_REQUEST", problems or "invalid request", environment), 400
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, error: StarletteHTTPException) -> JSONResponse:
        codes = {
            401: "UNAUTHORIZED",
            403: "FORBIDDEN",
            404: "NOT_FOUND",
            405: "METHOD_NOT_ALLOWED",
            408: "REQUEST_TIMEOUT",
            413: "PAYLOAD_TOO_LARGE",
        }
        # A refusal of the transport layer (api/limits.py) names its own code.
        code = getattr(error, "code", None) or codes.get(error.status_code, "HTTP_ERROR")
        return JSONResponse(
            status_message(code, str(error.detail), environment),
            error.status_code,
            headers=getattr(error, "headers", None),
        )

    @app.exception_handler(Exception)
    async def unexpected(_: Request, error: Exception) -> JSONResponse:
        """Starlette runs this outside every middleware (ServerErrorMiddleware): the request
        id middleware never sees this answer, so the handler sets X-Request-Id itself."""
        body = status_message("INTERNAL_ERROR", "internal error", environment)
        # The class, the place and the frames, never the error's text (it may quote the
        # failing row: personal data); the error id joins the caller's answer to this line.
        frames = stack_without_text(error)
        log.error(
            "unexpected error %s at %s (error id %s)\n%s",
            error_classes(error),
            code_location(error),
            body["id"],
            frames,
            extra={"error_id": body["id"], "traceback": frames},
        )
        request_id = current_request_id()
        headers = {REQUEST_ID_HEADER: request_id} if request_id else None
        return JSONResponse(body, 500, headers=headers)
