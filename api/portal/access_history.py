"""GET /access-history: who opened the letters of the eBox in scope, newest first, with proofs.

Read from the "access" read model (ebox.projections.access) through
`my_ebox.access_history`, keyset-paged by `before` (a notification id). Each
entry links to its inclusion proof in the transparency log once sealed.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from ebox.api import my_ebox
from ebox.api.portal import display
from ebox.api.portal.pages import PortalRoute, SignedInPage
from ebox.api.portal.settings import in_scope, nrn_of

router = APIRouter(route_class=PortalRoute, include_in_schema=False)

PAGE_SIZE = 25
KIND_TEXTS = {
    "self": "You",
    "mandate": "A mandate holder",
    "partner": "A partner app",
}
CHANNEL_TEXTS = {"portal": "My e-box portal"}


@router.get("/access-history")
def access_history(
    page: SignedInPage,
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> Response:
    ebox = in_scope(page)
    history = my_ebox.access_history(page.ledger, nrn_of(page), ebox, before, PAGE_SIZE)
    senders = display.sender_names(
        page.ledger, {e.sender_kbo for e in history.entries}, page.language
    )
    rows = [
        {
            "entry": entry,
            "when": display.date_time(entry.time, page.language),
            "when_iso": display.iso(entry.time),
            "subject": display.pick(entry.subjects, page.language),
            "sender": senders.get(entry.sender_kbo, entry.sender_kbo),
            "who": KIND_TEXTS[entry.kind],
            "channel": _channel(entry.channel),
            "first": entry.event_type == "Read",
        }
        for entry in history.entries
    ]
    next_url = (
        page.url("/access-history", before=history.next_before) if history.next_before else None
    )
    return page.render("access_history.html", ebox=ebox, rows=rows, next_url=next_url)


def _channel(channel: str) -> tuple[str, str]:
    """(msgid of the way in, the app or person named): shown translated, then the name."""
    if channel.startswith("partner:"):
        return ("Partner app", channel.removeprefix("partner:"))
    if channel.startswith("mandate:"):
        return ("My e-box portal, by mandate", "")
    return (CHANNEL_TEXTS.get(channel, channel), "")
