"""Running the read models: exactly once, in batches, rebuildable, with their lag.

Each read model is an eventsourcing `Projection` whose materialised view is a
`SQLAlchemyTrackingRecorder` on the ledger's own datastore. Sharing the datastore
means sharing its transaction: the view's rows and its tracking row (the
notification id it has reached) are written in one `datastore.transaction`, so
after a crash a view is always exactly the fold of a prefix of the notification
log, and catching up resumes from the tracking row.

The `ViewRunner` polls the notification log (SQLite and PostgreSQL alike; on
PostgreSQL `run_forever` also wakes up on the recorder's LISTEN/NOTIFY channel),
handles up to `batch_size` notifications per transaction, tracks the last
notification it examined (so a view that nothing concerns has no lag), and can
rebuild a view from zero.

eventsourcing's own `ProjectionRunner` (PostgreSQL subscription) also runs these
projections, one event per transaction: they keep its `process_event(event,
tracking)` contract and its `<name>_tracking` naming. It constructs the
application from an environment alone, so it needs a subclass of `EboxLedger`
that follows without stores, e.g.::

    class FollowedLedger(EboxLedger):
        name = "Ebox"
        def __init__(self, env=None):
            super().__init__(env, stores=lambda app: None)

    ProjectionRunner(application_class=FollowedLedger, projection_class=InboxProjection,
                     view_class=InboxView, env={"SQLALCHEMY_URL": url, "CREATE_TABLE": "n",
                     "PERSISTENCE_MODULE": "eventsourcing_sqlalchemy"})

Its tracked position is then the last *relevant* event, so its lag never reaches
zero while the newest events concern other views; `ViewRunner` is the default.

This module also holds what the three views share: the base view and projection,
the batch writer, paging and the query errors.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from select import select as wait_readable
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar
from uuid import UUID

from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.projection import Projection
from eventsourcing_sqlalchemy.recorders import SQLAlchemyTrackingRecorder
from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from ebox.domain.errors import EboxError
from ebox.domain.errors import NotFound as DomainNotFound
from ebox.domain.ids import mailbox_id

if TYPE_CHECKING:
    from ebox.projections.runtime import Ledger

DEFAULT_BATCH_SIZE = 500
MAX_PAGE_SIZE = 100

# --------------------------------------------------------------------------- errors


class ProjectionError(RuntimeError):
    """Running a projection went wrong."""


class UnknownProjection(ProjectionError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no projection named {name!r}; known: {', '.join(PROJECTION_NAMES)}")
        self.name = name


class ProjectionMoved(ProjectionError):
    """Another runner moved the projection's position while this batch ran."""


class ProjectionTimeout(ProjectionError, TimeoutError):
    """A view did not reach a notification id in time."""

    def __init__(self, name: str, wanted: int, position: int, timeout: float) -> None:
        super().__init__(
            f"projection {name} is at notification {position}, not at {wanted} after {timeout:g} s"
        )
        self.name, self.wanted, self.position = name, wanted, position


# Query refusals are domain errors, so the API maps them like any other (400 and 404).


class InvalidQuery(EboxError):
    """The query's parameters are invalid."""

    code = "INVALID_REQUEST"


class NotFound(DomainNotFound):
    """Nothing matches, or nothing the caller may see."""


# --------------------------------------------------------------------------- shared values

T = TypeVar("T")


@dataclass(frozen=True)
class EboxId:
    """The contract's EboxId: `eboxType` + `eboxIdValue`."""

    ebox_type: str
    id_value: str

    @property
    def mailbox_id(self) -> str:
        return str(mailbox_id(self.ebox_type, self.id_value))

    @property
    def address(self) -> str:
        return f"{self.ebox_type}:{self.id_value}"

    @classmethod
    def parse(cls, address: str) -> EboxId:
        """From the `type:value` form the domain's events use."""
        ebox_type, _, id_value = address.partition(":")
        return cls(ebox_type, id_value)


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing and the number of items of the whole listing."""

    items: tuple[T, ...]
    total_items: int
    page: int
    page_size: int


def check_paging(page: int, page_size: int, max_page_size: int = MAX_PAGE_SIZE) -> int:
    """The OFFSET of a 1-based page; refuses what the contract refuses."""
    if page < 1:
        raise InvalidQuery(f"page must be 1 or more, not {page}")
    if not 1 <= page_size <= max_page_size:
        raise InvalidQuery(f"pageSize must lie between 1 and {max_page_size}, not {page_size}")
    return (page - 1) * page_size


def canonical_message_id(message_id: str) -> str:
    """Message ids are stored as canonical UUID text; anything else matches nothing."""
    try:
        return str(UUID(message_id))
    except ValueError:
        return message_id


def utc(moment: datetime | None) -> datetime | None:
    """Aware UTC: SQLite hands back naive UTC datetimes, PostgreSQL aware ones."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def utc_required(moment: datetime) -> datetime:
    value = utc(moment)
    assert value is not None
    return value


