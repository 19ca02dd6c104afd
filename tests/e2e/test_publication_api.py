"""publishMessage, linkEboxMessage and searchMessageStatus over real HTTP.

Every body is validated against the contract file; every refusal is a
StatusMessage with the contract's status and leaves nothing behind.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from ebox.adapters.runtime import Ledger
from ebox.adapters.tables import blobs, wrapped_keys
from ebox.domain.proofs.canonical import rfc3339
from ebox.domain.proofs.encryption import sha256_hex
from ebox.domain.proofs.envelope import DocumentDigest, SubmissionEnvelope, sign_envelope
from ebox.projections.delivery import DeliveryWorker
from ebox.projections.runner import ViewRunner
from tests.auth_helpers import access_token, api_client, app_settings, bearer, expired, sender_token
from tests.builders import CITIZEN, ENTERPRISE, OTHER_KBO, SENDER_KBO, World, make_world
from tests.contract import validate, validate_response

PDF = b"%PDF-1.4\n% Aanslagbiljet 2026: te betalen EUR 1.234,56\n"
BASE = "/ebox/enterprise/v2"


def b64url_sha256(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def message_to_publish(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "recipient": {"eboxType": CITIZEN.ebox_type, "eboxIdValue": CITIZEN.id_value},
        "subject": {"nl": "Uw aanslagbiljet", "fr": "Votre avertissement"},
        "messageTypeId": "TAX",
        "senderOrganizationId": SENDER_KBO,
        "senderApplicationId": "mybox-publisher",
        "attachments": [
            {
                "httpPartName": "upfile1",
                "mainContent": True,
                "digest": {"digestMethod": "sha_256", "digestValue": b64url_sha256(PDF)},
            },
        ],
        "bodyMainContent": False,
        "replyAuthorized": False,
        "registeredMail": True,
    }
    body.update(changes)
    return body


def files(content: bytes = PDF, media_type: str = "application/pdf") -> dict[str, Any]:
    return {"upfile1": ("aanslag.pdf", content, media_type)}


@pytest.fixture
def world(ledger: Ledger) -> World:
    return make_world(ledger)


@pytest.fixture
def http(ledger: Ledger, ledger_home: Path) -> Iterator[TestClient]:
    with api_client(ledger, ledger_home, app_settings(max_upload_bytes=64 * 1024)) as client:
        yield client


@pytest.fixture
def token(http: TestClient, ledger: Ledger, world: World) -> str:
    return sender_token(http, ledger, SENDER_KBO)


def publish(
    http: TestClient,
    token: str,
    body: dict[str, Any] | str,
    parts: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
) -> Any:
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    data = {"messageToPublish": body if isinstance(body, str) else json.dumps(body)}
    return http.post(
        f"{BASE}/publishMessage",
        data=data,
        files=parts if parts is not None else files(),
        headers={**bearer(token), **headers},
    )


def footprint(ledger: Ledger) -> tuple[int, int, int, int]:
    """Events, blobs, wrapped keys and inbox rows: a refused publication changes none."""
    ViewRunner(ledger).run_until_idle()
    with ledger.db.read() as session:
        events = session.execute(text("SELECT count(*) FROM ebox_events")).scalar()
        blob_count = session.execute(select(func.count()).select_from(blobs)).scalar()
        keys = session.execute(select(func.count()).select_from(wrapped_keys)).scalar()
        rows = session.execute(text("SELECT count(*) FROM inbox_messages")).scalar()
    return int(events or 0), int(blob_count or 0), int(keys or 0), int(rows or 0)


def test_a_publication_is_accepted_recorded_and_delivered(
    http: TestClient, ledger: Ledger, token: str
) -> None:
    response = publish(http, token, message_to_publish(bodyContent={"nl": "Beste burger"}))
    assert response.status_code == 201, response.text
    body = response.json()
    validate_response("postMessage", 201, body)
    assert int(response.headers["X-Ebox-Position"]) == ledger.app.recorder.max_notification_id()
    message = ledger.app.message(body["messageId"])
    (sent,) = ledger.app.events.get(message.id)
    assert sent.origin == "attested" and sent.registered
    assert [d["kind"] for d in sent.documents] == ["attachment", "body"]
    assert DeliveryWorker(ledger).run_until_idle() == 1
    assert (
        ledger.app.open_document(body["messageId"], "aanslag.pdf", CITIZEN.address, "portal") == PDF
    )


def test_a_signed_publication_records_its_signed_origin(
    http: TestClient, ledger: Ledger, world: World, token: str
) -> None:
    submitted = rfc3339(datetime.now(UTC))
    body = message_to_publish()
    envelope = SubmissionEnvelope(
        sender=SENDER_KBO,
        application="mybox-publisher",
        recipients=[CITIZEN.address],
        message_type="TAX",
        subjects=body["subject"],
        documents=[DocumentDigest("aanslag.pdf", "application/pdf", sha256_hex(PDF))],
        registered=True,
        submitted_at=submitted,
        idempotency_key="sig-1",
        extra={"reply_authorized": False, "body_main_content": False},
    )
    body["senderSignature"] = {
        "keyId": world.sender.key_id,
        "signature": sign_envelope(envelope, world.sender.key),
        "submissionTime": submitted,
    }
    response = publish(http, token, body, idempotency_key="sig-1")
    assert response.status_code == 201, response.text
    (sent,) = ledger.app.events.get(ledger.app.message(response.json()["messageId"]).id)
    assert sent.origin == "signed" and sent.envelope_sha256 == envelope.digest()

    body["subject"] = {"nl": "changed after signing"}
    refused = publish(http, token, body, idempotency_key="sig-2")
    assert refused.status_code == 400
    validate("StatusMessage", refused.json())
    assert refused.json()["code"] == "INVALID_SIGNATURE"


def test_an_idempotent_retry_answers_the_first_result_and_makes_no_second_letter(
    http: TestClient, ledger: Ledger, token: str
) -> None:
    first = publish(http, token, message_to_publish(), idempotency_key="retry-1")
    before = footprint(ledger)
    again = publish(http, token, message_to_publish(), idempotency_key="retry-1")
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert footprint(ledger) == before
    other = publish(
        http,
        token,
        message_to_publish(subject={"nl": "iets anders"}),
        idempotency_key="retry-1",
    )
    assert other.status_code == 422
    validate("StatusMessage", other.json())


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("malformed JSON", 400, "INVALID_REQUEST"),
        ("missing part", 400, "MISSING_PART"),
        ("digest mismatch", 400, "DIGEST_MISMATCH"),
        ("media type outside the list", 400, "UNSUPPORTED_MEDIA_TYPE"),
        ("file over the size limit", 413, "PAYLOAD_TOO_LARGE"),
        ("unknown recipient", 400, "NO_DIGITAL_USER"),
        ("another sender", 403, None),
        ("unknown message type", 404, "UNKNOWN_MESSAGE_TYPE"),
    ],
)
def test_bad_input_is_refused_with_a_status_message_and_leaves_nothing(
    http: TestClient, ledger: Ledger, token: str, case: str, status: int, code: str | None
) -> None:
    body: Any = message_to_publish()
    parts = files()
    if case == "malformed JSON":
        body = '{"recipient": '
    elif case == "missing part":
        parts = {}
    elif case == "digest mismatch":
        parts = files(PDF + b"tampered")
    elif case == "media type outside the list":
        parts = files(media_type="image/svg+xml")
    elif case == "file over the size limit":
        big = b"%PDF" + b"0" * (70 * 1024)
        body["attachments"][0]["digest"]["digestValue"] = b64url_sha256(big)
        parts = files(big)
    elif case == "unknown recipient":
        body["recipient"] = {"eboxType": "citizen", "eboxIdValue": "85073003328"}
    elif case == "another sender":
        body["senderOrganizationId"] = OTHER_KBO
    elif case == "unknown message type":
        body["messageTypeId"] = "NOPE"
    before = footprint(ledger)
    response = publish(http, token, body, parts)
    assert response.status_code == status, response.text
    validate("StatusMessage", response.json())
    if code:
        assert response.json()["code"] == code
    assert footprint(ledger) == before


def test_forged_and_expired_tokens_are_refused(
    http: TestClient, ledger: Ledger, world: World
) -> None:
    good = access_token(http, "sender", SENDER_KBO)
    forged = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    stale = access_token(http, "sender", SENDER_KBO, now=expired())
    for token in (forged, stale, "not-a-jwt"):
        response = publish(http, token, message_to_publish())
        assert response.status_code == 401
        validate("StatusMessage", response.json())
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert (
        publish(
            http, access_token(http, "sender", SENDER_KBO, scopes=[]), message_to_publish()
        ).status_code
        == 403
    )


def test_link_broadcasts_and_status_shows_only_the_senders_own_letters(
    http: TestClient, ledger: Ledger, token: str
) -> None:
    message_id = publish(http, token, message_to_publish()).json()["messageId"]
    unknown = {"eboxType": "citizen", "eboxIdValue": "85073003328"}
    linked = http.post(
        f"{BASE}/linkEboxMessage",
        json={
            "messageId": message_id,
            "recipients": [{"eboxType": "enterprise", "eboxIdValue": ENTERPRISE.id_value}, unknown],
        },
        headers=bearer(token),
    )
    assert linked.status_code == 201, linked.text
    validate_response("linkMessage", 201, linked.json())
    assert linked.json()["nbSuccessLinks"] == 1 and linked.json()["errorCases"] == [unknown]

    DeliveryWorker(ledger).run_until_idle()
    ViewRunner(ledger).run_until_idle()
    ledger.app.open_document(message_id, "aanslag.pdf", CITIZEN.address, "portal")
    ViewRunner(ledger).run_until_idle()
    request = [
        {
            "messageId": message_id,
            "eboxId": {"eboxType": "citizen", "eboxIdValue": CITIZEN.id_value},
        }
    ]
    status = http.post(f"{BASE}/searchMessageStatus", json=request, headers=bearer(token))
    assert status.status_code == 201, status.text
    validate_response("getStatus", 201, status.json())
    assert status.json()[0]["readStatus"] is True

    ledger.app.register_sender(OTHER_KBO, {"nl": "RSZ"})
    other = sender_token(http, ledger, OTHER_KBO)
    refused = http.post(f"{BASE}/searchMessageStatus", json=request, headers=bearer(other))
    assert refused.status_code == 404
    validate("StatusMessage", refused.json())


def test_a_body_far_over_the_limit_is_refused_before_it_is_read(
    http: TestClient, token: str
) -> None:
    huge = b"%PDF" + b"0" * (64 * 1024 * 6 + 2 * 1024 * 1024)
    response = publish(http, token, message_to_publish(), files(huge))
    assert response.status_code == 413
    validate("StatusMessage", response.json())
