"""linkEboxMessage gives each recipient one copy of a publication, however it is asked.

Over real HTTP on SQLite and PostgreSQL: a recipient listed 200 times gets one
letter; linking again, or linking to the eBox that already has the letter,
writes nothing and answers the same success; concurrent links of one recipient
make one letter.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ebox.adapters.runtime import Ledger
from ebox.projections.delivery import DeliveryWorker
from ebox.projections.runner import ViewRunner
from tests.auth_helpers import api_client, bearer, person_token_for, sender_token
from tests.builders import CITIZEN, SENDER_KBO, World, make_world
from tests.contract import validate_response
from tests.e2e.test_publication_api import BASE, footprint, message_to_publish, publish

NEIGHBOUR = "85073003328"
CITIZEN_BASE = "/ebox/citizen/v2"


@pytest.fixture
def world(ledger: Ledger) -> World:
    built = make_world(ledger)
    ledger.app.open_mailbox("citizen", NEIGHBOUR)
    return built


@pytest.fixture
def http(ledger: Ledger, ledger_home: Path) -> Iterator[TestClient]:
    with api_client(ledger, ledger_home) as client:
        yield client


@pytest.fixture
def token(http: TestClient, ledger: Ledger, world: World) -> str:
    return sender_token(http, ledger, SENDER_KBO)


@pytest.fixture
def message_id(http: TestClient, token: str) -> str:
    response = publish(http, token, message_to_publish())
    assert response.status_code == 201, response.text
    return str(response.json()["messageId"])


def link(http: TestClient, token: str, message_id: str, *nrns: str) -> Any:
    response = http.post(
        f"{BASE}/linkEboxMessage",
        json={
            "messageId": message_id,
            "recipients": [{"eboxType": "citizen", "eboxIdValue": nrn} for nrn in nrns],
        },
        headers=bearer(token),
    )
    assert response.status_code == 201, response.text
    validate_response("linkMessage", 201, response.json())
    return response.json()


def inbox(http: TestClient, ledger: Ledger, nrn: str) -> list[str]:
    """The message ids a citizen sees in their own eBox."""
    DeliveryWorker(ledger).run_until_idle()
    ViewRunner(ledger).run_until_idle()
    response = http.get(
        f"{CITIZEN_BASE}/ebox/messages",
        params={"pageSize": 100},
        headers=bearer(person_token_for(http, nrn)),
    )
    assert response.status_code == 200, response.text
    return [item["messageId"] for item in response.json()["items"]]


def test_a_recipient_listed_200_times_gets_one_copy(
    http: TestClient, ledger: Ledger, token: str, message_id: str
) -> None:
    answer = link(http, token, message_id, *[NEIGHBOUR] * 200)

    assert answer["nbSuccessLinks"] == 1 and answer["errorCases"] == []
    assert len(inbox(http, ledger, NEIGHBOUR)) == 1


def test_linking_again_or_to_the_original_recipient_writes_nothing_and_answers_the_same(
    http: TestClient, ledger: Ledger, token: str, message_id: str
) -> None:
    first = link(http, token, message_id, NEIGHBOUR)
    neighbours_letter = inbox(http, ledger, NEIGHBOUR)
    before = footprint(ledger)

    again = link(http, token, message_id, NEIGHBOUR, CITIZEN.id_value, NEIGHBOUR)

    assert first["nbSuccessLinks"] == 1
    assert again["nbSuccessLinks"] == 2 and again["errorCases"] == []
    assert footprint(ledger) == before
    assert inbox(http, ledger, CITIZEN.id_value) == [message_id]
    assert inbox(http, ledger, NEIGHBOUR) == neighbours_letter


def test_concurrent_links_of_one_recipient_make_one_copy(
    http: TestClient, ledger: Ledger, token: str, message_id: str
) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda _: link(http, token, message_id, NEIGHBOUR), range(8)))

    assert [a["nbSuccessLinks"] for a in answers] == [1] * 8
    assert len(inbox(http, ledger, NEIGHBOUR)) == 1
