"""`ebox serve --port P` without EBOX_PUBLIC_URL is its own URL (issue 9, item 5).

The API's own URL is the issuer and audience of its tokens, the audience a
client assertion must name, the OAuth metadata's endpoints and the base of
every ``contentHref``. Unset, it was ``http://127.0.0.1:8000`` whatever port the
server listened on, so a server on another port refused its own tokens' peers
and linked content to a server that was not there. Here a real `ebox serve` on
a free port (never 8000), with EBOX_PUBLIC_URL unset, is driven over HTTP
from a client assertion to a letter's content, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx

from ebox.adapters.runtime import Ledger
from ebox.api.client_assertion import ASSERTION_TYPE, make_client_assertion
from ebox.api.oauth import GRANT_TYPE
from ebox.api.settings import Settings
from ebox.projections.delivery import DeliveryWorker
from ebox.projections.runner import ViewRunner
from tests.auth_helpers import bearer, person_token, register_test_client
from tests.builders import CITIZEN, SENDER_KBO, make_world
from tests.e2e.test_publication_api import PDF, files, message_to_publish
from tests.served import served

BASE = "/ebox/citizen/v2"


def claims(token: str) -> dict[str, Any]:
    """The payload of a JWT (its signature is the server's business: it accepted it)."""
    payload = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return decoded


def test_a_server_on_another_port_names_itself(
    ledger: Ledger, ledger_home: Path, database_url: str
) -> None:
    make_world(ledger)
    sender = register_test_client(ledger, "sender", SENDER_KBO)
    with served(ledger_home, db=database_url, public_url=False) as server:
        assert server.port != 8000
        own = f"http://127.0.0.1:{server.port}"
        http = httpx.Client(base_url=server.url, timeout=60)

        metadata = http.get("/.well-known/oauth-authorization-server").json()
        assert metadata["issuer"] == own
        assert metadata["token_endpoint"] == f"{own}/oauth/token"

        assertion = make_client_assertion(
            sender.private_pem, sender.client_id, f"{own}/oauth/token", kid=sender.kid
        )
        answer = http.post(
            "/oauth/token",
            data={
                "grant_type": GRANT_TYPE,
                "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": assertion,
            },
        )
        assert answer.status_code == 200, answer.text
        token = answer.json()["access_token"]
        assert (claims(token)["iss"], claims(token)["aud"]) == (own, own)

        published = http.post(
            f"{BASE}/publishMessage",
            data={"messageToPublish": json.dumps(message_to_publish())},
            files=files(),
            headers=bearer(token),
        )
        assert published.status_code == 201, published.text
        DeliveryWorker(ledger).run_until_idle()
        ViewRunner(ledger).run_until_idle()

        # A person token for this server: its audience is the server's own URL too.
        person = bearer(
            person_token(ledger_home, CITIZEN.id_value, settings=Settings(public_url=own))
        )
        listed = http.get(f"{BASE}/ebox/messages", headers=person)
        assert listed.status_code == 200, listed.text
        (letter,) = listed.json()["items"]
        (attachment,) = letter["attachments"]["items"]
        assert attachment["contentHref"].startswith(f"{own}{BASE}/ebox/messages/")
        content = http.get(attachment["contentHref"].removeprefix(own), headers=person)
        assert content.status_code == 200 and content.content == PDF
        http.close()
