"""The lifecycle scheduler: one place decides what is due for a letter, from the log and a clock.

Two halves. `LifecycleScheduler` is a follower on the one follower engine: as
it follows Sent, Read, Expired and a mailbox's Closed it writes what becomes
due into `lifecycle_due` (message, kind, due_at), in the transaction that moves
its tracking position, so a due item is recorded exactly once. `DueWork` then
executes what is due as of a clock time (`ebox.domain.ports.Clock`): the
system clock in `ebox workers`, a fixed one for `--now`.

A due item is done once even across restarts and two runners: its row is
claimed by the conditional UPDATE that marks it done, in the same transaction
as the work (a rollback un-claims it), and the work itself is guarded by the
aggregate (a Message refuses to expire twice; the event store refuses a second
event at the same version).

The notifier plugs in here: its own follower (`ebox.projections.notifier`)
records its kinds (`new_document`, `reminder` 15 days after delivery,
`expiry_alert` 7 days before expiry, a mailbox's `digest`) in the same table,
and its handlers join `DueWork.handlers`; a Read already closes the reminder
and the alert. A handler that recorded a failure (a refused mail's
NotificationFailed) answers RETRY: the item is un-claimed in that same
transaction and due again after `retry_delay`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic
from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

from ebox.adapters.runtime import Ledger
from ebox.adapters.tables import lifecycle_due
from ebox.domain.errors import AlreadyExpired
from ebox.domain.mailbox import Mailbox
from ebox.domain.message import Message
from ebox.domain.ports import Clock
from ebox.domain.proofs.canonical import parse_rfc3339, rfc3339
from ebox.domain.redaction import code_location
from ebox.projections.faults import error_class
from ebox.projections.follower import Follower

log = logging.getLogger("ebox.lifecycle")

EXPIRE = "expire"
SHRED = "shred"
CLOSED_BY_READ = ("reminder", "expiry_alert")
"""Kinds that a first opening makes pointless (the notifier's)."""
MAX_ATTEMPTS = 5
"""Failed attempts after which an item is left for an operator (`last_error` says why)."""
RETRY = "retry"
"""A handler's outcome when its work failed in a way it recorded (a refused mail): the
item is un-claimed in the same transaction, due again after a backoff."""
RETRY_SETTING = "EBOX_NOTIFY_RETRY_SECONDS"
DEFAULT_RETRY_SECONDS = 300
MAX_RETRY_DELAY = timedelta(days=1)
RETENTION_SETTING = "EBOX_CLOSED_MAILBOX_RETENTION_DAYS"
DEFAULT_RETENTION_DAYS = 90


def closed_mailbox_retention(env: Mapping[str, str] | None = None) -> timedelta:
    """How long a closed mailbox's letters are kept before they are shredded."""
    env = os.environ if env is None else env
    return timedelta(days=int(env.get(RETENTION_SETTING) or DEFAULT_RETENTION_DAYS))


def retry_delay(attempts: int, env: Mapping[str, str] | None = None) -> timedelta:
    """The backoff before attempt `attempts + 1`: the base doubled each time, at most a day."""
    env = os.environ if env is None else env
    base = timedelta(seconds=float(env.get(RETRY_SETTING) or DEFAULT_RETRY_SECONDS))
    return min(base * (2 ** max(0, attempts - 1)), MAX_RETRY_DELAY)


def utc(moment: datetime) -> datetime:
    """Aware UTC (SQLite hands back naive UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class LifecycleScheduler(Follower):
    """Follows the log and records, once, what becomes due for each letter."""

    name = "lifecycle"
    topics = (
        get_topic(Message.Sent),
        get_topic(Message.Read),
        get_topic(Message.Expired),
        get_topic(Mailbox.Closed),
    )

    def __init__(
        self, ledger: Ledger, batch_size: int | None = None, retention: timedelta | None = None
    ) -> None:
        super().__init__(ledger, batch_size)
        self.retention = closed_mailbox_retention() if retention is None else retention

    def handle(self, session: Session, notifications: Sequence[Notification]) -> None:
        for notification in notifications:
            event = self.app.mapper.to_domain_event(notification)
            if isinstance(event, Message.Sent):
                self._due(session, event, EXPIRE, parse_rfc3339(event.expires_at))
            elif isinstance(event, Message.Read):
                self._close(session, str(event.originator_id), "read", CLOSED_BY_READ)
            elif isinstance(event, Message.Expired):
                self._close(session, str(event.originator_id), "expired", None)
            elif isinstance(event, Mailbox.Closed):
                self._shred_after_retention(session, str(event.originator_id), event.timestamp)

    def _due(self, session: Session, sent: Any, kind: str, due_at: datetime) -> None:
        row = {
            "message_id": str(sent.originator_id),
            "kind": kind,
            "due_at": utc(due_at),
            "publication_id": sent.publication_id,
            "mailbox_id": sent.mailbox_id,
            "attempts": 0,
        }
        session.execute(self.ledger.db.insert_ignore(lifecycle_due), row)

    def _close(
        self, session: Session, message_id: str, outcome: str, kinds: Sequence[str] | None
    ) -> None:
        """Pending items of a message that no longer need doing (read, or already expired)."""
        where = [lifecycle_due.c.message_id == message_id, lifecycle_due.c.done_at.is_(None)]
        if kinds is not None:
            where.append(lifecycle_due.c.kind.in_(kinds))
        session.execute(
            update(lifecycle_due).where(*where).values(done_at=datetime.now(UTC), outcome=outcome)
        )

    def _shred_after_retention(self, session: Session, mailbox_id: str, closed: datetime) -> None:
        """A closed mailbox's live letters are shredded after the retention (if before expiry)."""
        due_at = utc(closed) + self.retention
        rows = session.execute(
            select(lifecycle_due).where(
                lifecycle_due.c.mailbox_id == mailbox_id,
                lifecycle_due.c.kind == EXPIRE,
                lifecycle_due.c.done_at.is_(None),
            )
        ).all()
        for row in rows:
            if utc(row.due_at) <= due_at:
                continue
            session.execute(
                self.ledger.db.insert_ignore(lifecycle_due),
                {
                    "message_id": row.message_id,
                    "kind": SHRED,
                    "due_at": due_at,
                    "publication_id": row.publication_id,
                    "mailbox_id": mailbox_id,
                    "attempts": 0,
                },
            )


@dataclass(frozen=True)
class DueItem:
    message_id: str
    kind: str
    due_at: datetime
    publication_id: str
    mailbox_id: str


Handler = Callable[[Ledger, Session, DueItem], str]
"""Does one due item inside the claiming transaction; returns its outcome."""


def expire(ledger: Ledger, session: Session, item: DueItem) -> str:
    """End of validity (or of a closed mailbox's retention): shred and record Expired."""
    reason = (
        "the message type's validity period ended"
        if item.kind == EXPIRE
        else "the mailbox was closed and its retention period ended"
    )
    sharing = session.execute(
        select(lifecycle_due.c.message_id).where(
            lifecycle_due.c.publication_id == item.publication_id,
            lifecycle_due.c.kind == EXPIRE,
            lifecycle_due.c.message_id != item.message_id,
        )
    ).scalars()
    try:
        ledger.app.expire(
            item.message_id, reason, due_at=rfc3339(item.due_at), sharing=list(sharing)
        )
    except AlreadyExpired:
        return "already expired"
    return "expired"


@dataclass(frozen=True)
class DueRun:
    done: int
    failed: int


class DueWork:
    """Runs every item due as of the clock's time, each exactly once."""

    def __init__(
        self, ledger: Ledger, handlers: Mapping[str, Handler] | None = None, batch: int = 100
    ) -> None:
        self.ledger = ledger
        self.handlers: dict[str, Handler] = dict(
            handlers if handlers is not None else {EXPIRE: expire, SHRED: expire}
        )
        self.batch = batch

    def pending(self, now: datetime) -> list[DueItem]:
        t = lifecycle_due.c
        query = (
            select(t.message_id, t.kind, t.due_at, t.publication_id, t.mailbox_id)
            .where(
                t.done_at.is_(None),
                t.due_at <= utc(now),
                t.attempts < MAX_ATTEMPTS,
                t.kind.in_(sorted(self.handlers)),
            )
            .order_by(t.due_at, t.message_id, t.kind)
            .limit(self.batch)
        )
        with self.ledger.db.read() as session:
            return [
                DueItem(r.message_id, r.kind, utc(r.due_at), r.publication_id, r.mailbox_id)
                for r in session.execute(query)
            ]

    def run(self, clock: Clock) -> DueRun:
        """Everything due as of `clock.now()`, batch after batch, until nothing is left."""
        now = clock.now()
        done = failed = 0
        skipped: set[tuple[str, str]] = set()
        while True:
            items = [i for i in self.pending(now) if (i.message_id, i.kind) not in skipped]
            if not items:
                return DueRun(done, failed)
            for item in items:
                outcome = self.do(item, now)
                if outcome is None:
                    failed += 1
                    skipped.add((item.message_id, item.kind))
                elif outcome != "":
                    done += 1

    def do(self, item: DueItem, now: datetime | None = None) -> str | None:
        """One item: its outcome; "" when another runner had it; None when it failed.

        A handler that answers RETRY has recorded its failure (an event) in this
        transaction; the item is un-claimed with it, due again after `retry_delay`
        from `now` (the clock's time), and counts as failed.
        """
        t = lifecycle_due.c
        try:
            with self.ledger.db.write() as session:
                claimed: Any = session.execute(
                    update(lifecycle_due)
                    .where(and_(t.message_id == item.message_id, t.kind == item.kind))
                    .where(t.done_at.is_(None))
                    .values(done_at=datetime.now(UTC), outcome="claimed")
                )
                if claimed.rowcount != 1:
                    return ""
                outcome = self.handlers[item.kind](self.ledger, session, item)
                if outcome == RETRY:
                    attempts = int(
                        session.execute(
                            select(t.attempts).where(
                                t.message_id == item.message_id, t.kind == item.kind
                            )
                        ).scalar()
                        or 0
                    )
                    session.execute(
                        update(lifecycle_due)
                        .where(t.message_id == item.message_id, t.kind == item.kind)
                        .values(
                            done_at=None,
                            outcome=None,
                            attempts=attempts + 1,
                            due_at=utc(now or datetime.now(UTC)) + retry_delay(attempts + 1),
                            last_error=RETRY,
                        )
                    )
                    return None
                session.execute(
                    update(lifecycle_due)
                    .where(t.message_id == item.message_id, t.kind == item.kind)
                    .values(outcome=outcome)
                )
            return outcome
        except Exception as error:
            log.warning(
                "due %s of message %s failed (%s at %s)",
                item.kind,
                item.message_id,
                error_class(error),
                code_location(error),
            )
            with self.ledger.db.write() as session:
                session.execute(
                    update(lifecycle_due)
                    .where(t.message_id == item.message_id, t.kind == item.kind)
                    .values(attempts=t.attempts + 1, last_error=error_class(error)[:200])
                )
            return None
