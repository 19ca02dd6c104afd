"""The log's side of C2SP tlog-witness: one keep-alive HTTP client per witness.

``POST <submission prefix>/add-checkpoint`` with the body the spec defines::

    old <size the witness last cosigned>\\n
    <base64 consistency proof hash>\\n   (zero to 63 lines)
    \\n
    <the signed checkpoint note>

and the answers it defines: 200 with cosignature lines, 409 with the size the
witness did cosign (``text/x.tlog.size``), 403/404/422 (and 400) refusals. The
client keeps one connection open per witness (the spec's SHOULD), reopened once
when the witness closed an idle one. Errors carry the HTTP status or the
network error's class only: a witness URL may hold a credential, and a
witness's text is not ours to log.
"""

from __future__ import annotations

import base64
import http.client
import threading
import urllib.parse
from collections.abc import Sequence

ADD_CHECKPOINT = "add-checkpoint"
SIZE_TYPE = "text/x.tlog.size"
MAX_PROOF_LINES = 63
MAX_ANSWER = 64 * 1024
DEFAULT_TIMEOUT = 5.0


class WitnessError(RuntimeError):
    """A submission that brought no cosignature; ``kind`` is what /health shows."""

    kind = "WitnessError"


class WitnessUnreachable(WitnessError):
    """No connection, a timeout, or a connection closed mid-answer."""

    kind = "unreachable"


class WitnessRefused(WitnessError):
    """The witness answered an HTTP error other than 409 (403, 404, 422, 400, 5xx)."""

    def __init__(self, status: int) -> None:
        super().__init__(f"the witness answered HTTP {status}")
        self.status = status
        self.kind = f"HTTP {status}"


class WitnessConflict(WitnessError):
    """409: the witness last cosigned another size (given), not the old size we sent."""

    kind = "HTTP 409"

    def __init__(self, size: int) -> None:
        super().__init__(f"the witness last cosigned size {size}")
        self.size = size


class WitnessAnswerInvalid(WitnessError):
    """A 200 or 409 whose body is not what the spec says (no usable cosignature, bad size)."""

    kind = "invalid answer"


def add_checkpoint_body(old_size: int, proof: Sequence[bytes], note: str) -> bytes:
    """The request body of tlog-witness add-checkpoint."""
    if len(proof) > MAX_PROOF_LINES:
        raise ValueError(f"a consistency proof of {len(proof)} hashes (at most 63)")
    lines = [f"old {old_size}\n", *(base64.b64encode(h).decode() + "\n" for h in proof), "\n"]
    return ("".join(lines) + note).encode("utf-8")


class WitnessClient:
    """Submits checkpoints to one witness over one reused HTTP/1.1 connection."""

    def __init__(self, url: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("a witness URL is an http(s) submission prefix")
        self.https = parts.scheme == "https"
        self.host = parts.hostname
        self.port = parts.port
        self.path = parts.path.rstrip("/") + "/" + ADD_CHECKPOINT
        self.timeout = timeout
        self._connection: http.client.HTTPConnection | None = None
        self._lock = threading.Lock()

    def add_checkpoint(self, old_size: int, proof: Sequence[bytes], note: str) -> str:
        """The witness's cosignature lines for `note`; a :class:`WitnessError` otherwise."""
        body = add_checkpoint_body(old_size, proof, note)
        with self._lock:
            status, kind, answer = self._post(body)
        if status == 200:
            try:
                return answer.decode("utf-8")
            except UnicodeDecodeError:
                raise WitnessAnswerInvalid("the cosignature lines are not UTF-8") from None
        if status == 409:
            raise WitnessConflict(_size_of(kind, answer))
        raise WitnessRefused(status)

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def _post(self, body: bytes) -> tuple[int, str, bytes]:
        headers = {"Content-Type": "text/plain; charset=utf-8", "Connection": "keep-alive"}
        for attempt in (1, 2):
            fresh = self._connection is None
            connection = self._connection or self._connect()
            try:
                connection.request("POST", self.path, body=body, headers=headers)
                response = connection.getresponse()
                answer = response.read(MAX_ANSWER + 1)
                kind = response.headers.get_content_type()
                if response.will_close:
                    connection.close()
                    self._connection = None
                else:
                    self._connection = connection
                if len(answer) > MAX_ANSWER:
                    raise WitnessAnswerInvalid("the witness answered more than 64 KiB")
                return response.status, kind, answer
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                self._connection = None
                # A kept connection the witness closed while idle: once more on a new one.
                if fresh or attempt == 2:
                    raise WitnessUnreachable(
                        f"the witness cannot be reached ({type(error).__name__})"
                    ) from None
        raise AssertionError("unreachable")

    def _connect(self) -> http.client.HTTPConnection:
        kind = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
        return kind(self.host, self.port, timeout=self.timeout)


def _size_of(kind: str, answer: bytes) -> int:
    """The tree size of a 409 answer: ``text/x.tlog.size``, a decimal and a newline."""
    text = answer.decode("ascii", "replace")
    digits = text[:-1] if text.endswith("\n") else ""
    if (
        kind != SIZE_TYPE
        or not digits.isdigit()
        or not digits.isascii()
        or (digits != "0" and digits.startswith("0"))
    ):
        raise WitnessAnswerInvalid(f"a 409 answer that is not {SIZE_TYPE}")
    return int(digits)
