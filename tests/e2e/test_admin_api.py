"""The same onboarding through `/admin/v1`, over real HTTP, on SQLite and PostgreSQL (issue 9).

The only command is the bootstrap an API cannot do for itself: the first admin
client (`ebox admin client add admin ...`). Everything else is an HTTP call of
that client (scope ebox:admin): a sender, its signing key as PEM, an
application, a message type, 1,000 mailboxes, a sender client for a public key
the gateway keeps the private half of. Then the gateway sends a letter signed
with the registered key and the person reads it. Every route checks who asks,
and refuses in the contract's StatusMessage shape with the right status.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from ebox.adapters.clients import generate_key
from tests.builders import CITIZEN, SENDER_KBO
from tests.contract import validate
from tests.e2e.test_evidence_cli import ebox, ok
from tests.onboarding import (
    MAILBOXES,
    client_token,
    letter_is_read,
    new_sender_key,
    nrns,
    sent_event,
)
from tests.served import Server, served

ADMIN = "/admin/v1"


@dataclass
class AdminApi:
    server: Server
    database: str
    token: str

    def call(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        headers = {"Authorization": f"Bearer {token or self.token}"} if token != "" else {}
        return httpx.request(method, f"{self.server.url}{ADMIN}{path}", json=body, headers=headers)

    def ok(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        response = self.call(method, path, body)
        assert response.status_code == status, response.text
        return response.json()


def refused(response: httpx.Response, status: int, says: str = "") -> None:
    assert response.status_code == status, response.text
    validate("StatusMessage", response.json())
    assert says in response.json()["message"]


@pytest.fixture(params=["sqlite", "postgresql"])
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AdminApi]:
    """A served ledger on an empty database, and the token of its first admin client."""
    if request.param == "sqlite":
        database = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    else:
        database = str(request.getfixturevalue("postgres_url"))
    home, key_file = tmp_path / "home", tmp_path / "admin.pem"
    made = ok(
        ebox(
            home,
            "admin",
            "client",
            "add",
            "admin",
            "ops",
            "--key-out",
            str(key_file),
            "--db",
            database,
            "--json",
        )
    )
    client_id = json.loads(made)["client_id"]
    with served(home, db=database, workers=True) as server:
        yield AdminApi(server, database, client_token(server, client_id, key_file.read_bytes()))


def test_an_admin_client_onboards_a_sender_and_a_thousand_people_over_http(
    api: AdminApi,
) -> None:
    signing = new_sender_key()
    sender = api.ok(
        "POST", "/senders", {"kboNumber": SENDER_KBO, "names": {"nl": "FOD Financiën"}}, 201
    )
    assert sender["kboNumber"] == SENDER_KBO
    key = api.ok("POST", f"/senders/{SENDER_KBO}/keys", {"publicKey": signing.pem.decode()}, 201)
    api.ok(
        "POST",
        f"/senders/{SENDER_KBO}/applications",
        {"applicationId": "mybox-publisher", "names": {"en": "Publication gateway"}},
        201,
    )
    kind = api.ok(
        "POST",
        f"/senders/{SENDER_KBO}/messageTypes",
        {
            "messageTypeId": "TAX",
            "validity": "2y",
            "names": {"nl": "Aanslag"},
            "registeredMail": True,
        },
        201,
    )
    assert (kind["validityUnit"], kind["validityAmount"]) == ("YEAR", 2)
    sensitivity = f"/senders/{SENDER_KBO}/messageTypes/TAX/sensitivity"
    assert api.ok("PUT", sensitivity, {"sensitive": False}) == {
        "kboNumber": SENDER_KBO,
        "messageTypeId": "TAX",
        "sensitive": False,
    }
    assert api.ok("PUT", sensitivity, {"sensitive": True})["sensitive"] is True
    refused(api.call("PUT", sensitivity, {"sensitive": "no"}), 400)
    refused(api.call("PUT", sensitivity, {}), 400)
    unknown_type = f"/senders/{SENDER_KBO}/messageTypes/NOPE/sensitivity"
    refused(api.call("PUT", unknown_type, {"sensitive": False}), 404, "NOPE")

    people = [{"type": "citizen", "id": n, "language": "nl"} for n in nrns(MAILBOXES)]
    bad = [*people[:3], {"type": "citizen", "id": "58102882215"}, *people[3:]]
    refused(api.call("POST", "/mailboxes/import", {"mailboxes": bad}), 400, "mailboxes[3]")
    imported = api.ok("POST", "/mailboxes/import", {"mailboxes": people})
    assert imported == {"rows": MAILBOXES, "opened": MAILBOXES, "alreadyOpen": 0}
    again = api.ok("POST", "/mailboxes/import", {"mailboxes": people})
    assert (again["opened"], again["alreadyOpen"]) == (0, MAILBOXES)

    gateway = generate_key("EdDSA")  # the gateway keeps its private key; the API sees the JWK
    client = api.ok(
        "POST",
        "/clients",
        {"kind": "sender", "subject": SENDER_KBO, "publicKey": gateway.public_jwk},
        201,
    )
    assert client["scopes"] == ["ebox:publication"]

    message_id = letter_is_read(
        api.server, client["clientId"], gateway.private_pem, signing, key["keyId"]
    )
    assert sent_event(api.database, api.server.home, message_id) == {
        "origin": "signed",
        "key_id": key["keyId"],
        "sender": SENDER_KBO,
    }


def test_partners_consents_mandates_and_closing(api: AdminApi) -> None:
    box = {"eboxType": "citizen", "eboxIdValue": CITIZEN.id_value}
    opened = api.ok("POST", "/mailboxes", {**box, "email": "an@example.be"}, 201)
    assert opened["eboxIdValue"] == CITIZEN.id_value
    consent = {**box, "partnerId": "doccle"}
    refused(api.call("POST", "/consents/grant", consent), 404, "no partner doccle")
    api.ok("POST", "/partners", {"partnerId": "doccle", "name": "Doccle"}, 201)
    assert api.ok("POST", "/consents/grant", consent)["granted"] is True
    refused(api.call("POST", "/consents/grant", consent), 409)
    assert api.ok("POST", "/consents/revoke", consent)["granted"] is False
    refused(api.call("POST", "/consents/revoke", consent), 404)

    mandate = api.ok("POST", "/mandates/grant", {**box, "holder": "85073003328"})
    assert (mandate["holder"], mandate["granted"]) == ("85073003328", True)
    refused(api.call("POST", "/mandates/grant", {**box, "holder": "85073003329"}), 400, "check")
    assert api.ok("POST", "/mandates/revoke", {**box, "holder": "85073003328"})["granted"] is False

    assert api.ok("POST", "/mailboxes/close", {**box, "reason": "deceased"})["closed"] is True
    refused(api.call("POST", "/mailboxes/close", box), 409, "closed")
    refused(api.call("POST", "/consents/grant", consent), 409, "closed")
    unknown = {"eboxType": "citizen", "eboxIdValue": "85073003328"}
    refused(api.call("POST", "/mailboxes/close", unknown), 404, "has no eBox")


def test_every_route_checks_who_asks_and_refuses_as_a_status_message(api: AdminApi) -> None:
    body = {"kboNumber": SENDER_KBO, "names": {"nl": "FOD"}}
    refused(api.call("POST", "/senders", body, token=""), 401)
    refused(api.call("POST", "/senders", body, token="not-a-token"), 401)
    auditor = generate_key("EdDSA")
    made = api.ok(
        "POST",
        "/clients",
        {"kind": "auditor", "subject": "court", "publicKey": auditor.public_jwk},
        201,
    )
    other = client_token(api.server, made["clientId"], auditor.private_pem)
    for method, path in [
        ("POST", "/senders"),
        ("POST", "/mailboxes"),
        ("POST", "/mailboxes/import"),
        ("POST", f"/senders/{SENDER_KBO}/keys"),
        ("POST", "/mandates/grant"),
        ("POST", "/consents/revoke"),
        ("POST", "/mailboxes/close"),
        ("POST", "/clients"),
        ("POST", f"/clients/{made['clientId']}/disable"),
        ("PUT", f"/senders/{SENDER_KBO}/messageTypes/TAX/sensitivity"),
    ]:
        refused(api.call(method, path, body, token=other), 403, "ebox:admin")

    refused(api.call("POST", "/senders", {**body, "kboNumber": "0308357158"}), 400, "97 -")
    refused(api.call("POST", "/senders", {**body, "extra": 1}), 400)
    api.ok("POST", "/senders", body, 201)
    refused(api.call("POST", "/senders", body), 409, "already registered")
    refused(api.call("POST", "/senders/0206731645/keys", {"publicKey": "x" * 43}), 404)
    refused(api.call("POST", f"/senders/{SENDER_KBO}/keys", {"publicKey": "-----BEGIN x"}), 400)
    refused(
        api.call("POST", f"/senders/{SENDER_KBO}/keys/nope/revocation", {}), 404, "not registered"
    )
    refused(
        api.call(
            "POST",
            f"/senders/{SENDER_KBO}/messageTypes",
            {"messageTypeId": "T", "validity": "2w", "names": {"nl": "T"}},
        ),
        400,
        "90d, 3m or 1y",
    )
    refused(
        api.call("POST", "/clients", {"kind": "admin", "subject": "x", "publicKey": {"kty": "?"}}),
        400,
    )
    refused(api.call("POST", "/clients/nobody/disable"), 404)

    disabled = api.ok("POST", f"/clients/{made['clientId']}/disable")
    assert disabled["disabled"] is True
    refused(api.call("POST", "/senders", body, token=other), 401)
