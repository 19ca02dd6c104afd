"""The reference data of eBox REST 2.1 over real HTTP, on SQLite and PostgreSQL.

Two senders: the tax office (applications mybox-publisher and pension-app,
message types TAX and PENSION) and the police (fines-app, FINE). Every
response body is checked against the contract file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from ebox.adapters.runtime import Ledger
from ebox.projections.runner import ViewRunner, latest_notification_id
from tests.auth_helpers import (
    api_client,
    auditor_token,
    bearer,
    partner_client_token,
    person_token_for,
    sender_token,
)
from tests.builders import CITIZEN, OTHER_KBO, SENDER_KBO, make_world
from tests.e2e.test_consultation_api import contract_body

BASES = ("/ebox/citizen/v2/referenceData", "/ebox/enterprise/v2/referenceData")


@dataclass
class Catalogue:
    ledger: Ledger
    http: TestClient
    headers: dict[str, str]

    def get(self, path: str, base: str = BASES[0], **kw: Any) -> httpx.Response:
        headers = kw.pop("headers", self.headers)
        return self.http.get(base + path, headers=headers, **kw)


@pytest.fixture
def catalogue(ledger: Ledger, ledger_home: Path) -> Iterator[Catalogue]:
    make_world(ledger)  # the tax office: mybox-publisher, TAX (two years, registered)
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
    ViewRunner(ledger, ["inbox"]).run_until_idle()
    with api_client(ledger, ledger_home) as http:
        yield Catalogue(ledger, http, bearer(person_token_for(http, CITIZEN.id_value)))


def test_message_types(catalogue: Catalogue) -> None:
    for base in BASES:
        body = contract_body(catalogue.get("/messageTypes", base), "getAllMessagesTypes", 200)
        assert body["totalItems"] == 3
        assert [t["messageTypeId"] for t in body["items"]] == ["FINE", "PENSION", "TAX"]
    fine = contract_body(catalogue.get("/messageTypes/FINE"), "getMessageTypeById", 200)
    assert fine == {
        "messageTypeId": "FINE",
        "messageTypeName": {"nl": "Verkeersboete", "fr": "Amende routière"},
        "validityPeriod": {"validityPeriodNumber": 6, "validityPeriodUnit": "month"},
        "senderOrganizationIds": [OTHER_KBO],
        "senderApplicationIds": ["fines-app"],
    }
    tax = contract_body(catalogue.get("/messageTypes/TAX"), "getMessageTypeById", 200)
    assert tax["validityPeriod"] == {"validityPeriodNumber": 2, "validityPeriodUnit": "year"}
    assert tax["senderApplicationIds"] == ["mybox-publisher", "pension-app"]
    missing = catalogue.get("/messageTypes/NOPE")
    assert contract_body(missing, "getMessageTypeById", 404)["code"] == "NOT_FOUND"


def test_sender_applications(catalogue: Catalogue) -> None:
    body = contract_body(catalogue.get("/senderApplications"), "findAllSenderApplications", 200)
    assert [a["applicationId"] for a in body["items"]] == [
        "fines-app",
        "mybox-publisher",
        "pension-app",
    ]
    pension = contract_body(
        catalogue.get("/senderApplications/pension-app"), "getSenderApplicationById", 200
    )
    assert pension == {
        "applicationId": "pension-app",
        "applicationName": {"nl": "Mijn pensioen", "fr": "Ma pension"},
        "senderOrganizationIds": [SENDER_KBO],
        "messageTypeIds": ["PENSION", "TAX"],
    }
    contract_body(catalogue.get("/senderApplications/nope"), "getSenderApplicationById", 404)


def test_sender_organizations(catalogue: Catalogue) -> None:
    body = contract_body(
        catalogue.get("/senderOrganizations", BASES[1]), "findAllSenderOrganizations", 200
    )
    assert [o["organizationId"] for o in body["items"]] == sorted([SENDER_KBO, OTHER_KBO])
    police = contract_body(
        catalogue.get(f"/senderOrganizations/{OTHER_KBO}"), "getSenderOrganizationById", 200
    )
    assert police == {
        "organizationId": OTHER_KBO,
        "organizationShortName": {"nl": "Federale Politie", "fr": "Police fédérale"},
        "senderApplicationIds": ["fines-app"],
        "messageTypeIds": ["FINE"],
    }
    contract_body(
        catalogue.get("/senderOrganizations/0999999999"), "getSenderOrganizationById", 404
    )


def test_paging(catalogue: Catalogue) -> None:
    pages = [
        contract_body(
            catalogue.get("/messageTypes", params={"page": page, "pageSize": 2}),
            "getAllMessagesTypes",
            200,
        )
        for page in (1, 2, 3)
    ]
    assert [[t["messageTypeId"] for t in p["items"]] for p in pages] == [
        ["FINE", "PENSION"],
        ["TAX"],
        [],
    ]
    assert {p["totalItems"] for p in pages} == {3}
    for params in ({"pageSize": 101}, {"pageSize": 0}, {"page": 0}, {"page": "x"}):
        response = catalogue.get("/senderOrganizations", params=params)
        contract_body(response, "findAllSenderOrganizations", 400)


def test_no_images_are_kept_yet(catalogue: Catalogue) -> None:
    image = catalogue.get(f"/senderOrganizations/{SENDER_KBO}/images/logo/content")
    body = contract_body(image, "getImageForSenderOrganization", 404)
    assert (body["code"], body["message"]) == (
        "IMAGE_NOT_FOUND",
        "no image: this registry keeps no logos yet",
    )
    image = catalogue.get("/senderApplications/fines-app/images/logo/content")
    assert contract_body(image, "getImageForSenderApplication", 404)["code"] == "IMAGE_NOT_FOUND"
    unknown = catalogue.get("/senderOrganizations/0999999999/images/logo/content")
    assert contract_body(unknown, "getImageForSenderOrganization", 404)["code"] == "NOT_FOUND"
    unknown = catalogue.get("/senderApplications/nope/images/logo/content")
    assert contract_body(unknown, "getImageForSenderApplication", 404)["code"] == "NOT_FOUND"


def test_any_authenticated_principal_may_read_it(catalogue: Catalogue) -> None:
    http, ledger = catalogue.http, catalogue.ledger
    tokens = [
        sender_token(http, ledger, SENDER_KBO),
        auditor_token(http, ledger),
        partner_client_token(http, ledger, "doccle"),
        person_token_for(http, CITIZEN.id_value, "doccle"),  # no consent needed: no eBox read
    ]
    for token in tokens:
        response = catalogue.get("/senderOrganizations", headers=bearer(token))
        assert contract_body(response, "findAllSenderOrganizations", 200)["totalItems"] == 2
    for path, operation in [
        ("/senderOrganizations", "findAllSenderOrganizations"),
        ("/messageTypes/TAX", "getMessageTypeById"),
        (f"/senderOrganizations/{SENDER_KBO}/images/logo/content", "getImageForSenderOrganization"),
    ]:
        contract_body(catalogue.get(path, headers={}), operation, 401)
        garbage = catalogue.get(path, headers=bearer("abc.def.ghi"))
        contract_body(garbage, operation, 401)


def test_a_new_message_type_shows_once_its_position_is_reached(catalogue: Catalogue) -> None:
    catalogue.ledger.app.register_message_type(SENDER_KBO, "AAA", {"nl": "Nieuw"})
    position = latest_notification_id(catalogue.ledger)
    stale = contract_body(catalogue.get("/messageTypes/AAA"), "getMessageTypeById", 404)
    assert stale["code"] == "NOT_FOUND"
    fresh = catalogue.get(
        "/messageTypes/AAA", headers={**catalogue.headers, "X-Ebox-Min-Position": str(position)}
    )
    assert contract_body(fresh, "getMessageTypeById", 200)["messageTypeName"] == {"nl": "Nieuw"}
