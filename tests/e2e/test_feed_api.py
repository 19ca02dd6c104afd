"""The eBox event API (GET document events) over real HTTP, on SQLite and PostgreSQL.

The world of test_consultation_api: three letters to a citizen, one to a
neighbour, one to an enterprise, all delivered; the citizen then reads the
fine. Every page is checked against ebox-enterprise-event-api-1.1.1.yaml,
every refusal against the REST contract's StatusMessage.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from ebox.adapters.runtime import Ledger
from ebox.projections.runner import ViewRunner
from tests.auth_helpers import (
    api_client,
    auditor_token,
    bearer,
    client_token,
    partner_client_token,
    person_token_for,
    register_test_client,
    sender_token,
)
from tests.builders import CITIZEN, ENTERPRISE, OTHER_KBO, SENDER_KBO
from tests.e2e.test_consultation_api import NEIGHBOUR, build_world, contract_body

EVENTS = "ebox-enterprise-event-api-1.1.1.yaml"
OPERATION = "getEboxEnterpriseDocumentEvents"
CITIZEN_FEED = "/ebox/citizen/document/events"
ENTERPRISE_FEED = "/ebox/enterprise/document/events"


@dataclass
class Feed:
    ledger: Ledger
    http: TestClient
    letters: dict[str, str]
    auditor: dict[str, str]

    def get(
        self, path: str = CITIZEN_FEED, headers: dict[str, str] | None = None, **params: Any
    ) -> httpx.Response:
        query = {"lastSequenceNbr": 0, "pageSize": 100, **params}
        query = {k: v for k, v in query.items() if v is not None}
        return self.http.get(
            path, params=query, headers=self.auditor if headers is None else headers
        )

    def page(
        self, path: str = CITIZEN_FEED, headers: dict[str, str] | None = None, **params: Any
    ) -> Any:
        return contract_body(self.get(path, headers, **params), OPERATION, 200, EVENTS)

    def events(self, path: str = CITIZEN_FEED, **params: Any) -> list[tuple[str, str]]:
        page = self.page(path, **params)
        return [
            (e["eventData"]["eventType"], e["eventData"]["messageId"])
            for e in page["EboxEnterpriseDocumentEvents"]
        ]


@pytest.fixture
def feed(ledger: Ledger, ledger_home: Path) -> Iterator[Feed]:
    letters = build_world(ledger)
    ledger.app.open_document(letters["fine"], "boete.txt", f"citizen:{CITIZEN.id_value}", "portal")
    ViewRunner(ledger).run_until_idle()
    with api_client(ledger, ledger_home) as http:
        yield Feed(ledger, http, letters, bearer(auditor_token(http, ledger)))


def test_the_auditor_reads_every_event_in_order(feed: Feed) -> None:
    letters = feed.letters
    page = feed.page()
    assert [
        (e["eventSequenceNbr"], e["eventData"]["eventType"], e["eventData"]["messageId"])
        for e in page["EboxEnterpriseDocumentEvents"]
    ] == [
        (1, "newDocument", letters["tax"]),
        (2, "newDocument", letters["pension"]),
        (3, "newDocument", letters["fine"]),
        (4, "newDocument", letters["neighbour"]),
        (5, "readDocument", letters["fine"]),
    ]
    assert page["pageInfo"] == {"lastSequenceNbr": 5, "hasNext": False}
    read = page["EboxEnterpriseDocumentEvents"][-1]
    assert read["eventProviderId"] == "ebox.test"  # the public URL's host
    assert read["eventData"] == {
        "eventType": "readDocument",
        "enterpriseId": CITIZEN.id_value,
        "messageId": letters["fine"],
        "receiptDate": read["eventData"]["receiptDate"],
        "expirationDate": read["eventData"]["expirationDate"],
        "registeredMail": False,
        "messageTypeId": "FINE",
        "senderOrganizationId": OTHER_KBO,
        "senderApplicationId": "fines-app",
        "subject": {"nl": "Verkeersboete", "fr": "Amende"},
    }
    enterprise = feed.page(ENTERPRISE_FEED)
    (only,) = enterprise["EboxEnterpriseDocumentEvents"]
    assert (only["eventSequenceNbr"], only["eventData"]["enterpriseId"]) == (1, ENTERPRISE.id_value)
    assert only["eventData"]["senderOrganizationId"] == SENDER_KBO


def test_paging_by_sequence_number(feed: Feed) -> None:
    seen, last, pages = [], 0, 0
    while True:
        page = feed.page(lastSequenceNbr=last, pageSize=2)
        seen += [e["eventSequenceNbr"] for e in page["EboxEnterpriseDocumentEvents"]]
        last, pages = page["pageInfo"]["lastSequenceNbr"], pages + 1
        if not page["pageInfo"]["hasNext"]:
            break
    assert (seen, pages) == ([1, 2, 3, 4, 5], 3)
    beyond = feed.page(lastSequenceNbr=5, pageSize=2)
    assert beyond == {
        "EboxEnterpriseDocumentEvents": [],
        "pageInfo": {"lastSequenceNbr": 5, "hasNext": False},
    }


def test_start_time_and_filter(feed: Feed) -> None:
    later = (datetime.now(UTC) + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert feed.events(startTime=later) == []
    earlier = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert len(feed.events(startTime=earlier)) == 5
    assert feed.events(filter="readDocument") == [("readDocument", feed.letters["fine"])]
    assert len(feed.events(filter="newDocument, readDocument")) == 5
    assert feed.events(filter="documentExpirationAlert") == []  # never emitted here
    page = feed.page(filter="readDocument", pageSize=1)
    assert page["pageInfo"] == {"lastSequenceNbr": 5, "hasNext": False}


def test_a_partner_sees_the_mailboxes_that_consent_to_it(feed: Feed) -> None:
    doccle = bearer(partner_client_token(feed.http, feed.ledger, "doccle"))
    nothing = feed.page(headers=doccle)
    assert nothing == {
        "EboxEnterpriseDocumentEvents": [],
        "pageInfo": {"lastSequenceNbr": 5, "hasNext": False},  # examined, none shown
    }
    feed.ledger.app.grant_partner_consent("citizen", CITIZEN.id_value, "doccle")
    page = feed.page(headers=doccle)
    mine = [e["eventData"]["enterpriseId"] for e in page["EboxEnterpriseDocumentEvents"]]
    assert mine == [CITIZEN.id_value] * 4  # not the neighbour's letter
    assert page["pageInfo"] == {"lastSequenceNbr": 5, "hasNext": False}

    first = feed.page(headers=doccle, pageSize=3)  # three kept, the neighbour's skipped
    assert [e["eventSequenceNbr"] for e in first["EboxEnterpriseDocumentEvents"]] == [1, 2, 3]
    assert first["pageInfo"] == {"lastSequenceNbr": 3, "hasNext": True}
    rest = feed.page(headers=doccle, lastSequenceNbr=3, pageSize=3)
    assert [e["eventSequenceNbr"] for e in rest["EboxEnterpriseDocumentEvents"]] == [5]
    assert rest["pageInfo"] == {"lastSequenceNbr": 5, "hasNext": False}

    assert feed.page(ENTERPRISE_FEED, headers=doccle)["EboxEnterpriseDocumentEvents"] == []
    feed.ledger.app.revoke_partner_consent("citizen", CITIZEN.id_value, "doccle")
    assert feed.page(headers=doccle)["EboxEnterpriseDocumentEvents"] == []


def test_client_id_must_be_the_callers(feed: Feed) -> None:
    key = register_test_client(feed.ledger, "partner", "zoomit")
    zoomit = bearer(client_token(feed.http, key))
    feed.ledger.app.grant_partner_consent("enterprise", ENTERPRISE.id_value, "zoomit")
    for client_id in (key.client_id, "zoomit"):
        page = feed.page(ENTERPRISE_FEED, headers=zoomit, clientId=client_id)
        assert len(page["EboxEnterpriseDocumentEvents"]) == 1
    other = feed.get(ENTERPRISE_FEED, headers=zoomit, clientId="doccle")
    assert contract_body(other, OPERATION, 403, EVENTS)["code"] == "FORBIDDEN"


def test_who_may_not_read_the_feed(feed: Feed) -> None:
    http, ledger = feed.http, feed.ledger
    for token in (
        person_token_for(http, CITIZEN.id_value),
        person_token_for(http, NEIGHBOUR, "doccle"),
        sender_token(http, ledger, SENDER_KBO),
    ):
        refused = feed.get(headers=bearer(token))
        assert contract_body(refused, OPERATION, 403, EVENTS)["code"] == "FORBIDDEN"
    contract_body(feed.get(headers={}), OPERATION, 401, EVENTS)
    contract_body(feed.get(headers=bearer("abc.def.ghi")), OPERATION, 401, EVENTS)


def test_a_bad_request_is_400(feed: Feed) -> None:
    cases: list[dict[str, Any]] = [
        {"lastSequenceNbr": None},  # required
        {"pageSize": None},  # required
        {"pageSize": 0},
        {"pageSize": 1001},
        {"lastSequenceNbr": -1},
        {"startTime": "noon"},
        {"filter": "somethingElse"},
    ]
    for params in cases:
        body = contract_body(feed.get(**params), OPERATION, 400, EVENTS)
        assert body["code"] == "INVALID_REQUEST", params
