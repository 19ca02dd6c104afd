"""`ebox sign`: what a sender signs with it is what the ledger checks.

The README's walkthrough: an Ed25519 key made by openssl's format (PKCS#8 PEM),
its public half registered for the sender, `ebox sign` over the messageToPublish
and the files, then publishMessage with the same files and Idempotency-Key on a
ledger that refuses unsigned letters. A file changed after signing is refused.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from fastapi.testclient import TestClient

from ebox.adapters.runtime import Ledger
from tests.auth_helpers import api_client, app_settings, bearer, sender_token
from tests.builders import SENDER_KBO, make_world
from tests.e2e.test_publication_api import BASE, PDF, message_to_publish


@pytest.fixture
def http(ledger: Ledger, ledger_home: Path) -> Iterator[TestClient]:
    make_world(ledger)
    with api_client(ledger, ledger_home, app_settings(require_signature=True)) as client:
        yield client


def ebox_sign(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ebox.cli.main", "sign", *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_letter_signed_by_ebox_sign_is_accepted_and_a_changed_file_is_not(
    http: TestClient, ledger: Ledger, tmp_path: Path
) -> None:
    private = Ed25519PrivateKey.generate()
    pem = tmp_path / "signing.pem"
    pem.write_bytes(private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    key_id = ledger.app.add_signing_key(SENDER_KBO, private.public_key().public_bytes_raw())
    message = tmp_path / "message.json"
    message.write_text(json.dumps(message_to_publish()))
    letter = tmp_path / "aanslag.pdf"
    letter.write_bytes(PDF)

    signed = ebox_sign(
        str(message),
        "--key",
        str(pem),
        "--key-id",
        key_id,
        "--file",
        f"upfile1={letter};type=application/pdf",
        "--idempotency-key",
        "sign-1",
    )
    assert signed.returncode == 0, signed.stderr
    body = signed.stdout
    assert json.loads(body)["senderSignature"]["keyId"] == key_id
    token = sender_token(http, ledger, SENDER_KBO)

    def publish(content: bytes, key: str) -> object:
        return http.post(
            f"{BASE}/publishMessage",
            data={"messageToPublish": body},
            files={"upfile1": ("aanslag.pdf", content, "application/pdf")},
            headers={**bearer(token), "Idempotency-Key": key},
        )

    changed = publish(PDF + b"%changed", "sign-1")
    assert changed.status_code == 400, changed.text  # type: ignore[attr-defined]
    accepted = publish(PDF, "sign-1")
    assert accepted.status_code == 201, accepted.text  # type: ignore[attr-defined]


def test_an_unreadable_key_is_one_line(tmp_path: Path) -> None:
    message = tmp_path / "message.json"
    message.write_text(json.dumps(message_to_publish()))
    (tmp_path / "bad.pem").write_text("not a key")
    done = ebox_sign(str(message), "--key", str(tmp_path / "bad.pem"), "--key-id", "k")
    assert done.returncode == 2
    assert "not an unencrypted PEM private key" in done.stderr
    assert "Traceback" not in done.stderr
