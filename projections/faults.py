"""Why a follower is retrying or parked, recorded durably and without personal data.

A failed batch rolls back, so what happened must be written in a transaction
of its own: the row in `follower_faults` says where (the follower's position,
the notification it narrowed the failure down to) and why (the error's class,
never its message: a database error's text quotes the statement and may quote
the letter's national register number or subject). Every process and `/health`
read the same row, so a follower parked by one worker process is visible to
all, and a restart anywhere can retry it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from ebox.adapters.runtime import Ledger
from ebox.adapters.tables import follower_faults


@dataclass(frozen=True)
class Fault:
    """A follower's last failure: parked, or still being retried."""

    name: str
    position: int
    notification_id: int | None
    error_class: str
    attempts: int
    parked: bool
    failed_at: datetime

    @property
    def state(self) -> str:
        return "parked" if self.parked else "retrying"


def error_class(error: BaseException) -> str:
    """The error's class and, for a database error, the driver's class and SQLSTATE.

    Enough to tell a too-long value from a unique violation from a bug in a
    handler, and nothing that was bound into the statement: no message text.
    """
    name = type(error).__name__
    cause: BaseException | None = error
    while cause is not None:
        orig = getattr(cause, "orig", None)
        if isinstance(orig, BaseException):
            code = getattr(orig, "pgcode", None) or getattr(orig, "sqlite_errorname", None)
            detail = type(orig).__name__ + (f" {code}" if code else "")
            return f"{name} ({detail})"[:200]
        cause = cause.__cause__ or (cause.args[0] if _wraps(cause) else None)
    return name[:200]


def _wraps(error: BaseException) -> bool:
    """eventsourcing's persistence errors wrap the SQLAlchemy error as their argument."""
    return bool(error.args) and isinstance(error.args[0], BaseException)


def faults(ledger: Ledger) -> dict[str, Fault]:
    """Every follower's recorded fault, by follower name."""
    with ledger.db.read() as session:
        rows = session.execute(select(follower_faults)).all()
    return {row.name: _fault(row) for row in rows}


def fault_of(ledger: Ledger, name: str) -> Fault | None:
    with ledger.db.read() as session:
        row = session.execute(select(follower_faults).where(follower_faults.c.name == name)).first()
    return None if row is None else _fault(row)


def record_fault(
    ledger: Ledger,
    name: str,
    *,
    position: int,
    notification_id: int | None,
    error: BaseException,
    attempts: int,
    parked: bool,
) -> Fault:
    """Write (or overwrite) the follower's fault in a transaction of its own."""
    fault = Fault(
        name=name,
        position=position,
        notification_id=notification_id,
        error_class=error_class(error),
        attempts=attempts,
        parked=parked,
        failed_at=datetime.now(UTC),
    )
    values: dict[str, Any] = {
        "position": fault.position,
        "notification_id": fault.notification_id,
        "error_class": fault.error_class,
        "attempts": fault.attempts,
        "parked": fault.parked,
        "failed_at": fault.failed_at,
    }
    with ledger.db.write() as session:
        result: Any = session.execute(
            update(follower_faults).where(follower_faults.c.name == name).values(values)
        )
        if result.rowcount == 0:
            session.execute(ledger.db.insert_ignore(follower_faults), {"name": name, **values})
    return fault


def clear_fault(ledger: Ledger, name: str, session: Session | None = None) -> None:
    """The follower is healthy again (or rebuilt): forget its fault."""
    statement = delete(follower_faults).where(follower_faults.c.name == name)
    if session is not None:
        session.execute(statement)
        return
    with ledger.db.write() as own:
        own.execute(statement)


def _fault(row: Any) -> Fault:
    failed_at = row.failed_at
    if failed_at.tzinfo is None:  # SQLite hands back naive UTC
        failed_at = failed_at.replace(tzinfo=UTC)
    return Fault(
        name=row.name,
        position=int(row.position),
        notification_id=None if row.notification_id is None else int(row.notification_id),
        error_class=row.error_class,
        attempts=int(row.attempts),
        parked=bool(row.parked),
        failed_at=failed_at,
    )
