"""The portal over plain HTTP: sessions, CSRF, sign-in safety, languages, security headers.

A served demo ledger (tests/browser.py) and httpx, as any browser-less client
would see the pages.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from ebox.adapters.certificate_seal import DEMO_CERT, DEMO_KEY, load_sealing_identity
from tests.browser import PortalDemo, hidden_fields, http_sign_in, portal_demo
from tests.served import served

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PortalDemo]:
    with portal_demo(tmp_path_factory.mktemp("portal-http")) as served_demo:
        yield served_demo


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as client:
        yield client


def first_letter(http: httpx.Client, url: str) -> str:
    inbox = http.get(f"{url}/inbox?lang=en")
    found = re.search(r'href="(/letters/[0-9a-f-]{36})"', inbox.text)
    assert found, inbox.text
    return found.group(1)


# ------------------------------------------------------------------ the session cookie


def test_the_session_cookie_is_httponly_samesite_lax_and_not_secure_over_http(
    demo: PortalDemo, http: httpx.Client
) -> None:
    answer = http.get(f"{demo.server.url}/sign-in")
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("ebox_portal=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/" in cookie
    assert "Secure" not in cookie


def test_the_session_cookie_is_secure_when_the_public_url_is_https(demo: PortalDemo) -> None:
    with served(demo.home, env={"EBOX_PUBLIC_URL": "https://ebox.example.be"}) as server:
        answer = httpx.get(f"{server.url}/sign-in", timeout=30)
    assert "Secure" in answer.headers["set-cookie"]


def test_signing_in_gives_a_new_session_id(demo: PortalDemo, http: httpx.Client) -> None:
    http.get(f"{demo.server.url}/sign-in")
    before = http.cookies["ebox_portal"]
    http_sign_in(http, demo.server.url, demo.person)
    assert http.cookies["ebox_portal"] != before


def test_after_sign_out_the_old_cookie_opens_nothing(demo: PortalDemo, http: httpx.Client) -> None:
    url = demo.server.url
    http_sign_in(http, url, demo.person)
    letter = first_letter(http, url)
    cookie = http.cookies["ebox_portal"]
    page = http.get(f"{url}{letter}")
    answer = http.post(f"{url}/sign-out", data=hidden_fields(page.text))
    assert answer.status_code == 303 and answer.headers["location"] == "/signed-out"

    stale = httpx.get(f"{url}{letter}", cookies={"ebox_portal": cookie}, timeout=30)
    assert stale.status_code == 303
    assert stale.headers["location"].startswith("/sign-in")


def test_a_page_without_a_session_sends_to_sign_in_and_back(
    demo: PortalDemo, http: httpx.Client
) -> None:
    answer = http.get(f"{demo.server.url}/inbox?folder=all")
    assert answer.status_code == 303
    assert parse_qs(urlsplit(answer.headers["location"]).query)["next"] == ["/inbox?folder=all"]


# ------------------------------------------------------------------ CSRF


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(
    demo: PortalDemo, http: httpx.Client
) -> None:
    url = demo.server.url
    http_sign_in(http, url, demo.person)
    letter = first_letter(http, url)

    for data in ({}, {"csrf": "not-the-token"}):
        refused = http.post(f"{url}{letter}/archive", data=data)
        assert refused.status_code == 403
        assert "text/html" in refused.headers["content-type"]
    page = http.get(f"{url}{letter}?lang=en")
    assert ">Archive</button>" in page.text  # still not archived

    accepted = http.post(f"{url}{letter}/archive", data=hidden_fields(page.text))
    assert accepted.status_code == 303
    assert ">Unarchive</button>" in http.get(f"{url}{letter}?lang=en").text
    http.post(f"{url}{letter}/unarchive", data=hidden_fields(page.text))


def test_sign_out_without_the_csrf_token_keeps_the_session(
    demo: PortalDemo, http: httpx.Client
) -> None:
    url = demo.server.url
    http_sign_in(http, url, demo.person)
    assert http.post(f"{url}/sign-out", data={}).status_code == 403
    assert http.get(f"{url}/inbox").status_code == 200


# ------------------------------------------------------------------ sign-in safety


def test_the_development_sign_in_is_refused_in_production(demo: PortalDemo) -> None:
    # Production refuses to start without a configured seal: give it one (made like the demo's).
    load_sealing_identity("Test operator", demo.home)
    production = served(
        demo.home,
        env={
            "EBOX_ENVIRONMENT": "production",
            "EBOX_SEAL_CERT_FILE": str(demo.home / DEMO_CERT),
            "EBOX_SEAL_KEY_FILE": str(demo.home / DEMO_KEY),
        },
    )
    with production as server, httpx.Client(timeout=30) as http:
        start = http.get(f"{server.url}/sign-in")
        page = http.get(
            f"{server.url}/embedded-oidc/authorize",
            params={
                "state": "s",
                "nonce": "n",
                "code_challenge": "c",
                "redirect_uri": f"{server.url}/auth/callback",
            },
        )
        chosen = http.post(f"{server.url}/embedded-oidc/authorize", data={"nrn": demo.person})
    assert start.status_code == 403
    assert page.status_code == 403
    assert 'name="nrn"' not in page.text
    assert chosen.status_code == 403


def test_the_development_page_says_it_is_not_for_production(
    demo: PortalDemo, http: httpx.Client
) -> None:
    page = http.get(f"{demo.server.url}/sign-in?lang=en", follow_redirects=True)
    assert page.status_code == 200
    assert 'name="nrn"' in page.text
    assert "Not for production." in page.text


def test_an_invalid_national_register_number_signs_no_one_in(
    demo: PortalDemo, http: httpx.Client
) -> None:
    url = demo.server.url
    form = hidden_fields(http.get(f"{url}/sign-in?lang=en", follow_redirects=True).text)
    answer = http.post(f"{url}/embedded-oidc/authorize", data={**form, "nrn": "12345678901"})
    assert answer.status_code == 400
    assert 'aria-invalid="true"' in answer.text
    assert http.get(f"{url}/inbox").status_code == 303


def test_a_callback_with_another_state_or_a_used_code_is_refused(
    demo: PortalDemo, http: httpx.Client
) -> None:
    url = demo.server.url
    form = hidden_fields(http.get(f"{url}/sign-in", follow_redirects=True).text)
    chosen = http.post(f"{url}/embedded-oidc/authorize", data={**form, "nrn": demo.person})
    callback = chosen.headers["location"]
    forged = re.sub(r"state=[^&]+", "state=forged", callback)
    assert http.get(f"{url}{forged}").status_code == 400
    assert http.get(f"{url}/inbox").status_code == 303

    assert http.get(f"{url}{callback}").status_code == 303  # the right one signs in, once
    assert http.get(f"{url}/inbox").status_code == 200
    with httpx.Client(timeout=30) as other:  # the same code, replayed elsewhere: nothing
        other.get(f"{url}/sign-in")
        assert other.get(f"{url}{callback}").status_code == 400
        assert other.get(f"{url}/inbox").status_code == 303


def test_sign_in_returns_only_to_a_page_of_this_site(demo: PortalDemo, http: httpx.Client) -> None:
    url = demo.server.url
    start = http.get(f"{url}/sign-in", params={"next": "//evil.example/x"}, follow_redirects=True)
    answer = http.post(
        f"{url}/embedded-oidc/authorize",
        data={**hidden_fields(start.text), "nrn": demo.person},
        follow_redirects=True,
    )
    assert str(answer.url) == f"{url}/inbox"


# ------------------------------------------------------------------ languages and headers


@pytest.mark.parametrize(
    ("headers", "query", "expected", "sign_out"),
    [
        ({"Accept-Language": "en"}, "", "en", "Sign out"),
        ({"Accept-Language": "fr-BE,fr;q=0.9"}, "", "fr", "Se déconnecter"),
        ({"Accept-Language": "de"}, "?lang=nl", "nl", "Afmelden"),
        ({}, "?lang=de", "de", "Abmelden"),
    ],
)
def test_the_language_comes_from_lang_else_accept_language(
    demo: PortalDemo,
    http: httpx.Client,
    headers: dict[str, str],
    query: str,
    expected: str,
    sign_out: str,
) -> None:
    url = demo.server.url
    http_sign_in(http, url, demo.person)
    page = http.get(f"{url}/inbox{query}", headers=headers)
    assert page.headers["content-language"] == expected
    assert f'<html lang="{expected}">' in page.text
    assert f">{sign_out}</button>" in page.text
    for code in ("nl", "fr", "de", "en"):
        assert f'hreflang="{code}"' in page.text  # the switch, on every page


def test_pages_carry_a_strict_csp_and_hold_no_script_or_inline_style(
    demo: PortalDemo, http: httpx.Client
) -> None:
    url = demo.server.url
    http_sign_in(http, url, demo.person)
    letter = first_letter(http, url)
    for path in ("/inbox", letter, "/signed-out"):
        page = http.get(f"{url}{path}")
        policy = page.headers["content-security-policy"]
        assert "default-src 'none'" in policy
        assert "script-src" not in policy  # so none at all (default-src 'none')
        assert "'unsafe-inline'" not in policy
        assert "frame-ancestors 'none'" in policy
        assert "<script" not in page.text
        assert " style=" not in page.text and "<style" not in page.text
    css = http.get(f"{url}/static/portal/portal.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]


def test_another_letter_id_is_not_found(demo: PortalDemo, http: httpx.Client) -> None:
    url = demo.server.url
    http_sign_in(http, url, demo.person)
    answer = http.get(f"{url}/letters/00000000-0000-0000-0000-000000000000?lang=en")
    assert answer.status_code == 404
    assert "cannot be found" in answer.text


def test_the_pdf_is_shown_inline_and_every_other_document_only_downloaded(
    demo: PortalDemo, http: httpx.Client, tmp_path: Path
) -> None:
    url = demo.server.url
    http_sign_in(http, url, demo.person)
    letter = http.get(f"{url}{first_letter(http, url)}").text
    viewed = re.search(r'href="([^"]+\?inline=1)"', letter)
    assert viewed
    inline = http.get(f"{url}{viewed.group(1).replace('&amp;', '&')}")
    assert inline.headers["content-type"] == "application/pdf"
    assert inline.headers["content-disposition"].startswith("inline;")
    others = re.findall(r'href="(/letters/[^"?]+/documents/[^"?]+)" download', letter)
    for path in others:
        answer = http.get(f"{url}{path}")
        assert answer.headers["content-disposition"].startswith("attachment;")
        assert answer.headers["content-type"] == "application/octet-stream"


def test_the_settings_form_chooses_one_daily_digest(demo: PortalDemo, http: httpx.Client) -> None:
    url = demo.server.url
    http_sign_in(http, url, demo.person)
    page = http.get(f"{url}/settings?lang=en")
    assert 'id="digest-no" name="digest" type="radio" value="0" checked' in page.text
    csrf = hidden_fields(page.text)["csrf"]

    form = {"csrf": csrf, "email": "an@example.be", "language": "nl"}
    assert http.post(f"{url}/settings/contact", data={**form, "digest": "1"}).status_code == 303
    assert 'value="1" checked' in http.get(f"{url}/settings?lang=en").text

    assert http.post(f"{url}/settings/contact", data={**form, "digest": "0"}).status_code == 303
    assert (
        'id="digest-no" name="digest" type="radio" value="0" checked'
        in http.get(f"{url}/settings?lang=en").text
    )