# --------------------------------------------------------------------------- views


class View(SQLAlchemyTrackingRecorder):
    """A materialised view: its tables and its tracking table, in the ledger's database.

    The tracking table is `<projection_name>_tracking`, the name eventsourcing's
    factory gives a tracking recorder of a projection so named; Alembic creates it.
    """

    projection_name: ClassVar[str] = ""
    view_tables: ClassVar[tuple[Table, ...]] = ()
    """The tables holding this view's rows: emptied by a rebuild."""

    def __init__(
        self,
        datastore: Any,
        *,
        tracking_table_name: str | None = None,
        schema_name: str | None = None,
        **kwargs: Any,
    ) -> None:
        name = tracking_table_name or f"{self.projection_name}_tracking"
        # A record class of our own name (eventsourcing_sqlalchemy names every tracking
        # record class alike, which makes SQLAlchemy warn when there are several).
        datastore.define_record_class(
            cls_name=f"{type(self).__name__}TrackingRecord",
            table_name=name,
            schema_name=schema_name,
            base_cls=datastore.base_notification_tracking_record_cls,
        )
        super().__init__(datastore, tracking_table_name=name, schema_name=schema_name, **kwargs)

    @classmethod
    def of(cls: type[TV], ledger: Ledger) -> TV:
        return cls(ledger.app.factory.datastore)  # type: ignore[attr-defined]

    @property
    def dialect(self) -> str:
        assert self.datastore.engine is not None
        return str(self.datastore.engine.dialect.name)

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only transaction (one snapshot on PostgreSQL for count and page alike)."""
        with self.transaction(commit=False) as session:
            yield session

    def position(self, application_name: str) -> int:
        return self.max_tracking_id(application_name) or 0

    def lock_position(self, session: Session, application_name: str) -> int | None:
        """The tracked position, locked on PostgreSQL until the transaction ends.

        None when nothing was tracked yet: the first batch then inserts the
        row, and a concurrent first batch fails on its primary key.
        """
        t = self.tracking_table
        query: Any = select(t.c.notification_id).where(t.c.application_name == application_name)
        if self.dialect == "postgresql":
            query = query.with_for_update()
        row = session.execute(query).first()
        return None if row is None else int(row[0] or 0)

    def move_position(self, session: Session, tracking: Tracking, old: int | None) -> None:
        t = self.tracking_table
        if old is None:
            session.execute(
                insert(t).values(
                    application_name=tracking.application_name,
                    notification_id=tracking.notification_id,
                )
            )
            return
        result: Any = session.execute(
            update(t)
            .where(t.c.application_name == tracking.application_name, t.c.notification_id == old)
            .values(notification_id=tracking.notification_id)
        )
        if result.rowcount != 1:
            raise ProjectionMoved(f"{self.projection_name}: another runner moved it from {old}")

    def clear(self, session: Session) -> None:
        """Forget every row and the position: the view of an empty log."""
        for table in self.view_tables:
            session.execute(delete(table))
        session.execute(delete(self.tracking_table))


TV = TypeVar("TV", bound=View)


class RowBatch:
    """The changes a batch makes to one table, written with a few executemany statements.

    Rows inserted by the batch absorb later changes in memory; changes to older
    rows merge per key (later events win) and are grouped by the set of columns
    they set. Handlers therefore stay one line each and a batch of 500 events
    costs a handful of round trips.
    """

    def __init__(self, table: Table, key: str) -> None:
        self.table = table
        self.key = key
        self.new: dict[str, dict[str, Any]] = {}
        self.changes: dict[str, dict[str, Any]] = {}

    def insert(self, row: dict[str, Any]) -> None:
        self.new[row[self.key]] = row

    def update(self, key: str, **values: Any) -> None:
        if key in self.new:
            self.new[key].update(values)
        else:
            self.changes.setdefault(key, {}).update(values)

    def flush(self, session: Session) -> None:
        if self.new:
            session.execute(insert(self.table), list(self.new.values()))
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for key, values in self.changes.items():
            columns = tuple(sorted(values))
            groups.setdefault(columns, []).append(
                {"_key": key, **{f"_{c}": values[c] for c in columns}}
            )
        for columns, rows in groups.items():
            statement = (
                update(self.table)
                .where(self.table.c[self.key] == bindparam("_key"))
                .values({c: bindparam(f"_{c}", type_=self.table.c[c].type) for c in columns})
            )
            session.execute(statement, rows)
        self.new, self.changes = {}, {}


Handler = Callable[[Any, Tracking], None]


class ViewProjection(Projection[TV], ABC):
    """A projection that applies a batch of events and moves its position in one transaction."""

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        """eventsourcing's contract: one event, its tracking, one transaction."""
        self.process_batch([(domain_event, tracking)])

    def process_batch(
        self, items: Sequence[tuple[Any, Tracking]], position: Tracking | None = None
    ) -> None:
        """Apply `items` and track `position` (default: the last item) atomically.

        `position` may lie beyond the last item: the runner tracks the last
        notification it examined, relevant to this view or not, so an idle view
        has no lag. A position at or below the tracked one raises IntegrityError,
        as eventsourcing's tracking recorders do: the batch was already applied.
        """
        if position is None:
            if not items:
                return
            position = items[-1][1]
        with self.view.transaction(commit=True) as session:
            old = self.view.lock_position(session, position.application_name)
            if old is not None and position.notification_id <= old:
                raise IntegrityError(
                    f"{self.name} already tracks notification {old} >= {position.notification_id}"
                )
            try:
                self.apply(session, items)
                self.view.move_position(session, position, old)
            except BaseException:
                self.forget()
                raise

    @abstractmethod
    def apply(self, session: Session, items: Sequence[tuple[Any, Tracking]]) -> None:
        """Write the rows for these events (the caller commits them with the position)."""

    def forget(self) -> None:
        """Drop in-memory caches after a failed batch."""


