"""GET /inbox: one page of the letters of the eBox in scope, with filters, search and paging.

The listing is the REST API's (`InboxView.messages` with a `MessageFilter`,
search `q` in the page's language as ``qlang``), read through the same
`Consultation` (same access rules), and records the consultation as the API's
listing does (after the answer). A page costs the same statements whatever
its letters and senders: the API's one listing query, one unread count, and
the reference names from a cache kept per catalogue version
(ebox.api.portal.reference_names). Query parameters:

``folder``      inbox (default: neither archived nor hidden), archived, hidden, all
``unread``      1: unread letters only
``registered``  1: registered letters only
``sender``      a sender organisation's KBO number
``type``        a message type id
``q``           words to search (the API's search)
``qlang``       the language of the texts searched (default: the page's); letters are
                often in one language only, whatever the reader's
``page``        1-based
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query, Response

from ebox.api.contract import MAX_PAGE_SIZE
from ebox.api.portal import display
from ebox.api.portal.i18n import LANGUAGES
from ebox.api.portal.pages import PortalRefusal, PortalRoute, SignedInPage
from ebox.api.portal.reference_names import reference_names
from ebox.domain.limits import LIMITS, checked_identifier, checked_text
from ebox.projections.inbox_view import InboxMessage, MessageFilter

router = APIRouter(route_class=PortalRoute, include_in_schema=False)

PAGE_SIZE = 20
FOLDERS = {
    "inbox": {"archived": False, "visible": True},
    "archived": {"archived": True, "visible": True},
    "hidden": {"visible": False},
    "all": {},
}


@dataclass(frozen=True)
class LetterLine:
    """One letter of the listing, as the page shows it."""

    message: InboxMessage
    sender: str
    subject: str
    received: str
    received_iso: str
    expires: str
    expires_soon: bool

    @property
    def url(self) -> str:
        return f"/letters/{self.message.message_id}"


@router.get("/inbox")
def inbox(
    page: SignedInPage,
    later: BackgroundTasks,
    folder: str = "inbox",
    unread: bool = False,
    registered: bool = False,
    sender: Annotated[str | None, Query(max_length=LIMITS.kbo_number)] = None,
    type: Annotated[str | None, Query(max_length=LIMITS.message_type_id)] = None,
    q: Annotated[str | None, Query(max_length=LIMITS.search_query)] = None,
    qlang: str | None = None,
    number: Annotated[int, Query(alias="page", ge=1, le=LIMITS.page)] = 1,
) -> Response:
    if folder not in FOLDERS:
        raise PortalRefusal(400, "This request is not valid.")
    search_language = qlang if qlang in LANGUAGES else page.language
    c = page.consultation()
    q = (q or "").strip() or None
    if q is not None:
        q = checked_text(q, "the search", LIMITS.search_query)
    sender = checked_identifier(sender, "the sender", LIMITS.kbo_number) if sender else None
    type = checked_identifier(type, "the type", LIMITS.message_type_id) if type else None
    filters = MessageFilter(
        read=False if unread else None,
        registered_mail=True if registered else None,
        sender_organization_id=sender or None,
        message_type_id=type or None,
        q=q,
        qlang=search_language if q else None,
        **FOLDERS[folder],  # type: ignore[arg-type]
    )
    found = c.view.messages(c.ebox, filters, number, min(PAGE_SIZE, MAX_PAGE_SIZE))
    unread_count = c.view.unread_count(c.ebox)
    # After the answer, as the API's listing does: the consultation row is bookkeeping.
    later.add_task(c.view.record_consultation, c.ebox)
    language = page.language
    catalogue = reference_names(page.ledger)
    names = display.names_of_senders(
        catalogue, (m.sender_organization_id for m in found.items), language
    )
    letters = [
        LetterLine(
            m,
            names[m.sender_organization_id],
            display.pick(m.subjects, language),
            display.date(m.receipt_date, language),
            display.iso(m.receipt_date),
            display.date(m.expiration_date, language),
            display.expires_soon(m.expiration_date),
        )
        for m in found.items
    ]
    last_page = max(1, -(-found.total_items // PAGE_SIZE))
    query = {
        "folder": folder if folder != "inbox" else None,
        "unread": 1 if unread else None,
        "registered": 1 if registered else None,
        "sender": sender or None,
        "type": type or None,
        "q": q,
        "qlang": search_language if q else None,
    }
    return page.render(
        "inbox.html",
        letters=letters,
        total=found.total_items,
        unread_count=unread_count,
        mailbox=c.access.mailbox,
        folder=folder,
        folders=list(FOLDERS),
        unread=unread,
        registered=registered,
        sender=sender or "",
        type=type or "",
        q=q or "",
        qlang=search_language,
        languages=LANGUAGES,
        senders=display.sender_choices(catalogue, language),
        message_types=display.message_type_choices(catalogue, language),
        number=number,
        last_page=last_page,
        previous_url=page.url("/inbox", **query, page=number - 1) if number > 1 else None,
        next_url=page.url("/inbox", **query, page=number + 1) if number < last_page else None,
    )
