"""My e-box's settings and access history in a real browser, and every page checked by axe-core.

Issue 11: revoke a partner app's consent (its next API call is refused), switch
to an eBox held by mandate (an enterprise's, for a person acting for it), read
who opened one's letters with the proof of each entry; axe-core inside
Chromium finds no WCAG 2.1 A/AA violation on any page; sign-in, inbox and a
letter work with the keyboard alone. Each page's screenshot goes to
docs/portal/ (committed, shown by the README).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ebox.api.oidc import mint_person_token
from ebox.api.settings import Settings
from tests.axe import assert_accessible
from tests.browser import (
    PortalDemo,
    chromium,
    eventually,
    hidden_fields,
    http_sign_in,
    run_demo,
    sign_in,
)
from tests.served import ebox_env, served

pytestmark = pytest.mark.slow

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "portal"
ENTERPRISE = "0207251386"  # an enterprise the demo's person acts for, by mandate
PARTNER_NAME = "My eBox partner (demo)"


def ebox(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ebox.cli.main", *args],
        env=ebox_env(home),
        cwd=home.parent,
        capture_output=True,
        text=True,
        check=check,
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PortalDemo]:
    """The demo ledger, and a mandate of its person for an enterprise's eBox, served."""
    home = tmp_path_factory.mktemp("portal-settings") / "home"
    credentials = run_demo(home)
    person = credentials["person"]["national_register_number"]
    ebox(home, "admin", "mailbox", "open", "enterprise", ENTERPRISE, check=False)  # may exist
    ebox(home, "admin", "mandate", "grant", person, "enterprise", ENTERPRISE)
    with served(home, workers=True) as server:
        yield PortalDemo(server, home, person, credentials)


