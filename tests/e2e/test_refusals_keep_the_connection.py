"""A refused hostile value leaves the keep-alive connection open, on a real `ebox serve`.

Finding 8 of issue 7: each hostile value was a 500 raised out of the app, and
uvicorn closes the connection after an exception, so a client's next request
on it failed too. Now each is an ordinary 400 and the connection carries on.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from ebox.adapters.runtime import Ledger
from tests.auth_helpers import app_settings, person_token
from tests.builders import CITIZEN, make_world
from tests.served import served


@pytest.fixture
def serving(ledger: Ledger, ledger_home: Path, database_url: str) -> Iterator[tuple[int, str]]:
    """`ebox serve` on the test's database and data directory; its port and a person token."""
    make_world(ledger)
    with served(ledger_home, db=database_url) as server:
        token = person_token(
            ledger_home, CITIZEN.id_value, settings=app_settings(public_url=server.url)
        )
        yield server.port, token


@pytest.mark.parametrize(
    "query",
    [
        "receivedBefore=" + quote("0001-01-01T00:00:00+14:00"),
        "expiredAfter=" + quote("9999-12-31T23:59:59-14:00"),
        "messageTypeId=TAX%00",
    ],
)
def test_a_refused_value_keeps_the_connection_alive(serving: tuple[int, str], query: str) -> None:
    port, token = serving
    headers = {"Authorization": f"Bearer {token}"}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", f"/ebox/citizen/v2/ebox/messages?{query}", headers=headers)
        refused = connection.getresponse()
        refused.read()
        first_socket = connection.sock
        # The same connection, before judging the first answer: was it left open?
        connection.request("GET", "/ebox/citizen/v2/ebox", headers=headers)
        answered = connection.getresponse()
        answered.read()
        assert connection.sock is first_socket, "the server closed the connection"
        assert answered.status == 200
        assert refused.status == 400
        assert refused.getheader("connection", "").lower() != "close"
    finally:
        connection.close()
