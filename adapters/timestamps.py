"""The stored time-stamp tokens of checkpoints (table `checkpoint_timestamps`).

Written by the timestamper (ebox.projections.timestamper) once a token is
checked; read by the evidence builder, which picks the earliest stamped
checkpoint that covers a bundle's events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select

from ebox.adapters.runtime import Ledger
from ebox.adapters.tables import checkpoint_timestamps, checkpoints
from ebox.adapters.tsa import StampedCheckpoint


@dataclass(frozen=True)
class StoredTimestamp:
    """A stamped checkpoint: its size, signed note and DER TimeStampToken."""

    size: int
    note: str
    token: bytes
    gen_time: datetime
    tsa: str


def record_timestamp(ledger: Ledger, stamped: StampedCheckpoint) -> None:
    """Keep a checked token; a second token for the same checkpoint is ignored."""
    with ledger.db.write() as session:
        session.execute(
            ledger.db.insert_ignore(checkpoint_timestamps),
            {
                "size": stamped.size,
                "token": stamped.token,
                "gen_time": stamped.gen_time,
                "tsa": stamped.tsa,
            },
        )


def latest_unstamped(ledger: Ledger) -> tuple[int, str] | None:
    """(size, note) of the latest checkpoint, if it is newer than every stamped one."""
    with ledger.db.read() as session:
        stamped = session.execute(select(func.max(checkpoint_timestamps.c.size))).scalar()
        row = session.execute(
            select(checkpoints.c.size, checkpoints.c.note)
            .order_by(checkpoints.c.size.desc())
            .limit(1)
        ).first()
    if row is None or (stamped is not None and int(row[0]) <= int(stamped)):
        return None
    return int(row[0]), str(row[1])


def covering(ledger: Ledger, size: int, within: int, limit: int = 64) -> list[StoredTimestamp]:
    """Stamped checkpoints of at least `size` leaves and at most `within`, earliest first."""
    query = (
        select(
            checkpoint_timestamps.c.size,
            checkpoints.c.note,
            checkpoint_timestamps.c.token,
            checkpoint_timestamps.c.gen_time,
            checkpoint_timestamps.c.tsa,
        )
        .join(checkpoints, checkpoints.c.size == checkpoint_timestamps.c.size)
        .where(checkpoint_timestamps.c.size >= size, checkpoint_timestamps.c.size <= within)
        .order_by(checkpoint_timestamps.c.size)
        .limit(limit)
    )
    with ledger.db.read() as session:
        rows = session.execute(query).all()
    return [
        StoredTimestamp(
            int(row.size), str(row.note), bytes(row.token), _utc(row.gen_time), str(row.tsa)
        )
        for row in rows
    ]


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite: naive UTC


def latest_timestamp(ledger: Ledger) -> tuple[int, datetime] | None:
    """(size, genTime) of the latest stamped checkpoint, for /health."""
    with ledger.db.read() as session:
        row = session.execute(
            select(checkpoint_timestamps.c.size, checkpoint_timestamps.c.gen_time)
            .order_by(checkpoint_timestamps.c.size.desc())
            .limit(1)
        ).first()
    if row is None:
        return None
    return int(row.size), _utc(row.gen_time)
