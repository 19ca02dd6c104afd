"""The eBox event API (ebox-enterprise-event-api-1.1.1): GET the document events, page by page.

- ``GET /ebox/enterprise/document/events`` (the contract's getEboxEnterpriseDocumentEvents)
- ``GET /ebox/citizen/document/events`` (the same for citizen eBoxes: the same
  page shape, key ``EboxEnterpriseDocumentEvents`` included, with the citizen's
  national register number in ``eventData.enterpriseId``, so one client parses both)

Parameters: ``lastSequenceNbr`` (required, 0 to start) and ``pageSize``
(required, 1 to 1000) page through one contiguous sequence per eBox type;
``startTime`` (RFC 3339 date-time, or a date) leaves out earlier events;
``clientId`` if given must name the calling client; ``filter`` is a
comma-separated list of event types to keep (``newDocument``, ``readDocument``;
the contract's other two types are accepted and this ledger never emits them).

Who may read, and what:

- an *auditor* client (scope ``ebox:audit``) reads every event: the feed says
  nothing its ledger export does not already show;
- a *partner* client (its own client-credentials token, scope
  ``ebox:consultation``) reads the events of the mailboxes that give that
  partner consent *now*, exactly the mailboxes its users may read through it;
  revoking consent hides that mailbox's events, past ones included, at the next
  request. This is what the event API is for: an integrator learns of new and
  read documents without polling every eBox;
- nobody else: persons read their own eBox through the REST API, senders follow
  their letters with searchMessageStatus (403).

When events are left out (consent, ``filter``), a page may hold fewer than
``pageSize`` events and still have ``hasNext``; ``pageInfo.lastSequenceNbr`` is
always the last sequence number *examined*, so passing it back never misses or
repeats an event. One request examines at most ``MAX_SCAN`` events.

``eventProviderId`` is this registry's identifier: ``$EBOX_EVENT_PROVIDER_ID``
(``settings.event_provider_id``), by default the host name of the public URL. The
``X-Ebox-Min-Position`` header (see ebox.api.ebox_routes) works here too,
against the feed view.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlparse

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import JSONResponse

from ebox.adapters.runtime import Ledger
from ebox.api.consistency import MinPositionHeader, consistency_timeout, wait_for_view
from ebox.api.consultation import date_bound
from ebox.api.contract import contract_datetime
from ebox.api.deps import EboxDomain, EventReader, LedgerDep, Principal, SettingsDep
from ebox.api.errors import ApiError
from ebox.api.mounting import mount_per_domain
from ebox.api.schemas import EboxEnterpriseDocumentEventPage, error_responses
from ebox.api.settings import Settings
from ebox.api.validation import ReferenceId
from ebox.domain.errors import NoDigitalUser
from ebox.domain.limits import LIMITS
from ebox.projections.feed import (
    MAX_FEED_PAGE_SIZE,
    NEW_DOCUMENT,
    READ_DOCUMENT,
    FeedEvent,
    FeedView,
)

EVENT_TYPES = (NEW_DOCUMENT, "newDocumentReminder", READ_DOCUMENT, "documentExpirationAlert")
PAGE_KEY = "EboxEnterpriseDocumentEvents"
MAX_SCAN = 5 * MAX_FEED_PAGE_SIZE
"""Events one request may examine when some are left out, so a request stays short."""

Keep = Callable[[FeedEvent], bool]


def event_provider_id(settings: Settings) -> str:
    configured = settings.event_provider_id
    return configured or urlparse(settings.public_url).hostname or settings.public_url


def reader_filter(principal: Principal, ledger: Ledger) -> Keep | None:
    """None: every event; else which events this event reader may see (see the docstring).

    Who may read at all is ebox.api.deps.EventReader: an auditor or a partner client.
    """
    if principal.kind == "partner":
        return _consenting_to(principal.subject, ledger)
    return None


def _consenting_to(partner: str, ledger: Ledger) -> Keep:
    consents: dict[str, bool] = {}  # per request: consent is checked as it stands now

    def keep(event: FeedEvent) -> bool:
        address = event.ebox.address
        if address not in consents:
            try:
                mailbox = ledger.app.mailbox_for_reading(event.ebox.ebox_type, event.ebox.id_value)
            except NoDigitalUser:
                consents[address] = False
            else:
                consents[address] = not mailbox.closed and partner in mailbox.partners
        return consents[address]

    return keep


def event_types(filter_: str | None) -> frozenset[str] | None:
    if filter_ is None:
        return None
    wanted = frozenset(t.strip() for t in filter_.split(",") if t.strip())
    unknown = wanted - set(EVENT_TYPES)
    if unknown or not wanted:
        raise ApiError(
            400,
            "INVALID_REQUEST",
            f"filter is a comma-separated list of event types among {', '.join(EVENT_TYPES)}",
        )
    return wanted


def of_types(types: frozenset[str] | None, keep: Keep | None) -> Keep | None:
    if types is None:
        return keep

    def kept(event: FeedEvent) -> bool:
        return event.event_type in types and (keep is None or keep(event))

    return kept


def scan(
    view: FeedView,
    ebox_type: str,
    after: int,
    page_size: int,
    start_time: datetime | None,
    keep: Keep | None,
) -> tuple[list[FeedEvent], int, bool]:
    """Kept events, the last sequence number examined, and whether more may follow."""
    if keep is None:
        page = view.page(ebox_type, after, page_size, start_time)
        return list(page.events), page.last_sequence_nbr, page.has_next
    kept: list[FeedEvent] = []
    position, budget = after, MAX_SCAN
    chunk_size = min(MAX_FEED_PAGE_SIZE, max(page_size, 100))
    while True:
        chunk = view.page(ebox_type, position, chunk_size, start_time)
        for index, event in enumerate(chunk.events):
            if len(kept) == page_size or budget == 0:
                return kept, position, True
            position, budget = event.sequence_nbr, budget - 1
            if keep(event):
                kept.append(event)
            if budget == 0 and index == len(chunk.events) - 1:
                return kept, position, chunk.has_next
        if not chunk.has_next:
            return kept, position, False


def event_json(event: FeedEvent, provider: str) -> dict[str, Any]:
    return {
        "eventSequenceNbr": event.sequence_nbr,
        "eventTime": contract_datetime(event.event_time),
        "eventProviderId": provider,
        "eventData": {
            "eventType": event.event_type,
            "enterpriseId": event.ebox.id_value,
            "messageId": event.message_id,
            "receiptDate": contract_datetime(event.receipt_date),
            "expirationDate": contract_datetime(event.expiration_date),
            "registeredMail": event.registered_mail,
            "messageTypeId": event.message_type_id,
            "senderOrganizationId": event.sender_organization_id,
            "senderApplicationId": event.sender_application_id,
            "subject": dict(event.subjects),
        },
    }


router = APIRouter(tags=["Event API"])
"""Mounted under /ebox/citizen and /ebox/enterprise by `register` (ebox.api.mounting)."""


@router.get(
    "/document/events",
    name="getEbox{Domain}DocumentEvents",
    response_model=EboxEnterpriseDocumentEventPage,
    summary="The document events of this type of eBox after lastSequenceNbr, in order.",
    responses={
        200: {"description": "The event API's EboxEnterpriseDocumentEventPage"},
        **error_responses(400, 401, 403, 503),
    },
)
def events(
    request: Request,
    principal: EventReader,
    ledger: LedgerDep,
    domain: EboxDomain,
    settings: SettingsDep,
    lastSequenceNbr: Annotated[
        int,
        Query(
            ge=0,
            le=LIMITS.position,
            description="The last sequence number of the previous page",
        ),
    ],
    pageSize: Annotated[int, Query(ge=1, le=MAX_FEED_PAGE_SIZE)],
    clientId: ReferenceId | None = None,
    startTime: Annotated[str | None, Query(description="RFC 3339 date-time")] = None,
    filter: Annotated[
        str | None, Query(max_length=200, description="Event types to keep, comma-separated")
    ] = None,
    min_position: MinPositionHeader = None,
) -> JSONResponse:
    keep = reader_filter(principal, ledger)
    if clientId is not None and clientId not in (principal.client_id, principal.subject):
        raise ApiError(403, "FORBIDDEN", "clientId names another client than the caller")
    keep = of_types(event_types(filter), keep)
    start = date_bound("startTime", startTime)
    wait_for_view(ledger, "feed", min_position, consistency_timeout(request))
    view = FeedView.of(ledger)
    found, last, has_next = scan(view, domain, lastSequenceNbr, pageSize, start, keep)
    provider = event_provider_id(settings)
    return JSONResponse(
        {
            PAGE_KEY: [event_json(e, provider) for e in found],
            "pageInfo": {"lastSequenceNbr": last, "hasNext": has_next},
        }
    )


def register(app: FastAPI) -> None:
    mount_per_domain(app, router, "/ebox/{domain}")
