"""The portal's parts that need no server: catalogues, language choice, sessions, the code flow."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from ebox.api.oidc import EmbeddedPersonIssuer
from ebox.api.portal.i18n import LANGUAGES, catalogue, choose_language, from_accept_language
from ebox.api.portal.oidc_client import (
    EmbeddedProvider,
    SignInFailed,
    pkce_pair,
    s256,
    verified_nrn,
)
from ebox.api.portal.pages import REFUSAL_BY_CODE, REFUSAL_TEXTS
from ebox.api.portal.sessions import SessionStore, csrf_matches
from ebox.api.settings import Settings

PORTAL = Path(__file__).resolve().parents[2] / "api" / "portal"
NRN = "85073003328"


def msgids_of_the_portal() -> set[str]:
    """Every text a page may show: `_("...")` in templates, refusal texts, payment labels."""
    found: set[str] = set()
    for template in (PORTAL / "templates").glob("*.html"):
        found.update(re.findall(r'_\("((?:[^"\\]|\\.)*)"\)', template.read_text()))
    found.update(REFUSAL_TEXTS.values())
    found.update(REFUSAL_BY_CODE.values())
    for module in PORTAL.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "PortalRefusal":
                found.update(
                    a.value
                    for a in node.args
                    if isinstance(a, ast.Constant) and isinstance(a.value, str)
                )
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "attr", "") == "append"
                and node.args
                and isinstance(node.args[0], ast.Tuple)
                and isinstance(node.args[0].elts[0], ast.Constant)
            ):
                found.add(str(node.args[0].elts[0].value))  # the labels of the payment data
    return found


@pytest.mark.parametrize("language", ["nl", "fr", "de"])
def test_every_text_of_the_portal_is_translated(language: str) -> None:
    missing = sorted(msgids_of_the_portal() - set(catalogue(language)))
    assert missing == []


def test_the_english_catalogue_lists_every_text_too() -> None:
    path = PORTAL / "locale" / "en" / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po:
        listed = {str(entry.id) for entry in read_po(po) if entry.id}
    assert sorted(msgids_of_the_portal() - listed) == []


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("en", "en"),
        ("fr-BE,fr;q=0.9,en;q=0.8", "fr"),
        ("es, de;q=0.5, en;q=0.7", "en"),
        ("nl;q=0, de", "de"),
        ("es", None),
        ("", None),
        ("en;q=abc, de;q=0.1", "de"),
    ],
)
def test_accept_language_picks_the_best_of_our_four(header: str, expected: str | None) -> None:
    assert from_accept_language(header) == expected


def test_lang_then_remembered_then_the_persons_setting_then_the_browser() -> None:
    assert choose_language("de", "fr", "nl", "en") == "de"
    assert choose_language(None, "fr", "nl", "en") == "fr"
    assert choose_language(None, None, "nl", "en") == "nl"
    assert choose_language(None, None, None, "en") == "en"
    assert choose_language("xx", None, None, None) == "nl"
    assert set(LANGUAGES) == {"nl", "fr", "de", "en"}


# ------------------------------------------------------------------ sessions


def test_a_session_unused_longer_than_the_idle_timeout_is_gone() -> None:
    store = SessionStore(idle_timeout=60)
    session = store.create(now=1000.0)
    assert store.get(session.session_id, now=1059.0) is session  # touched: idle time restarts
    assert store.get(session.session_id, now=1118.0) is session
    assert store.get(session.session_id, now=1179.0) is None
    assert store.get(session.session_id, now=1180.0) is None  # and stays gone


def test_signing_in_replaces_the_session_and_signing_out_ends_it() -> None:
    store = SessionStore(idle_timeout=60)
    anonymous = store.create(language="fr")
    signed_in = store.replace(anonymous, NRN)
    assert store.get(anonymous.session_id) is None
    assert signed_in.session_id != anonymous.session_id
    assert signed_in.csrf != anonymous.csrf
    assert (signed_in.nrn, signed_in.language) == (NRN, "fr")
    store.end(signed_in)
    assert store.get(signed_in.session_id) is None


def test_the_csrf_token_must_be_the_sessions_own() -> None:
    session = SessionStore(idle_timeout=60).create()
    assert csrf_matches(session, session.csrf)
    assert not csrf_matches(session, None)
    assert not csrf_matches(session, "")
    assert not csrf_matches(session, session.csrf[:-1])


# ------------------------------------------------------------------ the embedded code flow


@pytest.fixture
def provider() -> EmbeddedProvider:
    settings = Settings(public_url="https://ebox.test", environment="test")
    issuer = EmbeddedPersonIssuer(bytes(range(32)), "https://ebox.test/embedded-oidc", "aud")
    return EmbeddedProvider(issuer, settings)


def test_a_code_signs_in_once_with_its_pkce_verifier_and_nonce(provider: EmbeddedProvider) -> None:
    verifier, challenge = pkce_pair()
    assert challenge == s256(verifier) and len(verifier) >= 43
    code = provider.issue_code(NRN, challenge, "nonce-1")
    assert verified_nrn(provider, provider.exchange(code, verifier), "nonce-1") == NRN
    with pytest.raises(SignInFailed):
        provider.exchange(code, verifier)  # one use


def test_a_wrong_verifier_or_nonce_signs_no_one_in(provider: EmbeddedProvider) -> None:
    verifier, challenge = pkce_pair()
    with pytest.raises(SignInFailed):
        provider.exchange(provider.issue_code(NRN, challenge, "n"), verifier + "x")
    token = provider.exchange(provider.issue_code(NRN, challenge, "n"), verifier)
    with pytest.raises(SignInFailed):
        verified_nrn(provider, token, "another nonce")


def test_an_id_token_of_another_key_signs_no_one_in(provider: EmbeddedProvider) -> None:
    settings = Settings(public_url="https://ebox.test", environment="test")
    other = EmbeddedProvider(
        EmbeddedPersonIssuer(bytes(32), "https://ebox.test/embedded-oidc", "aud"), settings
    )
    verifier, challenge = pkce_pair()
    forged = other.exchange(other.issue_code(NRN, challenge, "n"), verifier)
    with pytest.raises(SignInFailed):
        verified_nrn(provider, forged, "n")
