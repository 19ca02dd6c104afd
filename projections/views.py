"""What every read model is made of: a view (its tables), a projection (its rows), a batch writer.

The base classes of `ebox.projections.inbox`, `.status` and `.feed`. They import
nothing of the runner that drives them (`ebox.projections.runner`) nor of the
registry that names them (`ebox.projections.registry`): those import the views,
never the other way round, so the layering has no cycle.

The handlers keep eventsourcing's `(event, tracking)` shape, so a view's code
reads like eventsourcing's own projections.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar, Generic, TypeVar

from eventsourcing.persistence import Tracking
from sqlalchemy import Table, bindparam, delete, insert, update
from sqlalchemy.orm import Session

from ebox.adapters.runtime import Ledger


class View:
    """A materialised view: the tables of one read model, in the ledger's database.

    Its position is not here: like every follower's, it is the view's row in
    `ebox_tracking`, moved by the follower engine in the transaction that writes
    the rows.
    """

    projection_name: ClassVar[str] = ""
    view_tables: ClassVar[tuple[Table, ...]] = ()
    """The tables holding this view's rows: emptied by a rebuild."""

    def __init__(self, datastore: Any) -> None:
        self.datastore = datastore

    @classmethod
    def of(cls: type[TV], ledger: Ledger) -> TV:
        return cls(ledger.app.factory.datastore)  # type: ignore[attr-defined]

    @property
    def dialect(self) -> str:
        assert self.datastore.engine is not None
        return str(self.datastore.engine.dialect.name)

    def transaction(self, commit: bool) -> Any:
        """The ledger's current transaction (eventsourcing_sqlalchemy's context variable)."""
        return self.datastore.transaction(commit=commit)

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only transaction (one snapshot on PostgreSQL for count and page alike)."""
        with self.transaction(commit=False) as session:
            yield session

    def clear(self, session: Session) -> None:
        """Forget every row: the view of an empty log (the caller resets the position)."""
        for table in self.view_tables:
            session.execute(delete(table))


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


class ViewProjection(ABC, Generic[TV]):
    """What a read model does with a batch of events: write its rows, nothing else.

    The follower engine (`ViewFollower`) selects the events of `topics`, opens the
    transaction, moves the position and commits; `apply` only writes rows.
    """

    name: ClassVar[str] = ""
    topics: ClassVar[tuple[str, ...]] = ()

    def __init__(self, view: TV) -> None:
        self.view = view

    @abstractmethod
    def apply(self, session: Session, items: Sequence[tuple[Any, Tracking]]) -> None:
        """Write the rows for these events (the caller commits them with the position)."""

    def forget(self) -> None:
        """Drop in-memory caches after a failed batch."""


def dispatch(handlers: Mapping[type, Handler], items: Sequence[tuple[Any, Tracking]]) -> None:
    """Call each event's handler; events of other types are not this view's business."""
    for event, tracking in items:
        handler = handlers.get(type(event))
        if handler is not None:
            handler(event, tracking)
