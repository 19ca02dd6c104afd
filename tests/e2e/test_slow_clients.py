"""Slow clients cannot hold `ebox serve`'s connections (issue 7, finding 10).

A real server with one-second header, body and keep-alive timeouts; each
client sends a byte every two seconds (or nothing) and the server must close
its connection. The only time bounds in these tests are liveness bounds
(`LIVENESS_SECONDS`): how soon the server closes is not measured.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from tests.contract import validate
from tests.served import LIVENESS_SECONDS, RawConnection, Server, served

TIMEOUTS = ("--header-timeout", "1", "--body-timeout", "1", "--keep-alive-timeout", "1")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("slow-clients") / "home"
    with served(home, *TIMEOUTS) as running:
        yield running


def trickle(conn: RawConnection, data: bytes, every: float = 2.0) -> bool:
    """Send `data` a byte every `every` seconds; True when the server closed meanwhile."""
    deadline = time.monotonic() + LIVENESS_SECONDS
    for byte in data:
        if conn.answered():
            return True
        try:
            conn.send(bytes([byte]))
        except (BrokenPipeError, ConnectionResetError):
            return True
        time.sleep(every)
        if time.monotonic() > deadline:
            return False
    return False


def test_a_request_head_sent_a_byte_every_two_seconds_is_cut_off(server: Server) -> None:
    head = b"GET /ledger/vkey HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"x" * 100 + b"\r\n\r\n"
    with server.connect() as conn:
        assert trickle(conn, head), "the server waited for the whole head"
        assert conn.closed_by_server()
    assert conn.received.startswith(b"HTTP/1.1 408 ")
    validate("StatusMessage", json.loads(conn.received.partition(b"\r\n\r\n")[2]))


def test_a_connection_that_sends_nothing_is_closed(server: Server) -> None:
    with server.connect() as conn:
        assert conn.closed_by_server()
    assert conn.received == b""


def test_a_body_sent_a_byte_every_two_seconds_is_408(server: Server) -> None:
    body = b"grant_type=client_credentials&client_assertion=" + b"x" * 100
    with server.connect() as conn:
        conn.send(
            b"POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
        )
        assert trickle(conn, body), "the server waited for the whole body"
        status, headers, answer = conn.response()
        assert status == 408, answer
        message = json.loads(answer)
        validate("StatusMessage", message)
        assert message["code"] == "REQUEST_TIMEOUT"
        assert headers.get("connection") == "close"
        assert conn.closed_by_server()


def test_an_idle_keep_alive_connection_is_closed(server: Server) -> None:
    with server.connect() as conn:
        conn.send(b"GET /ledger/vkey HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        status, _, _ = conn.response()
        assert status == 200
        assert conn.closed_by_server()


def test_a_prompt_client_is_served_on_one_connection(server: Server) -> None:
    """The timeouts cut off slow clients only: requests in a row on one connection go through."""
    with server.connect() as conn:
        for _ in range(3):
            conn.received = b""
            conn.send(b"GET /ledger/vkey HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            status, _, _ = conn.response()
            assert status == 200


def test_beyond_the_concurrency_limit_requests_get_503(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    home = tmp_path_factory.mktemp("concurrency") / "home"
    with served(home, "--max-concurrency", "2", "--header-timeout", "600") as server:
        with server.connect() as first, server.connect() as second:
            assert not first.answered() and not second.answered()
            status, headers, body = server.get("/ledger/vkey")
        assert status == 503, body
        message = json.loads(body)
        validate("StatusMessage", message)
        assert headers.get("retry-after") == "1"
        # Once the two idle connections are gone (the server may take a moment to see it).
        deadline = time.monotonic() + LIVENESS_SECONDS
        while server.get("/ledger/vkey")[0] != 200:
            assert time.monotonic() < deadline, "still refused after the connections closed"
            time.sleep(0.2)


def test_the_timeouts_come_from_the_environment_too(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    home = tmp_path_factory.mktemp("timeouts-from-env") / "home"
    with served(home, env={"EBOX_HEADER_TIMEOUT": "1"}) as server, server.connect() as conn:
        assert conn.closed_by_server()
