"""The HTTP server of `ebox serve`: uvicorn with the timeouts and limits a public service needs.

uvicorn closes idle keep-alive connections, but has no timeout for a request
head or body sent a byte at a time, keeps reading (and discarding) a body the
app has already answered, and answers its concurrency limit in plain text. This
module's `EboxH11Protocol` (uvicorn's h11 protocol, given to uvicorn as its
`http` class) adds:

- a **header timeout**: the request head must be complete within
  `header_timeout_seconds` of its first byte (or of the connection opening);
  otherwise 408 (if anything was sent) and the connection is closed;
- a **graceful close** when the app answered before the request body was read
  (401 before an upload, 413, 408): the answer is flushed, the sending side is
  shut (FIN), what the client still sends is discarded for at most
  `LINGER_SECONDS` or `LINGER_BYTES`, then the connection is closed. The client
  reads the answer instead of a reset, and can never make the server read an
  unwanted body to its end;
- a **concurrency limit**: beyond `max_concurrency` open connections or
  requests in flight, 503 in the StatusMessage shape with `Retry-After`.

The body timeout is the app's (ebox.api.limits.BodyReadTimeout), the
keep-alive timeout uvicorn's own (`timeout_keep_alive`).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import h11
import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from ebox.api.errors import status_message
from ebox.api.limits import send_refusal
from ebox.api.settings import HEADER_TIMEOUT_DEFAULT, Settings

LINGER_SECONDS = 2.0
LINGER_BYTES = 1024 * 1024


class ConcurrencyLimit:
    """503 StatusMessage when the server holds more than `limit` connections or requests."""

    def __init__(self, app: ASGIApp, state: ServerState, limit: int, environment: str) -> None:
        self.app = app
        self.state = state
        self.limit = limit
        self.environment = environment

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # This connection and this request's task are already counted.
        if scope["type"] == "http" and (
            len(self.state.connections) > self.limit or len(self.state.tasks) > self.limit
        ):
            await send_refusal(
                send,
                503,
                "SERVICE_UNAVAILABLE",
                "the server is at its concurrency limit: retry shortly",
                self.environment,
                {"Retry-After": "1"},
            )
            return
        await self.app(scope, receive, send)


class _GracefulTransport:
    """The connection's transport as uvicorn sees it: `close` goes through the protocol."""

    def __init__(self, transport: asyncio.Transport, protocol: EboxH11Protocol) -> None:
        self._transport = transport
        self._protocol = protocol

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)

    def is_closing(self) -> bool:
        return self._protocol.lingering or self._transport.is_closing()

    def close(self) -> None:
        self._protocol.close_connection()


class EboxH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a header timeout, graceful close and a StatusMessage 503."""

    header_timeout: float = HEADER_TIMEOUT_DEFAULT
    max_concurrency: int | None = None
    environment: str = "production"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.max_concurrency is not None:
            self.limit_concurrency = None  # ours answers in the contract's shape instead
            self.app = ConcurrencyLimit(
                self.app, self.server_state, self.max_concurrency, self.environment
            )
        self.lingering = False
        self._discarded = 0
        self._raw: asyncio.Transport | None = None
        self._head_timer: asyncio.TimerHandle | None = None
        self._linger_timer: asyncio.TimerHandle | None = None

    # -- connection

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._raw = transport
        super().connection_made(_GracefulTransport(transport, self))  # type: ignore[arg-type]
        self._watch_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        if self._linger_timer is not None:
            self._linger_timer.cancel()
            self._linger_timer = None
        self.lingering = False
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.lingering:  # the answer is sent: what the client still sends is dropped
            self._discarded += len(data)
            if self._discarded > LINGER_BYTES and self._raw is not None:
                self._raw.close()
            return
        super().data_received(data)
        self._watch_head()

    def on_response_complete(self) -> None:
        if self.conn.their_state is h11.SEND_BODY and not self.transport.is_closing():
            # Answered before the body was read: never read the rest of it.
            self.transport.close()
        super().on_response_complete()

    def close_connection(self) -> None:
        """Close now, or gracefully if the client is still sending a request body."""
        raw = self._raw
        if raw is None or self.lingering:
            return
        self._cancel_head_timer()
        if self.conn.their_state is h11.SEND_BODY and not raw.is_closing() and raw.can_write_eof():
            self.lingering = True
            raw.resume_reading()
            raw.write_eof()  # after the buffered answer
            self._linger_timer = self.loop.call_later(LINGER_SECONDS, raw.close)
        else:
            raw.close()

    # -- header timeout

    def _watch_head(self) -> None:
        """A timer runs while a request head is awaited and not yet complete."""
        raw = self._raw
        awaiting_head = (
            raw is not None
            and not raw.is_closing()
            and self.conn.their_state is h11.IDLE
            and self.timeout_keep_alive_task is None  # idle between requests: keep-alive's
        )
        if awaiting_head:
            if self._head_timer is None:
                self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)
        else:
            self._cancel_head_timer()

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        raw = self._raw
        if raw is None or raw.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        partial, _ = self.conn.trailing_data
        if partial:
            raw.write(self._timeout_answer())
        raw.close()

    def _timeout_answer(self) -> bytes:
        body = json.dumps(
            status_message(
                "REQUEST_TIMEOUT",
                f"the request head was not complete within {self.header_timeout:g} s",
                self.environment,
            )
        ).encode()
        head = (
            "HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
        )
        return head.encode("ascii") + body


def protocol_for(settings: Settings) -> type[EboxH11Protocol]:
    """The protocol class uvicorn instantiates per connection, with these settings."""
    return type(
        "EboxH11Protocol",
        (EboxH11Protocol,),
        {
            "header_timeout": settings.header_timeout_seconds,
            "max_concurrency": settings.max_concurrency,
            "environment": settings.environment,
        },
    )


def run_server(app: ASGIApp, host: str, port: int, settings: Settings) -> None:
    """Serve `app` until interrupted, with the settings' timeouts and limits."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        http=protocol_for(settings),
        timeout_keep_alive=settings.keep_alive_timeout_seconds,  # type: ignore[arg-type]
        log_level="info",
        log_config=None,  # uvicorn's lines go through ebox.api.logging_setup's handler
        access_log=False,  # ebox.api.metrics writes the access log, by route template
    )
    uvicorn.Server(config).run()
