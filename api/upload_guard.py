"""publishMessage reads a body only for an authorised sender, and only as the contract allows.

A reply (ebox.api.replies, shaped like publishMessage) is guarded the same
way, for a person holding ebox:consultation instead of a sender.

FastAPI parses a form before any dependency runs, so the route's own token
check comes after the whole multipart body has been spooled to disk: a client
without a token could make the server write hundreds of megabytes first. This
middleware runs in front of the upload routes and

1. verifies the bearer token with the app's own verification
   (`verify_principal`) and requires a sender holding `ebox:publication`,
   before a byte of the body is read: 401/403, and the connection is closed;
2. watches the multipart body as it streams (python-multipart's incremental
   parser over each piece, before the piece is handed to the app's form
   parser): a part the contract does not name (only `messageToPublish` and
   `upfile1`..`upfile6`), a part named twice, or a malformed body is 400; a part
   over its limit is 413. The piece that breaks a rule never reaches the form
   parser, so nothing of a refused part is spooled.

The total size and the body timeout are api/limits.py's `BodyLimits`.
"""

from __future__ import annotations

from fastapi.security import HTTPAuthorizationCredentials
from fastapi.security.utils import get_authorization_scheme_param
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ebox.api.contract import UPLOAD_PARTS
from ebox.api.deps import (
    CONSULTATION,
    PUBLICATION,
    remember_principal,
    require_kind,
    require_scope,
    sender_kbo,
    verify_principal,
)
from ebox.api.errors import ApiError
from ebox.api.limits import (
    MESSAGE_PART_BYTES,
    REPLY_PATH,
    UPLOAD_PATHS,
    TransportRefusal,
    send_refusal,
)

MESSAGE_PART = "messageToPublish"


def part_limits(max_upload_bytes: int) -> dict[str, int]:
    """Every part the contract names, with the most bytes it may hold."""
    return {MESSAGE_PART: MESSAGE_PART_BYTES} | {name: max_upload_bytes for name in UPLOAD_PARTS}


class MultipartLimits:
    """Checks a multipart body piece by piece against the contract's parts and their limits."""

    def __init__(self, boundary: bytes, limits: dict[str, int]) -> None:
        self.limits = limits
        self.seen: set[str] = set()
        self.part: str | None = None
        self.part_size = 0
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""
        self.parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._part_begin,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value_data,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._part_data,
            },
        )

    def check(self, piece: bytes) -> None:
        """Raise TransportRefusal if this piece breaks a rule; else the piece may go on."""
        try:
            self.parser.write(piece)
        except FormParserError:
            raise TransportRefusal(
                400, "INVALID_REQUEST", "the multipart body is malformed"
            ) from None

    def _part_begin(self) -> None:
        self.part, self.part_size, self._disposition = None, 0, b""

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        if self._header_name.strip().lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name, self._header_value = b"", b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        raw_name = options.get(b"name")
        if raw_name is None:
            raise TransportRefusal(400, "INVALID_REQUEST", "a multipart part has no name")
        name = raw_name.decode("utf-8", errors="replace")
        if name not in self.limits:
            raise TransportRefusal(
                400,
                "INVALID_REQUEST",
                f"the contract names no part {name[:40]!r}: the parts are {', '.join(self.limits)}",
            )
        if name in self.seen:
            raise TransportRefusal(400, "INVALID_REQUEST", f"the part {name} appears twice")
        self.seen.add(name)
        self.part = name

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        self.part_size += end - start
        if self.part is not None and self.part_size > self.limits[self.part]:
            raise TransportRefusal(
                413,
                "PAYLOAD_TOO_LARGE",
                f"{self.part} exceeds the limit of {self.limits[self.part]} bytes",
            )


def _boundary(scope: Scope) -> bytes | None:
    content_type = Request(scope).headers.get("content-type", "")
    media_type, options = parse_options_header(content_type)
    if media_type != b"multipart/form-data":
        return None
    boundary = options.get(b"boundary")
    return boundary or None


def _credentials(request: Request) -> HTTPAuthorizationCredentials | None:
    scheme, token = get_authorization_scheme_param(request.headers.get("authorization"))
    if scheme.lower() != "bearer" or not token:
        return None
    return HTTPAuthorizationCredentials(scheme=scheme, credentials=token)


def _authorize(request: Request) -> None:
    """The route's own checks, in the same order: a valid token, the scope, a sender.

    A reply (ebox.api.replies) is a person's: a person token with ebox:consultation;
    which eBox and letter they may answer is the route's to decide.
    """
    principal = verify_principal(request, _credentials(request))
    if REPLY_PATH.match(request.url.path):
        require_kind(principal, "person")
        require_scope(principal, CONSULTATION)
    else:
        require_scope(principal, PUBLICATION)
        sender_kbo(principal)
    remember_principal(request, principal)  # the route's dependency does not verify it again


class UploadGuard:
    """In front of publishMessage: authorise first, then hold the streaming body to the contract."""

    def __init__(self, app: ASGIApp, max_upload_bytes: int, environment: str) -> None:
        self.app = app
        self.limits = part_limits(max_upload_bytes)
        self.environment = environment

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and (scope["path"] in UPLOAD_PATHS or REPLY_PATH.match(scope["path"]))
        ):
            await self.app(scope, receive, send)
            return
        try:
            # Verification may read the database (clients): keep it off the event loop.
            await run_in_threadpool(_authorize, Request(scope))
        except ApiError as error:
            await send_refusal(
                send, error.status, error.code, error.message, self.environment, error.headers
            )
            return
        boundary = _boundary(scope)
        if boundary is None:  # not multipart: the route refuses it without spooling files
            await self.app(scope, receive, send)
            return
        checker = MultipartLimits(boundary, self.limits)

        async def receive_checked() -> Message:
            message = await receive()
            if message["type"] == "http.request" and message.get("body"):
                checker.check(message["body"])
            return message

        await self.app(scope, receive_checked, send)
