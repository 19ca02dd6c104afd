"""Running the read models: exactly once, in batches, rebuildable, with their lag.

Each read model is a `ViewProjection` (what its rows are, ebox.projections.views)
run by a `ViewFollower`: the one follower engine of `ebox.projections.follower`
that delivery and the sealer use too. The engine reads the notifications of the
projection's topics after the view's position, hands them to `apply` inside one
transaction and moves the position (its row in `ebox_tracking`) in the same
transaction, so after a crash a view is always exactly the fold of a prefix of
the log. It tracks the last notification it *examined*, so a view that nothing
concerns has no lag, and it can rebuild a view from zero.

The views' base classes live in `ebox.projections.views`, their names in
`ebox.projections.registry`, the query values and errors in
`ebox.projections.queries`; the names callers know from here are re-exported.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import Notification, Tracking
from sqlalchemy.orm import Session

from ebox.adapters.runtime import Ledger
from ebox.projections.faults import clear_fault, error_class, fault_of
from ebox.projections.follower import Follower, latest_notification_id, set_position
from ebox.projections.queries import (
    MAX_PAGE_SIZE,
    EboxId,
    InvalidQuery,
    NotFound,
    Page,
    canonical_message_id,
    check_paging,
    utc,
    utc_required,
)
from ebox.projections.registry import (
    PROJECTION_NAMES,
    ProjectionError,
    UnknownProjection,
    make_projection,
)
from ebox.projections.views import RowBatch, ViewProjection
from ebox.projections.wakeup import Waker

# Re-exported: the API, the CLI and the tests import them from here.
__all__ = [
    "MAX_PAGE_SIZE",
    "PROJECTION_NAMES",
    "EboxId",
    "InvalidQuery",
    "NotFound",
    "Page",
    "ProjectionError",
    "ProjectionTimeout",
    "RowBatch",
    "UnknownProjection",
    "ViewFollower",
    "ViewRunner",
    "canonical_message_id",
    "check_paging",
    "latest_notification_id",
    "utc",
    "utc_required",
    "wait_until_position",
]

DEFAULT_BATCH_SIZE = 500

log = logging.getLogger("ebox.projections")


class ProjectionTimeout(ProjectionError, TimeoutError):
    """A view did not reach a notification id in time."""

    def __init__(self, name: str, wanted: int, position: int, timeout: float) -> None:
        super().__init__(
            f"projection {name} is at notification {position}, not at {wanted} after {timeout:g} s"
        )
        self.name, self.wanted, self.position = name, wanted, position


# --------------------------------------------------------------------------- runner


class ViewFollower(Follower):
    """A read model as a follower: the engine's batches, the projection's rows."""

    def __init__(
        self, ledger: Ledger, projection: ViewProjection[Any], batch_size: int | None = None
    ) -> None:
        super().__init__(ledger, batch_size or DEFAULT_BATCH_SIZE)
        self.projection = projection
        self.name = projection.name
        self.topics = projection.topics

    def handle(self, session: Session, notifications: Sequence[Notification]) -> None:
        to_event, application = self.app.mapper.to_domain_event, self.app.name
        self.projection.apply(
            session, [(to_event(n), Tracking(application, n.id)) for n in notifications]
        )

    def forget(self) -> None:
        self.projection.forget()

    def rebuild(self) -> int:
        """Empty the view and its position, then replay the whole log into it.

        Readers see the view grow again from empty; every commit is still the
        fold of a prefix of the log, like any catching-up view. A parked view's
        fault goes with its rows: the rebuild is its retry.
        """
        with self.ledger.db.write() as session:
            self.projection.view.clear(session)
            set_position(session, self.name, 0)
            clear_fault(self.ledger, self.name, session)
        self.forget()
        total = 0
        while (batch := self.step()) is not None:
            total += batch.moved
        return total


def view_follower(name: str, ledger: Ledger, batch_size: int | None = None) -> ViewFollower:
    return ViewFollower(ledger, make_projection(name, ledger), batch_size)


class ViewRunner:
    """The read models' followers, run one after the other in the caller's thread.

    For tests, the demo and the CLI; the workers run each follower on its own
    (`ebox.projections.workers`), so that one failing view holds back no other.
    """

    def __init__(
        self,
        ledger: Ledger,
        names: Sequence[str] | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        self.ledger = ledger
        self.app = ledger.app
        self.batch_size = batch_size
        self.followers: dict[str, ViewFollower] = {
            name: view_follower(name, ledger, batch_size) for name in (names or PROJECTION_NAMES)
        }

    def follower(self, name: str) -> ViewFollower:
        try:
            return self.followers[name]
        except KeyError:
            raise UnknownProjection(name) from None

    def projection(self, name: str) -> ViewProjection[Any]:
        return self.follower(name).projection

    def position(self, name: str) -> int:
        return self.follower(name).position()

    def lag(self, name: str) -> int:
        """Notifications recorded but not yet examined by this projection."""
        return self.follower(name).lag()

    def lags(self) -> dict[str, int]:
        return {name: follower.lag() for name, follower in self.followers.items()}

    def run_once(self, name: str | None = None) -> int:
        """One batch of each projection (or of `name`): how far the positions moved."""
        names = [name] if name else list(self.followers)
        moved = 0
        for n in names:
            batch = self.follower(n).step()
            moved += batch.moved if batch else 0
        return moved

    def run_until_idle(self, name: str | None = None) -> int:
        total = 0
        while moved := self.run_once(name):
            total += moved
        return total

    def rebuild(self, name: str) -> int:
        return self.follower(name).rebuild()

    def run_forever(self, stop: threading.Event, interval: float = 0.2) -> None:
        """Follow the log until `stop` is set: NOTIFY wake-ups on PostgreSQL, polling otherwise."""
        waker = Waker.for_ledger(self.ledger)
        try:
            while not stop.is_set():
                if not self.run_once():
                    waker.wait(interval, stop)
        finally:
            waker.close()


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

    A view that fails to catch up inline is the workers' business (they retry
    and park it): the request is not failed with the view's error. It waits for
    the workers instead, and gives up at once if the view is parked.
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
        if inline:
            try:
                if runner.run_once(projection_name):
                    continue
            except Exception as error:
                inline = False
                log.warning(
                    "inline catch-up of the %s view failed (%s); waiting for the workers",
                    projection_name,
                    error_class(error),
                )
                parked = fault_of(ledger, projection_name)
                if parked is not None and parked.parked:
                    raise ProjectionTimeout(
                        projection_name, notification_id, position, timeout
                    ) from None
        time.sleep(pause)
        pause = min(pause * 2, 0.1)
