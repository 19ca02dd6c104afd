"""Replies over HTTP, on SQLite and PostgreSQL: allowed, refused, read by the sender.

The tax office sends a citizen a letter that allows replies and one that does
not. The citizen answers the first through
``POST /ebox/citizen/v2/ebox/messages/{id}/replies`` (multipart, like
publishMessage); the reply lands in the tax office's enterprise eBox, where an
employee holding its mandate reads it through the enterprise consultation API,
``originalMessageId`` naming the letter, and downloads its files decrypted.
Both messages' evidence names the other and verifies with ``ebox verify``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from ebox.adapters.evidence import build_evidence
from ebox.adapters.runtime import Ledger
from ebox.adapters.transparency import TransparencyLog
from ebox.projections.delivery import DeliveryWorker
from ebox.projections.runner import ViewRunner
from ebox.projections.sealer import Sealer
from ebox.verifier.bundle import verify_bundle
from tests.auth_helpers import api_client, bearer, person_token_for, sender_token
from tests.builders import CITIZEN, SENDER_KBO, make_world
from tests.e2e.test_consultation_api import (
    NEIGHBOUR,
    TAX_FILES,
    contract_body,
    nrn,
    send,
    tax_letter,
    to,
)

CITIZEN_BASE = "/ebox/citizen/v2"
ENTERPRISE_BASE = "/ebox/enterprise/v2"
EMPLOYEE = f"citizen:{nrn('790315003')}"
"""A tax office employee holding the mandate of its enterprise eBox."""
ANSWER_PDF = b"%PDF-1.4\nIk betwist de aanslag: zie bijlage.\n"
ANSWER_CSV = b"item;amount\ncorrectie;-120.00\n"


def replies_path(message_id: str, base: str = CITIZEN_BASE) -> str:
    return f"{base}/ebox/messages/{message_id}/replies"


def reply_form(
    message: dict[str, Any] | str, files: dict[str, tuple[str, bytes, str]] | None = None
) -> dict[str, Any]:
    text = message if isinstance(message, str) else json.dumps(message)
    return {"messageToPublish": (None, text, "application/json"), **(files or {})}


ANSWER: dict[str, Any] = {
    "subject": {"nl": "Bezwaar tegen de aanslag"},
    "bodyContent": {"nl": "Ik ben het niet eens met de aanslag."},
    "attachments": [
        {"httpPartName": "upfile1", "mainContent": True},
        {"httpPartName": "upfile2", "mainContent": False},
    ],
}
ANSWER_FILES = {
    "upfile1": ("bezwaar.pdf", ANSWER_PDF, "application/pdf"),
    "upfile2": ("correctie.csv", ANSWER_CSV, "text/csv"),
}


@dataclass
class Office:
    ledger: Ledger
    http: TestClient
    repliable: str
    closed: str
    neighbours: str

    def citizen(self, nrn: str = CITIZEN.id_value) -> dict[str, str]:
        return bearer(person_token_for(self.http, nrn))

    def employee(self) -> dict[str, str]:
        nrn = EMPLOYEE.partition(":")[2]
        return {**bearer(person_token_for(self.http, nrn)), "X-Ebox-Id": SENDER_KBO}

    def reply(
        self,
        message_id: str,
        message: dict[str, Any] | str = ANSWER,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        return self.http.post(
            replies_path(message_id),
            files=reply_form(message, ANSWER_FILES if files is None else files),
            headers=headers or self.citizen(),
        )

    def catch_up(self) -> None:
        DeliveryWorker(self.ledger).run_until_idle()
        ViewRunner(self.ledger).run_until_idle()

    def types(self, message_id: str) -> list[str]:
        app = self.ledger.app
        return [type(e).__name__ for e in app.events.get(app.message(message_id).id)]


@pytest.fixture
def office(ledger: Ledger, ledger_home: Path) -> Iterator[Office]:
    make_world(ledger)
    app = ledger.app
    app.open_mailbox("enterprise", SENDER_KBO)  # the tax office's own eBox receives replies
    app.grant_mandate("enterprise", SENDER_KBO, EMPLOYEE)
    app.open_mailbox("citizen", NEIGHBOUR)
    repliable = {**tax_letter(to(CITIZEN.id_value)), "replyAuthorized": True}
    letters = {
        "repliable": send(ledger, repliable, TAX_FILES),
        "closed": send(ledger, tax_letter(to(CITIZEN.id_value)), TAX_FILES),
        "neighbours": send(
            ledger, {**tax_letter(to(NEIGHBOUR)), "replyAuthorized": True}, TAX_FILES
        ),
    }
    ViewRunner(ledger).run_until_idle()
    with api_client(ledger, ledger_home) as http:
        yield Office(ledger, http, **letters)


# --------------------------------------------------------------------------- allowed


def test_a_reply_reaches_the_senders_enterprise_ebox_and_its_employee_reads_it(
    office: Office,
) -> None:
    answered = office.reply(office.repliable)
    assert answered.status_code == 201, answered.text
    reply_id = answered.json()["messageId"]
    assert answered.json()["originalMessageId"] == office.repliable
    office.catch_up()

    assert office.types(reply_id) == ["Sent", "Delivered"]
    assert office.types(office.repliable)[-1] == "Replied"
    listing = contract_body(
        office.http.get(f"{ENTERPRISE_BASE}/ebox/messages", headers=office.employee()),
        "getMessagesByEBoxId",
        200,
    )
    (item,) = listing["items"]
    assert item["messageId"] == reply_id
    assert item["originalMessageId"] == office.repliable
    assert item["subject"] == {"nl": "Bezwaar tegen de aanslag"}
    assert item["replyAuthorized"] is False

    message = f"{ENTERPRISE_BASE}/ebox/messages/{reply_id}"
    body = office.http.get(f"{message}/body", headers=office.employee())
    assert body.json() == {"nl": "Ik ben het niet eens met de aanslag."}
    attachments = office.http.get(f"{message}/attachments", headers=office.employee()).json()
    contents = {
        a["fileName"]: office.http.get(
            f"{message}/attachments/{a['attachmentId']}/content", headers=office.employee()
        ).content
        for a in attachments["items"]
    }
    assert contents == {"bezwaar.pdf": ANSWER_PDF, "correctie.csv": ANSWER_CSV}
    # The employee's reading is recorded on the reply, as for any letter.
    assert "Read" in office.types(reply_id)


def test_the_reply_records_who_replied_and_is_encrypted_to_the_offices_ebox(
    office: Office,
) -> None:
    reply_id = office.reply(office.repliable).json()["messageId"]
    app = office.ledger.app
    sent = app.sent(reply_id)
    assert sent.recipient == f"enterprise:{SENDER_KBO}"
    # The organisation of the thread, which signed nothing: the origin and details say who wrote.
    assert sent.sender == SENDER_KBO
    assert (sent.origin, sent.signature, sent.signing_key_id) == ("replied", None, None)
    assert sent.details["sender_kind"] == "ebox"
    assert sent.details["replied_from"] == CITIZEN.address
    assert sent.details["original_message_id"] == office.repliable
    assert sent.details["replied_by"] == CITIZEN.address
    assert sent.details["reply_channel"] == "portal"
    office_box = app.mailbox("enterprise", SENDER_KBO)
    assert sent.wrapped_for == sorted(office_box.encryption_keys)
    assert set(app.stores.wrapped_keys.get(reply_id)) == set(office_box.encryption_keys)
    replied = list(app.events.get(app.message(office.repliable).id))[-1]
    assert (replied.reply_message_id, replied.by) == (reply_id, CITIZEN.address)


def test_a_reply_of_a_body_alone_has_the_body_as_main_content(office: Office) -> None:
    message = {"subject": {"fr": "Merci"}, "bodyContent": {"fr": "Bien reçu."}}
    answered = office.reply(office.repliable, message, files={})
    assert answered.status_code == 201, answered.text
    office.catch_up()
    reply_id = answered.json()["messageId"]
    body = office.http.get(
        f"{ENTERPRISE_BASE}/ebox/messages/{reply_id}/body", headers=office.employee()
    )
    assert body.json() == {"fr": "Bien reçu."}
    assert office.types(reply_id)[-1] == "Read"


# --------------------------------------------------------------------------- refused


def test_a_letter_that_allows_no_reply_is_refused_with_403(office: Office) -> None:
    refused = office.reply(office.closed)
    contract_body(refused, None, 403)
    assert refused.json()["code"] == "REPLY_NOT_AUTHORIZED"
    assert office.types(office.closed)[-1] == "Delivered"


def test_someone_elses_letter_is_not_found(office: Office) -> None:
    refused = office.reply(office.neighbours)
    contract_body(refused, None, 404)
    assert office.types(office.neighbours) == ["Sent", "Delivered"]


def test_a_sender_may_not_reply_in_a_persons_place(office: Office) -> None:
    token = sender_token(office.http, office.ledger, SENDER_KBO)
    refused = office.reply(office.repliable, headers=bearer(token))
    contract_body(refused, None, 403)
    assert "Replied" not in office.types(office.repliable)


@pytest.mark.parametrize(
    ("message", "files", "says"),
    [
        ("not json", None, "messageToPublish"),
        ({"bodyContent": {"nl": "x"}}, {}, "subject is required"),
        ({**ANSWER, "recipient": to(CITIZEN.id_value)}, None, "recipient"),
        ({**ANSWER, "originalMessageId": "another"}, None, "originalMessageId"),
        ({"subject": {"nl": "x"}}, {}, "main content"),
        ({**ANSWER, "attachments": ANSWER["attachments"][:1]}, None, "not referenced"),
        ({"subject": {"nl": "x" * 100_000}, "bodyContent": {"nl": "y"}}, {}, "subject"),
    ],
)
def test_a_bad_multipart_reply_is_400_and_writes_nothing(
    office: Office, message: Any, files: Any, says: str
) -> None:
    refused = office.reply(office.repliable, message, files)
    contract_body(refused, None, 400)
    assert says in refused.json()["message"]
    assert "Replied" not in office.types(office.repliable)


def test_more_than_six_files_is_400(office: Office) -> None:
    files = {f"upfile{n}": (f"f{n}.pdf", ANSWER_PDF, "application/pdf") for n in range(1, 8)}
    attachments = [{"httpPartName": name, "mainContent": True} for name in files]
    refused = office.reply(office.repliable, {**ANSWER, "attachments": attachments}, files)
    contract_body(refused, None, 400)
    assert "Replied" not in office.types(office.repliable)


def test_without_the_offices_enterprise_ebox_the_reply_is_refused_with_409(
    office: Office,
) -> None:
    office.ledger.app.close_mailbox("enterprise", SENDER_KBO, "test")
    refused = office.reply(office.repliable)
    contract_body(refused, None, 409)
    assert refused.json()["code"] == "NO_REPLY_EBOX"


def test_an_expired_letter_takes_no_reply(office: Office) -> None:
    office.ledger.app.expire(office.repliable, "retention ended")
    ViewRunner(office.ledger).run_until_idle()
    refused = office.reply(office.repliable)
    contract_body(refused, None, 410)
    assert "Replied" not in office.types(office.repliable)


# --------------------------------------------------------------------------- evidence


def test_each_messages_evidence_names_the_other_and_ebox_verify_passes(
    office: Office, tmp_path: Path
) -> None:
    reply_id = office.reply(office.repliable).json()["messageId"]
    office.catch_up()
    sealer = Sealer(office.ledger, checkpoint_every=5, checkpoint_seconds=3600)
    sealer.run_until_idle()
    sealer.checkpoint_now()
    vkey = TransparencyLog(office.ledger).vkey()

    letter = build_evidence(office.ledger, office.repliable)
    replied = [e for e in letter.events if e.type == "Replied"]
    assert [e.data["reply_message_id"] for e in replied] == [reply_id]
    reply = build_evidence(office.ledger, reply_id)
    assert reply.events[0].data["details"]["original_message_id"] == office.repliable

    report = verify_bundle(reply.to_json(), vkey)
    assert report.origin.kind == "replied"
    assert report.origin.replied_to == office.repliable
    assert (report.origin.replied_from, report.origin.replied_by) == (CITIZEN.address,) * 2
    assert report.recipient == f"enterprise:{SENDER_KBO}"
    steps = verify_bundle(letter.to_json(), vkey).steps
    assert steps[-1].type == "Replied" and reply_id in steps[-1].what

    for name, bundle in (("letter", letter), ("reply", reply)):
        path = tmp_path / f"{name}.json"
        path.write_text(bundle.to_json())
        done = subprocess.run(
            [sys.executable, "-m", "ebox.cli.main", "verify", str(path), "--vkey", vkey],
            env={**os.environ, "COLUMNS": "200"},
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.startswith("EVIDENCE VERIFIED")
    assert "a reply" in done.stdout.lower()


def test_openapi_lists_the_reply_routes(office: Office) -> None:
    paths = office.http.get("/openapi.json").json()["paths"]
    for base in (CITIZEN_BASE, ENTERPRISE_BASE):
        operation = paths[f"{base}/ebox/messages/{{messageId}}/replies"]["post"]
        assert {"201", "400", "403", "404", "409", "410"} <= set(operation["responses"])
        assert "multipart/form-data" in operation["requestBody"]["content"]
