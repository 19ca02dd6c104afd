"""A refused hostile value leaves the keep-alive connection open, on a real `ebox serve`.

Finding 8 of issue 7: each hostile value was a 500 raised out of the app, and
uvicorn closes the connection after an exception, so a client's next request
on it failed too. Now each is an ordinary 400 and the connection carries on.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from ebox.projections.runtime import Ledger
from tests.auth_helpers import app_settings, person_token
from tests.builders import CITIZEN, make_world

STARTUP_TIMEOUT = 60.0
"""Seconds `ebox serve` may take to answer /health (liveness only, generous)."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(ledger: Ledger, ledger_home: Path, database_url: str) -> Iterator[tuple[int, str]]:
    """`ebox serve` on the test's database and data directory; its port and a person token."""
    make_world(ledger)
    port = free_port()
    public_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "EBOX_HOME": str(ledger_home),
        "EBOX_DATABASE_URL": database_url,
        "EBOX_PUBLIC_URL": public_url,
    }
    ebox = Path(sys.executable).with_name("ebox")
    command = [str(ebox), "serve", "--port", str(port), "--no-workers"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, "ebox serve did not start listening"
                time.sleep(0.1)
        token = person_token(
            ledger_home, CITIZEN.id_value, settings=app_settings(public_url=public_url)
        )
        yield port, token
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.parametrize(
    "query",
    [
        "receivedBefore=" + quote("0001-01-01T00:00:00+14:00"),
        "expiredAfter=" + quote("9999-12-31T23:59:59-14:00"),
        "messageTypeId=TAX%00",
    ],
)
def test_a_refused_value_keeps_the_connection_alive(served: tuple[int, str], query: str) -> None:
    port, token = served
    headers = {"Authorization": f"Bearer {token}"}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", f"/ebox/citizen/v2/ebox/messages?{query}", headers=headers)
        refused = connection.getresponse()
        refused.read()
        first_socket = connection.sock
        # The same connection, before judging the first answer: was it left open?
        connection.request("GET", "/ebox/citizen/v2/ebox", headers=headers)
        answered = connection.getresponse()
        answered.read()
        assert connection.sock is first_socket, "the server closed the connection"
        assert answered.status == 200
        assert refused.status == 400
        assert refused.getheader("connection", "").lower() != "close"
    finally:
        connection.close()
