"""Following the notification log exactly once.

A follower reads notifications after its tracked position and handles them in
the same transaction that moves the position: a crash either commits both or
neither, so work is picked up again after a restart, never done twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import Notification
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ebox.projections.runtime import Ledger
from ebox.projections.tables import tracking


class Follower:
    name = "follower"
    batch_size = 500
    topics: Sequence[str] = ()

    def __init__(self, ledger: Ledger, batch_size: int | None = None) -> None:
        self.ledger = ledger
        self.app = ledger.app
        if batch_size:
            self.batch_size = batch_size

    def position(self) -> int:
        with self.ledger.db.read() as session:
            return self._position(session, lock=False)

    def lag(self) -> int:
        latest = self.app.recorder.max_notification_id() or 0
        return max(0, latest - self.position())

    def run_once(self) -> int:
        """Handle one batch; return how many notifications it handled.

        The position moves to the last notification *examined*, not the last one
        handled, so a follower of some topics shows no lag when the rest of the
        log is about other things. Writers hold the events table's lock until they
        commit, so every id up to the committed maximum is final: skipping to it
        loses nothing.
        """
        try:
            with self.ledger.db.write() as session:
                position = self._position(session, lock=True)
                upper = int(self.app.recorder.max_notification_id() or 0)
                if upper <= position:
                    return 0
                notifications = self.select(session, position, upper)
                if notifications:
                    self.handle(session, notifications)
                full = len(notifications) == self.batch_size
                self._move(session, position, notifications[-1].id if full else upper)
                return len(notifications)
        except BaseException:
            self.forget()
            raise

    def run_until_idle(self) -> int:
        total = 0
        while (handled := self.run_once()) or self.position() < self._latest():
            total += handled
        return total

    def _latest(self) -> int:
        return int(self.app.recorder.max_notification_id() or 0)

    def select(self, session: Session, position: int, upper: int) -> Sequence[Notification]:
        """The next batch after `position` up to `upper`, in notification order."""
        return self.app.recorder.select_notifications(
            start=position + 1, limit=self.batch_size, stop=upper, topics=self.topics
        )

    def handle(self, session: Session, notifications: Sequence[Notification]) -> None:
        raise NotImplementedError

    def forget(self) -> None:
        """Drop in-memory state after a failed batch; it is rebuilt from storage."""

    def _position(self, session: Session, lock: bool) -> int:
        query: Any = select(tracking.c.position).where(tracking.c.name == self.name)
        if lock and self.ledger.db.dialect == "postgresql":
            query = query.with_for_update()
        position = session.execute(query).scalar()
        if position is None:
            session.execute(
                self.ledger.db.insert_ignore(tracking), {"name": self.name, "position": 0}
            )
            return 0
        return int(position)

    def _move(self, session: Session, old: int, new: int) -> None:
        result: Any = session.execute(
            update(tracking)
            .where(tracking.c.name == self.name, tracking.c.position == old)
            .values(position=new)
        )
        if result.rowcount != 1:
            raise RuntimeError(f"{self.name}: another worker moved the position from {old}")
