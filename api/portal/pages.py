"""What every portal page shares: the request's `Page` (session, language, person), rendering,
the security headers, and refusals shown as pages.

A route takes `Page` (anyone, a session is made if there is none) or
`SignedInPage` (a signed-in person; others are sent to /sign-in) and answers
``page.render("inbox.html", letters=...)`` or ``page.redirect("/inbox")``;
both set the session cookie when the session is new. POST routes take
`FormPage`: the form is read and its CSRF token checked (403 otherwise).

The person acts through the same rules as the REST API: `page.access(...)`
is `ebox.api.deps.mailbox_access` for a person principal of the official portal
(channel ``portal``, or ``mandate:citizen:NRN`` for an eBox held by mandate),
and `page.consultation()` the very `Consultation` the consultation routes use.

Every portal answer carries a strict Content-Security-Policy (no script at
all, styles only from /static/portal/), no caching, and no framing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.datastructures import FormData

from ebox.adapters.portal_sessions import SqlSessionStore
from ebox.adapters.runtime import Ledger
from ebox.api.consistency import consistency_timeout
from ebox.api.consultation import Consultation
from ebox.api.deps import CONSULTATION, MailboxAccess, mailbox_access
from ebox.api.errors import ApiError, status_of
from ebox.api.oidc import PORTAL
from ebox.api.portal.i18n import LANGUAGE_NAMES, LANGUAGES, Gettext, choose_language, gettext_for
from ebox.api.portal.sessions import COOKIE, CSRF_FIELD, PortalSession, Sessions, csrf_matches
from ebox.api.settings import Settings
from ebox.api.tokens import Principal
from ebox.domain.errors import EboxError, NoDigitalUser

log = logging.getLogger("ebox.api.portal")

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
STATIC_PATH = "/static/portal"

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "private, no-store",
    "X-Frame-Options": "DENY",
}

templates = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.globals["language_names"] = LANGUAGE_NAMES


class SignInRequired(Exception):
    """No signed-in session: the page answers a redirect to /sign-in."""


class PortalRefusal(Exception):
    """A refusal shown as a page: status and a msgid (translated when shown)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def store_of(request: Request) -> Sessions:
    """The app's sessions: rows of the ledger's database, shared by every API replica."""
    store: Sessions | None = getattr(request.app.state, "portal_sessions", None)
    if store is None:
        settings: Settings = request.app.state.settings
        store = SqlSessionStore(request.app.state.ledger.db, settings.portal_idle_timeout_seconds)
        request.app.state.portal_sessions = store
    return store


@dataclass
class Page:
    """One request of the portal: its session, language and translations."""

    request: Request
    session: PortalSession
    language: str
    _: Gettext
    fresh: bool = False
    """The session was made (or replaced) by this request: its cookie is to be set."""
    form: FormData | None = None
    extra_headers: dict[str, str] = field(default_factory=dict)
    loaded: tuple[object, ...] = ()
    """What the session's changeable part was when read: saved at the answer if changed."""

    def __post_init__(self) -> None:
        if not self.loaded:
            self.loaded = self.session.changeable()

    @property
    def settings(self) -> Settings:
        return self.request.app.state.settings  # type: ignore[no-any-return]

    @property
    def ledger(self) -> Ledger:
        return self.request.app.state.ledger  # type: ignore[no-any-return]

    @property
    def store(self) -> Sessions:
        return store_of(self.request)

    # ------------------------------------------------------------------ the person

    @property
    def principal(self) -> Principal:
        """The person as the REST API sees a person token of the official portal."""
        if self.session.nrn is None:
            raise SignInRequired()
        return Principal(
            kind="person",
            subject=self.session.nrn,
            client_id=PORTAL,
            scopes=frozenset({CONSULTATION}),
            token_id="",
        )

    def access(self) -> MailboxAccess:
        """The eBox read: the person's own, or the one held by mandate they switched to."""
        ebox_type, ebox_id = self.session.acting_for or ("citizen", None)
        return mailbox_access(self.principal, ebox_type, self.ledger, ebox_id)

    def consultation(self) -> Consultation:
        """The REST API's reading of the eBox in scope (same view, same handover)."""
        access = self.access()
        return Consultation(
            access,
            self.ledger,
            self.settings,
            access.mailbox.ebox_type,
            consistency_timeout(self.request),
        )

    def sign_in(self, nrn: str) -> None:
        """Replace the anonymous session by a new one naming `nrn`."""
        self.session = self.store.replace(self.session, nrn)
        self.loaded = self.session.changeable()
        self.fresh = True

    def sign_out(self) -> None:
        self.store.end(self.session)
        self.session = self.store.create(language=self.session.language)
        self.loaded = self.session.changeable()
        self.fresh = True

    # ------------------------------------------------------------------ answers

    def url(self, path: str, **query: object) -> str:
        """A portal URL with a query (None values left out)."""
        params = {key: value for key, value in query.items() if value is not None}
        return f"{path}?{urlencode(params)}" if params else path

    def csrf_field(self) -> Markup:
        return Markup('<input type="hidden" name="{}" value="{}">').format(
            CSRF_FIELD, self.session.csrf
        )

    def language_links(self) -> list[tuple[str, str, bool]]:
        """(code, URL of this page in that language, current) for the language switch."""
        query = [(k, v) for k, v in self.request.query_params.multi_items() if k != "lang"]
        links = []
        for code in LANGUAGES:
            url = f"{self.request.url.path}?{urlencode([*query, ('lang', code)])}"
            links.append((code, url, code == self.language))
        return links

    def render(self, template: str, status: int = 200, **values: Any) -> Response:
        html = templates.get_template(template).render(
            page=self,
            _=self._,
            lang=self.language,
            static=STATIC_PATH,
            signed_in=self.session.signed_in,
            **values,
        )
        return self.finish(HTMLResponse(html, status))

    def redirect(self, url: str) -> Response:
        """303 See Other: after a POST the browser GETs the next page."""
        return self.finish(RedirectResponse(url, 303))

    def finish(self, response: Response) -> Response:
        for name, value in {**SECURITY_HEADERS, **self.extra_headers}.items():
            response.headers.setdefault(name, value)
        response.headers["Content-Language"] = self.language
        if self.session.changeable() != self.loaded:  # another replica reads it next
            self.store.save(self.session)
            self.loaded = self.session.changeable()
        if self.fresh:
            response.set_cookie(
                COOKIE,
                self.session.session_id,
                httponly=True,
                samesite="lax",
                secure=self.settings.public_url.startswith("https://"),
                path="/",
            )
        return response


