"""The consultation side of eBox REST 2.1 over real HTTP, on SQLite and PostgreSQL.

A small world: the tax office sends a registered tax letter (a PDF, a CSV annex,
payment data, business data), a pension certificate (a body, no attachment) and
the police a traffic fine, all to one citizen; one letter goes to an
enterprise, one to a neighbour. Letters are built exactly as POST publishMessage
builds them (`publication_of`); one test publishes over HTTP itself.

Every response body is checked against the contract file (`contract_body`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from ebox.adapters.runtime import Ledger
from ebox.api.publication_request import UploadedPart, publication_of
from ebox.domain.message import Message
from ebox.domain.proofs.canonical import b64url
from ebox.projections.delivery import DeliveryWorker
from ebox.projections.inbox import InboxView
from ebox.projections.runner import EboxId, ViewRunner, latest_notification_id
from tests.auth_helpers import (
    TEST_PUBLIC_URL,
    api_client,
    bearer,
    person_token_for,
    sender_token,
)
from tests.builders import CITIZEN, ENTERPRISE, OTHER_KBO, SENDER_KBO, make_world
from tests.contract import load, validate, validate_response

REST = "ebox-rest-2.1.yaml"
BASE = "/ebox/citizen/v2"
ENTERPRISE_BASE = "/ebox/enterprise/v2"
MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}

# --------------------------------------------------------------------------- contract checks


def _statuses(operation: str, document: str) -> set[int]:
    for item in load(document)["paths"].values():
        for op in item.values():
            if isinstance(op, dict) and op.get("operationId") == operation:
                return {int(status) for status in op["responses"]}
    raise KeyError(operation)


def contract_body(
    response: httpx.Response, operation: str | None, status: int, document: str = REST
) -> Any:
    """Assert the status; validate the body against the contract; return it.

    Errors must be StatusMessages (whether or not the operation lists the
    status); a success must be what the operation answers (`operation` None
    for our extensions, which answer no body).
    """
    assert response.status_code == status, response.text
    if not response.content:
        body: Any = None
    elif response.headers.get("content-type", "").startswith("application/json"):
        body = response.json()
    else:
        body = response.content.decode("latin-1")  # the contract's `type: string`
    if status >= 400:
        validate("StatusMessage", body)
    if operation is not None and status in _statuses(operation, document):
        validate_response(operation, status, body, document)
    else:
        assert status >= 400 or body is None, f"{operation} answered {status} with {body!r}"
    return body


# --------------------------------------------------------------------------- the world


def nrn(first_nine: str) -> str:
    """A national register number with valid check digits (born before 2000)."""
    return first_nine + f"{97 - int(first_nine) % 97:02d}"


NEIGHBOUR = nrn("850731001")
PDF = b"%PDF-1.4\nAanslagbiljet personenbelasting: EUR 4,242.17\n"
CSV = b"item;amount\nbelasting;4242.17\n"
FINE_TEXT = b"Betaal 50 EUR binnen 30 dagen."
PAYMENT = {
    "paymentDataId": "pay-77",
    "amount": 4242.17,
    "vatAmount": 0,
    "currency": "EUR",
    "dueDate": "2030-01-31T00:00:00Z",
    "iban": "BE68539007547034",
    "bic": "GKCCBEBB",
}
PENSION_BODY = {"nl": "Uw pensioen is berekend.", "fr": "Votre pension est calculée."}


def to(recipient: str, ebox_type: str = "citizen") -> dict[str, str]:
    return {"eboxType": ebox_type, "eboxIdValue": recipient}


def tax_letter(recipient: dict[str, str]) -> dict[str, Any]:
    return {
        "recipient": recipient,
        "messageTypeId": "TAX",
        "senderApplicationId": "mybox-publisher",
        "subject": {"nl": "Aanslag personenbelasting", "fr": "Avertissement-extrait de rôle"},
        "registeredMail": True,
        "bodyMainContent": False,
        "replyAuthorized": False,
        "attachments": [
            {
                "httpPartName": "upfile1",
                "mainContent": True,
                "attachmentTitle": {"nl": "Aanslagbiljet", "fr": "Avertissement"},
            },
            {"httpPartName": "upfile2", "mainContent": False},
        ],
        "paymentData": PAYMENT,
        "businessDataList": [
            {
                "key": "dossier",
                "name": {"nl": "Dossier", "fr": "Dossier"},
                "values": [{"nl": "D-77"}],
            }
        ],
    }


TAX_FILES = {
    "upfile1": ("aanslag.pdf", "application/pdf", PDF),
    "upfile2": ("détail 2024.csv", "text/csv", CSV),
}


def send(
    ledger: Ledger,
    message: dict[str, Any],
    files: dict[str, tuple[str, str, bytes]],
    sender: str = SENDER_KBO,
) -> str:
    """Publish as publishMessage would, and deliver."""
    parts = {
        name: UploadedPart(name, filename, media_type, content)
        for name, (filename, media_type, content) in files.items()
    }
    publication = publication_of(
        json.dumps(message),
        parts,
        sender_kbo=sender,
        client_id=f"sender:{sender}",
        idempotency_key=None,
    )
    message_id = ledger.app.publish(publication)
    DeliveryWorker(ledger).run_until_idle()
    return message_id


@dataclass
class Box:
    ledger: Ledger
    http: TestClient
    tax: str
    pension: str
    fine: str
    enterprise: str
    neighbour: str

    def citizen(self, **extra: str) -> dict[str, str]:
        return {**bearer(person_token_for(self.http, CITIZEN.id_value)), **extra}

    def get(self, path: str, base: str = BASE, **kw: Any) -> httpx.Response:
        headers = kw.pop("headers", None) or self.citizen()
        return self.http.get(base + path, headers=headers, **kw)

    def events(self, message_id: str) -> list[Any]:
        return list(self.ledger.app.events.get(self.ledger.app.message(message_id).id))

    def event_types(self, message_id: str) -> list[str]:
        return [type(e).__name__ for e in self.events(message_id)]

    def listed(self, **params: Any) -> list[str]:
        """The ids getMessagesByEBoxId lists with these filters (contract-checked)."""
        body = contract_body(
            self.get("/ebox/messages", params={"pageSize": 100, **params}),
            "getMessagesByEBoxId",
            200,
        )
        return [m["messageId"] for m in body["items"]]


def build_world(ledger: Ledger) -> dict[str, str]:
    make_world(ledger)
    app = ledger.app
    app.register_application(SENDER_KBO, "pension-app", {"nl": "Mijn pensioen", "fr": "Ma pension"})
    app.register_message_type(
        SENDER_KBO, "PENSION", {"nl": "Pensioenattest", "fr": "Attestation de pension"}
    )
    app.register_sender(OTHER_KBO, {"nl": "Federale Politie", "fr": "Police fédérale"})
    app.register_application(OTHER_KBO, "fines-app", {"nl": "Boetes", "fr": "Amendes"})
    app.register_message_type(
        OTHER_KBO, "FINE", {"nl": "Verkeersboete", "fr": "Amende routière"}, "MONTH", 6
    )
    app.open_mailbox("citizen", NEIGHBOUR)
    letters = {
        "tax": send(ledger, tax_letter(to(CITIZEN.id_value)), TAX_FILES),
        "pension": send(
            ledger,
            {
                "recipient": to(CITIZEN.id_value),
                "messageTypeId": "PENSION",
                "senderApplicationId": "pension-app",
                "subject": {"nl": "Uw pensioenattest", "fr": "Votre attestation de pension"},
                "bodyContent": PENSION_BODY,
                "bodyMainContent": True,
                "replyAuthorized": False,
            },
            {},
        ),
        "fine": send(
            ledger,
            {
                "recipient": to(CITIZEN.id_value),
                "messageTypeId": "FINE",
                "senderApplicationId": "fines-app",
                "subject": {"nl": "Verkeersboete", "fr": "Amende"},
                "bodyMainContent": False,
                "replyAuthorized": True,
                "forTheAttentionOf": {"id": CITIZEN.id_value, "type": "NRN", "name": "Janssens"},
                "attachments": [{"httpPartName": "upfile1", "mainContent": True}],
            },
            {"upfile1": ("boete.txt", "text/plain", FINE_TEXT)},
            sender=OTHER_KBO,
        ),
        "enterprise": send(ledger, tax_letter(to(ENTERPRISE.id_value, "enterprise")), TAX_FILES),
        "neighbour": send(ledger, tax_letter(to(NEIGHBOUR)), TAX_FILES),
    }
    ViewRunner(ledger).run_until_idle()
    return letters


@pytest.fixture
def box(ledger: Ledger, ledger_home: Path) -> Iterator[Box]:
    letters = build_world(ledger)
    with api_client(ledger, ledger_home) as http:
        yield Box(ledger, http, **letters)


# --------------------------------------------------------------------------- the eBox


def test_the_summary_counts_and_remembers_the_consultation(box: Box) -> None:
    first = contract_body(box.get("/ebox"), "getEBoxById", 200)
    inbox = InboxView.of(box.ledger)
    newest = inbox.message(EboxId("citizen", CITIZEN.id_value), box.fine)
    sizes = len(PDF) + len(CSV) + len(FINE_TEXT)  # and the body and payment documents
    assert first["numberOfMessages"] == 3
    assert first["numberOfUnreadMessages"] == 3
    assert first["lastReceiptDate"] == newest.receipt_date.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert first["eboxSize"] > round(sizes / 1024, 3)
    assert "lastConsultationDate" not in first  # never consulted before

    second = contract_body(box.get("/ebox"), "getEBoxById", 200)
    assert "lastConsultationDate" in second  # the first request recorded it
    consulted = datetime.fromisoformat(second["lastConsultationDate"].replace("Z", "+00:00"))
    assert abs(consulted - datetime.now(UTC)) < timedelta(minutes=1)


def test_listing_newest_first_with_the_contract_fields(box: Box) -> None:
    body = contract_body(box.get("/ebox/messages"), "getMessagesByEBoxId", 200)
    assert [m["messageId"] for m in body["items"]] == [box.fine, box.pension, box.tax]
    assert body["totalItems"] == 3
    fine, pension, tax = body["items"]
    assert tax["subject"] == {
        "nl": "Aanslag personenbelasting",
        "fr": "Avertissement-extrait de rôle",
    }
    assert (tax["registeredMail"], tax["readStatus"], tax["visible"]) == (True, False, True)
    assert (tax["messageTypeId"], tax["senderOrganizationId"]) == ("TAX", SENDER_KBO)
    assert tax["senderApplicationId"] == "mybox-publisher"
    assert tax["businessDataList"]["items"][0]["key"] == "dossier"
    assert "paymentData" not in tax  # listings never open content
    assert tax["attachments"]["totalItems"] == 2
    assert pension["bodyMainContent"] is True and pension["attachments"]["items"] == []
    assert fine["replyAuthorized"] is True
    assert fine["forTheAttentionOf"] == {"id": CITIZEN.id_value, "type": "NRN", "name": "Janssens"}
    assert fine["senderOrganizationId"] == OTHER_KBO
    for message in body["items"]:
        # yyyy-MM-dd'T'HH:mm:ssXXX
        datetime.strptime(message["receiptDate"], "%Y-%m-%dT%H:%M:%SZ")
        datetime.strptime(message["expirationDate"], "%Y-%m-%dT%H:%M:%SZ")


def test_every_filter(box: Box) -> None:
    inbox = InboxView.of(box.ledger)
    ebox = EboxId("citizen", CITIZEN.id_value)
    pension_receipt = inbox.message(ebox, box.pension).receipt_date
    today = datetime.now(UTC).date()
    tomorrow = today + timedelta(days=1)
    everything = [box.fine, box.pension, box.tax]
    in_300_days = (datetime.now(UTC) + timedelta(days=300)).date().isoformat()
    cases: list[tuple[dict[str, Any], list[str]]] = [
        ({}, everything),
        ({"receivedAfter": today.isoformat()}, everything),
        ({"receivedAfter": tomorrow.isoformat()}, []),
        ({"receivedBefore": tomorrow.isoformat()}, everything),
        ({"receivedBefore": today.isoformat()}, []),
        ({"receivedAfter": pension_receipt.isoformat()}, [box.fine, box.pension]),
        ({"receivedBefore": pension_receipt.isoformat()}, [box.tax]),
        ({"expiredBefore": in_300_days}, [box.fine]),  # six months
        ({"expiredAfter": in_300_days}, [box.pension, box.tax]),  # one and two years
        ({"readStatus": "false"}, everything),
        ({"readStatus": "true"}, []),
        ({"visible": "true"}, everything),
        ({"visible": "false"}, []),
        ({"archived": "false"}, everything),
        ({"messageTypeId": "PENSION"}, [box.pension]),
        ({"senderOrganizationId": OTHER_KBO}, [box.fine]),
        ({"senderOrganizationId": SENDER_KBO}, [box.pension, box.tax]),
        ({"senderApplicationId": "mybox-publisher"}, [box.tax]),
        ({"registeredMail": "true"}, [box.tax]),
        ({"registeredMail": "false"}, [box.fine, box.pension]),
        ({"q": "aanslag", "qlang": "nl"}, [box.tax]),  # a Dutch word, in Dutch...
        ({"q": "aanslag", "qlang": "fr"}, []),  # ... not in French
        ({"q": "pension", "qlang": "fr"}, [box.pension]),
        ({"q": "verkeersboete", "qlang": "nl", "senderOrganizationId": OTHER_KBO}, [box.fine]),
        ({"messageTypeId": "TAX", "registeredMail": "false"}, []),
    ]
    for params, expected in cases:
        assert box.listed(**params) == expected, params


def test_a_bad_listing_request_is_400(box: Box) -> None:
    for params in [
        {"q": "aanslag"},  # q without qlang
        {"q": "aanslag", "qlang": "xx"},
        {"pageSize": 101},
        {"pageSize": 0},
        {"page": 0},
        {"receivedAfter": "yesterday"},
        {"expiredBefore": "2024-13-45"},
        {"readStatus": "maybe"},
    ]:
        response = box.get("/ebox/messages", params=params)
        body = contract_body(response, "getMessagesByEBoxId", 400)
        assert body["code"] == "INVALID_REQUEST", params


def test_paging(box: Box) -> None:
    pages = [
        contract_body(
            box.get("/ebox/messages", params={"page": page, "pageSize": 2}),
            "getMessagesByEBoxId",
            200,
        )
        for page in (1, 2, 3)
    ]
    assert [[m["messageId"] for m in p["items"]] for p in pages] == [
        [box.fine, box.pension],
        [box.tax],
        [],
    ]
    assert {p["totalItems"] for p in pages} == {3}


# --------------------------------------------------------------------------- one message


def test_one_message_with_its_attachments_and_payment_data(box: Box) -> None:
    message = contract_body(box.get(f"/ebox/messages/{box.tax}"), "getMessageById", 200)
    assert message["paymentData"] == PAYMENT  # opening it is recorded...
    assert box.event_types(box.tax)[-1] == "ContentAccessed"  # ... and it is no main content
    assert message["readStatus"] is False

    listing = contract_body(
        box.get(f"/ebox/messages/{box.tax}/attachments"), "getAttachmentByMessageId", 200
    )
    assert listing == message["attachments"]
    pdf, csv = listing["items"]
    assert pdf == {
        "attachmentId": "1",
        "fileName": "aanslag.pdf",
        "mainContent": True,
        "mediaType": "application/pdf",
        "size": round(len(PDF) / 1024, 3),
        "digest": {"digestMethod": "sha_256", "digestValue": b64url(hashlib.sha256(PDF).digest())},
        "attachmentSigned": False,
        "contentHref": f"{TEST_PUBLIC_URL}{BASE}/ebox/messages/{box.tax}/attachments/1/content",
        "attachmentTitle": {"nl": "Aanslagbiljet", "fr": "Avertissement"},
    }
    assert (csv["fileName"], csv["mainContent"], csv["mediaType"]) == (
        "détail 2024.csv",
        False,
        "text/csv",
    )
    one = contract_body(
        box.get(f"/ebox/messages/{box.tax}/attachments/2"), "getAttachmentById", 200
    )
    assert one == csv
    missing = box.get(f"/ebox/messages/{box.tax}/attachments/9")
    assert contract_body(missing, "getAttachmentById", 404)["code"] == "ATTACHMENT_NOT_FOUND"


def test_opening_the_main_content_records_read_once(box: Box) -> None:
    annex = box.get(f"/ebox/messages/{box.tax}/attachments/2/content")
    assert contract_body(annex, "getAttachmentContentById", 200) == CSV.decode("latin-1")
    assert annex.headers["content-type"] == "text/csv"  # as sent, no charset added
    assert annex.headers["content-disposition"] == (
        "attachment; filename=\"d_tail 2024.csv\"; filename*=UTF-8''d%C3%A9tail%202024.csv"
    )
    assert box.event_types(box.tax)[-1] == "ContentAccessed"  # an annex is no main content
    assert box.listed(readStatus="true") == []

    pdf = box.get(f"/ebox/messages/{box.tax}/attachments/1/content")
    contract_body(pdf, "getAttachmentContentById", 200)
    assert pdf.content == PDF
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in pdf.headers["content-security-policy"]
    read = box.events(box.tax)[-1]
    assert isinstance(read, Message.Read)
    assert (read.reader, read.channel, read.document) == (
        f"citizen:{CITIZEN.id_value}",
        "portal",
        "aanslag.pdf",
    )
    # The very next listing shows it: the request caught the inbox view up.
    assert int(pdf.headers["X-Ebox-Position"]) == latest_notification_id(box.ledger)
    assert box.listed(readStatus="true") == [box.tax]
    summary = contract_body(box.get("/ebox"), "getEBoxById", 200)
    assert summary["numberOfUnreadMessages"] == 2

    again = box.get(f"/ebox/messages/{box.tax}/attachments/1/content")
    assert contract_body(again, "getAttachmentContentById", 200) == PDF.decode("latin-1")
    assert box.event_types(box.tax).count("Read") == 1
    assert box.event_types(box.tax)[-1] == "ContentAccessed"


def test_the_body_is_a_translated_string_and_reading_it_is_reading(box: Box) -> None:
    response = box.get(f"/ebox/messages/{box.pension}/body")
    assert contract_body(response, "getBodyContent", 200) == PENSION_BODY
    assert box.event_types(box.pension)[-1] == "Read"  # bodyMainContent
    message = contract_body(box.get(f"/ebox/messages/{box.pension}"), "getMessageById", 200)
    assert message["readStatus"] is True
    assert "paymentData" not in message

    none = box.get(f"/ebox/messages/{box.tax}/body")
    assert contract_body(none, "getBodyContent", 404)["code"] == "BODY_NOT_FOUND"


def test_payment_data(box: Box) -> None:
    response = box.get(f"/ebox/messages/{box.tax}/paymentData")
    assert contract_body(response, "getPaymentDataByMessageId", 200) == PAYMENT
    assert box.event_types(box.tax)[-1] == "ContentAccessed"
    none = box.get(f"/ebox/messages/{box.fine}/paymentData")
    body = contract_body(none, "getPaymentDataByMessageId", 404)
    assert body["code"] == "PAYMENT_DATA_NOT_FOUND"


# --------------------------------------------------------------------------- changes


def test_patch_hides_and_shows(box: Box) -> None:
    url = f"{BASE}/ebox/messages"

    def patch(
        items: list[dict[str, Any]], content_type: str = "application/merge-patch+json"
    ) -> httpx.Response:
        return box.http.patch(
            url,
            content=json.dumps({"items": items, "totalItems": len(items)}),
            headers=box.citizen(**{"Content-Type": content_type}),
        )

    hide = patch(
        [{"messageId": box.tax, "visible": False}, {"messageId": box.fine, "visible": True}]
    )
    contract_body(hide, "patchMessagesByEBoxId", 200)
    assert "X-Ebox-Position" in hide.headers
    assert box.event_types(box.tax)[-1] == "Hidden"
    assert box.event_types(box.fine)[-1] == "Delivered"  # already visible: nothing to record
    assert box.listed(visible="false") == [box.tax]

    again = patch([{"messageId": box.tax, "visible": False}])
    contract_body(again, "patchMessagesByEBoxId", 200)  # a merge patch states the result
    assert box.event_types(box.tax).count("Hidden") == 1

    show = patch([{"messageId": box.tax, "visible": True}], "application/json")
    contract_body(show, "patchMessagesByEBoxId", 200)
    assert box.event_types(box.tax)[-1] == "Shown"
    assert box.listed(visible="false") == []

    unknown = patch(
        [{"messageId": box.fine, "visible": False}, {"messageId": box.neighbour, "visible": False}]
    )
    contract_body(unknown, "patchMessagesByEBoxId", 404)
    assert "Hidden" not in box.event_types(box.fine)  # all or nothing was checked first

    both = patch(
        [{"messageId": box.fine, "visible": False}, {"messageId": box.fine, "visible": True}]
    )
    contract_body(both, "patchMessagesByEBoxId", 400)
    not_json = patch([{"messageId": box.fine, "visible": False}], "text/plain")
    assert contract_body(not_json, "patchMessagesByEBoxId", 415)["code"] == "UNSUPPORTED_MEDIA_TYPE"
    not_bool = patch([{"messageId": box.fine, "visible": "no"}])
    contract_body(not_bool, "patchMessagesByEBoxId", 400)


def test_archive_and_unarchive(box: Box) -> None:
    def post(action: str) -> httpx.Response:
        return box.http.post(f"{BASE}/ebox/messages/{box.fine}/{action}", headers=box.citizen())

    contract_body(post("archive"), None, 204)
    assert box.event_types(box.fine)[-1] == "Archived"
    assert box.listed(archived="true") == [box.fine]
    listed = contract_body(box.get(f"/ebox/messages/{box.fine}"), "getMessageById", 200)
    assert listed["archived"] is True
    assert contract_body(post("archive"), None, 409)["code"] == "CONFLICT"

    contract_body(post("unarchive"), None, 204)
    assert box.event_types(box.fine)[-1] == "Unarchived"
    assert box.listed(archived="true") == []
    assert contract_body(post("unarchive"), None, 409)["code"] == "CONFLICT"


# --------------------------------------------------------------------------- who may read


def test_a_message_of_another_ebox_is_not_found(box: Box) -> None:
    foreign = box.neighbour
    for path, operation in [
        (f"/ebox/messages/{foreign}", "getMessageById"),
        (f"/ebox/messages/{foreign}/attachments", "getAttachmentByMessageId"),
        (f"/ebox/messages/{foreign}/attachments/1", "getAttachmentById"),
        (f"/ebox/messages/{foreign}/attachments/1/content", "getAttachmentContentById"),
        (f"/ebox/messages/{foreign}/body", "getBodyContent"),
        (f"/ebox/messages/{foreign}/paymentData", "getPaymentDataByMessageId"),
        ("/ebox/messages/not-a-uuid", "getMessageById"),
    ]:
        contract_body(box.get(path), operation, 404)
    archive = box.http.post(f"{BASE}/ebox/messages/{foreign}/archive", headers=box.citizen())
    contract_body(archive, None, 404)
    assert box.event_types(foreign) == ["Sent", "Delivered"]  # nothing was opened


def test_a_person_cannot_read_another_persons_ebox(box: Box) -> None:
    headers = box.citizen(**{"X-Ebox-Id": NEIGHBOUR})
    for path, operation in [
        ("/ebox", "getEBoxById"),
        ("/ebox/messages", "getMessagesByEBoxId"),
        (f"/ebox/messages/{box.neighbour}", "getMessageById"),
        (f"/ebox/messages/{box.neighbour}/attachments/1/content", "getAttachmentContentById"),
    ]:
        body = contract_body(box.get(path, headers=headers), operation, 403)
        assert body["code"] == "NO_MANDATE"
    anonymous = box.http.get(f"{BASE}/ebox/messages")
    contract_body(anonymous, "getMessagesByEBoxId", 401)
    sender = box.http.get(
        f"{BASE}/ebox", headers=bearer(sender_token(box.http, box.ledger, SENDER_KBO))
    )
    contract_body(sender, "getEBoxById", 403)


def test_a_mandate_holder_reads_the_enterprise_ebox(box: Box) -> None:
    holder = f"citizen:{CITIZEN.id_value}"
    box.ledger.app.grant_mandate("enterprise", ENTERPRISE.id_value, holder)
    headers = box.citizen(**{"X-Ebox-Id": ENTERPRISE.id_value})
    body = contract_body(
        box.get("/ebox/messages", base=ENTERPRISE_BASE, headers=headers),
        "getMessagesByEBoxId",
        200,
    )
    assert [m["messageId"] for m in body["items"]] == [box.enterprise]
    href = body["items"][0]["attachments"]["items"][0]["contentHref"]
    assert href.startswith(f"{TEST_PUBLIC_URL}{ENTERPRISE_BASE}/ebox/messages/")

    content = box.http.get(href.removeprefix(TEST_PUBLIC_URL), headers=headers)
    assert contract_body(content, "getAttachmentContentById", 200) == PDF.decode("latin-1")
    read = box.events(box.enterprise)[-1]
    assert isinstance(read, Message.Read)
    assert (read.reader, read.channel) == (holder, f"mandate:{holder}")

    # The citizen's own eBox does not hold the enterprise's letter...
    contract_body(box.get(f"/ebox/messages/{box.enterprise}"), "getMessageById", 404)
    # ... and an enterprise eBox must be named.
    unnamed = box.get("/ebox", base=ENTERPRISE_BASE)
    assert contract_body(unnamed, "getEBoxById", 400)["code"] == "INVALID_REQUEST"


def test_a_partner_app_reads_as_the_person_while_consent_stands(box: Box) -> None:
    doccle = bearer(person_token_for(box.http, CITIZEN.id_value, "doccle"))
    refused = box.get("/ebox/messages", headers=doccle)
    assert contract_body(refused, "getMessagesByEBoxId", 403)["code"] == "NO_CONSENT"

    box.ledger.app.grant_partner_consent("citizen", CITIZEN.id_value, "doccle")
    content = box.get(f"/ebox/messages/{box.fine}/attachments/1/content", headers=doccle)
    assert contract_body(content, "getAttachmentContentById", 200) == FINE_TEXT.decode("latin-1")
    read = box.events(box.fine)[-1]
    assert (read.reader, read.channel) == (f"citizen:{CITIZEN.id_value}", "partner:doccle")


# --------------------------------------------------------------------------- consistency


def test_read_your_own_writes_with_the_position_header(box: Box) -> None:
    """A letter delivered after the last projection run shows once its position is asked for."""
    late = send(box.ledger, tax_letter(to(CITIZEN.id_value)), TAX_FILES)
    position = latest_notification_id(box.ledger)
    assert late not in box.listed()  # the inbox view has not seen it yet

    fresh = box.get("/ebox/messages", headers=box.citizen(**{"X-Ebox-Min-Position": str(position)}))
    body = contract_body(fresh, "getMessagesByEBoxId", 200)
    assert body["items"][0]["messageId"] == late

    def at(position: int) -> dict[str, str]:
        return box.citizen(**{"X-Ebox-Min-Position": str(position)})

    beyond = box.get("/ebox", headers=at(position + 1))  # no response ever named it
    assert contract_body(beyond, "getEBoxById", 400)["code"] == "INVALID_REQUEST"
    contract_body(box.get("/ebox", headers=at(-1)), "getEBoxById", 400)

    box.ledger.app.archive(late, by="test")  # the view is behind again...
    box.http.app.state.consistency_timeout = 0  # type: ignore[attr-defined]
    slow = box.get("/ebox", headers=at(latest_notification_id(box.ledger)))  # ... too slow
    assert contract_body(slow, "getEBoxById", 503)["code"] == "NOT_YET_CONSISTENT"
    assert slow.headers["Retry-After"] == "1"


def test_publish_over_http_then_read(box: Box) -> None:
    """The whole path: publishMessage, delivery, listing, opening, readStatus."""
    token = sender_token(box.http, box.ledger, SENDER_KBO)
    message = tax_letter(to(CITIZEN.id_value))
    del message["paymentData"]
    published = box.http.post(
        "/ebox/citizen/v2/publishMessage",
        headers=bearer(token),
        data={"messageToPublish": json.dumps(message)},
        files={
            "upfile1": ("brief.pdf", PDF, "application/pdf"),
            "upfile2": ("bijlage.csv", CSV, "text/csv"),
        },
    )
    message_id = contract_body(published, "postMessage", 201)["messageId"]
    DeliveryWorker(box.ledger).run_until_idle()
    ViewRunner(box.ledger).run_until_idle()

    listed = contract_body(box.get(f"/ebox/messages/{message_id}"), "getMessageById", 200)
    assert listed["attachments"]["items"][0]["fileName"] == "brief.pdf"
    assert listed["readStatus"] is False
    content = box.get(f"/ebox/messages/{message_id}/attachments/1/content")
    contract_body(content, "getAttachmentContentById", 200)
    assert content.content == PDF
    assert "Read" in box.event_types(message_id)
    assert box.listed(readStatus="true") == [message_id]
