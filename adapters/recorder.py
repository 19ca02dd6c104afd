"""The ledger's event recorder: eventsourcing_sqlalchemy's, with its hot statements in Core.

eventsourcing_sqlalchemy writes and reads events through the ORM: a record
object per event, `session.add` and a flush to learn the ids, an ORM query
(whole rows, identity map) to find the newest id or read the log. A profile of
`bench/http_publish.py` showed that machinery, not the database, as the
largest single cost of a letter, and the followers paying it again on every
batch. The same statements in SQLAlchemy Core do the same work:

- events are inserted with one INSERT .. RETURNING id (executemany with
  insertmanyvalues, ids in the order of the events), after the same table lock;
- on PostgreSQL the lock and the NOTIFY go in one round trip (a NOTIFY is
  delivered at commit, wherever it stands in the transaction);
- the newest id, one aggregate's events and a stretch of the log are Core
  SELECTs of the columns needed.

Nothing else changes: same table, same columns, same transaction (the current
eventsourcing session), same lock, same errors (a duplicate version is still
the database's IntegrityError, raised as eventsourcing's when the unit of work
ends).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing_sqlalchemy.recorders import SQLAlchemyApplicationRecorder
from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session


class CoreApplicationRecorder(SQLAlchemyApplicationRecorder):
    """SQLAlchemyApplicationRecorder whose insert and reads are Core statements."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.table: Table = self.events_record_cls.__table__
        self._insert = insert(self.table).returning(self.table.c.id, sort_by_parameter_order=True)

    @property
    def _postgresql(self) -> bool:
        assert self.datastore.engine is not None
        return bool(self.datastore.engine.dialect.name == "postgresql")

    def _insert_stored_events(
        self, session: Session, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int]:
        if not stored_events:
            return []
        rows = [
            {
                "originator_id": e.originator_id,
                "originator_version": e.originator_version,
                "topic": e.topic,
                "state": e.state,
            }
            for e in stored_events
        ]
        if self._postgresql:
            # Insert order = commit order for the followers: the table lock, as upstream.
            # Through SQLAlchemy (not the raw cursor), so that a driver's refusal (a role
            # that may only read) arrives as SQLAlchemy's DBAPIError, as every other one does.
            session.connection().exec_driver_sql(
                f"LOCK TABLE {self._table_name} IN EXCLUSIVE MODE; NOTIFY {self.channel_name}"
            )
        result = session.execute(self._insert, rows)
        return [int(row[0]) for row in result]

    @property
    def _table_name(self) -> str:
        if self.schema_name is not None:
            return f"{self.schema_name}.{self.events_table_name}"
        return self.events_table_name

    def max_notification_id(self) -> int | None:
        with self.transaction(commit=False) as session:
            newest = session.execute(select(func.max(self.table.c.id))).scalar()
        return None if newest is None else int(newest)

    def select_events(
        self,
        originator_id: UUID | str,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> list[StoredEvent]:
        t = self.table
        version = t.c.originator_version
        query = select(t.c.originator_id, version, t.c.topic, t.c.state).where(
            t.c.originator_id == originator_id
        )
        if gt is not None:
            query = query.where(version > gt)
        if lte is not None:
            query = query.where(version <= lte)
        query = query.order_by(version.desc() if desc else version)
        if limit is not None:
            query = query.limit(limit)
        with self.transaction(commit=False) as session:
            return [
                StoredEvent(
                    originator_id=row[0],
                    originator_version=row[1],
                    topic=row[2],
                    state=bytes(row[3]),
                )
                for row in session.execute(query)
            ]

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> list[Notification]:
        t = self.table
        query = select(t.c.id, t.c.originator_id, t.c.originator_version, t.c.topic, t.c.state)
        if start is not None:
            query = query.where(t.c.id >= start if inclusive_of_start else t.c.id > start)
        if stop is not None:
            query = query.where(t.c.id <= stop)
        if topics:
            query = query.where(t.c.topic.in_(topics))
        query = query.order_by(t.c.id).limit(limit)
        with self.transaction(commit=False) as session:
            return [
                Notification(
                    id=row[0],
                    originator_id=row[1],
                    originator_version=row[2],
                    topic=row[3],
                    state=bytes(row[4]),
                )
                for row in session.execute(query)
            ]
