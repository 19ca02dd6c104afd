"""A registered letter's legal moment, end to end: stated in the evidence, recomputed by verify.

A sender publishes a registered letter over HTTP. Read by its recipient, its
bundle states the first opening as the moment of receipt under the configured
rule (`earliest-of`, 3 working days), and `ebox verify` says so; never read, the
operator's `ebox workers --once --now` after its validity expires it, and its
bundle states it deemed received at 00:00 Brussels time on the third Belgian
working day after delivery, and `ebox verify` says it was never read and its
content destroyed. A bundle whose legal moment was edited is refused.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from ebox.adapters.runtime import Ledger, open_ledger
from ebox.domain.proofs.canonical import parse_rfc3339, rfc3339
from ebox.domain.proofs.legal_timing import deemed_at
from ebox.projections.workers import Workers
from tests.auth_helpers import api_client, bearer, person_token_for, sender_token
from tests.builders import CITIZEN, SENDER_KBO, make_world
from tests.contract import validate_response
from tests.e2e.test_evidence_cli import ebox, ok
from tests.e2e.test_publication_api import BASE, message_to_publish, publish

ETSI = "http://uri.etsi.org/19522/Event/"
CITIZEN_EBOX = {"eboxType": "citizen", "eboxIdValue": CITIZEN.id_value}


def statuses(http: TestClient, ledger: Ledger, message_id: str) -> dict[str, Any]:
    """The sender's searchMessageStatus row of the letter, validated against the contract."""
    request = [{"messageId": message_id, "eboxId": CITIZEN_EBOX}]
    token = sender_token(http, ledger, SENDER_KBO)
    answer = http.post(f"{BASE}/searchMessageStatus", json=request, headers=bearer(token))
    assert answer.status_code == 201, answer.text
    validate_response("getStatus", 201, answer.json())
    row: dict[str, Any] = answer.json()[0]
    return row


def published_letter(home: Path, *, read: bool) -> str:
    ledger = open_ledger(None, home)
    try:
        make_world(ledger)
        with api_client(ledger, home) as http:
            published = publish(http, sender_token(http, ledger, SENDER_KBO), message_to_publish())
            assert published.status_code == 201, published.text
            message_id = str(published.json()["messageId"])
            Workers(ledger).run_until_idle()
            if read:
                person = bearer(person_token_for(http, CITIZEN.id_value))
                content = f"/ebox/citizen/v2/ebox/messages/{message_id}/attachments/1/content"
                before = statuses(http, ledger, message_id)
                assert before["legalMoment"] is None  # not opened, third working day to come
                assert http.get(content, headers=person).status_code == 200
            Workers(ledger).run_until_idle()
            status = statuses(http, ledger, message_id)
            assert status["legalReceiptRule"] == {"rule": "earliest-of", "workingDays": 3}
            if read:
                assert status["legalMoment"]["reason"] == "first-opening"
            else:
                assert status["legalMoment"] is None
        Workers(ledger).run_until_idle()
        return message_id
    finally:
        ledger.close()


def events_of(bundle: dict[str, object], kind: str) -> dict[str, object]:
    events = bundle["events"]
    assert isinstance(events, list)
    return next(e for e in events if e["canonical"]["type"] == kind)


def test_a_read_registered_letter_states_its_first_opening_and_verify_says_so(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    message_id = published_letter(home, read=True)
    evidence = tmp_path / "evidence.json"
    ok(ebox(home, "evidence", message_id, "-o", str(evidence)))
    bundle = json.loads(evidence.read_text())
    read = events_of(bundle, "Read")
    at = read["canonical"]["timestamp"]  # type: ignore[index]
    assert bundle["legal_moment"] == {
        "at": at,
        "rule": "earliest-of",
        "working_days": 3,
        "reason": "first-opening",
    }
    assert read["etsi_event"] == ETSI + "ContentHandover"
    assert events_of(bundle, "Sent")["etsi_event"] == ETSI + "SubmissionAcceptance"
    assert events_of(bundle, "Delivered")["etsi_event"] == ETSI + "ContentConsignment"
    assert all("etsi_event" not in e for e in bundle["sender_events"])

    vkey = ok(ebox(home, "ledger", "vkey")).strip()
    report = ok(ebox(home, "verify", str(evidence), "--vkey", vkey))
    assert f"LEGAL MOMENT: RECEIVED AT {at} (first-opening, rule earliest-of)" in report
    assert "Rule earliest-of: the first opening of the main content or deemed" in report

    bundle["legal_moment"]["reason"] = "deemed"
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(bundle))
    refused = ebox(home, "verify", str(tampered), "--vkey", vkey)
    assert refused.returncode == 1 and refused.stdout.startswith("VERIFICATION FAILED")
    assert "legal moment" in refused.stdout and "expected" in refused.stdout


def test_a_never_read_letter_is_deemed_received_on_the_third_working_day(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    message_id = published_letter(home, read=False)
    ledger = open_ledger(None, home)
    try:
        expires_at = parse_rfc3339(str(ledger.app.sent(message_id).expires_at))
    finally:
        ledger.close()
    ok(ebox(home, "workers", "--once", "--now", rfc3339(expires_at + timedelta(days=1))))

    evidence = tmp_path / "evidence.json"
    ok(ebox(home, "evidence", message_id, "-o", str(evidence)))
    bundle = json.loads(evidence.read_text())
    delivered = parse_rfc3339(events_of(bundle, "Delivered")["canonical"]["timestamp"])  # type: ignore[index]
    deemed = rfc3339(deemed_at(delivered, 3))
    assert bundle["legal_moment"] == {
        "at": deemed,
        "rule": "earliest-of",
        "working_days": 3,
        "reason": "deemed",
    }
    expired = events_of(bundle, "Expired")
    assert expired["etsi_event"] == ETSI + "ContentHandoverFailure"

    vkey = ok(ebox(home, "ledger", "vkey")).strip()
    report = ok(ebox(home, "verify", str(evidence), "--vkey", vkey))
    assert f"LEGAL MOMENT: RECEIVED AT {deemed} (deemed, rule earliest-of)" in report
    destroyed = expired["canonical"]["timestamp"]  # type: ignore[index]
    assert "LIFE: NEVER READ" in report
    assert f"It was never read; its content was destroyed at {destroyed}" in report.replace(
        "\n    ", " "
    )

    bundle["legal_moment"]["at"] = rfc3339(delivered)
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(bundle))
    refused = ebox(home, "verify", str(tampered), "--vkey", vkey)
    assert refused.returncode == 1 and "legal moment" in refused.stdout
