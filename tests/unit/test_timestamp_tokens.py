"""RFC 3161 requests and replies, against a real TSA: OpenSSL's `ts -reply` over HTTP.

What is stamped is SHA-256 of a checkpoint's body (signature lines excluded, so a
cosignature added later changes nothing); the request carries a fresh nonce and
asks for the TSA's certificate; a reply is refused unless it grants a token for
exactly that request, signed by a TSA that chains to the anchors given.
"""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from asn1crypto import tsp

from ebox.adapters.tsa import TsaClient, TsaReplyRejected, TsaUnavailable
from ebox.domain.proofs.timestamp import (
    ImprintMismatch,
    TimestampRefused,
    TimestampRequest,
    TokenBroken,
    UntrustedTsa,
    check_token,
    checkpoint_body,
    checkpoint_hash,
    load_anchors,
    token_of_reply,
    tst_info,
)
from tests.tsa_server import TsaFiles, TsaServer, make_tsa

NOTE = (
    "ebox.example.be/ledger\n64\npgcm34IrO9Czpg/kPZ90A18PbJ0eFzULdFYfRy36qA4=\n"
    "time 2026-12-02T19:24:12.179719Z\n\n"
    "\u2014 ebox.example.be/ledger BWmTqSGluUzTCyLDX+enZX0JZMBghLlzVYlkzoKNdUoYVYcV+UdUAhk7bn+M=\n"
)
OTHER_NOTE = NOTE.replace("\n64\n", "\n65\n")


@pytest.fixture(scope="module")
def tsa(tmp_path_factory: pytest.TempPathFactory) -> TsaFiles:
    return make_tsa(tmp_path_factory.mktemp("tsa"))


@pytest.fixture(scope="module")
def other_tsa(tmp_path_factory: pytest.TempPathFactory) -> TsaFiles:
    return make_tsa(tmp_path_factory.mktemp("other-tsa"), "Other TSA")


@pytest.fixture
def server(tsa: TsaFiles) -> Iterator[TsaServer]:
    with TsaServer(tsa) as running:
        yield running


def anchors_of(tsa: TsaFiles) -> list:  # type: ignore[type-arg]
    return load_anchors(tsa.ca_pem.read_bytes())


def test_the_stamped_hash_is_sha256_of_the_body_without_signature_lines() -> None:
    body = NOTE[: NOTE.index("\n\n") + 1]
    assert checkpoint_body(NOTE) == body
    assert checkpoint_hash(NOTE) == hashlib.sha256(body.encode()).digest()
    cosigned = NOTE + "\u2014 witness.example " + "A" * 56 + "\n"
    assert checkpoint_hash(cosigned) == checkpoint_hash(NOTE)
    assert checkpoint_hash(OTHER_NOTE) != checkpoint_hash(NOTE)


