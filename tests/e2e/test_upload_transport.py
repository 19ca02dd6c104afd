"""What a client can make `ebox serve` read: an upload is authorised before its body, and held
to the contract's parts and limits as it streams (issue 7, finding 4).

Each test streams a chunked body over a raw socket to a real server and stops
sending as soon as the server answers: a server that reads the whole body
first answers only after everything was sent. Kernel buffers on the loopback
hold a few MiB, so "refused before it was read" is: answered before
`EARLY` bytes of a body many times larger were sent.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from ebox.adapters.clients import ALLOWED_SCOPES
from ebox.adapters.runtime import Ledger, open_ledger
from ebox.api.settings import Settings
from ebox.api.tokens import TokenService
from ebox.domain.errors import NotFound
from tests.auth_helpers import register_test_client
from tests.contract import validate
from tests.served import RawConnection, Server, served

MiB = 1024 * 1024
BODY = 96 * MiB  # what the client would send if nobody stopped it
EARLY = 24 * MiB  # answered before this much was sent: the body was not read
MAX_UPLOAD = 256 * 1024
BOUNDARY = "ebox-transport-test"
PUBLISH = "/ebox/citizen/v2/publishMessage"
SENDER = "0123456749"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("upload-transport") / "home"
    with served(home, env={"EBOX_MAX_UPLOAD_BYTES": str(MAX_UPLOAD)}) as running:
        yield running


def sender_token(server: Server) -> str:
    """A sender's access token signed with the server's own key, for a client registered in
    the server's own database (a token is good only while its client is)."""
    ledger = open_ledger(home=server.home)
    try:
        if not _registered(ledger, SENDER):
            ledger.app.register_sender(SENDER, {"nl": "Transporttest"})
        client = register_test_client(ledger, "sender", SENDER)
    finally:
        ledger.close()
    tokens = TokenService.for_settings(Settings(public_url=server.url), server.home)
    return tokens.issue(
        kind="sender",
        subject=SENDER,
        client_id=client.client_id,
        scopes=ALLOWED_SCOPES["sender"],
    ).access_token


def _registered(ledger: Ledger, kbo: str) -> bool:
    try:
        ledger.app.sender(kbo)
    except NotFound:
        return False
    return True


def chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def part_head(name: str, filename: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"'
    if filename is not None:
        disposition += f'; filename="{filename}"'
    return (
        f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n"
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()


def stream_upload(
    conn: RawConnection,
    path: str,
    token: str | None,
    preamble: bytes,
    content_type: str = f"multipart/form-data; boundary={BOUNDARY}",
) -> None:
    """Send a chunked request: `preamble`, then zeros until the server answers (or BODY)."""
    authorization = f"Authorization: Bearer {token}\r\n" if token else ""
    conn.send(
        (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{authorization}"
            f"Content-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\r\n"
        ).encode()
    )
    conn.send(chunk(preamble))
    piece = chunk(b"0" * (64 * 1024))
    try:
        while conn.sent < BODY and not conn.answered():
            conn.send(piece)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server stopped reading: the answer is waiting


def refusal(conn: RawConnection, status: int) -> dict[str, str]:
    """The StatusMessage of the answer, which came early and closed the connection."""
    answer, headers, body = conn.response()
    assert answer == status, body[:300]
    message = json.loads(body)
    validate("StatusMessage", message)
    assert conn.sent < EARLY, f"answered only after {conn.sent} bytes were sent"
    assert headers.get("connection") == "close"
    assert conn.closed_by_server(), "the server kept the connection open"
    return message  # type: ignore[no-any-return]


def test_an_upload_without_a_token_is_refused_before_its_body_is_read(server: Server) -> None:
    with server.connect() as conn:
        stream_upload(conn, PUBLISH, None, part_head("upfile1", "big.pdf"))
        message = refusal(conn, 401)
    assert message["code"] == "UNAUTHORIZED"


def test_an_upload_with_a_forged_token_is_refused_before_its_body_is_read(server: Server) -> None:
    forged = sender_token(server)[:-4] + "AAAA"
    with server.connect() as conn:
        stream_upload(conn, PUBLISH, forged, part_head("upfile1", "big.pdf"))
        refusal(conn, 401)


def test_a_chunked_part_over_the_upload_limit_is_413_as_it_streams(server: Server) -> None:
    preamble = part_head("messageToPublish") + b"{}\r\n" + part_head("upfile1", "big.pdf")
    with server.connect() as conn:
        stream_upload(conn, PUBLISH, sender_token(server), preamble)
        message = refusal(conn, 413)
    assert message["code"] == "PAYLOAD_TOO_LARGE"
    assert "upfile1" in message["message"]


def test_a_part_the_contract_does_not_name_is_400_before_it_is_spooled(server: Server) -> None:
    preamble = part_head("messageToPublish") + b"{}\r\n" + part_head("upfile7", "extra.pdf")
    with server.connect() as conn:
        stream_upload(conn, PUBLISH, sender_token(server), preamble)
        message = refusal(conn, 400)
    assert "upfile7" in message["message"]


def test_a_part_sent_twice_is_400(server: Server) -> None:
    preamble = part_head("upfile1", "a.pdf") + b"%PDF\r\n" + part_head("upfile1", "b.pdf") + b"%PDF"
    with server.connect() as conn:
        stream_upload(conn, PUBLISH, sender_token(server), preamble)
        message = refusal(conn, 400)
    assert "twice" in message["message"]


def test_a_chunked_json_body_over_the_request_limit_is_413_before_it_is_read(
    server: Server,
) -> None:
    with server.connect() as conn:
        stream_upload(
            conn,
            "/ebox/citizen/v2/linkEboxMessage",
            None,
            b'{"messageId": "',
            content_type="application/json",
        )
        message = refusal(conn, 413)
    assert message["code"] == "PAYLOAD_TOO_LARGE"


def test_the_server_still_serves_after_the_refusals(server: Server, tmp_path: Path) -> None:
    status, _, body = server.get("/ledger/vkey")
    assert status == 200, body
