"""The sender status view: what a sender may learn about its own letters.

Behind the contract's `searchMessageStatus`: per message the recipient eBox,
publication, expiry and whether it was delivered, read (a main content opened)
and is visible; for a registered letter, its legal moment of receipt under the
operator's rule (:func:`MessageStatus.legal_moment`). A sender only ever sees
rows it sent: every query takes the sender's KBO number from the authenticated
client, never from the request body.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic
from sqlalchemy import select
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from ebox.adapters.tables import status_messages
from ebox.domain.message import Message
from ebox.domain.proofs.canonical import parse_rfc3339
from ebox.domain.proofs.legal_timing import LegalMoment, LegalRule, legal_moment
from ebox.projections.queries import (
    EboxId,
    InvalidQuery,
    canonical_message_id,
    utc,
    utc_required,
)
from ebox.projections.views import (
    RowBatch,
    View,
    ViewProjection,
    dispatch,
)

MAX_STATUS_REQUEST = 1000


@dataclass(frozen=True)
class MessageRef:
    """One couple of the contract's MessagesStatusRequest."""

    message_id: str
    ebox: EboxId


@dataclass(frozen=True)
class MessageStatus:
    """The contract's MessageStatus, plus what the ledger knows beyond it."""

    message_id: str
    ebox: EboxId
    sender_organization_id: str
    publication_id: str
    expiration_date: datetime
    delivered: bool
    delivered_at: datetime | None
    read: bool
    read_at: datetime | None
    visible: bool
    expired: bool
    registered: bool = False

    def legal_moment(self, rule: LegalRule, now: datetime) -> LegalMoment | None:
        """When this registered letter counts as received, as known at `now` (None: not yet).

        The same computation as the evidence bundle's, from the same two facts
        (delivery and first opening); an expired letter can no longer be opened,
        so its deemed moment is settled.
        """
        if not self.registered:
            return None
        as_of = datetime.max.replace(tzinfo=UTC) if self.expired else now
        return legal_moment(rule, self.delivered_at, self.read_at, as_of=as_of)


class StatusView(View):
    projection_name = "status"
    view_tables = (status_messages,)

    def statuses(self, sender_kbo: str, refs: Sequence[MessageRef]) -> list[MessageStatus]:
        """searchMessageStatus: the statuses of those couples that are this sender's.

        Unknown ids, another sender's letters and couples whose eBox does not
        match the message are left out alike, so the answer reveals nothing
        about letters the caller did not send. Order follows the request.
        """
        if len(refs) > MAX_STATUS_REQUEST:
            raise InvalidQuery(f"at most {MAX_STATUS_REQUEST} messages per status request")
        wanted = list(dict.fromkeys((canonical_message_id(r.message_id), r.ebox) for r in refs))
        if not wanted:
            return []
        t = status_messages
        ids = sorted({message_id for message_id, _ in wanted})
        query = select(t).where(t.c.sender_kbo == sender_kbo, t.c.message_id.in_(ids))
        with self.reading() as session:
            found = {row.message_id: _status(row) for row in session.execute(query)}
        return [
            found[message_id]
            for message_id, ebox in wanted
            if message_id in found and found[message_id].ebox == ebox
        ]

    def publication_statuses(self, sender_kbo: str, publication_id: str) -> list[MessageStatus]:
        """Every recipient's status of one of this sender's publications."""
        t = status_messages
        query = (
            select(t)
            .where(t.c.sender_kbo == sender_kbo, t.c.publication_id == publication_id)
            .order_by(t.c.ebox_type, t.c.ebox_id_value, t.c.message_id)
        )
        with self.reading() as session:
            return [_status(row) for row in session.execute(query)]


def _status(row: Row[Any]) -> MessageStatus:
    return MessageStatus(
        message_id=row.message_id,
        ebox=EboxId(row.ebox_type, row.ebox_id_value),
        sender_organization_id=row.sender_kbo,
        publication_id=row.publication_id,
        expiration_date=utc_required(row.expires_at),
        delivered=bool(row.delivered),
        delivered_at=utc(row.delivered_at),
        read=bool(row.read),
        read_at=utc(row.read_at),
        visible=bool(row.visible),
        expired=bool(row.expired),
        registered=bool(row.registered),
    )


class StatusProjection(ViewProjection[StatusView]):
    name = "status"
    topics = tuple(
        get_topic(cls)
        for cls in (
            Message.Sent,
            Message.Delivered,
            Message.Read,
            Message.Hidden,
            Message.Shown,
            Message.Expired,
        )
    )

    def apply(self, session: Session, items: Sequence[tuple[Any, Tracking]]) -> None:
        rows = RowBatch(status_messages, "message_id")

        def change(event: Any, **values: Any) -> None:
            rows.update(str(event.originator_id), **values)

        dispatch(
            {
                Message.Sent: lambda e, _: rows.insert(_sent_row(e)),
                Message.Delivered: lambda e, _: change(e, delivered=True, delivered_at=e.timestamp),
                Message.Read: lambda e, _: change(e, read=True, read_at=e.timestamp),
                Message.Hidden: lambda e, _: change(e, visible=False),
                Message.Shown: lambda e, _: change(e, visible=True),
                Message.Expired: lambda e, _: change(e, expired=True),
            },
            items,
        )
        rows.flush(session)


def _sent_row(event: Any) -> dict[str, Any]:
    ebox = EboxId.parse(event.recipient)
    return {
        "message_id": str(event.originator_id),
        "sender_kbo": event.sender,
        "ebox_type": ebox.ebox_type,
        "ebox_id_value": ebox.id_value,
        "publication_id": event.publication_id,
        "expires_at": parse_rfc3339(event.expires_at),
        "delivered": False,
        "delivered_at": None,
        "read": False,
        "read_at": None,
        "visible": True,
        "expired": False,
        "registered": bool(event.registered),
    }
