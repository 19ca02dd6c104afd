"""A small C2SP tlog-witness for the tests, written from the spec's text, over real HTTP.

It parses add-checkpoint bodies itself, checks the log's Ed25519 note signature
and the RFC 6962 consistency proof with its own code (RFC 9162 2.1.4.2), keeps
one (size, root) per origin under a lock, and answers 200 with a cosignature/v1
line, 409 ``text/x.tlog.size``, 400, 403, 404 or 422 as the spec says. Only the
cosignature line is made with the domain's `Cosigner` (checked against Go's
vectors in tests/unit/test_cosignature.py). `refuse` makes it answer a fixed
status to every request (a witness that refuses), `stop()` takes it down.
"""

from __future__ import annotations

import base64
import hashlib
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from ebox.domain.proofs.cosignature import Cosigner

DASH = "\u2014 "


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def consistent(
    first: int, second: int, first_hash: bytes, second_hash: bytes, proof: list[bytes]
) -> bool:
    """RFC 9162 section 2.1.4.2, step by step."""
    if first == second:
        return not proof and first_hash == second_hash
    if first == 0:
        return not proof
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_hash)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = _node(c, fr), _node(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = _node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == first_hash and sr == second_hash


class LogKey:
    """A log's vkey ``name+hex id+base64(0x01 || key)``, read as signed-note says."""

    def __init__(self, vkey: str) -> None:
        name, key_hex, encoded = vkey.split("+", 2)
        raw = base64.b64decode(encoded)
        assert raw[0] == 0x01 and len(raw) == 33
        self.origin, self.key_id, self.key = name, bytes.fromhex(key_hex), VerifyKey(raw[1:])


class SpecWitness:
    def __init__(self, name: str, seed: bytes, log_vkey: str) -> None:
        self.cosigner = Cosigner(name, seed)
        self.log = LogKey(log_vkey)
        self.state: dict[str, tuple[int, bytes]] = {}
        self.lock = threading.Lock()
        self.refuse: int | None = None
        self.down = False
        self.requests = 0
        self.statuses: list[int] = []
        self.connections: set[tuple[str, int]] = set()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/witness"

    def __enter__(self) -> SpecWitness:
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.stop()

    def stop(self) -> None:
        self.down = True  # kept connections too: their handler threads outlive shutdown()
        self._server.shutdown()
        self._server.server_close()

    def add_checkpoint(self, body: bytes) -> tuple[int, str, bytes]:
        """(status, content type, body) for one add-checkpoint request."""
        self.requests += 1
        if self.refuse is not None:
            return self.refuse, "text/plain", b"refused\n"
        try:
            text = body.decode("utf-8")
            head, note = text.split("\n\n", 1)
            lines = head.split("\n")
            word, old_text = lines[0].split(" ")
            assert word == "old" and old_text == str(int(old_text))
            old = int(old_text)
            proof = [base64.b64decode(line, validate=True) for line in lines[1:]]
            assert len(proof) <= 63 and all(len(h) == 32 for h in proof)
            checkpoint, signatures = note.split("\n\n", 1)
            origin, size_text, root_b64 = checkpoint.split("\n")[:3]
            size, root = int(size_text), base64.b64decode(root_b64, validate=True)
        except (ValueError, AssertionError):
            return 400, "text/plain", b"malformed\n"
        if origin != self.log.origin:
            return 404, "text/plain", b"unknown log\n"
        if not self._signed_by_log(checkpoint + "\n", signatures):
            return 403, "text/plain", b"no valid log signature\n"
        if old > size:
            return 400, "text/plain", b"old size beyond the checkpoint\n"
        with self.lock:  # the check and the update, atomically
            held_size, held_root = self.state.get(origin, (0, hashlib.sha256(b"").digest()))
            if old != held_size:
                return 409, "text/x.tlog.size", f"{held_size}\n".encode()
            if size == 0 and root != hashlib.sha256(b"").digest():
                return 422, "text/plain", b"bad empty root\n"
            if (old == 0 and proof) or not consistent(old, size, held_root, root, proof):
                return 422, "text/plain", b"inconsistent\n"
            self.state[origin] = (size, root)
            line = self.cosigner.cosign(checkpoint + "\n", int(time.time()))
        return 200, "text/plain; charset=utf-8", line.encode()

    def _signed_by_log(self, body: str, signatures: str) -> bool:
        found = False
        for line in signatures.splitlines():
            if not line.startswith(DASH):
                continue
            name, encoded = line[len(DASH) :].split(" ")
            raw = base64.b64decode(encoded)
            if name != self.log.origin or raw[:4] != self.log.key_id:
                continue  # unknown keys are ignored
            try:
                self.log.key.verify(body.encode(), raw[4:])
            except BadSignatureError:
                return False
            found = True
        return found

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        witness = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the spec recommends

            def do_POST(self) -> None:
                if witness.down:
                    self.close_connection = True
                    return
                witness.connections.add(self.client_address)
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                if self.path != "/witness/add-checkpoint":
                    status, kind, answer = 404, "text/plain", b"no such path\n"
                else:
                    status, kind, answer = witness.add_checkpoint(body)
                witness.statuses.append(status)
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *_: Any) -> None:
                pass

        return Handler


def cosigned_size(witness: SpecWitness) -> int:
    return witness.state.get(witness.log.origin, (0, b""))[0]


def unpack_timestamp(line: str) -> int:
    raw = base64.b64decode(line.split(" ")[2])
    return int(struct.unpack(">Q", raw[4:12])[0])
