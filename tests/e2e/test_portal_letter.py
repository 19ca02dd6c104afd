"""The letter and the inbox pages, on SQLite and PostgreSQL: what they show, what opening records,
archive, hide, reply, evidence, and which eBox it may be read from.

The app is the real one (`create_app`), served to httpx in-process at its https
public URL (so the Secure session cookie is sent back, as a browser would).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ebox.adapters.runtime import Ledger
from ebox.api.app import create_app
from ebox.projections.delivery import DeliveryWorker
from ebox.projections.runner import ViewRunner
from tests.auth_helpers import TEST_PUBLIC_URL, app_settings
from tests.browser import hidden_fields
from tests.builders import CITIZEN, SENDER_KBO, make_world
from tests.e2e.test_consultation_api import (
    NEIGHBOUR,
    PENSION_BODY,
    TAX_FILES,
    send,
    tax_letter,
    to,
)


@dataclass
class Portal:
    ledger: Ledger
    http: TestClient
    tax: str
    pension: str
    repliable: str
    neighbours: str

    def sign_in(self, nrn: str = CITIZEN.id_value) -> None:
        start = self.http.get("/sign-in?lang=en", follow_redirects=True)
        answer = self.http.post(
            "/embedded-oidc/authorize",
            data={**hidden_fields(start.text), "nrn": nrn},
            follow_redirects=True,
        )
        assert answer.status_code == 200 and answer.url.path == "/inbox", answer.text

    def letter(self, message_id: str) -> str:
        answer = self.http.get(f"/letters/{message_id}?lang=en")
        assert answer.status_code == 200, answer.text
        return answer.text

    def post(self, message_id: str, action: str, **fields: str) -> int:
        form = hidden_fields(self.letter(message_id))
        answer = self.http.post(
            f"/letters/{message_id}/{action}", data={**form, **fields}, follow_redirects=False
        )
        return answer.status_code

    def events(self, message_id: str) -> list[object]:
        app = self.ledger.app
        return list(app.events.get(app.message(message_id).id))

    def catch_up(self) -> None:
        DeliveryWorker(self.ledger).run_until_idle()
        ViewRunner(self.ledger).run_until_idle()


@pytest.fixture
def portal(ledger: Ledger, ledger_home: Path) -> Iterator[Portal]:
    make_world(ledger)
    app = ledger.app
    app.open_mailbox("enterprise", SENDER_KBO)  # receives the replies
    app.open_mailbox("citizen", NEIGHBOUR)
    app.register_application(SENDER_KBO, "pension-app", {"nl": "Mijn pensioen"})
    app.register_message_type(SENDER_KBO, "PENSION", {"nl": "Pensioenattest"})
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
        "repliable": send(
            ledger, {**tax_letter(to(CITIZEN.id_value)), "replyAuthorized": True}, TAX_FILES
        ),
        "neighbours": send(ledger, tax_letter(to(NEIGHBOUR)), TAX_FILES),
    }
    ViewRunner(ledger).run_until_idle()
    web = create_app(ledger, app_settings())
    web.state.home = ledger_home
    with TestClient(web, base_url=TEST_PUBLIC_URL) as http:
        box = Portal(ledger, http, **letters)
        box.sign_in()
        yield box


def test_the_letter_shows_its_payment_and_business_data_and_documents(portal: Portal) -> None:
    page = portal.letter(portal.tax)
    assert "Aanslag personenbelasting" in page
    assert "BE68539007547034" in page and "GKCCBEBB" in page
    assert re.search(r"€\s?4,242\.17", page)
    assert "<dt>Dossier</dt><dd>D-77</dd>" in page
    assert page.count(">Download</a>") == 2
    assert ">Evidence</a>" in page and ">Archive</button>" in page
    assert "Reply" not in page  # this sender allows no reply


def test_showing_a_body_that_is_the_main_content_records_the_read_of_the_portal(
    portal: Portal,
) -> None:
    page = portal.letter(portal.pension)
    assert PENSION_BODY["nl"] in page  # no English body: the first language there is
    (read,) = [e for e in portal.events(portal.pension) if type(e).__name__ == "Read"]
    assert (read.reader, read.channel) == (f"citizen:{CITIZEN.id_value}", "portal")  # type: ignore[attr-defined]
    assert 'id="read-status">Read' in portal.letter(portal.pension)


def test_showing_the_payment_data_is_an_access_but_not_the_read_of_the_main_pdf(
    portal: Portal,
) -> None:
    portal.letter(portal.tax)
    kinds = [type(e).__name__ for e in portal.events(portal.tax)]
    assert "ContentAccessed" in kinds and "Read" not in kinds
    pdf = re.search(r'href="(/letters/[^"]+/documents/[^"?]+)" download', portal.letter(portal.tax))
    assert pdf
    assert portal.http.get(pdf.group(1)).content == TAX_FILES["upfile1"][2]
    assert "Read" in [type(e).__name__ for e in portal.events(portal.tax)]


def test_archive_unarchive_hide_and_show_are_recorded_and_seen_at_once(portal: Portal) -> None:
    assert portal.post(portal.tax, "archive") == 303
    assert ">Unarchive</button>" in portal.letter(portal.tax)
    assert portal.tax not in portal.http.get("/inbox").text
    assert portal.tax in portal.http.get("/inbox?folder=archived").text
    assert portal.post(portal.tax, "unarchive") == 303
    assert portal.post(portal.tax, "archive") == 303
    assert portal.post(portal.tax, "hide") == 303
    assert portal.tax in portal.http.get("/inbox?folder=hidden").text
    assert portal.post(portal.tax, "show") == 303
    kinds = [type(e).__name__ for e in portal.events(portal.tax)]
    assert kinds.count("Archived") == 2 and "Unarchived" in kinds
    assert portal.post(portal.pension, "unarchive") == 409  # not archived: a refusal page


def test_a_reply_goes_to_the_senders_enterprise_ebox(portal: Portal) -> None:
    page = portal.letter(portal.repliable)
    assert 'action="/letters/' + portal.repliable + '/reply"' in page
    status = portal.post(portal.repliable, "reply", subject="Bezwaar", text="Ik betwist dit.")
    assert status == 303
    portal.catch_up()
    (replied,) = [e for e in portal.events(portal.repliable) if type(e).__name__ == "Replied"]
    reply = portal.ledger.app.message(replied.reply_message_id)  # type: ignore[attr-defined]
    assert reply.recipient == f"enterprise:{SENDER_KBO}"
    assert (
        "Your reply was sent."
        in portal.http.get(f"/letters/{portal.repliable}?lang=en&replied=1").text
    )


def test_a_letter_that_allows_no_reply_refuses_one(portal: Portal) -> None:
    assert portal.post(portal.tax, "reply", subject="x", text="y") == 403
    assert "Replied" not in [type(e).__name__ for e in portal.events(portal.tax)]


def test_another_persons_letter_is_not_found_and_nothing_is_recorded(portal: Portal) -> None:
    before = len(portal.events(portal.neighbours))
    for path in ("", "/evidence", "/certificate", "/documents/1"):
        answer = portal.http.get(f"/letters/{portal.neighbours}{path}?lang=en")
        assert answer.status_code == 404, path
    assert portal.post(portal.tax, "archive") == 303  # the session still works...
    form = hidden_fields(portal.letter(portal.tax))
    refused = portal.http.post(f"/letters/{portal.neighbours}/archive", data=form)
    assert refused.status_code == 404  # ...but not on a letter of another eBox
    assert len(portal.events(portal.neighbours)) == before


def test_a_person_without_an_ebox_is_told_so(portal: Portal) -> None:
    portal.http.cookies.clear()
    start = portal.http.get("/sign-in?lang=en", follow_redirects=True)
    answer = portal.http.post(
        "/embedded-oidc/authorize",
        data={**hidden_fields(start.text), "nrn": "85073003328"},
        follow_redirects=True,
    )
    assert answer.status_code == 404
    assert "You have no eBox yet." in answer.text


# ------------------------------------------------------------------ the inbox of the same eBox


def letters_on(portal: Portal, query: str) -> list[str]:
    answer = portal.http.get(f"/inbox?lang=en&{query}")
    assert answer.status_code == 200, answer.text
    return re.findall(r'<a class="subject" href="/letters/([0-9a-f-]{36})">', answer.text)


def test_the_inbox_filters_as_the_api_does(portal: Portal) -> None:
    mine = {portal.tax, portal.pension, portal.repliable}
    assert set(letters_on(portal, "")) == mine
    assert set(letters_on(portal, "registered=1")) == {portal.tax, portal.repliable}
    assert set(letters_on(portal, "type=PENSION")) == {portal.pension}
    assert set(letters_on(portal, f"sender={SENDER_KBO}")) == mine
    assert letters_on(portal, "sender=0206731645") == []
    portal.letter(portal.pension)  # its body is its main content: now read
    assert set(letters_on(portal, "unread=1")) == {portal.tax, portal.repliable}
    assert letters_on(portal, "q=pensioenattest&qlang=nl") == [portal.pension]
    assert letters_on(portal, "q=pensioenattest&qlang=fr") == []
    page = portal.http.get("/inbox?lang=en").text
    assert 'id="unread-count">Unread letters: <strong>2</strong>' in page
    assert 'href="/settings"' in page and 'href="/access-history"' in page


def test_the_inbox_pages(portal: Portal, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ebox.api.portal.inbox.PAGE_SIZE", 2)
    first = portal.http.get("/inbox?lang=en&registered=0").text
    assert len(letters_on(portal, "")) == 2
    assert 'rel="next"' in first and 'rel="prev"' not in first
    second = portal.http.get("/inbox?lang=en&page=2").text
    assert len(letters_on(portal, "page=2")) == 1
    assert 'rel="prev"' in second and 'rel="next"' not in second
    assert portal.http.get("/inbox?page=0").status_code == 400
    assert portal.http.get("/inbox?folder=nowhere").status_code == 400
