"""My e-box in a real browser: Debian's chromium, driven by Playwright, on a served demo ledger.

One person's day: sign in with the embedded issuer, see the demo's letters,
open an unread one (its read status changes, and so does what the sender's
status query answers), download a document (the very bytes the API serves),
archive it, find it again by search, download its certificate, sign out (the
session no longer opens anything).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ebox.api.oidc import mint_person_token
from ebox.api.settings import Settings
from tests.auth_helpers import served_token
from tests.browser import PortalDemo, chromium, eventually, portal_demo, sign_in

pytestmark = pytest.mark.slow

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
"""The README and docs show the pages as this test sees them (regenerated on each run)."""
SENDER_KBO = "0308357159"  # FOD Financiën, the sender of the demo's credentials


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PortalDemo]:
    with portal_demo(tmp_path_factory.mktemp("portal")) as served_demo:
        yield served_demo


def sender_token(demo: PortalDemo) -> str:
    sender = demo.credentials["sender_organization"]
    return served_token(demo.server.url, sender["private_key_pem"].encode(), sender["client_id"])


def read_status_for_sender(demo: PortalDemo, token: str, message_id: str) -> bool:
    answer = httpx.post(
        f"{demo.server.url}/ebox/citizen/v2/searchMessageStatus",
        json=[
            {
                "messageId": message_id,
                "eboxId": {"eboxType": "citizen", "eboxIdValue": demo.person},
            }
        ],
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert answer.status_code == 201, answer.text
    return bool(answer.json()[0]["readStatus"])


def api_bytes(demo: PortalDemo, message_id: str, attachment_id: str) -> bytes:
    token = mint_person_token(
        demo.home, demo.person, settings=Settings(public_url=demo.server.url, home=demo.home)
    )
    answer = httpx.get(
        f"{demo.server.url}/ebox/citizen/v2/ebox/messages/{message_id}/attachments/"
        f"{attachment_id}/content",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return answer.content


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1100, "height": 800})
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def test_a_person_reads_archives_finds_and_proves_a_letter(
    browser: Any, demo: PortalDemo, tmp_path: Path
) -> None:
    url = demo.server.url
    context = browser.new_context(accept_downloads=True, locale="en-GB")
    page = context.new_page()

    # Sign in with the embedded issuer's development page.
    page.goto(f"{url}/sign-in?lang=en")
    screenshot(page, "portal-sign-in.png")
    sign_in(page, url, demo.person)
    screenshot(page, "portal-inbox.png")
    assert page.get_by_role("button", name="Sign out").is_visible()
    assert page.get_by_role("link", name="Settings").first.get_attribute("href") == "/settings"
    assert page.get_by_role("link", name="Who opened my letters").first.is_visible()

    # The inbox lists the demo's letters, each a link holding its message id.
    letters = page.locator("ul.letters a.subject")
    assert letters.count() > 0
    hrefs = [letters.nth(i).get_attribute("href") for i in range(letters.count())]
    assert all(re.fullmatch(r"/letters/[0-9a-f-]{36}", str(href)) for href in hrefs)
    unread_before = int(page.locator("#unread-count strong").inner_text())

    # An unread letter of the sender whose credentials we hold.
    page.goto(f"{url}/inbox?unread=1&sender={SENDER_KBO}&lang=en")
    link = page.locator("ul.letters li.unread a.subject").first
    href = str(link.get_attribute("href"))
    message_id = href.rsplit("/", 1)[1]
    token = sender_token(demo)
    assert read_status_for_sender(demo, token, message_id) is False

    link.click()
    page.wait_for_url(f"{url}{href}")
    assert page.locator("#read-status").inner_text().startswith("Unread")  # nothing opened yet

    # Download the main document: the API's very bytes, and opening it records the Read.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download", exact=True).first.click()
    download = download_info.value
    downloaded = Path(download.path()).read_bytes()
    document_href = str(
        page.get_by_role("link", name="Download", exact=True).first.get_attribute("href")
    )
    attachment_id = document_href.rsplit("/", 1)[1]
    assert downloaded.startswith(b"%PDF")
    assert downloaded == api_bytes(demo, message_id, attachment_id)

    page.reload()
    assert page.locator("#read-status").inner_text().startswith("Read")
    screenshot(page, "portal-letter.png")
    assert eventually(lambda: read_status_for_sender(demo, token, message_id), "sender sees Read")
    page.goto(f"{url}/inbox")
    assert int(page.locator("#unread-count strong").inner_text()) == unread_before - 1

    # Archive it: it leaves the inbox, and the search finds it among the archived.
    page.goto(f"{url}{href}")
    page.get_by_role("button", name="Archive", exact=True).click()
    page.wait_for_url(f"{url}{href}")
    assert page.get_by_role("button", name="Unarchive", exact=True).is_visible()
    page.goto(f"{url}/inbox")
    assert page.locator(f"a[href='{href}']").count() == 0
    page.get_by_label("Search", exact=True).fill("aanslagbiljet")
    page.get_by_label("Search in").select_option("nl")
    page.get_by_label("Show").select_option("archived")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(f"{url}/inbox?*")
    assert page.locator(f"a[href='{href}']").count() == 1

    # Its certificate, once the sealer has sealed the opening.
    page.goto(f"{url}{href}")
    certificate_href = str(page.get_by_role("link", name="Certificate (PDF)").get_attribute("href"))
    eventually(lambda: page.request.get(f"{url}{certificate_href}").ok, "the letter is sealed")
    with page.expect_download() as certificate_info:
        page.get_by_role("link", name="Certificate (PDF)").click()
    certificate = Path(certificate_info.value.path()).read_bytes()
    assert certificate.startswith(b"%PDF")
    evidence = page.request.get(
        f"{url}{page.get_by_role('link', name='Evidence', exact=True).get_attribute('href')}"
    )
    assert evidence.ok and message_id in evidence.text()
    digest = hashlib.sha256(certificate).hexdigest()
    assert len(digest) == 64

    # Sign out: the session cookie no longer opens anything.
    cookie = next(c for c in context.cookies() if c["name"] == "ebox_portal")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{url}/signed-out")
    stale = httpx.get(
        f"{url}{href}", cookies={"ebox_portal": cookie["value"]}, follow_redirects=False, timeout=30
    )
    assert stale.status_code == 303
    assert stale.headers["location"].startswith("/sign-in")
    context.close()