def _page(request: Request) -> Page:
    store = store_of(request)
    session = store.get(request.cookies.get(COOKIE))
    fresh = session is None
    if session is None:
        session = store.create()
    asked = request.query_params.get("lang")
    if asked in LANGUAGES and session.language != asked:
        session.language = asked
        store.save(session)
    person_language = None
    if session.nrn is not None and session.language is None:
        person_language = _person_language(request.app.state.ledger, session.nrn)
    language = choose_language(
        asked, session.language, person_language, request.headers.get("accept-language")
    )
    return Page(request, session, language, gettext_for(language), fresh)


def _person_language(ledger: Ledger, nrn: str) -> str | None:
    try:
        language = ledger.app.mailbox_for_reading("citizen", nrn).language
    except NoDigitalUser:
        return None
    return str(language) if language else None


def get_page(request: Request) -> Page:
    return _page(request)


def get_signed_in_page(request: Request) -> Page:
    page = _page(request)
    if not page.session.signed_in:
        raise SignInRequired()
    return page


async def get_form_page(request: Request) -> Page:
    """A POST of a portal form: its CSRF token must be the session's (403 otherwise)."""
    form = await request.form()
    page = _page(request)
    sent = form.get(CSRF_FIELD)
    if page.fresh or not csrf_matches(page.session, sent if isinstance(sent, str) else None):
        raise PortalRefusal(403, "This form has expired. Please go back and try again.")
    page.form = form
    return page


AnyPage = Annotated[Page, Depends(get_page)]
SignedInPage = Annotated[Page, Depends(get_signed_in_page)]
FormPage = Annotated[Page, Depends(get_form_page)]


def form_value(page: Page, name: str) -> str | None:
    value = page.form.get(name) if page.form is not None else None
    return value if isinstance(value, str) else None


# --------------------------------------------------------------------------- refusals as pages

REFUSAL_TEXTS = {
    400: "This request is not valid.",
    403: "You may not do this.",
    404: "This page or letter cannot be found.",
    409: "This cannot be done now (it was already done, or is not ready yet).",
    410: "This letter has expired: its content no longer exists.",
    503: "The service is busy. Please try again in a moment.",
}

REFUSAL_BY_CODE = {
    "NO_DIGITAL_USER": "You have no eBox yet.",
    "NO_MANDATE": "You hold no mandate for this eBox.",
    "NO_CONSENT": "This eBox gives that application no consent.",
    "REPLY_NOT_AUTHORIZED": "The sender of this letter does not accept replies.",
    "NO_REPLY_EBOX": "The sender cannot receive replies at the moment.",
    "NOT_YET_SEALED": "The proof of this letter is not ready yet. Please try again in a moment.",
}


def refusal_text(status: int, code: str | None) -> str | None:
    return REFUSAL_BY_CODE.get(code or "") or REFUSAL_TEXTS.get(status)


class PortalRoute(APIRoute):
    """A portal route: refusals (of the API's rules or the domain's) answer a page, not JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def portal_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired:
                target = request.url.path
                if request.url.query:
                    target += f"?{request.url.query}"
                page = _page(request)
                return page.redirect(page.url("/sign-in", next=target))
            except RequestValidationError:
                return refusal_page(request, 400, REFUSAL_TEXTS[400])
            except PortalRefusal as refusal:
                return refusal_page(request, refusal.status, refusal.message)
            except ApiError as error:
                return refusal_page(request, error.status, refusal_text(error.status, error.code))
            except EboxError as error:
                status = status_of(error)
                if status >= 500:
                    raise
                return refusal_page(request, status, refusal_text(status, error.code))

        return portal_handler


def refusal_page(request: Request, status: int, message: str | None) -> Response:
    page = _page(request)
    return page.render(
        "refusal.html", status, status_code=status, message=message or REFUSAL_TEXTS[400]
    )
