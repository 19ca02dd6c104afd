"""What the onboarding tests share: the operator's files, and a letter sent and read over HTTP.

The operator's side (tests/e2e/test_onboarding_cli.py, test_admin_api.py)
onboards with commands or /admin/v1 only; then `letter_is_read` plays the
sender's gateway and the person against the real server, with the sender
client's key file the operator handed over and the signing key registered.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from nacl.signing import SigningKey

from ebox.api.oauth import ASSERTION_TYPE, GRANT_TYPE, make_client_assertion, token_endpoint
from ebox.api.settings import Settings
from tests.auth_helpers import bearer, person_token
from tests.builders import CITIZEN
from tests.e2e.test_publication_api import PDF
from tests.e2e.test_submission_time_api import signed_body
from tests.served import LIVENESS_SECONDS, Server

MAILBOXES = 1000
"""How many mailboxes the CSV opens: CITIZEN, who reads the letter, and 999 others."""


@dataclass(frozen=True)
class SenderKey:
    """The sender's Ed25519 signing key and its public half in both accepted forms."""

    key: SigningKey = field(repr=False)
    pem: bytes
    base64url: str


def new_sender_key() -> SenderKey:
    key = SigningKey.generate()
    raw = bytes(key.verify_key)
    pem = ed25519.Ed25519PublicKey.from_public_bytes(raw).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return SenderKey(key, pem, base64.urlsafe_b64encode(raw).rstrip(b"=").decode())


def nrns(count: int, seed: int = 9) -> list[str]:
    """`count` distinct valid national register numbers (born 1950-1999), CITIZEN first."""
    rng, found = random.Random(seed), {CITIZEN.id_value}
    while len(found) < count:
        body = f"{rng.randint(50, 99):02d}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        body += f"{rng.randint(1, 997):03d}"
        found.add(f"{body}{97 - int(body) % 97:02d}")
    return [CITIZEN.id_value, *sorted(found - {CITIZEN.id_value})]


def mailbox_csv(path: Path, count: int = MAILBOXES) -> Path:
    lines = ["type,id,email,language"]
    lines += [f"citizen,{n},person{i}@example.be,nl" for i, n in enumerate(nrns(count))]
    path.write_text("\n".join(lines) + "\n")
    return path


def client_token(server: Server, client_id: str, private_pem: bytes) -> str:
    """The client's access token from POST /oauth/token, with a client assertion."""
    audience = token_endpoint(Settings(public_url=server.url))
    assertion = make_client_assertion(private_pem, client_id, audience)
    response = httpx.post(
        f"{server.url}/oauth/token",
        data={
            "grant_type": GRANT_TYPE,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion,
        },
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def letter_is_read(
    server: Server, sender_client: str, sender_pem: bytes, signing: SenderKey, key_id: str
) -> str:
    """A letter signed with the registered key, sent over HTTP, read by CITIZEN; its id."""
    token = client_token(server, sender_client, sender_pem)
    body = signed_body(signing.key, key_id, datetime.now(UTC), "onboarded-1")
    sent = httpx.post(
        f"{server.url}/ebox/enterprise/v2/publishMessage",
        data={"messageToPublish": json.dumps(body)},
        files={"upfile1": ("aanslag.pdf", PDF, "application/pdf")},
        headers={**bearer(token), "Idempotency-Key": "onboarded-1"},
    )
    assert sent.status_code == 201, sent.text
    message_id = str(sent.json()["messageId"])

    person = person_token(server.home, CITIZEN.id_value, settings=Settings(public_url=server.url))
    url = f"{server.url}/ebox/citizen/v2/ebox/messages/{message_id}/attachments/1/content"
    deadline = time.monotonic() + LIVENESS_SECONDS  # the server's delivery worker runs apart
    while True:
        read = httpx.get(url, headers=bearer(person))
        if read.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert read.status_code == 200, read.text
    assert hashlib.sha256(read.content).digest() == hashlib.sha256(PDF).digest()
    return message_id


def sent_event(ledger_url: str, home: Path, message_id: str) -> dict[str, object]:
    """The letter's Sent event as recorded: its origin and the key that signed it."""
    from ebox.adapters.runtime import open_ledger

    ledger = open_ledger(ledger_url, home=home)
    try:
        sent = ledger.app.sent(message_id)
        return {"origin": sent.origin, "key_id": sent.signing_key_id, "sender": sent.sender}
    finally:
        ledger.close()
