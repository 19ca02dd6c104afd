"""A request id on every request and on every log record written while serving it.

Refusals tell the caller little (one ``invalid_client`` text, one 401 text: see
ebox.api.oauth and ebox.api.deps) and the log tells the operator why. The
request id joins the two: a client quotes the ``X-Request-Id`` of its answer
and the operator finds the log line that names the real reason.

- The id is the caller's ``X-Request-Id`` when it is a plain token (1 to 128
  letters, digits, ``.``, ``_``, ``:``, ``-``: a gateway's or a load balancer's
  id carries through), else a fresh one; anything else the caller sends is
  dropped, so a request id never carries control characters into a log line
  or a non-Latin-1 character into a header.
- Every answer carries it back in ``X-Request-Id``.
- While a request is served, every `logging.LogRecord` gets a ``request_id``
  attribute (``None`` outside a request) for formatters and structured
  handlers; the refusal log lines also write it in their text.

A pure ASGI middleware (not Starlette's BaseHTTPMiddleware): it adds one
header and one context variable, no task and no body copy per request.
"""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar
from typing import Any

from starlette.applications import Starlette
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Request-Id"
_HEADER_KEY = HEADER.lower().encode("latin-1")
_ACCEPTED = re.compile(rb"[A-Za-z0-9._:-]{1,128}")

_current: ContextVar[str | None] = ContextVar("ebox_request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being served in this context, or None outside a request."""
    return _current.get()


def request_id_of(headers: list[tuple[bytes, bytes]]) -> str:
    """The caller's X-Request-Id if it is a plain token, else a new random id."""
    for name, value in headers:
        if name.lower() == _HEADER_KEY and _ACCEPTED.fullmatch(value):
            return value.decode("ascii")
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Sets the request id for the request's context and echoes it in the answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(list(scope.get("headers", ())))
        reset = _current.set(request_id)
        raw = request_id.encode("ascii")

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", ()) if k != _HEADER_KEY]
                message = {**message, "headers": [*headers, (_HEADER_KEY, raw)]}
            await send(message)

        await self.app(scope, receive, send_with_id)
        # Reset only after a normal answer: an exception goes on to the server-error
        # handler outside this middleware, whose log line must still carry the id. Each
        # request runs in a task of its own, so the value dies with it either way.
        _current.reset(reset)


def install(app: Starlette) -> None:
    """Add the middleware (call after every other middleware: it must be the outermost)."""
    stamp_log_records()
    app.add_middleware(RequestIdMiddleware)


_installed = False


def stamp_log_records() -> None:
    """Give every log record a `request_id` attribute (idempotent, process-wide)."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if not hasattr(record, "request_id"):
            record.request_id = _current.get()
        return record

    logging.setLogRecordFactory(factory)
    _installed = True


__all__ = [
    "HEADER",
    "RequestIdMiddleware",
    "current_request_id",
    "install",
    "request_id_of",
    "stamp_log_records",
]
