"""`ebox serve` as a real subprocess, for tests about what an outside client sees.

Typical use::

    with serving(database_url, home) as server:
        httpx.get(f"{server.url}/health")

The server listens on a free loopback port, with `EBOX_PUBLIC_URL` set to it (so
token audiences and content links name the address the client calls); its
output goes to a file whose text is shown when the server fails to start.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

STARTUP_TIMEOUT = 90.0
"""Seconds for the server to answer its first request (a liveness bound, not a speed test)."""


@dataclass(frozen=True)
class Server:
    url: str
    home: Path
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(database_url: str, home: Path, *extra: str) -> Iterator[Server]:
    """Run `ebox serve --db URL` (workers included) until the block ends."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = home.parent / f"serve-{port}.log"
    env = {
        **os.environ,
        "EBOX_HOME": str(home),
        "EBOX_PUBLIC_URL": url,
        "EBOX_ENVIRONMENT": "test",
    }
    env.pop("EBOX_DATABASE_URL", None)
    command = [sys.executable, "-m", "ebox.cli.main", "serve", "--db", database_url]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "--port", str(port), *extra],
            env=env,
            cwd=home.parent,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(url, home, log)
    try:
        _wait_until_answering(process, server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_answering(process: subprocess.Popen[bytes], server: Server) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"ebox serve exited with {process.returncode}:\n{server.output()}")
        try:
            httpx.get(f"{server.url}/health", timeout=5)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"ebox serve did not answer in {STARTUP_TIMEOUT} s:\n{server.output()}")
