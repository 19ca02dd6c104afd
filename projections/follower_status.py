"""Where every follower stands, from the database alone: position, lag, fault.

Read by `/health` and `ebox projections status` in any process, whichever
process runs the followers (`ebox serve`, one or several `ebox workers`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ebox.adapters.runtime import Ledger
from ebox.adapters.tables import tracking
from ebox.projections.faults import faults
from ebox.projections.follower import latest_notification_id
from ebox.projections.runner import PROJECTION_NAMES

FOLLOWER_NAMES = ("delivery", *PROJECTION_NAMES, "lifecycle", "notifier", "sealer")


@dataclass(frozen=True)
class FollowerStatus:
    """One follower: `state` is running, retrying or parked; the rest says where and why."""

    name: str
    position: int
    lag: int
    state: str
    notification_id: int | None = None
    error_class: str | None = None
    attempts: int = 0

    @property
    def stuck(self) -> bool:
        return self.state != "running"


def follower_statuses(ledger: Ledger) -> tuple[int, list[FollowerStatus]]:
    """The newest notification id and every follower's status, in FOLLOWER_NAMES order."""
    latest = latest_notification_id(ledger)
    with ledger.db.read() as session:
        positions = {
            name: int(position)
            for name, position in session.execute(select(tracking.c.name, tracking.c.position))
        }
    recorded = faults(ledger)
    statuses = []
    for name in FOLLOWER_NAMES:
        position = positions.get(name, 0)
        fault = recorded.get(name)
        statuses.append(
            FollowerStatus(
                name=name,
                position=position,
                lag=max(0, latest - position),
                state=fault.state if fault else "running",
                notification_id=fault.notification_id if fault else None,
                error_class=fault.error_class if fault else None,
                attempts=fault.attempts if fault else 0,
            )
        )
    return latest, statuses
