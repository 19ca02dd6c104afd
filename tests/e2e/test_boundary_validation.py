"""Every field is bounded and checked at the boundary: 400 StatusMessage, nothing written.

Findings 1 and 8 of issue 7, over real HTTP on SQLite and PostgreSQL: a value
the API accepted and a database then refused (an over-long id, a NUL, a
64-bit overflow, a date that overflows in UTC) gave a 500, or worse, a 201
followed by a read model stuck on that row forever.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from httpx import Response

from ebox.adapters.runtime import Ledger
from ebox.domain.limits import LIMITS
from ebox.projections.delivery import DeliveryWorker
from ebox.projections.runner import ViewRunner
from tests.auth_helpers import (
    api_client,
    app_settings,
    assertion_for,
    auditor_token,
    bearer,
    person_token_for,
    register_test_client,
    request_token,
    sender_token,
)
from tests.builders import CITIZEN, SENDER_KBO, World, make_world
from tests.contract import validate
from tests.e2e.test_publication_api import footprint, message_to_publish, publish

CITIZEN_BASE = "/ebox/citizen/v2"
OUT_OF_RANGE_DATES = ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00")
NUL = "\x00"


@pytest.fixture
def world(ledger: Ledger) -> World:
    return make_world(ledger)


@pytest.fixture
def http(ledger: Ledger, ledger_home: Path, world: World) -> Iterator[TestClient]:
    with api_client(ledger, ledger_home, app_settings(max_upload_bytes=64 * 1024)) as client:
        yield client


@pytest.fixture
def sender(http: TestClient, ledger: Ledger) -> str:
    return sender_token(http, ledger, SENDER_KBO)


@pytest.fixture
def person(http: TestClient) -> dict[str, str]:
    return bearer(person_token_for(http, CITIZEN.id_value))


def refused(response: Response) -> dict[str, Any]:
    """A 400 in the contract's StatusMessage shape."""
    assert response.status_code == 400, response.text
    body: dict[str, Any] = response.json()
    validate("StatusMessage", body)
    return body


def delivered_letter(http: TestClient, ledger: Ledger, sender: str, **changes: Any) -> str:
    response = publish(http, sender, message_to_publish(**changes))
    assert response.status_code == 201, response.text
    DeliveryWorker(ledger).run_until_idle()
    ViewRunner(ledger).run_until_idle()
    return str(response.json()["messageId"])


# --------------------------------------------------------------------------- finding 1


def test_an_original_message_id_longer_than_its_column_is_refused_and_nothing_is_written(
    http: TestClient, ledger: Ledger, sender: str
) -> None:
    before = footprint(ledger)
    too_long = "m" * (LIMITS.original_message_id + 1)
    body = refused(publish(http, sender, message_to_publish(originalMessageId=too_long)))
    assert "originalMessageId" in body["message"]
    assert footprint(ledger) == before


def test_an_original_message_id_as_long_as_its_column_reaches_the_inbox(
    http: TestClient, ledger: Ledger, sender: str, person: dict[str, str]
) -> None:
    longest = "m" * LIMITS.original_message_id
    message_id = delivered_letter(http, ledger, sender, originalMessageId=longest)
    response = http.get(f"{CITIZEN_BASE}/ebox/messages/{message_id}", headers=person)
    assert response.status_code == 200, response.text
    assert response.json()["originalMessageId"] == longest


@pytest.mark.parametrize(
    "changes",
    [
        {"originalMessageId": 42},
        {"messageTypeId": f"TAX{NUL}"},
        {"senderApplicationId": f"mybox-publisher{NUL}"},
        {"subject": {"nl": f"Aanslag{NUL}"}},
        {"originalMessageId": "m" * (LIMITS.original_message_id + 1)},
        {"messageTypeId": "T" * (LIMITS.message_type_id + 1)},
        {"senderApplicationId": "a" * (LIMITS.sender_application_id + 1)},
        {"subject": {"nl": "s" * (LIMITS.subject + 1)}},
        {"forTheAttentionOf": {"id": "x" * (LIMITS.attention_text + 1)}},
        {"businessDataList": [{"key": "k" * (LIMITS.business_data_key + 1), "values": []}]},
        {"businessDataList": [{"key": {"not": "text"}, "values": []}]},
        {"recipient": {"eboxType": "citizen", "eboxIdValue": CITIZEN.id_value + " " * 40}},
    ],
    ids=[
        "originalMessageId-not-text",
        "messageTypeId-nul",
        "senderApplicationId-nul",
        "subject-nul",
        "originalMessageId-too-long",
        "messageTypeId-too-long",
        "senderApplicationId-too-long",
        "subject-too-long",
        "forTheAttentionOf-too-long",
        "businessData-key-too-long",
        "businessData-key-not-text",
        "recipient-too-long",
    ],
)
def test_every_field_of_a_publication_is_bounded(
    http: TestClient, ledger: Ledger, sender: str, changes: dict[str, Any]
) -> None:
    before = footprint(ledger)
    refused(publish(http, sender, message_to_publish(**changes)))
    assert footprint(ledger) == before