@pytest.fixture
def page(browser: Any, demo: PortalDemo) -> Iterator[Any]:
    context = browser.new_context(accept_downloads=True, locale="en-GB")
    signed_in = context.new_page()
    sign_in(signed_in, demo.server.url, demo.person)
    yield signed_in
    context.close()


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def partner_listing(demo: PortalDemo) -> int:
    """The partner app's call for the person's letters, with the person's partner token."""
    partner = demo.credentials["partner_app"]["partner_id"]
    settings = Settings(public_url=demo.server.url, home=demo.home)
    token = mint_person_token(demo.home, demo.person, partner, settings=settings)
    answer = httpx.get(
        f"{demo.server.url}/ebox/citizen/v2/ebox/messages",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    return answer.status_code


def test_every_page_has_no_wcag_violation(browser: Any, demo: PortalDemo) -> None:
    url = demo.server.url
    context = browser.new_context(accept_downloads=True, locale="en-GB")
    page = context.new_page()
    page.goto(f"{url}/sign-in?lang=en")
    assert_accessible(page)
    shot(page, "sign-in")

    sign_in(page, url, demo.person)
    assert_accessible(page)
    shot(page, "inbox")

    page.locator("ul.letters a.subject").first.click()
    page.wait_for_url(f"{url}/letters/*")
    assert_accessible(page)
    shot(page, "letter")

    page.goto(f"{url}/settings")
    assert_accessible(page)
    shot(page, "settings")

    page.goto(f"{url}/access-history")
    assert_accessible(page)
    shot(page, "access-history")
    context.close()


def test_revoking_a_partner_s_consent_refuses_its_next_call(page: Any, demo: PortalDemo) -> None:
    url = demo.server.url
    assert partner_listing(demo) == 200

    page.goto(f"{url}/settings")
    app = page.locator("ul.partners li", has_text=PARTNER_NAME)
    assert "may read this eBox" in app.inner_text()
    app.get_by_role("button", name="Revoke access").click()
    page.wait_for_url(f"{url}/settings?saved=revoked")

    assert "has no access" in page.locator("ul.partners li", has_text=PARTNER_NAME).inner_text()
    assert partner_listing(demo) == 403

    page.locator("ul.partners li", has_text=PARTNER_NAME).get_by_role(
        "button", name="Give access"
    ).click()
    page.wait_for_url(f"{url}/settings?saved=granted")
    assert partner_listing(demo) == 200


def test_a_person_switches_to_the_enterprise_they_act_for_and_back(
    page: Any, demo: PortalDemo
) -> None:
    url = demo.server.url
    page.goto(f"{url}/settings")
    assert page.locator("#current-ebox").inner_text() == f"citizen:{demo.person}"
    assert f"enterprise:{ENTERPRISE}" in page.locator("#mandates-held").inner_text()

    page.get_by_role("button", name=f"Open the eBox of enterprise:{ENTERPRISE}").click()
    page.wait_for_url(f"{url}/inbox")
    page.goto(f"{url}/settings")
    assert page.locator("#current-ebox").inner_text() == f"enterprise:{ENTERPRISE}"
    assert page.get_by_text("By mandate").is_visible()
    assert_accessible(page)
    shot(page, "settings-by-mandate")

    page.get_by_role("button", name=f"Open the eBox of citizen:{demo.person} (your own)").click()
    page.wait_for_url(f"{url}/inbox")
    page.goto(f"{url}/settings")
    assert page.locator("#current-ebox").inner_text() == f"citizen:{demo.person}"


def test_the_access_history_shows_my_own_opening_with_its_proof(
    page: Any, demo: PortalDemo
) -> None:
    url = demo.server.url
    page.goto(f"{url}/inbox?unread=1&lang=en")
    link = page.locator("ul.letters li.unread a.subject").first
    message_href = str(link.get_attribute("href"))
    link.click()
    page.wait_for_url(f"{url}{message_href}")
    with page.expect_download():
        page.get_by_role("link", name="Download", exact=True).first.click()

    def sealed_row() -> Any:
        page.goto(f"{url}/access-history")
        row = page.locator("table.history tbody tr", has=page.locator(f"a[href='{message_href}']"))
        if row.count() and row.first.get_by_role("link", name="Entry").count():
            return row.first
        return None

    row = eventually(sealed_row, "the opening is in the history, sealed")
    text = row.inner_text()
    assert "You" in text and "My e-box portal" in text and f"citizen:{demo.person}" in text
    proof = page.request.get(f"{url}{row.get_by_role('link', name='Entry').get_attribute('href')}")
    assert proof.ok and proof.text().strip()
    assert_accessible(page)
    shot(page, "access-history")


def focus_by_tab(page: Any, selector: str, limit: int = 80) -> None:
    """Press Tab until the element matching `selector` has the focus (as a keyboard user would)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement?.matches(s) ?? false", selector):
            return
    raise AssertionError(f"{selector} never took the focus with Tab")


def test_sign_in_inbox_and_letter_with_the_keyboard_alone(browser: Any, demo: PortalDemo) -> None:
    url = demo.server.url
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    page.goto(f"{url}/sign-in?lang=en")

    focus_by_tab(page, "input[name=nrn]")
    page.keyboard.type(demo.person)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{url}/inbox*")

    focus_by_tab(page, "ul.letters a.subject")
    href = page.evaluate("() => document.activeElement.getAttribute('href')")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{url}{href}")

    archived = page.get_by_role("button", name="Unarchive", exact=True).count() == 1
    action = "Unarchive" if archived else "Archive"
    focus_by_tab(page, f"form[action$='/{action.lower()}'] button")
    with page.expect_navigation():  # the POST, then the 303 back to the letter
        page.keyboard.press("Enter")
    other = "Archive" if archived else "Unarchive"
    assert page.get_by_role("button", name=other, exact=True).is_visible()

    focus_by_tab(page, "form.sign-out button")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{url}/signed-out")
    context.close()


def test_the_settings_forms_need_the_csrf_token_and_a_mandate(demo: PortalDemo) -> None:
    url = demo.server.url
    with httpx.Client(timeout=30) as http:
        http_sign_in(http, url, demo.person)
        token = hidden_fields(http.get(f"{url}/settings").text)["csrf"]

        forged = http.post(f"{url}/settings/partners/revoke", data={"partner": "x"})
        assert forged.status_code == 403
        assert partner_listing(demo) == 200  # nothing changed

        elsewhere = http.post(
            f"{url}/switch", data={"csrf": token, "ebox": "enterprise:0308357159"}
        )
        assert elsewhere.status_code == 403  # no mandate there: refused, as by the API
        settings = http.get(f"{url}/settings?lang=en")
        assert f'id="current-ebox">citizen:{demo.person}<' in settings.text
