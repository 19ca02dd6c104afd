"""The ledger judges a signed letter at its own receipt, never at the time the sender states.

Over real HTTP: a revoked key cannot sign by backdating `submissionTime`, a
stated time far from receipt is refused with a StatusMessage and leaves
nothing behind, and the letter's expiry runs from receipt.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from nacl.signing import SigningKey

from ebox.adapters.runtime import Ledger
from ebox.domain.proofs.canonical import parse_rfc3339, rfc3339
from ebox.domain.proofs.encryption import sha256_hex
from ebox.domain.proofs.envelope import DocumentDigest, SubmissionEnvelope, sign_envelope
from ebox.domain.validity import expiry
from tests.auth_helpers import api_client, sender_token
from tests.builders import CITIZEN, SENDER_KBO, World, make_world
from tests.contract import validate, validate_response
from tests.e2e.test_publication_api import PDF, footprint, message_to_publish, publish

TAX_VALIDITY = ("YEAR", 2)  # the message type tests/builders.py registers


@pytest.fixture
def world(ledger: Ledger) -> World:
    return make_world(ledger)


@pytest.fixture
def http(ledger: Ledger, ledger_home: Path) -> Iterator[TestClient]:
    with api_client(ledger, ledger_home) as client:
        yield client


@pytest.fixture
def token(http: TestClient, ledger: Ledger, world: World) -> str:
    return sender_token(http, ledger, SENDER_KBO)


def signed_body(key: SigningKey, key_id: str, submitted: datetime, idempotency_key: str) -> Any:
    """A messageToPublish signed by `key` with `submitted` as the stated submission time."""
    body = message_to_publish()
    envelope = SubmissionEnvelope(
        sender=SENDER_KBO,
        application="mybox-publisher",
        recipients=[CITIZEN.address],
        message_type="TAX",
        subjects=body["subject"],
        documents=[DocumentDigest("aanslag.pdf", "application/pdf", sha256_hex(PDF))],
        registered=True,
        submitted_at=rfc3339(submitted),
        idempotency_key=idempotency_key,
        extra={"reply_authorized": False, "body_main_content": False},
    )
    body["senderSignature"] = {
        "keyId": key_id,
        "signature": sign_envelope(envelope, key),
        "submissionTime": rfc3339(submitted),
    }
    return body


def refused(response: Any, code: str) -> None:
    assert response.status_code == 400, response.text
    validate("StatusMessage", response.json())
    assert response.json()["code"] == code


@pytest.mark.parametrize(
    ("backdated_by", "code"),
    [
        # Inside the skew: the stated time is before the revocation, receipt is after it.
        (timedelta(minutes=2), "INVALID_SIGNATURE"),
        # Far back: refused for the stated time alone.
        (timedelta(days=30), "INVALID_REQUEST"),
    ],
)
def test_a_revoked_key_cannot_sign_by_backdating_the_submission_time(
    http: TestClient,
    ledger: Ledger,
    token: str,
    backdated_by: timedelta,
    code: str,
) -> None:
    key = SigningKey.generate()
    long_ago = datetime.now(UTC) - timedelta(days=365)
    key_id = ledger.app.add_signing_key(SENDER_KBO, bytes(key.verify_key), valid_from=long_ago)
    ledger.app.revoke_signing_key(SENDER_KBO, key_id, "key compromise")
    before = footprint(ledger)

    stated = datetime.now(UTC) - backdated_by
    response = publish(
        http, token, signed_body(key, key_id, stated, "bd-1"), idempotency_key="bd-1"
    )

    refused(response, code)
    assert footprint(ledger) == before


@pytest.mark.parametrize("ahead", [timedelta(days=5 * 365), timedelta(minutes=6)])
def test_a_submission_time_beyond_the_skew_is_refused_and_leaves_nothing(
    http: TestClient, ledger: Ledger, world: World, token: str, ahead: timedelta
) -> None:
    before = footprint(ledger)
    stated = datetime.now(UTC) + ahead
    body = signed_body(world.sender.key, world.sender.key_id, stated, "fut-1")

    response = publish(http, token, body, idempotency_key="fut-1")

    refused(response, "INVALID_REQUEST")
    assert "submissionTime" in response.json()["message"]
    assert footprint(ledger) == before


def test_the_expiry_runs_from_receipt_not_from_the_stated_time(
    http: TestClient, ledger: Ledger, world: World, token: str
) -> None:
    stated = datetime.now(UTC) + timedelta(minutes=4)  # inside the default skew of 5 minutes
    body = signed_body(world.sender.key, world.sender.key_id, stated, "exp-1")

    before = datetime.now(UTC)
    response = publish(http, token, body, idempotency_key="exp-1")
    after = datetime.now(UTC)

    assert response.status_code == 201, response.text
    validate_response("postMessage", 201, response.json())
    answered = parse_rfc3339(response.json()["expirationDate"])
    # The contract's date-time has whole seconds: allow the truncation.
    assert expiry(before, *TAX_VALIDITY) - timedelta(seconds=1) <= answered
    assert answered <= expiry(after, *TAX_VALIDITY)
    sent = ledger.app.sent(response.json()["messageId"])
    assert sent.origin == "signed" and sent.submitted_at == rfc3339(stated)
    assert parse_rfc3339(sent.expires_at) <= expiry(sent.timestamp, *TAX_VALIDITY)


def test_an_expiration_date_is_bounded_by_the_validity_from_receipt(
    http: TestClient, ledger: Ledger, world: World, token: str
) -> None:
    stated = datetime.now(UTC) + timedelta(minutes=4)
    body = signed_body(world.sender.key, world.sender.key_id, stated, "exp-2")
    # Allowed when counted from the stated time, too late when counted from receipt.
    body["expirationDate"] = rfc3339(expiry(stated, *TAX_VALIDITY) - timedelta(minutes=1))
    before = footprint(ledger)

    response = publish(http, token, body, idempotency_key="exp-2")

    refused(response, "INVALID_REQUEST")
    assert footprint(ledger) == before
