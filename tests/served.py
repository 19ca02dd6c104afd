"""`ebox serve` as a real process on a free port, and a raw HTTP/1.1 client for the transport.

The one way the tests start the server (e2e tests of the transport, newman, keep-alive):
`served(home, *options, db=URL, workers=True)`; without `db` it serves the SQLite
default of `home`, without `workers` it runs `--no-workers`.

Tests of the transport (timeouts, what the server reads, how it closes) need
the real server and a client that sends exactly the bytes it is told to: no
HTTP library buffers, retries or waits for the whole body before reading::

    with served(tmp_path / "home", "--header-timeout", "1") as server:
        with server.connect() as conn:
            conn.send(b"GET /health HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
            status, headers, body = conn.response()
"""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

# Liveness only: how long a test waits for what must happen "soon".
LIVENESS_SECONDS = 60.0


def free_port() -> int:
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RawConnection:
    """One TCP connection to the server, read and written by hand."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.received = b""
        self.sent = 0

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)
        self.sent += len(data)

    def answered(self) -> bool:
        """True when the server has sent something (or closed) without our waiting."""
        readable, _, _ = select.select([self.sock], [], [], 0)
        return bool(readable)

    def closed_by_server(self, within: float = LIVENESS_SECONDS) -> bool:
        """Read until the server closes the connection (EOF or reset), for at most `within` s."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            readable, _, _ = select.select([self.sock], [], [], 0.2)
            if not readable:
                continue
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, BrokenPipeError):
                return True
            if not chunk:
                return True
            self.received += chunk
        return False

    def response(self, within: float = LIVENESS_SECONDS) -> tuple[int, dict[str, str], bytes]:
        """The first response: status, headers (lower-case), body (by Content-Length)."""
        deadline = time.monotonic() + within
        while b"\r\n\r\n" not in self.received:
            self._read(deadline)
        head, _, rest = self.received.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(rest) < length:
            self._read(deadline)
            rest = self.received.partition(b"\r\n\r\n")[2]
        return status, headers, rest[:length]

    def _read(self, deadline: float) -> None:
        if time.monotonic() > deadline:
            raise TimeoutError(f"no complete response; received {self.received[:200]!r}")
        readable, _, _ = select.select([self.sock], [], [], 0.2)
        if readable:
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                raise ConnectionError(f"closed after {self.received[:200]!r}")
            self.received += chunk


@dataclass
class Server:
    url: str
    port: int
    home: Path
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        """What the server printed so far (shown when a test fails)."""
        return self.log.read_text(errors="replace")

    @contextmanager
    def connect(self) -> Iterator[RawConnection]:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=LIVENESS_SECONDS)
        try:
            yield RawConnection(sock)
        finally:
            sock.close()

    def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        with self.connect() as conn:
            conn.send(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
            return conn.response()


def ebox_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of an `ebox` process on data directory `home` (umask 022 as usual)."""
    return {**os.environ, "EBOX_HOME": str(home), "COLUMNS": "200", **extra}


@contextmanager
def served(
    home: Path,
    *options: str,
    env: dict[str, str] | None = None,
    db: str | None = None,
    workers: bool = False,
    public_url: bool = True,
) -> Iterator[Server]:
    """`ebox serve` on a free port until the block ends; ready when it answers.

    `db`: the database URL (default: the SQLite file of `home`); `workers`: run the
    followers in the server too (default `--no-workers`); `public_url`: set
    EBOX_PUBLIC_URL to the server's URL (default), or leave it unset (also when the
    shell has it) so that the server names itself.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    home.parent.mkdir(parents=True, exist_ok=True)
    log_path = home.parent / f"serve-{port}.log"
    command = ["serve", "--port", str(port), *options]
    if not workers:
        command.append("--no-workers")
    if db is not None:
        command += ["--db", db]
    environment = {**ebox_env(home, EBOX_PUBLIC_URL=url), **(env or {})}
    if not public_url:
        environment.pop("EBOX_PUBLIC_URL")
    if db is not None:
        environment.pop("EBOX_DATABASE_URL", None)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "ebox.cli.main", *command],
            env=environment,
            cwd=home.parent,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=lambda: os.umask(0o022),
        )
    server = Server(url, port, home, process, log_path)
    try:
        deadline = time.monotonic() + LIVENESS_SECONDS
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"ebox serve exited: {server.output()}")
            try:
                server.get("/ledger/vkey")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=LIVENESS_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
