"""The witness over HTTP: ``POST /add-checkpoint`` and ``GET /<origin hash>/checkpoint``.

Standard library only (ThreadingHTTPServer, HTTP/1.1 with keep-alive: every
answer has a Content-Length), so the witness needs no framework to run. Each
handler is parse -> :class:`~ebox.witness.service.Witness` -> respond. Refusals
are one line of ``text/plain``; the 409 body is the size and a newline, typed
``text/x.tlog.size`` as tlog-witness requires.
"""

from __future__ import annotations

import re
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ebox.witness.errors import MalformedRequest, SizeConflict, StateUnavailable, WitnessError
from ebox.witness.request import parse_add_checkpoint
from ebox.witness.service import Witness

MAX_BODY = 1 << 16
"""63 proof lines and a checkpoint with many signatures fit many times over."""

IDLE_SECONDS = 60.0
"""A connection that sends nothing for this long is closed (slow or idle clients hold a thread)."""

SIZE_TYPE = "text/x.tlog.size"
_CHECKPOINT_PATH = re.compile(r"/([0-9a-f]{64})/checkpoint")


class WitnessServer(ThreadingHTTPServer):
    """A threading HTTP server that hands every request to one :class:`Witness`."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], witness: Witness) -> None:
        self.witness = witness
        super().__init__(address, WitnessHandler)


class WitnessHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: WitnessServer
    timeout = IDLE_SECONDS
    # One write per answer, sent at once: head and body in separate small writes
    # meet the client's delayed ACK (40 ms per request on Linux).
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        if self.path != "/add-checkpoint":
            self._discard_body()
            self._send(HTTPStatus.NOT_FOUND, "no such endpoint; POST /add-checkpoint\n")
            return
        body = self._read_body()
        if body is None:
            return
        try:
            cosignature = self.server.witness.add_checkpoint(parse_add_checkpoint(body))
        except SizeConflict as conflict:
            self._send(HTTPStatus.CONFLICT, f"{conflict.latest}\n", SIZE_TYPE)
        except WitnessError as refusal:
            self._send(HTTPStatus(refusal.status), f"{refusal}\n")
        except StateUnavailable as error:
            print(f"witness: {error}", file=sys.stderr, flush=True)
            self._send(HTTPStatus.SERVICE_UNAVAILABLE, "the witness cannot persist its state\n")
        else:
            self._send(HTTPStatus.OK, cosignature)

    def do_GET(self) -> None:
        match = _CHECKPOINT_PATH.fullmatch(self.path)
        if match is None:
            self._send(HTTPStatus.NOT_FOUND, "no such endpoint; GET /<origin hash>/checkpoint\n")
            return
        try:
            note = self.server.witness.latest_checkpoint(match.group(1))
        except StateUnavailable as error:
            print(f"witness: {error}", file=sys.stderr, flush=True)
            self._send(HTTPStatus.SERVICE_UNAVAILABLE, "the witness cannot read its state\n")
            return
        if note is None:
            self._send(HTTPStatus.NOT_FOUND, "no checkpoint of this log was cosigned\n")
        else:
            self._send(HTTPStatus.OK, note, "text/plain; charset=utf-8", cache="no-cache")

    def _read_body(self) -> bytes | None:
        """The request body, or None after answering 400/411/413 for a bad length."""
        length_header = self.headers.get("Content-Length")
        if length_header is None:
            self.close_connection = True
            self._send(HTTPStatus.LENGTH_REQUIRED, "add-checkpoint needs a Content-Length\n")
            return None
        if not length_header.isdigit():
            self.close_connection = True
            self._send(HTTPStatus.BAD_REQUEST, f"{MalformedRequest('bad Content-Length')}\n")
            return None
        length = int(length_header)
        if length > MAX_BODY:
            self.close_connection = True
            self._send(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"body over {MAX_BODY} bytes\n")
            return None
        try:
            body = self.rfile.read(length)
        except TimeoutError:
            body = b""
        if len(body) != length:  # the client stopped sending: nobody to answer
            self.close_connection = True
            return None
        return body

    def _discard_body(self) -> None:
        length = self.headers.get("Content-Length", "0")
        if length.isdigit() and int(length) <= MAX_BODY:
            self.rfile.read(int(length))
        else:
            self.close_connection = True

    def _send(
        self,
        status: HTTPStatus,
        text: str,
        content_type: str = "text/plain; charset=utf-8",
        *,
        cache: str | None = None,
    ) -> None:
        data = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        if cache is not None:
            self.send_header("Cache-Control", cache)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def version_string(self) -> str:
        return "ebox-witness"

    def log_message(self, format: str, *args: object) -> None:
        """Quiet access log: stderr is for evidence of misbehaviour and errors."""
