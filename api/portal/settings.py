"""GET /settings and its forms: contact, language, partner apps, mandates, switching eBox.

Parse, call a use case of ebox.api.my_ebox (the same access rules as the REST
API), answer: a page, or a 303 back to /settings after a form. Every form
carries the session's CSRF token (FormPage checks it). The eBox in scope is
the session's `acting_for` (None: the person's own), changed by /switch.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from ebox.api import my_ebox
from ebox.api.portal.i18n import LANGUAGE_NAMES, LANGUAGES
from ebox.api.portal.pages import (
    FormPage,
    Page,
    PortalRefusal,
    PortalRoute,
    SignedInPage,
    form_value,
)
from ebox.domain.limits import FieldRejected
from ebox.projections.queries import EboxId

router = APIRouter(route_class=PortalRoute, include_in_schema=False)

SAVED = {"contact", "granted", "revoked", "switched"}


def nrn_of(page: Page) -> str:
    """The signed-in person's national register number (SignInRequired otherwise)."""
    return page.principal.subject


def in_scope(page: Page) -> EboxId:
    """The eBox the person is reading now: their own, or the one they switched to."""
    acting_for = page.session.acting_for
    return EboxId(*acting_for) if acting_for else my_ebox.own_ebox(nrn_of(page))


@router.get("/settings")
def settings_page(page: SignedInPage, saved: str | None = None) -> Response:
    nrn, ebox = nrn_of(page), in_scope(page)
    mailbox = my_ebox.visible_mailbox(page.ledger, nrn, ebox)
    return page.render(
        "settings.html",
        ebox=ebox,
        own=ebox == my_ebox.own_ebox(nrn),
        manager=ebox.ebox_type == "enterprise" or ebox.id_value == nrn,
        email=mailbox.email or "",
        contact_language=mailbox.language or "",
        digest=bool(getattr(mailbox, "digest", False)),
        languages=[(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        partners=my_ebox.partner_apps(page.ledger, nrn, ebox),
        mandates=my_ebox.mandates(page.ledger, nrn, ebox),
        choices=my_ebox.switchable_eboxes(page.ledger, nrn),
        saved=saved if saved in SAVED else None,
    )


@router.post("/settings/contact")
def set_contact(page: FormPage) -> Response:
    email = (form_value(page, "email") or "").strip() or None
    language = form_value(page, "language") or None
    chosen = form_value(page, "digest")
    digest = None if chosen is None else chosen == "1"
    try:
        my_ebox.set_contact(page.ledger, nrn_of(page), in_scope(page), email, language, digest)
    except FieldRejected:
        raise PortalRefusal(400, "Please give an email address like name@example.be.") from None
    return page.redirect("/settings?saved=contact")


@router.post("/settings/partners/grant")
def grant_partner(page: FormPage) -> Response:
    partner = _partner_field(page)
    my_ebox.grant_partner_consent(page.ledger, nrn_of(page), in_scope(page), partner)
    return page.redirect("/settings?saved=granted")


@router.post("/settings/partners/revoke")
def revoke_partner(page: FormPage) -> Response:
    partner = _partner_field(page)
    my_ebox.revoke_partner_consent(page.ledger, nrn_of(page), in_scope(page), partner)
    return page.redirect("/settings?saved=revoked")


@router.post("/switch")
def switch_ebox(page: FormPage) -> Response:
    """Read another eBox (one held by mandate), or one's own again (`ebox` = "own")."""
    nrn = nrn_of(page)
    chosen = form_value(page, "ebox") or "own"
    if chosen == "own":
        page.session.acting_for = None
        return page.redirect("/inbox")
    ebox_type, _, id_value = chosen.partition(":")
    ebox = EboxId(ebox_type, id_value)
    my_ebox.visible_mailbox(page.ledger, nrn, ebox)  # NoMandate: a refusal page
    page.session.acting_for = None if ebox == my_ebox.own_ebox(nrn) else (ebox_type, id_value)
    return page.redirect("/inbox")


def _partner_field(page: Page) -> str:
    partner = form_value(page, "partner")
    if not partner or len(partner) > 64:
        raise PortalRefusal(400, "This request is not valid.")
    return partner
