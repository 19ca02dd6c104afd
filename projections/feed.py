"""The event feed of the eBox event API: `newDocument` and `readDocument`, in order.

`GET /ebox/enterprise/document/events?lastSequenceNbr=N&pageSize=P` (and the
same for citizens) pages through one sequence per eBox type. Sequence numbers
are contiguous (1, 2, 3, ...) and assigned in log order by the projection, the
only writer (its tracking row is locked while a batch runs), so a consumer that
remembers the last number it saw never misses or repeats an event, and a
rebuild assigns the very same numbers again.

A `newDocument` is appended when a message is Delivered, a `readDocument` when
it is Read, a `newDocumentReminder` or `documentExpirationAlert` when the
notifier recorded that it told the owner (`Notified` of that kind). Each
carries what the event API's `EboxEnterpriseDocumentEvent`
requires (messageId, receiptDate, expirationDate, registeredMail) and its
optional message type, sender and subject; the facts come from the message's
Sent event, kept in `feed_messages` until they are needed.

Mapping to the contract: `sequence_nbr` -> eventSequenceNbr, `event_time` ->
eventTime, `event_type` -> eventData.eventType, `ebox_id_value` ->
eventData.enterpriseId (the KBO number; for citizens, their national register
number), `subjects` -> eventData.subject; eventProviderId is the provider's own
identifier, a setting of the API.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ebox.adapters.tables import feed_events, feed_messages
from ebox.domain.mailbox import EBOX_TYPES
from ebox.domain.message import Message
from ebox.domain.proofs.canonical import parse_rfc3339
from ebox.projections.queries import (
    EboxId,
    InvalidQuery,
    utc,
    utc_required,
)
from ebox.projections.views import (
    RowBatch,
    View,
    ViewProjection,
    dispatch,
)

NEW_DOCUMENT = "newDocument"
READ_DOCUMENT = "readDocument"
NOTIFIED_KINDS = ("newDocumentReminder", "documentExpirationAlert")
MAX_FEED_PAGE_SIZE = 1000


@dataclass(frozen=True)
class FeedEvent:
    sequence_nbr: int
    event_time: datetime
    event_type: str
    ebox: EboxId
    message_id: str
    receipt_date: datetime
    expiration_date: datetime
    registered_mail: bool
    message_type_id: str
    sender_organization_id: str
    sender_application_id: str
    subjects: dict[str, str]


@dataclass(frozen=True)
class FeedPage:
    """The contract's page: events, and pageInfo's lastSequenceNbr and hasNext."""

    events: tuple[FeedEvent, ...]
    last_sequence_nbr: int
    has_next: bool


class FeedView(View):
    projection_name = "feed"
    view_tables = (feed_events, feed_messages)

    def page(
        self,
        ebox_type: str,
        last_sequence_nbr: int = 0,
        page_size: int = 100,
        start_time: datetime | None = None,
    ) -> FeedPage:
        """The events of `ebox_type` after `last_sequence_nbr` (and at or after `start_time`)."""
        if ebox_type not in EBOX_TYPES:
            raise InvalidQuery(f"eBox type must be one of {', '.join(EBOX_TYPES)}")
        if not 1 <= page_size <= MAX_FEED_PAGE_SIZE:
            raise InvalidQuery(f"pageSize must lie between 1 and {MAX_FEED_PAGE_SIZE}")
        if last_sequence_nbr < 0:
            raise InvalidQuery("lastSequenceNbr must not be negative")
        t = feed_events
        query = (
            select(t)
            .where(t.c.ebox_type == ebox_type, t.c.sequence_nbr > last_sequence_nbr)
            .order_by(t.c.sequence_nbr)
            .limit(page_size + 1)
        )
        if start_time is not None:
            query = query.where(t.c.event_time >= utc(start_time))
        with self.reading() as session:
            rows = session.execute(query).all()
        events = tuple(_event(row) for row in rows[:page_size])
        last = events[-1].sequence_nbr if events else last_sequence_nbr
        return FeedPage(events, last, len(rows) > page_size)

    def last_sequence_nbr(self, ebox_type: str) -> int:
        with self.reading() as session:
            return _last_sequence_nbr(session, ebox_type)


def _last_sequence_nbr(session: Session, ebox_type: str) -> int:
    t = feed_events
    query = select(func.max(t.c.sequence_nbr)).where(t.c.ebox_type == ebox_type)
    return int(session.execute(query).scalar() or 0)


def _event(row: Any) -> FeedEvent:
    return FeedEvent(
        sequence_nbr=int(row.sequence_nbr),
        event_time=utc_required(row.event_time),
        event_type=row.event_type,
        ebox=EboxId(row.ebox_type, row.ebox_id_value),
        message_id=row.message_id,
        receipt_date=utc_required(row.receipt_date),
        expiration_date=utc_required(row.expires_at),
        registered_mail=bool(row.registered),
        message_type_id=row.message_type_id,
        sender_organization_id=row.sender_kbo,
        sender_application_id=row.sender_application_id,
        subjects=dict(row.subjects),
    )


class FeedProjection(ViewProjection[FeedView]):
    name = "feed"
    topics = tuple(
        get_topic(cls) for cls in (Message.Sent, Message.Delivered, Message.Read, Message.Notified)
    )

    def apply(self, session: Session, items: Sequence[tuple[Any, Tracking]]) -> None:
        _FeedWriter(session, items).write()


class _FeedWriter:
    """Appends one batch's feed events, numbering them on from the stored maximum."""

    def __init__(self, session: Session, items: Sequence[tuple[Any, Tracking]]) -> None:
        self.session = session
        self.items = items
        self.messages = RowBatch(feed_messages, "message_id")
        self.facts: dict[str, dict[str, Any]] = {}
        self.sequence: dict[str, int] = {}
        self.events: list[dict[str, Any]] = []

    def write(self) -> None:
        self._prefetch()
        dispatch(
            {
                Message.Sent: self.sent,
                Message.Delivered: self.delivered,
                Message.Read: lambda e, t: self.append(READ_DOCUMENT, e, t),
                Message.Notified: self.notified,
            },
            self.items,
        )
        self.messages.flush(self.session)
        if self.events:
            self.session.execute(feed_events.insert(), self.events)

    def _prefetch(self) -> None:
        """Facts of the batch's delivered or read messages sent in earlier batches: one query."""
        sent_here = {str(e.originator_id) for e, _ in self.items if isinstance(e, Message.Sent)}
        wanted = {str(e.originator_id) for e, _ in self.items} - sent_here
        if wanted:
            t = feed_messages
            for row in self.session.execute(select(t).where(t.c.message_id.in_(sorted(wanted)))):
                self.facts[row.message_id] = dict(row._mapping)

    def sent(self, event: Any, _: Tracking) -> None:
        ebox = EboxId.parse(event.recipient)
        row = {
            "message_id": str(event.originator_id),
            "ebox_type": ebox.ebox_type,
            "ebox_id_value": ebox.id_value,
            "sender_kbo": event.sender,
            "sender_application_id": event.application,
            "message_type_id": event.message_type,
            "subjects": dict(event.subjects),
            "registered": bool(event.registered),
            "expires_at": parse_rfc3339(event.expires_at),
            "receipt_date": None,
        }
        self.messages.insert(row)
        self.facts[row["message_id"]] = row

    def delivered(self, event: Any, tracking: Tracking) -> None:
        message_id = str(event.originator_id)
        self.messages.update(message_id, receipt_date=event.timestamp)
        self.facts[message_id] = {**self.facts[message_id], "receipt_date": event.timestamp}
        self.append(NEW_DOCUMENT, event, tracking)

    def notified(self, event: Any, tracking: Tracking) -> None:
        """A reminder or an expiry alert sent (the newDocument itself is the Delivered)."""
        if event.kind in NOTIFIED_KINDS:
            self.append(event.kind, event, tracking)

    def append(self, event_type: str, event: Any, tracking: Tracking) -> None:
        facts = self.facts[str(event.originator_id)]
        ebox_type = facts["ebox_type"]
        if ebox_type not in self.sequence:
            self.sequence[ebox_type] = _last_sequence_nbr(self.session, ebox_type)
        self.sequence[ebox_type] += 1
        self.events.append(
            {
                "ebox_type": ebox_type,
                "sequence_nbr": self.sequence[ebox_type],
                "event_type": event_type,
                "event_time": event.timestamp,
                "notification_id": tracking.notification_id,
                "message_id": facts["message_id"],
                "ebox_id_value": facts["ebox_id_value"],
                "receipt_date": facts["receipt_date"],
                "expires_at": facts["expires_at"],
                "registered": facts["registered"],
                "message_type_id": facts["message_type_id"],
                "sender_kbo": facts["sender_kbo"],
                "sender_application_id": facts["sender_application_id"],
                "subjects": facts["subjects"],
            }
        )