def distinct_words(count: int, seed: int) -> str:
    """`count` distinct ten-letter words: the worst case for a search index's size."""
    words, n = [], seed * 10**9
    for _ in range(count):
        n += 1
        words.append("".join(chr(ord("a") + (n // 26**i) % 26) for i in range(10)))
    return " ".join(words)


def business_data(items: int, values: int, words: int) -> list[dict[str, Any]]:
    return [
        {
            "key": f"k{i}",
            "values": [{"nl": distinct_words(words, i * values + v)} for v in range(values)],
        }
        for i in range(items)
    ]


def test_a_letter_whose_search_text_would_overflow_the_search_index_is_refused(
    http: TestClient, ledger: Ledger, sender: str
) -> None:
    """Every field within its bound, all of them together 1.3 MB of tsvector on PostgreSQL."""
    before = footprint(ledger)
    letter = message_to_publish(businessDataList=business_data(50, 50, 33))
    body = refused(publish(http, sender, letter))
    assert "searchable text" in body["message"]
    assert footprint(ledger) == before


def test_a_letter_with_as_much_search_text_as_allowed_is_indexed(
    http: TestClient, ledger: Ledger, sender: str, person: dict[str, str]
) -> None:
    letter = message_to_publish(businessDataList=business_data(9, 10, 90))
    delivered_letter(http, ledger, sender, **letter)
    word = distinct_words(90, 0).split()[-1]
    params = {"q": word, "qlang": "nl"}
    found = http.get(f"{CITIZEN_BASE}/ebox/messages", params=params, headers=person)
    assert found.status_code == 200, found.text
    assert found.json()["totalItems"] == 1


# --------------------------------------------------------------------------- finding 8


def test_a_message_to_publish_nested_thousands_deep_is_refused(
    http: TestClient, ledger: Ledger, sender: str
) -> None:
    deep = json.dumps(message_to_publish())[:-1] + ', "x": ' + "[" * 5000 + "]" * 5000 + "}"
    before = footprint(ledger)
    refused(publish(http, sender, deep))
    assert footprint(ledger) == before


@pytest.mark.parametrize("moment", OUT_OF_RANGE_DATES)
@pytest.mark.parametrize(
    "parameter", ["receivedBefore", "receivedAfter", "expiredBefore", "expiredAfter"]
)
def test_listing_dates_out_of_range_are_refused(
    http: TestClient, person: dict[str, str], parameter: str, moment: str
) -> None:
    response = http.get(f"{CITIZEN_BASE}/ebox/messages", params={parameter: moment}, headers=person)
    assert parameter in refused(response)["message"]


@pytest.mark.parametrize("moment", OUT_OF_RANGE_DATES)
def test_publication_dates_out_of_range_are_refused(
    http: TestClient, ledger: Ledger, sender: str, moment: str
) -> None:
    before = footprint(ledger)
    refused(publish(http, sender, message_to_publish(expirationDate=moment)))
    signature = {"keyId": "k", "signature": "s", "submissionTime": moment}
    refused(publish(http, sender, message_to_publish(senderSignature=signature)))
    assert footprint(ledger) == before


@pytest.mark.parametrize("moment", OUT_OF_RANGE_DATES)
def test_a_feed_start_time_out_of_range_is_refused(
    http: TestClient, ledger: Ledger, moment: str
) -> None:
    auditor = bearer(auditor_token(http, ledger))
    params = {"lastSequenceNbr": 0, "pageSize": 10, "startTime": moment}
    refused(http.get("/ebox/citizen/document/events", params=params, headers=auditor))


def test_a_feed_sequence_number_beyond_64_bits_is_refused(http: TestClient, ledger: Ledger) -> None:
    auditor = bearer(auditor_token(http, ledger))
    params = {"lastSequenceNbr": 2**70, "pageSize": 10}
    refused(http.get("/ebox/citizen/document/events", params=params, headers=auditor))


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "-Infinity", str(2**64), "1e400"])
def test_payment_amounts_must_be_bounded_decimals(
    http: TestClient, ledger: Ledger, sender: str, amount: str
) -> None:
    payment = {
        "paymentDataId": "pay-1",
        "amount": "AMOUNT",
        "vatAmount": 0,
        "currency": "EUR",
        "dueDate": "2030-01-31T00:00:00Z",
        "iban": "BE68539007547034",
    }
    text = json.dumps(message_to_publish(paymentData=payment)).replace('"AMOUNT"', amount)
    before = footprint(ledger)
    refused(publish(http, sender, text))
    assert footprint(ledger) == before


def test_a_payment_amount_within_bounds_is_accepted(
    http: TestClient, ledger: Ledger, sender: str
) -> None:
    payment = {
        "paymentDataId": "pay-1",
        "amount": 1234.56,
        "vatAmount": 0,
        "currency": "EUR",
        "dueDate": "2030-01-31T00:00:00Z",
        "iban": "BE68539007547034",
    }
    assert publish(http, sender, message_to_publish(paymentData=payment)).status_code == 201


@pytest.mark.parametrize(
    "parameter", ["messageTypeId", "senderOrganizationId", "senderApplicationId", "q"]
)
def test_a_nul_in_a_listing_filter_is_refused(
    http: TestClient, person: dict[str, str], parameter: str
) -> None:
    params = {parameter: f"TAX{NUL}", "qlang": "nl"}
    refused(http.get(f"{CITIZEN_BASE}/ebox/messages", params=params, headers=person))


@pytest.mark.parametrize(
    "path",
    ["", "/attachments", "/attachments/1", "/attachments/1/content", "/body", "/paymentData"],
)
def test_a_nul_in_a_message_id_is_refused(
    http: TestClient, person: dict[str, str], path: str
) -> None:
    response = http.get(f"{CITIZEN_BASE}/ebox/messages/a%00b{path}", headers=person)
    refused(response)


def test_a_nul_in_a_patched_message_id_is_refused_and_nothing_changes(
    http: TestClient, ledger: Ledger, sender: str, person: dict[str, str]
) -> None:
    message_id = delivered_letter(http, ledger, sender)
    before = footprint(ledger)
    items = [
        {"messageId": message_id, "visible": False},
        {"messageId": f"{message_id}{NUL}", "visible": False},
    ]
    response = http.patch(
        f"{CITIZEN_BASE}/ebox/messages",
        content=json.dumps({"items": items}),
        headers={**person, "Content-Type": "application/merge-patch+json"},
    )
    refused(response)
    assert footprint(ledger) == before
    assert ledger.app.message(message_id).visible


def test_a_nul_in_a_searched_message_status_is_refused(http: TestClient, sender: str) -> None:
    body = [{"messageId": f"m{NUL}", "eboxId": {"eboxType": "citizen", "eboxIdValue": "1"}}]
    refused(http.post(f"{CITIZEN_BASE}/searchMessageStatus", json=body, headers=bearer(sender)))


@pytest.mark.parametrize(
    "path",
    [
        "messageTypes/TAX%00",
        "senderApplications/app%00",
        "senderOrganizations/0308357159%00",
        f"senderOrganizations/{SENDER_KBO}/images/i%00/content",
        "messageTypes?page=" + str(2**70),
    ],
)
def test_reference_data_identifiers_and_pages_are_bounded(
    http: TestClient, person: dict[str, str], path: str
) -> None:
    refused(http.get(f"{CITIZEN_BASE}/referenceData/{path}", headers=person))


def test_a_nul_in_a_client_assertion_is_invalid_client(http: TestClient, ledger: Ledger) -> None:
    """The token endpoint looks the client up and records the jti: neither takes a NUL."""
    key = register_test_client(ledger, "sender", SENDER_KBO)
    replayable = assertion_for(http, key, jti=f"jti{NUL}")
    signing_key = Ed25519PrivateKey.generate()
    claims = {"iss": f"c{NUL}", "sub": f"c{NUL}", "aud": "x", "exp": 2**31, "jti": "j"}
    forged = jwt.encode(claims, signing_key, algorithm="EdDSA")
    for assertion in (replayable, forged):
        response = request_token(http, assertion, "ebox:publication")
        assert response.status_code in (400, 401), response.text
        assert response.json()["error"] == "invalid_client"
