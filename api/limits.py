"""Limits on what a client may make the server read, and how slowly (413, 408, StatusMessage).

`Content-Length` alone bounds nothing: a chunked body has none. `BodyLimits`
counts the bytes as they stream in, on every route (Starlette's own body
limiter would do the counting, but it rewrites every answer to a request with
an over-large Content-Length into a plain-text 413, outside the contract's
StatusMessage shape), and times out a body that stalls, so that a body trickled
a byte at a time cannot hold a connection forever (the request head has its own
timeout in the server, see ebox.api.server). Also here:

- `TransportRefusal`: the error raised from inside `receive`, while the body is
  being read, which the app's error handlers answer in the StatusMessage shape
  with `Connection: close` (the rest of the body is never read);
- `send_refusal`: the same answer sent by an ASGI middleware before the app runs.
"""

from __future__ import annotations

import asyncio
import json
import re

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ebox.api.contract import EBOX_DOMAINS, MAX_ATTACHMENTS
from ebox.api.errors import status_message

# The messageToPublish part: Starlette's own limit on a non-file form field.
MESSAGE_PART_BYTES = 1024 * 1024
# Boundaries and part headers of a multipart body, beyond the parts' content.
MULTIPART_OVERHEAD = 64 * 1024
CLOSE = {"Connection": "close"}
# The routes that take files; every other body is small JSON or a form.
UPLOAD_PATHS = frozenset(f"/ebox/{domain}/v2/publishMessage" for domain in EBOX_DOMAINS)
# A person's reply takes files too, shaped like publishMessage (ebox.api.replies).
REPLY_PATH = re.compile(
    r"^/ebox/(?:" + "|".join(EBOX_DOMAINS) + r")/v2/ebox/messages/[^/]+/replies$"
)


def is_upload_path(path: str) -> bool:
    """publishMessage or a reply: the routes whose body is multipart with files."""
    return path in UPLOAD_PATHS or REPLY_PATH.match(path) is not None


def upload_body_limit(max_upload_bytes: int) -> int:
    """The largest multipart body a publication may have: six files, the message, framing."""
    return max_upload_bytes * MAX_ATTACHMENTS + MESSAGE_PART_BYTES + MULTIPART_OVERHEAD


class TransportRefusal(HTTPException):
    """A request refused while its body streams in; the connection is closed after the answer.

    An HTTPException so that FastAPI's body reading passes it on unchanged to the
    app's handler (api/errors.py), which answers it as a StatusMessage with `code`.
    """

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(status_code=status, detail=message, headers=dict(CLOSE))
        self.code = code


async def send_refusal(
    send: Send,
    status: int,
    code: str,
    message: str,
    environment: str,
    headers: dict[str, str] | None = None,
) -> None:
    """Answer a StatusMessage from ASGI middleware, before the app reads anything."""
    body = json.dumps(status_message(code, message, environment)).encode()
    raw_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    for name, value in (headers or {}).items():
        if name.lower() != "connection":
            # Never fail on a header value: a character outside Latin-1 becomes "?".
            raw_headers.append(
                (name.lower().encode("latin-1"), value.encode("latin-1", errors="replace"))
            )
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


class BodyLimits:
    """Hold every request body to its size limit and its timeout, as it streams in.

    - A `Content-Length` over the route's limit is refused before anything is
      read; a body without one (chunked) is counted piece by piece and refused at
      the first piece over the limit, which never reaches the app.
    - A client that leaves more than `timeout` seconds between two pieces of its
      body gets 408. Only while the body is still expected: once its last piece
      has arrived, `receive` waits for a disconnect as long as the app likes.

    publishMessage (`UPLOAD_PATHS`) and replies (`REPLY_PATH`) take
    `upload_body_limit(max_upload_bytes)`, every other route `max_request_bytes`.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_request_bytes: int,
        max_upload_bytes: int,
        timeout: float,
        environment: str,
    ) -> None:
        self.app = app
        self.max_request_bytes = max_request_bytes
        self.max_upload_total = upload_body_limit(max_upload_bytes)
        self.timeout = timeout
        self.environment = environment

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_upload_total if is_upload_path(scope["path"]) else self.max_request_bytes
        length = _content_length(scope)
        if length is not None and length > limit:
            await send_refusal(send, 413, "PAYLOAD_TOO_LARGE", _too_large(limit), self.environment)
            return
        received = 0
        body_complete = False

        async def receive_limited() -> Message:
            nonlocal received, body_complete
            if body_complete:
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.timeout)
            except TimeoutError:
                raise TransportRefusal(
                    408,
                    "REQUEST_TIMEOUT",
                    f"the request body stalled for more than {self.timeout:g} s",
                ) from None
            if message["type"] != "http.request":
                body_complete = True
                return message
            received += len(message.get("body", b""))
            if received > limit:
                raise TransportRefusal(413, "PAYLOAD_TOO_LARGE", _too_large(limit))
            body_complete = not message.get("more_body", False)
            return message

        await self.app(scope, receive_limited, send)


def _too_large(limit: int) -> str:
    return f"the request body exceeds {limit} bytes"


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers") or ():
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None
