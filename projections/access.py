"""Who opened my letters, and whose eBoxes may I open: the "access" read model.

The portal shows a person every opening of the letters in the eBoxes they may
see (issue 11: "who opened my letters"), with the reader, the channel, the
time, and whether it was the person, a mandate holder or a partner app; and
the eBoxes they hold a mandate for, to switch to. Both are questions about one
mailbox or one person, answered here from rows indexed for them, never by
reading the log per request.

Rows, written in log order (the follower engine moves the position with them):

- `access_mailboxes`: a mailbox's address (a MandateGranted names only the id);
- `access_messages`: a letter's mailbox, sender and subjects (an opening names
  only the letter);
- `access_events`: one row per Read (ContentHandover) or ContentAccessed
  (ContentAccessTracking), keyed by its notification id, with the letter's
  aggregate version, which with `ledger_leaves` gives the entry's leaf index in
  the transparency log and so its inclusion proof (`GET /ledger/proof?index=`);
- `mandate_holders`: the mandates in force, by holder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic
from sqlalchemy import and_, delete, insert, select
from sqlalchemy.orm import Session

from ebox.adapters.tables import (
    access_events,
    access_mailboxes,
    access_messages,
    ledger_leaves,
    mandate_holders,
)
from ebox.domain.mailbox import Mailbox
from ebox.domain.message import Message
from ebox.projections.queries import EboxId, InvalidQuery, utc_required
from ebox.projections.views import RowBatch, View, ViewProjection, dispatch

MAX_ACCESS_PAGE_SIZE = 200

SELF = "self"
MANDATE = "mandate"
PARTNER = "partner"


def accessor_kind(owners: frozenset[str], reader: str, channel: str) -> str:
    """Whether an opening was the owner's own, a mandate holder's or a partner app's.

    The channel says the way in (`portal`, `partner:<id>`, `mandate:<reader>`,
    see ebox.api.deps); a partner app is named even when a mandate holder used
    it, since the app is what the owner consented to and may revoke. `owners`
    are the owner's names as a reader: their address (``citizen:NRN``), and
    ``owner:<mailbox id>``, which the demo's and the operator's tools record.
    """
    if channel.startswith("partner:"):
        return PARTNER
    if channel.startswith("mandate:") or reader not in owners:
        return MANDATE
    return SELF


@dataclass(frozen=True)
class AccessEntry:
    """One opening of a letter, as the ledger recorded it, and where to prove it."""

    notification_id: int
    message_id: str
    event_type: str  # "Read" (first opening of a main content) or "ContentAccessed"
    reader: str
    channel: str
    kind: str  # SELF, MANDATE or PARTNER
    document: str
    time: datetime
    sender_kbo: str
    subjects: dict[str, str]
    version: int
    leaf_index: int | None  # None until the sealer has logged the event

    @property
    def proof_path(self) -> str | None:
        """The C2SP tlog-proof of this entry against the latest checkpoint."""
        return None if self.leaf_index is None else f"/ledger/proof?index={self.leaf_index}"


@dataclass(frozen=True)
class AccessPage:
    """Newest first; `before` of the next page is `next_before` (None: no more)."""

    entries: tuple[AccessEntry, ...]
    next_before: int | None


class AccessView(View):
    projection_name = "access"
    view_tables = (access_events, access_messages, access_mailboxes, mandate_holders)

    def history(
        self, mailbox_id: str, owner: str, before: int | None = None, page_size: int = 50
    ) -> AccessPage:
        """The openings of `mailbox_id`'s letters, newest first, before notification `before`.

        Keyset paging on the (mailbox_id, notification_id) index: a page costs
        the same at the first letter as at the millionth.
        """
        if not 1 <= page_size <= MAX_ACCESS_PAGE_SIZE:
            raise InvalidQuery(f"the page size must lie between 1 and {MAX_ACCESS_PAGE_SIZE}")
        e, m, leaf = access_events, access_messages, ledger_leaves
        query = (
            select(e, m.c.sender_kbo, m.c.subjects, leaf.c.leaf_index)
            .join(m, m.c.message_id == e.c.message_id)
            .outerjoin(
                leaf, and_(leaf.c.aggregate_id == e.c.message_id, leaf.c.version == e.c.version)
            )
            .where(e.c.mailbox_id == mailbox_id)
            .order_by(e.c.notification_id.desc())
            .limit(page_size + 1)
        )
        if before is not None:
            query = query.where(e.c.notification_id < before)
        with self.reading() as session:
            rows = session.execute(query).all()
        owners = frozenset({owner, f"owner:{mailbox_id}"})
        entries = tuple(_entry(row, owners) for row in rows[:page_size])
        more = len(rows) > page_size and entries
        return AccessPage(entries, entries[-1].notification_id if more else None)

    def mandated(self, holder: str) -> tuple[EboxId, ...]:
        """The eBoxes `holder` (``citizen:NRN``) holds a mandate for, in address order."""
        h, b = mandate_holders, access_mailboxes
        query = (
            select(b.c.ebox_type, b.c.ebox_id_value)
            .join(b, b.c.mailbox_id == h.c.mailbox_id)
            .where(h.c.holder == holder)
            .order_by(b.c.ebox_type, b.c.ebox_id_value)
        )
        with self.reading() as session:
            return tuple(EboxId(r.ebox_type, r.ebox_id_value) for r in session.execute(query))


def _entry(row: Any, owners: frozenset[str]) -> AccessEntry:
    return AccessEntry(
        notification_id=int(row.notification_id),
        message_id=row.message_id,
        event_type=row.event_type,
        reader=row.reader,
        channel=row.channel,
        kind=accessor_kind(owners, row.reader, row.channel),
        document=row.document,
        time=utc_required(row.event_time),
        sender_kbo=row.sender_kbo,
        subjects=dict(row.subjects),
        version=int(row.version),
        leaf_index=None if row.leaf_index is None else int(row.leaf_index),
    )


class AccessProjection(ViewProjection[AccessView]):
    name = "access"
    topics = tuple(
        get_topic(cls)
        for cls in (
            Mailbox.Opened,
            Mailbox.MandateGranted,
            Mailbox.MandateRevoked,
            Message.Sent,
            Message.Read,
            Message.ContentAccessed,
        )
    )

    def apply(self, session: Session, items: Sequence[tuple[Any, Tracking]]) -> None:
        _AccessWriter(session, items).write()


class _AccessWriter:
    """One batch: rows collected in memory, then a few executemany statements.

    Statements run in log order per table; a mandate granted and revoked in one
    batch is written as granted then deleted, so the batch leaves what the log says.
    """

    def __init__(self, session: Session, items: Sequence[tuple[Any, Tracking]]) -> None:
        self.session = session
        self.items = items
        self.mailboxes = RowBatch(access_mailboxes, "mailbox_id")
        self.messages = RowBatch(access_messages, "message_id")
        self.events = RowBatch(access_events, "notification_id")

    def write(self) -> None:
        dispatch(
            {
                Mailbox.Opened: self.opened,
                Message.Sent: self.sent,
                Message.Read: self.opening,
                Message.ContentAccessed: self.opening,
            },
            self.items,
        )
        self._fill_mailboxes()
        for batch in (self.mailboxes, self.messages, self.events):
            batch.flush(self.session)
        self._mandates()

    def opened(self, event: Any, _: Tracking) -> None:
        self.mailboxes.insert(
            {
                "mailbox_id": str(event.originator_id),
                "ebox_type": event.ebox_type,
                "ebox_id_value": event.id_value,
            }
        )

    def sent(self, event: Any, _: Tracking) -> None:
        message_id = str(event.originator_id)
        self.messages.insert(
            {
                "message_id": message_id,
                "mailbox_id": event.mailbox_id,
                "sender_kbo": event.sender,
                "subjects": dict(event.subjects),
            }
        )

    def opening(self, event: Any, tracking: Tracking) -> None:
        self.events.insert(
            {
                "notification_id": tracking.notification_id,
                "mailbox_id": None,  # filled in by _fill_mailboxes
                "message_id": str(event.originator_id),
                "version": event.originator_version,
                "event_type": type(event).__name__,
                "reader": event.reader,
                "channel": event.channel,
                "document": event.document,
                "event_time": event.timestamp,
            }
        )

    def _fill_mailboxes(self) -> None:
        """Each opening's mailbox: from this batch's Sent, else one query for the rest."""
        openings = list(self.events.new.values())
        known = {k: v["mailbox_id"] for k, v in self.messages.new.items()}
        wanted = {row["message_id"] for row in openings} - set(known)
        if wanted:
            m = access_messages
            query = select(m.c.message_id, m.c.mailbox_id).where(m.c.message_id.in_(sorted(wanted)))
            known.update({r.message_id: r.mailbox_id for r in self.session.execute(query)})
        for row in openings:
            row["mailbox_id"] = known[row["message_id"]]

    def _mandates(self) -> None:
        h = mandate_holders
        for event, _ in self.items:
            if isinstance(event, Mailbox.MandateGranted):
                self.session.execute(
                    insert(h).values(
                        holder=event.holder,
                        mailbox_id=str(event.originator_id),
                        granted_at=event.timestamp,
                    )
                )
            elif isinstance(event, Mailbox.MandateRevoked):
                self.session.execute(
                    delete(h).where(
                        h.c.holder == event.holder, h.c.mailbox_id == str(event.originator_id)
                    )
                )