# --------------------------------------------------------------------------- registry

PROJECTION_NAMES = ("inbox", "status", "feed")


def projection_types(name: str) -> tuple[type[View], type[ViewProjection[Any]]]:
    """The view and projection classes of a projection name (imported lazily: they import us)."""
    if name == "inbox":
        from ebox.projections.inbox import InboxProjection, InboxView

        return InboxView, InboxProjection
    if name == "status":
        from ebox.projections.status import StatusProjection, StatusView

        return StatusView, StatusProjection
    if name == "feed":
        from ebox.projections.feed import FeedProjection, FeedView

        return FeedView, FeedProjection
    raise UnknownProjection(name)


def make_projection(name: str, ledger: Ledger) -> ViewProjection[Any]:
    view_class, projection_class = projection_types(name)
    return projection_class(view=view_class.of(ledger))


# --------------------------------------------------------------------------- runner


def latest_notification_id(ledger: Ledger) -> int:
    """The id of the newest recorded event: a safe position to wait for after a write."""
    return int(ledger.app.recorder.max_notification_id() or 0)


class ViewRunner:
    """Keeps the read models up to date with the ledger's notification log."""

    def __init__(
        self,
        ledger: Ledger,
        names: Sequence[str] | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        self.ledger = ledger
        self.app = ledger.app
        self.batch_size = batch_size
        self.projections: dict[str, ViewProjection[Any]] = {
            name: make_projection(name, ledger) for name in (names or PROJECTION_NAMES)
        }

    def projection(self, name: str) -> ViewProjection[Any]:
        try:
            return self.projections[name]
        except KeyError:
            raise UnknownProjection(name) from None

    def position(self, name: str) -> int:
        return self.projection(name).view.position(self.app.name)

    def lag(self, name: str) -> int:
        """Notifications recorded but not yet examined by this projection."""
        return max(0, latest_notification_id(self.ledger) - self.position(name))

    def lags(self) -> dict[str, int]:
        latest = latest_notification_id(self.ledger)
        return {
            name: max(0, latest - p.view.position(self.app.name))
            for name, p in self.projections.items()
        }

    def run_once(self, name: str | None = None) -> int:
        """One batch of each projection (or of `name`): how far the positions moved."""
        names = [name] if name else list(self.projections)
        return sum(self._batch(self.projection(n)) for n in names)

    def run_until_idle(self, name: str | None = None) -> int:
        total = 0
        while moved := self.run_once(name):
            total += moved
        return total

    def rebuild(self, name: str) -> int:
        """Empty the view and its position, then replay the whole log into it.

        Readers see the view grow again from empty; every commit is still the
        fold of a prefix of the log, like any catching-up view.
        """
        view = self.projection(name).view
        with view.transaction(commit=True) as session:
            view.clear(session)
        return self.run_until_idle(name)

    def run_forever(self, stop: threading.Event, interval: float = 0.2) -> None:
        """Follow the log until `stop` is set: NOTIFY wake-ups on PostgreSQL, polling otherwise."""
        waker = _Waker.for_ledger(self.ledger)
        try:
            while not stop.is_set():
                if not self.run_once():
                    waker.wait(interval, stop)
        finally:
            waker.close()

    def _batch(self, projection: ViewProjection[Any]) -> int:
        view, recorder = projection.view, self.app.recorder
        with view.transaction(commit=True) as session:
            position = view.lock_position(session, self.app.name) or 0
            upper = int(recorder.max_notification_id() or 0)
            if upper <= position:
                return 0
            # Writers lock the event table until they commit, so every id up to
            # `upper` is committed or gone for good: tracking `upper` skips nothing.
            notifications = recorder.select_notifications(
                start=position + 1, limit=self.batch_size, stop=upper, topics=projection.topics
            )
            end = notifications[-1].id if len(notifications) == self.batch_size else upper
            items = [
                (self.app.mapper.to_domain_event(n), Tracking(self.app.name, n.id))
                for n in notifications
            ]
            projection.process_batch(items, Tracking(self.app.name, end))
            return end - position


def wait_until_position(
    ledger: Ledger,
    projection_name: str,
    notification_id: int,
    timeout: float = 5.0,
    *,
    inline: bool = True,
    runner: ViewRunner | None = None,
) -> int:
    """Return once the view has examined `notification_id`; its position is returned.

    Read-your-writes for one request: with `inline` the caller catches the view
    up itself (its batches are exactly-once like any runner's, and a concurrent
    runner simply waits on the tracking row's lock); without, it waits for the
    background runner. Raises ProjectionTimeout after `timeout` seconds.
    """
    runner = runner or ViewRunner(ledger, [projection_name])
    deadline = time.monotonic() + timeout
    pause = 0.005
    while True:
        position = runner.position(projection_name)
        if position >= notification_id:
            return position
        if time.monotonic() >= deadline:
            raise ProjectionTimeout(projection_name, notification_id, position, timeout)
        if not (inline and runner.run_once(projection_name)):
            time.sleep(pause)
            pause = min(pause * 2, 0.1)


class _Waker:
    """Sleeps until the next poll; on PostgreSQL (psycopg2) a NOTIFY ends the sleep early."""

    def __init__(self, connection: Any = None) -> None:
        self.connection = connection

    @classmethod
    def for_ledger(cls, ledger: Ledger) -> _Waker:
        engine = ledger.app.factory.datastore.engine  # type: ignore[attr-defined]
        if engine.dialect.name != "postgresql" or engine.dialect.driver != "psycopg2":
            return cls()
        connection = engine.raw_connection()
        raw = connection.driver_connection
        raw.autocommit = True
        with raw.cursor() as cursor:
            cursor.execute(f"LISTEN {ledger.app.recorder.channel_name}")  # type: ignore[attr-defined]
        return cls(connection)

    def wait(self, timeout: float, stop: threading.Event) -> None:
        """Until a NOTIFY, `stop` or `timeout`, whichever comes first."""
        if self.connection is None:
            stop.wait(timeout)
            return
        raw = self.connection.driver_connection
        deadline = time.monotonic() + timeout
        while not stop.is_set() and (left := deadline - time.monotonic()) > 0:
            if wait_readable([raw], [], [], min(left, 0.1))[0]:
                raw.poll()
                if raw.notifies:
                    raw.notifies.clear()
                    return

    def close(self) -> None:
        if self.connection is not None:
            raw = self.connection.driver_connection
            with raw.cursor() as cursor:
                cursor.execute("UNLISTEN *")
            raw.autocommit = False
            self.connection.close()


def dispatch(handlers: Mapping[type, Handler], items: Sequence[tuple[Any, Tracking]]) -> None:
    """Call each event's handler; events of other types are not this view's business."""
    for event, tracking in items:
        handler = handlers.get(type(event))
        if handler is not None:
            handler(event, tracking)
