"""The one engine that follows the notification log exactly once.

Delivery, the sealer and every read model are followers: each reads the
notifications after its tracked position (its row in `ebox_tracking`) and
handles them in the same transaction that moves the position, so a crash
either commits both or neither and work is picked up again after a restart,
never done twice.

Any number of processes may run the same follower on one database. A batch
claims its range by moving the position with a compare-and-set *before* doing
the work: a process that loses the race sees it at once, does nothing, re-reads
and goes on. On PostgreSQL the tracking row is also locked when read, so the
loser waits for the winner's commit instead of reading work it cannot claim;
on SQLite the claim's UPDATE takes the database's write lock for the rest of
the batch.

What to do when handling fails (retry, back off, park) is the supervisor's
business (`ebox.projections.workers`); this module only says which batch it
was, in `Follower.attempted`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import Notification
from eventsourcing.persistence import OperationalError as StoreOperationalError
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ebox.adapters.runtime import Ledger
from ebox.adapters.tables import tracking

CONTENTION_RETRIES = 50
"""Lock timeouts in a row before a batch counts as failed rather than contended."""


class PositionMoved(RuntimeError):
    """Another process moved the follower's position first: this batch is theirs."""

    def __init__(self, name: str, expected: int) -> None:
        super().__init__(f"{name}: another process moved the position from {expected}")
        self.name, self.expected = name, expected


@dataclass(frozen=True)
class Batch:
    """One batch of a follower: the positions before and after, what it handled."""

    start: int
    end: int
    notification_ids: tuple[int, ...]

    @property
    def handled(self) -> int:
        return len(self.notification_ids)

    @property
    def moved(self) -> int:
        return self.end - self.start


def latest_notification_id(ledger: Ledger) -> int:
    """The id of the newest recorded event: a safe position to wait for after a write."""
    return int(ledger.app.recorder.max_notification_id() or 0)


def tracked_position(session: Session, name: str, *, lock: bool = False) -> int | None:
    """The follower's position in this transaction (locked on PostgreSQL with `lock`)."""
    query: Any = select(tracking.c.position).where(tracking.c.name == name)
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    position = session.execute(query).scalar()
    return None if position is None else int(position)


def set_position(session: Session, name: str, position: int) -> None:
    """Put the follower at `position` unconditionally (a rebuild starts it from zero)."""
    result: Any = session.execute(
        update(tracking).where(tracking.c.name == name).values(position=position)
    )
    if result.rowcount == 0:
        session.execute(tracking.insert(), {"name": name, "position": position})


def is_contention(error: BaseException) -> bool:
    """A lock timeout or a serialization failure: someone else was writing, nothing is wrong.

    SQLite answers `database is locked` when another process holds the write lock
    past the busy timeout; PostgreSQL aborts with SQLSTATE 40001 or 40P01.
    """
    for cause in _chain(error):
        if isinstance(cause, DBAPIError):
            code = getattr(cause.orig, "pgcode", None) or getattr(cause.orig, "sqlstate", None)
            if code in ("40001", "40P01"):
                return True
            name = getattr(cause.orig, "sqlite_errorname", "")
            if name.startswith("SQLITE_BUSY") or name.startswith("SQLITE_LOCKED"):
                return True
            if "database is locked" in str(cause.orig):
                return True
    return False


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen:
        seen.append(current)
        if isinstance(current, StoreOperationalError) and current.args:
            first = current.args[0]
            current = first if isinstance(first, BaseException) else current.__cause__
        else:
            current = current.__cause__ or current.__context__
    return seen


class Follower:
    """Follows the notification log from its tracked position, one batch per transaction.

    Subclasses say what to follow (`topics`, or their own `select`) and what to do
    (`handle`); `forget` drops what they keep in memory when a batch fails.
    """

    name: str = "follower"
    batch_size: int = 500
    topics: Sequence[str] = ()

    def __init__(self, ledger: Ledger, batch_size: int | None = None) -> None:
        self.ledger = ledger
        self.app = ledger.app
        if batch_size:
            self.batch_size = batch_size
        self.attempted: Batch | None = None
        """The batch last started: after a failure, the notifications that failed."""

    # ------------------------------------------------------------------ reporting

    def position(self) -> int:
        with self.ledger.db.read() as session:
            return tracked_position(session, self.name) or 0

    def lag(self) -> int:
        """Notifications recorded but not yet examined by this follower."""
        return max(0, latest_notification_id(self.ledger) - self.position())

    # ------------------------------------------------------------------ running

    def step(self, limit: int | None = None) -> Batch | None:
        """Handle the next batch (at most `limit` notifications); None when there is none.

        A lost race is not a failure: the batch is left to its winner and the next
        one is tried. Anything else the handler raises is raised, after `forget`.
        """
        contended = 0
        while True:
            try:
                return self._step(limit or self.batch_size)
            except PositionMoved:
                self.forget()
            except Exception as error:
                self.forget()
                contended += 1
                if not is_contention(error) or contended > CONTENTION_RETRIES:
                    raise
                time.sleep(min(0.01 * contended, 0.2))

    def run_once(self) -> int:
        """One batch; how many notifications it handled."""
        batch = self.step()
        return batch.handled if batch else 0

    def run_until_idle(self) -> int:
        """Batches until the position reaches the newest notification; how many were handled."""
        total = 0
        while (batch := self.step()) is not None:
            total += batch.handled
        return total

    def _step(self, limit: int) -> Batch | None:
        self.attempted = None
        with self.ledger.db.write() as session:
            position = tracked_position(session, self.name, lock=True)
            if position is None:
                session.execute(
                    self.ledger.db.insert_ignore(tracking), {"name": self.name, "position": 0}
                )
                position = 0
            # Writers hold the events table's lock until they commit, so every id up
            # to the committed maximum is final: tracking `upper` skips nothing.
            upper = latest_notification_id(self.ledger)
            if upper <= position:
                return None
            notifications = self.select(session, position, upper, limit)
            end = notifications[-1].id if len(notifications) == limit else upper
            self._claim(session, position, end)
            batch = Batch(position, end, tuple(n.id for n in notifications))
            self.attempted = batch
            if notifications:
                self.handle(session, notifications)
        return batch

    def _claim(self, session: Session, old: int, new: int) -> None:
        """Move the position from `old` to `new`, or learn that someone else did first."""
        result: Any = session.execute(
            update(tracking)
            .where(tracking.c.name == self.name, tracking.c.position == old)
            .values(position=new)
        )
        if result.rowcount != 1:
            raise PositionMoved(self.name, old)

    # ------------------------------------------------------------------ subclasses

    def select(
        self, session: Session, position: int, upper: int, limit: int
    ) -> Sequence[Notification]:
        """The next `limit` notifications after `position` up to `upper`, in log order."""
        return self.app.recorder.select_notifications(
            start=position + 1, limit=limit, stop=upper, topics=self.topics
        )

    def handle(self, session: Session, notifications: Sequence[Notification]) -> None:
        raise NotImplementedError

    def forget(self) -> None:
        """Drop in-memory state after a failed batch; it is rebuilt from storage."""