def test_the_request_is_one_openssl_reads_as_sha256_with_nonce_and_cert_req(
    tmp_path: Path,
) -> None:
    request = TimestampRequest.for_digest(checkpoint_hash(NOTE))
    query = tmp_path / "q.tsq"
    query.write_bytes(request.der())
    text = subprocess.run(
        ["openssl", "ts", "-query", "-in", str(query), "-text"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert "Hash Algorithm: sha256" in text
    assert "Certificate required: yes" in text
    assert f"Nonce: 0x{request.nonce:X}" in text
    dumped = "".join(line[11:58] for line in text.splitlines() if line.startswith("    00"))
    assert dumped.replace(" ", "").replace("-", "") == checkpoint_hash(NOTE).hex()


def test_two_requests_have_different_nonces() -> None:
    digest = checkpoint_hash(NOTE)
    assert TimestampRequest.for_digest(digest).nonce != TimestampRequest.for_digest(digest).nonce


def test_a_granted_reply_gives_a_token_that_verifies_against_the_tsa_ca(
    server: TsaServer, tsa: TsaFiles
) -> None:
    stamped = TsaClient(server.url, tuple(anchors_of(tsa))).stamp(64, NOTE)
    proven = check_token(stamped.token, checkpoint_hash(NOTE), anchors_of(tsa))
    assert proven.trusted and proven.tsa == stamped.tsa and "Test TSA" in proven.tsa
    assert proven.gen_time == stamped.gen_time
    assert tst_info(stamped.token)["message_imprint"]["hashed_message"].native == (
        checkpoint_hash(NOTE)
    )


def openssl_verify(directory: Path, tsa: TsaFiles) -> subprocess.CompletedProcess[str]:
    command = "openssl ts -verify -token_in -in token.der -data checkpoint-body.txt -CAfile"
    return subprocess.run(
        f"{command} {tsa.ca_pem}", shell=True, cwd=directory, capture_output=True, text=True
    )


def test_openssl_verifies_the_token_over_the_checkpoint_body_by_hand(
    server: TsaServer, tsa: TsaFiles, tmp_path: Path
) -> None:
    """The command docs/EVIDENCE.md gives, run as written there."""
    stamped = TsaClient(server.url).stamp(64, NOTE)
    (tmp_path / "token.der").write_bytes(stamped.token)
    (tmp_path / "checkpoint-body.txt").write_text(checkpoint_body(NOTE), newline="")
    done = openssl_verify(tmp_path, tsa)
    assert "Verification: OK" in done.stdout, done.stdout + done.stderr
    (tmp_path / "checkpoint-body.txt").write_text(checkpoint_body(OTHER_NOTE), newline="")
    assert "Verification: OK" not in openssl_verify(tmp_path, tsa).stdout


def test_a_token_for_another_checkpoint_is_refused(server: TsaServer, tsa: TsaFiles) -> None:
    stamped = TsaClient(server.url).stamp(65, OTHER_NOTE)
    with pytest.raises(ImprintMismatch, match="another checkpoint"):
        check_token(stamped.token, checkpoint_hash(NOTE), anchors_of(tsa))


def test_a_changed_token_is_refused(server: TsaServer, tsa: TsaFiles) -> None:
    token = bytearray(TsaClient(server.url).stamp(64, NOTE).token)
    at = token.find(b"\x18\x0f")  # the GeneralizedTime genTime, 15 characters
    token[at + 2 + 3] ^= 0x01  # one digit of the year
    with pytest.raises(TokenBroken):
        check_token(bytes(token), checkpoint_hash(NOTE), anchors_of(tsa))


def test_a_tsa_of_another_ca_is_refused_when_anchors_are_given(
    server: TsaServer, other_tsa: TsaFiles
) -> None:
    token = TsaClient(server.url).stamp(64, NOTE).token
    with pytest.raises(UntrustedTsa, match="does not validate against the TSA trust anchors"):
        check_token(token, checkpoint_hash(NOTE), anchors_of(other_tsa))
    with pytest.raises(TsaReplyRejected, match="trust anchors"):
        TsaClient(server.url, tuple(anchors_of(other_tsa))).stamp(64, NOTE)


def test_without_anchors_the_token_is_checked_but_not_trusted(server: TsaServer) -> None:
    token = TsaClient(server.url).stamp(64, NOTE).token
    assert check_token(token, checkpoint_hash(NOTE)).trusted is False


def test_a_reply_that_does_not_grant_is_refused_with_its_status(server: TsaServer) -> None:
    """OpenSSL's TSA is configured for SHA-2 only: a SHA-1 query is rejected."""
    request = TimestampRequest(imprint=hashlib.sha1(b"x").digest(), nonce=7)
    query = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha1"},
                "hashed_message": request.imprint,
            },
            "nonce": 7,
            "cert_req": True,
        }
    ).dump()
    with pytest.raises(TimestampRefused, match="rejection"):
        token_of_reply(server.reply(query), request)


def test_a_reply_to_another_request_is_refused(server: TsaServer) -> None:
    digest = checkpoint_hash(NOTE)
    asked, other = TimestampRequest(digest, nonce=1), TimestampRequest(digest, nonce=2)
    reply = server.reply(other.der())
    with pytest.raises(Exception, match="nonce"):
        token_of_reply(reply, asked)
    assert token_of_reply(reply, other)


def test_a_tsa_that_is_down_or_answers_an_http_error_is_unavailable(server: TsaServer) -> None:
    server.broken = True
    with pytest.raises(TsaUnavailable, match="HTTP 500"):
        TsaClient(server.url).stamp(64, NOTE)
    with pytest.raises(TsaUnavailable, match="cannot be reached"):
        TsaClient("http://127.0.0.1:9/tsa").stamp(64, NOTE)


def test_basic_authentication_is_sent_when_a_username_is_set(
    server: TsaServer, tsa: TsaFiles
) -> None:
    client = TsaClient(server.url, username="ledger", password="s3cret")
    assert client.stamp(64, NOTE).tsa
    assert server.authorizations[-1] == "Basic bGVkZ2VyOnMzY3JldA=="


def test_a_token_is_checked_from_inside_an_event_loop_too(server: TsaServer, tsa: TsaFiles) -> None:
    """An async API handler that verifies a bundle must get the same verdict."""
    import asyncio

    token = TsaClient(server.url).stamp(64, NOTE).token

    async def in_a_handler() -> bool:
        return check_token(token, checkpoint_hash(NOTE), anchors_of(tsa)).trusted

    assert asyncio.run(in_a_handler())
