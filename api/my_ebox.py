"""My e-box settings, as use cases: which eBoxes a person may open, partners, mandates, access.

The portal's settings and access-history pages (issue 11) call these and
nothing else, on the access rules of the REST API (ebox.api.deps): a person
sees their own citizen eBox and the eBoxes they hold a mandate for; nothing is
said of an eBox they may not see (`NoMandate` either way).

Who may change what:
- partner consents and contact settings: the owner of a citizen eBox; for an enterprise eBox, a
  person holding its mandate (they act for the enterprise). A mandate holder
  for another citizen reads, but does not hand that citizen's eBox to apps;
- mandates are granted by the operator (admin API) and only listed here.

Each function is one unit of work on the ledger; none knows of HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ebox.adapters.runtime import Ledger
from ebox.adapters.tables import oauth_clients
from ebox.domain.errors import NoDigitalUser, NoMandate, NotTheOwner, UnknownPartner
from ebox.domain.mailbox import Mailbox
from ebox.projections.access import AccessPage, AccessView
from ebox.projections.queries import EboxId


@dataclass(frozen=True)
class PartnerApp:
    partner_id: str
    name: str
    consent: bool


@dataclass(frozen=True)
class Mandates:
    """The mandates given on this eBox (holders), and the eBoxes this person may act for."""

    given: tuple[str, ...]  # holders, "citizen:NRN"
    held: tuple[EboxId, ...]


def person(nrn: str) -> str:
    """The reader a person is recorded as in the ledger."""
    return f"citizen:{nrn}"


def own_ebox(nrn: str) -> EboxId:
    return EboxId("citizen", nrn)


def switchable_eboxes(ledger: Ledger, nrn: str) -> tuple[EboxId, ...]:
    """The person's own eBox first, then each eBox they hold a mandate for (the switch menu)."""
    return (own_ebox(nrn), *AccessView.of(ledger).mandated(person(nrn)))


def visible_mailbox(ledger: Ledger, nrn: str, ebox: EboxId) -> Mailbox:
    """The mailbox `ebox` if the person may see it (owner or mandate holder), else NoMandate.

    Decided on the mailbox aggregate itself, as the API does, so a mandate
    revoked a moment ago is refused even before the read model has caught up.
    """
    refusal = NoMandate(f"{person(nrn)} may not open {ebox.ebox_type}:{ebox.id_value}")
    try:
        mailbox = ledger.app.mailbox_for_reading(ebox.ebox_type, ebox.id_value)
    except NoDigitalUser:
        if ebox == own_ebox(nrn):
            raise
        raise refusal from None
    if ebox != own_ebox(nrn) and person(nrn) not in mailbox.mandates:
        raise refusal
    return mailbox


def access_history(
    ledger: Ledger, nrn: str, ebox: EboxId, before: int | None = None, page_size: int = 50
) -> AccessPage:
    """Who opened the letters of `ebox`: each opening, newest first, with its leaf and proof."""
    mailbox = visible_mailbox(ledger, nrn, ebox)
    return AccessView.of(ledger).history(str(mailbox.id), mailbox.address, before, page_size)


def partner_apps(ledger: Ledger, nrn: str, ebox: EboxId) -> tuple[PartnerApp, ...]:
    """The partner apps this eBox could let in (those with an active client) and those it does.

    An app with consent is listed even when its client is disabled, so that the
    consent can still be revoked.
    """
    mailbox = visible_mailbox(ledger, nrn, ebox)
    c = oauth_clients
    query = select(c.c.subject).where(c.c.kind == "partner", c.c.disabled_at.is_(None))
    with ledger.db.read() as session:
        active = {str(s) for s in session.execute(query).scalars()}
    apps = []
    for partner_id in sorted(active | set(mailbox.partners)):
        try:
            name = ledger.app.partner(partner_id).name
        except UnknownPartner:
            continue  # a client without a registered partner is not an app one can consent to
        apps.append(PartnerApp(partner_id, name, partner_id in mailbox.partners))
    return tuple(apps)


def _require_manager(mailbox: Mailbox, nrn: str) -> None:
    if mailbox.ebox_type == "citizen" and mailbox.id_value != nrn:
        raise NotTheOwner(f"only the owner of {mailbox.address} may change its settings")


def grant_partner_consent(ledger: Ledger, nrn: str, ebox: EboxId, partner_id: str) -> None:
    """Let a registered partner app read this eBox (with the person's token)."""
    mailbox = visible_mailbox(ledger, nrn, ebox)
    _require_manager(mailbox, nrn)
    ledger.app.partner(partner_id)  # UnknownPartner: not an app one can consent to
    ledger.app.grant_partner_consent(ebox.ebox_type, ebox.id_value, partner_id)


def revoke_partner_consent(ledger: Ledger, nrn: str, ebox: EboxId, partner_id: str) -> None:
    """Withdraw a partner app's consent: its next request for this eBox is refused."""
    mailbox = visible_mailbox(ledger, nrn, ebox)
    _require_manager(mailbox, nrn)
    ledger.app.revoke_partner_consent(ebox.ebox_type, ebox.id_value, partner_id)


def set_contact(
    ledger: Ledger,
    nrn: str,
    ebox: EboxId,
    email: str | None,
    language: str | None,
    digest: bool | None = None,
) -> None:
    """Where (and in which language) the eBox's manager is told of new letters, and whether
    in one daily digest (None: unchanged): the notifier's own use case, behind the manager check.
    """
    _require_manager(visible_mailbox(ledger, nrn, ebox), nrn)
    ledger.app.set_contact(ebox.ebox_type, ebox.id_value, email, language, digest)


def mandates(ledger: Ledger, nrn: str, ebox: EboxId) -> Mandates:
    """The mandates given on `ebox` and those the person holds for other eBoxes."""
    mailbox = visible_mailbox(ledger, nrn, ebox)
    return Mandates(tuple(sorted(mailbox.mandates)), AccessView.of(ledger).mandated(person(nrn)))
