"""The inbox page's SQL statements do not grow with its letters or their senders (no N+1).

The page once named each letter's sender with three statements of its own; it
now reads the API's listing, one unread count and the catalogue's names from a
cache kept per catalogue version. Counted here, on SQLite and PostgreSQL, with a
SQLAlchemy `before_cursor_execute` listener on the ledger's engine, while the
real app (`create_app`) answers GET /inbox in-process.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine

from ebox.adapters.runtime import Ledger
from ebox.api.app import create_app
from ebox.projections.inbox_view import InboxView
from ebox.projections.runner import ViewRunner
from tests.auth_helpers import TEST_PUBLIC_URL, app_settings
from tests.browser import hidden_fields
from tests.builders import CITIZEN, make_world
from tests.e2e.test_consultation_api import send, to


def kbo_number(serial: int) -> str:
    """A valid KBO number of its own for each serial (modulo-97 check digits)."""
    base = 2_000_000 + serial
    return f"{base:08d}{97 - base % 97:02d}"


@dataclass
class Inbox:
    ledger: Ledger
    http: TestClient
    senders: int = 0

    def letters_from_new_senders(self, count: int, letters_each: int = 1) -> None:
        """Letters from each of `count` newly registered senders, each of its own type."""
        app = self.ledger.app
        for serial in range(self.senders, self.senders + count):
            kbo = kbo_number(serial)
            app.register_sender(kbo, {"nl": f"Afzender {serial}", "fr": f"Expéditeur {serial}"})
            app.register_application(kbo, f"app-{serial}", {"nl": f"Toepassing {serial}"})
            app.register_message_type(kbo, f"TYPE-{serial}", {"nl": f"Soort {serial}"})
            letter = {
                "recipient": to(CITIZEN.id_value),
                "messageTypeId": f"TYPE-{serial}",
                "senderApplicationId": f"app-{serial}",
                "subject": {"nl": f"Brief {serial}"},
                "bodyContent": {"nl": f"Inhoud {serial}"},
                "bodyMainContent": True,
                "replyAuthorized": False,
            }
            for _ in range(letters_each):
                send(self.ledger, letter, {}, sender=kbo)
        self.senders += count
        ViewRunner(self.ledger).run_until_idle()

    def page(self) -> str:
        answer = self.http.get("/inbox?lang=nl")
        assert answer.status_code == 200, answer.text
        return answer.text

    def statements_of_a_page(self) -> int:
        """The statements of one inbox page, the catalogue's names already cached."""
        self.page()
        with counted(self.ledger) as statements:
            self.page()
        return len(statements)


@contextmanager
def counted(ledger: Ledger) -> Iterator[list[str]]:
    engine: Engine = ledger.app.factory.datastore.engine  # type: ignore[attr-defined]
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def inbox(ledger: Ledger) -> Iterator[Inbox]:
    make_world(ledger)
    ViewRunner(ledger).run_until_idle()
    with TestClient(create_app(ledger, app_settings()), base_url=TEST_PUBLIC_URL) as http:
        start = http.get("/sign-in?lang=nl", follow_redirects=True)
        answer = http.post(
            "/embedded-oidc/authorize",
            data={**hidden_fields(start.text), "nrn": CITIZEN.id_value},
            follow_redirects=True,
        )
        assert answer.status_code == 200 and answer.url.path == "/inbox", answer.text
        yield Inbox(ledger, http)


FULL_PAGE_COUNT = 1
"""The API's listing counts the letters only when its page is full (else the page is the total)."""


def test_a_page_of_20_letters_from_20_senders_costs_the_statements_of_a_page_of_5(
    inbox: Inbox,
) -> None:
    inbox.letters_from_new_senders(5)
    five = inbox.statements_of_a_page()
    inbox.letters_from_new_senders(15)
    twenty = inbox.statements_of_a_page()

    page = inbox.page()
    assert len(re.findall(r'href="/letters/', page)) == 20
    assert all(f'class="sender">Afzender {serial}<' in page for serial in range(20))
    assert twenty == five + FULL_PAGE_COUNT


def test_a_full_page_from_20_senders_costs_the_statements_of_a_full_page_from_one(
    inbox: Inbox,
) -> None:
    inbox.letters_from_new_senders(1, letters_each=20)
    one_sender = inbox.statements_of_a_page()
    inbox.letters_from_new_senders(19)
    twenty_senders = inbox.statements_of_a_page()

    page = inbox.page()
    assert len(re.findall(r'href="/letters/', page)) == 20
    assert all(f'class="sender">Afzender {serial}<' in page for serial in range(20))
    assert twenty_senders == one_sender


def test_a_new_sender_is_named_on_the_next_page(inbox: Inbox) -> None:
    inbox.letters_from_new_senders(1)
    assert "Afzender 0" in inbox.page()
    inbox.letters_from_new_senders(1)  # the catalogue's version moves: the cache is reloaded
    page = inbox.page()
    assert 'class="sender">Afzender 1<' in page and ">Afzender 1</option>" in page
    assert ">Soort 1</option>" in page


def test_the_page_still_shows_the_unread_count_and_records_the_consultation(inbox: Inbox) -> None:
    inbox.letters_from_new_senders(3)
    view = InboxView.of(inbox.ledger)
    signed_in = view.summary(CITIZEN).last_consultation_date  # the sign-in showed the inbox
    assert signed_in is not None

    page = inbox.page()

    assert re.search(r'id="unread-count">[^<]*<strong>3</strong>', page)
    assert view.unread_count(CITIZEN) == 3
    consulted = view.summary(CITIZEN).last_consultation_date
    assert consulted is not None and consulted > signed_in
