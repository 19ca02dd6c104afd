"""Sign-in, the development sign-in page of the embedded issuer, the callback, sign-out.

=======  ========================  ===============================================
GET      /sign-in                  start the code flow (PKCE) at the provider
GET      /embedded-oidc/authorize  development sign-in page: field ``nrn``
POST     /embedded-oidc/authorize  the person chosen: a code, back to the callback
GET      /auth/callback            state checked, code exchanged, ID token verified
POST     /sign-out                 the session ends on the server
GET      /signed-out               says so
=======  ========================  ===============================================

Without ``EBOX_PORTAL_OIDC_ISSUER`` the provider is the embedded issuer, whose
authorization endpoint is a page where anyone picks any national register
number: it says so in red ("not for production") and answers 403 when
``EBOX_ENVIRONMENT`` is ``production``, so a misconfigured production never
lets anyone in as anyone.
"""

from __future__ import annotations

import logging
import secrets
import threading

from fastapi import APIRouter, Request, Response

from ebox.adapters.portal_sessions import SqlSignInCodes
from ebox.api.deps import home_of
from ebox.api.oidc import EmbeddedPersonIssuer
from ebox.api.portal.oidc_client import (
    EmbeddedProvider,
    IdentityProvider,
    SignInFailed,
    callback_url,
    pkce_pair,
    verified_nrn,
)
from ebox.api.portal.pages import (
    AnyPage,
    FormPage,
    PortalRefusal,
    PortalRoute,
    form_value,
)
from ebox.api.portal.sessions import PendingSignIn
from ebox.domain.errors import InvalidIdentifier
from ebox.domain.ids import checked_national_register_number

log = logging.getLogger("ebox.api.portal")
router = APIRouter(route_class=PortalRoute, include_in_schema=False)
_lock = threading.Lock()

PRODUCTION = "production"


def provider_of(request: Request) -> IdentityProvider:
    """The app's identity provider, made once: the configured one, else the embedded one."""
    provider: IdentityProvider | None = getattr(request.app.state, "portal_provider", None)
    if provider is None:
        with _lock:
            provider = getattr(request.app.state, "portal_provider", None)
            if provider is None:
                settings = request.app.state.settings
                if settings.portal_oidc_issuer:
                    from ebox.api.portal.oidc_client import ConfiguredProvider

                    provider = ConfiguredProvider(settings)
                else:
                    issuer = EmbeddedPersonIssuer.load(home_of(request.app), settings)
                    codes = SqlSignInCodes(request.app.state.ledger.db)  # any replica
                    provider = EmbeddedProvider(issuer, settings, codes)
                request.app.state.portal_provider = provider
    return provider


def _embedded(request: Request) -> EmbeddedProvider:
    """The embedded provider, where the development sign-in is allowed at all."""
    provider = provider_of(request)
    if not isinstance(provider, EmbeddedProvider):
        raise PortalRefusal(404, "This page or letter cannot be found.")
    if request.app.state.settings.environment == PRODUCTION:
        raise PortalRefusal(
            403,
            "The development sign-in is off in production: configure an identity provider.",
        )
    return provider


def _safe_next(target: str | None) -> str:
    """Only a path of this site (never //host or a scheme): no open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/inbox"


@router.get("/sign-in")
def sign_in(page: AnyPage, next: str | None = None) -> Response:
    if page.session.signed_in:
        return page.redirect(_safe_next(next))
    provider = provider_of(page.request)
    if isinstance(provider, EmbeddedProvider):
        _embedded(page.request)  # 403 in production, before anything else
    verifier, challenge = pkce_pair()
    pending = PendingSignIn(
        secrets.token_urlsafe(24), secrets.token_urlsafe(24), verifier, _safe_next(next)
    )
    page.session.pending = pending  # saved with the answer (Page.finish)
    try:
        target = provider.authorization_url(pending.state, pending.nonce, challenge)
    except (OSError, SignInFailed, KeyError):
        log.error("portal sign-in: the identity provider's discovery document is unusable")
        raise PortalRefusal(503, "The service is busy. Please try again in a moment.") from None
    return page.redirect(target)


@router.get("/embedded-oidc/authorize")
def development_sign_in(
    page: AnyPage,
    state: str = "",
    nonce: str = "",
    code_challenge: str = "",
    redirect_uri: str = "",
    error: str | None = None,
) -> Response:
    _embedded(page.request)
    if redirect_uri != callback_url(page.settings) or not (state and nonce and code_challenge):
        raise PortalRefusal(400, "This request is not valid.")
    return page.render(
        "dev_sign_in.html",
        state=state,
        nonce=nonce,
        code_challenge=code_challenge,
        redirect_uri=redirect_uri,
        error=error,
    )


@router.post("/embedded-oidc/authorize")
def development_sign_in_chosen(page: FormPage) -> Response:
    provider = _embedded(page.request)
    state = form_value(page, "state") or ""
    nonce = form_value(page, "nonce") or ""
    challenge = form_value(page, "code_challenge") or ""
    redirect_uri = form_value(page, "redirect_uri") or ""
    if redirect_uri != callback_url(page.settings) or not (state and nonce and challenge):
        raise PortalRefusal(400, "This request is not valid.")
    try:
        nrn = checked_national_register_number((form_value(page, "nrn") or "").strip())
    except InvalidIdentifier:
        return page.render(
            "dev_sign_in.html",
            400,
            state=state,
            nonce=nonce,
            code_challenge=challenge,
            redirect_uri=redirect_uri,
            error=True,
        )
    code = provider.issue_code(nrn, challenge, nonce)
    return page.redirect(page.url("/auth/callback", code=code, state=state))


@router.get("/auth/callback")
def callback(page: AnyPage, code: str = "", state: str = "") -> Response:
    pending = page.store.take_pending(page.session, state) if code and state else None
    if pending is None:  # none, another state, or already taken (one use, on any replica)
        raise PortalRefusal(400, "The sign-in could not be completed. Please try again.")
    provider = provider_of(page.request)
    try:
        nrn = verified_nrn(provider, provider.exchange(code, pending.code_verifier), pending.nonce)
    except (SignInFailed, OSError) as failure:
        log.warning("portal sign-in refused: %s", failure)  # a fixed reason, no token
        raise PortalRefusal(403, "The sign-in could not be completed. Please try again.") from None
    page.sign_in(nrn)
    return page.redirect(pending.next_path)


@router.post("/sign-out")
def sign_out(page: FormPage) -> Response:
    page.sign_out()
    return page.redirect("/signed-out")


@router.get("/signed-out")
def signed_out(page: AnyPage) -> Response:
    return page.render("signed_out.html")


@router.get("/")
def home(page: AnyPage) -> Response:
    return page.redirect("/inbox" if page.session.signed_in else "/sign-in")
