"""Idempotency-Key for publications: a retried request never makes a second letter.

The key is claimed by the first statement of the publication's own
transaction (an insert that skips an existing key) and the answer is written
into the claimed row before that transaction commits, so the key row and the
letter exist together or not at all, and a claimed row is never seen without
its answer. A concurrent retry with the same key therefore waits on the
first request's claim (PostgreSQL: the primary key's index; SQLite: the
single writer) and then finds the committed answer: it replays it (same
body) or is refused (another body). It waits at most `CLAIM_WAIT` on
PostgreSQL; past that the first request is reported as still in flight
(`KeyInFlight`), so a stuck first attempt never holds its retries for long.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from ebox.projections.tables import idempotency_keys

CLAIM_WAIT = timedelta(seconds=2)
"""How long a retry waits for the first request's transaction on PostgreSQL."""

LOCK_NOT_AVAILABLE = "55P03"
"""PostgreSQL's SQLSTATE when lock_timeout cancels a wait."""


@dataclass(frozen=True)
class StoredAnswer:
    request_sha256: str
    status: int
    body: Any


class KeyTaken(Exception):
    """Another request committed this key first; its answer is stored."""


class KeyInFlight(Exception):
    """Another request holds this key and has not committed yet."""


def find(session: Session, client_id: str, key: str) -> StoredAnswer | None:
    row = session.execute(
        select(
            idempotency_keys.c.request_sha256,
            idempotency_keys.c.status,
            idempotency_keys.c.response,
        ).where(idempotency_keys.c.client_id == client_id, idempotency_keys.c.key == key)
    ).first()
    if row is None:
        return None
    return StoredAnswer(row[0], int(row[1]), json.loads(row[2]))


def claim(session: Session, client_id: str, key: str, request_sha256: str) -> None:
    """Take the key for this transaction, or raise KeyTaken / KeyInFlight.

    Must be the transaction's first statement: on SQLite it then opens the
    write transaction on a fresh snapshot, on PostgreSQL it waits for a
    concurrent holder of the key, then skips the insert if that one committed.
    The row's answer is a placeholder until `answer` fills it in the same
    transaction; no other transaction can see it before then.
    """
    dialect = session.get_bind().dialect.name
    row = {
        "client_id": client_id,
        "key": key,
        "request_sha256": request_sha256,
        "status": 0,
        "response": "null",
        "created_at": datetime.now(UTC),
    }
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(idempotency_keys).values(row).on_conflict_do_nothing()
    if dialect != "postgresql":
        inserted = cast(CursorResult[Any], session.execute(statement)).rowcount
    else:
        previous = session.execute(text("SHOW lock_timeout")).scalar_one()
        wait_ms = int(CLAIM_WAIT.total_seconds() * 1000)
        session.execute(text(f"SET LOCAL lock_timeout = {wait_ms}"))
        try:
            inserted = cast(CursorResult[Any], session.execute(statement)).rowcount
        except OperationalError as error:
            if getattr(error.orig, "pgcode", None) == LOCK_NOT_AVAILABLE:
                raise KeyInFlight(key) from None
            raise
        session.execute(
            text("SELECT set_config('lock_timeout', :previous, true)"), {"previous": previous}
        )
    if inserted != 1:
        raise KeyTaken(key)


def answer(session: Session, client_id: str, key: str, status: int, body: Any) -> None:
    """Store the answer in the row this transaction claimed."""
    session.execute(
        update(idempotency_keys)
        .where(idempotency_keys.c.client_id == client_id, idempotency_keys.c.key == key)
        .values(status=status, response=json.dumps(body))
    )
