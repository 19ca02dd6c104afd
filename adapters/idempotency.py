"""Idempotency-Key for publications: a retried request never makes a second letter.

The SQL side of the domain's `IdempotencyStore` port (ebox.domain.ports); the
use case (`EboxLedger.submit`) decides what a taken key means.

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
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, cast

from sqlalchemy import CursorResult, bindparam, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from ebox.adapters.tables import idempotency_keys
from ebox.domain.ports import KeyInFlight, KeyTaken, StoredSubmission
from ebox.domain.proofs.canonical import rfc3339

CLAIM_WAIT = timedelta(seconds=2)
"""How long a retry waits for the first request's transaction on PostgreSQL."""

LOCK_NOT_AVAILABLE = "55P03"
"""PostgreSQL's SQLSTATE when lock_timeout cancels a wait."""


class Transactions(Protocol):
    """The current unit of work's session (ebox.adapters.stores.SqlSession)."""

    def write(self) -> AbstractContextManager[Session]: ...

    def read(self) -> AbstractContextManager[Session]: ...


SUBMITTED = 201
"""The status stored with an answer: the publication's 201."""


class SqlIdempotencyStore:
    """Keys in `idempotency_keys`, in the session of the current unit of work.

    The stored response is the 201's body (`messageId`, `expirationDate`), as
    rows written before this store existed hold it.
    """

    def __init__(self, db: Transactions) -> None:
        self.db = db

    def find(self, client_id: str, key: str) -> StoredSubmission | None:
        query = select(idempotency_keys.c.request_sha256, idempotency_keys.c.response).where(
            idempotency_keys.c.client_id == client_id, idempotency_keys.c.key == key
        )
        with self.db.read() as session:
            row = session.execute(query).first()
        if row is None:
            return None
        response = json.loads(row[1])
        expires_at = datetime.fromisoformat(response["expirationDate"].replace("Z", "+00:00"))
        return StoredSubmission(row[0], response["messageId"], expires_at)

    def claim(self, client_id: str, key: str, request_sha256: str) -> None:
        """Take the key for this transaction, or raise KeyTaken / KeyInFlight.

        Must be the transaction's first statement: on SQLite it then opens the
        write transaction on a fresh snapshot, on PostgreSQL it waits for a
        concurrent holder of the key, then skips the insert if that one committed.
        The row's answer is a placeholder until `answer` fills it in the same
        transaction; no other transaction can see it before then.
        """
        row = {
            "client_id": client_id,
            "key": key,
            "request_sha256": request_sha256,
            "status": 0,
            "response": "null",
            "created_at": datetime.now(UTC),
        }
        with self.db.write() as session:
            postgresql = session.get_bind().dialect.name == "postgresql"
            if not postgresql:
                statement = sqlite_insert(idempotency_keys).values(row).on_conflict_do_nothing()
                inserted = cast(CursorResult[Any], session.execute(statement)).rowcount
            else:
                try:
                    inserted = self._claim_waiting_at_most(session, row)
                except OperationalError as error:
                    if getattr(error.orig, "pgcode", None) == LOCK_NOT_AVAILABLE:
                        raise KeyInFlight(key) from None
                    raise
        if inserted != 1:
            raise KeyTaken(key)

    @staticmethod
    def _claim_waiting_at_most(session: Session, row: dict[str, Any]) -> int:
        """PostgreSQL: the insert under a short lock_timeout, in one round trip; rows inserted.

        The short wait is for a concurrent holder of the key only; `answer`
        restores the transaction's default before the letter's events are written
        (their table lock must wait as long as it takes). Until then this
        transaction only reads, which takes no lock that could wait.
        """
        dialect = session.get_bind().dialect
        connection = session.connection()
        if dialect.driver != "psycopg2":  # psycopg 3 binds no parameters in a multi-statement
            set_wait, insert = _claim_sql(dialect).split("; ", 1)
            connection.exec_driver_sql(set_wait)
            return int(connection.exec_driver_sql(insert, row).rowcount)
        return int(connection.exec_driver_sql(_claim_sql(dialect), row).rowcount)  # the insert's

    def answer(self, client_id: str, key: str, message_id: str, expires_at: datetime) -> None:
        """Store the answer in the row this transaction claimed (and end the claim's short wait)."""
        response = {"messageId": message_id, "expirationDate": rfc3339(expires_at)}
        with self.db.write() as session:
            session.execute(
                update(idempotency_keys)
                .where(idempotency_keys.c.client_id == client_id, idempotency_keys.c.key == key)
                .values(status=SUBMITTED, response=json.dumps(response))
            )
            if session.get_bind().dialect.name == "postgresql":
                session.execute(text("SET LOCAL lock_timeout TO DEFAULT"))


_CLAIM_SQL: dict[str, str] = {}


def _claim_sql(dialect: Dialect) -> str:
    """The claim's two statements for PostgreSQL, compiled once per parameter style."""
    sql = _CLAIM_SQL.get(dialect.paramstyle)
    if sql is None:
        columns = ("client_id", "key", "request_sha256", "status", "response", "created_at")
        statement = (
            pg_insert(idempotency_keys)
            .values({c: bindparam(c) for c in columns})
            .on_conflict_do_nothing()
        )
        wait_ms = int(CLAIM_WAIT.total_seconds() * 1000)
        sql = f"SET LOCAL lock_timeout = {wait_ms}; {statement.compile(dialect=dialect)}"
        _CLAIM_SQL[dialect.paramstyle] = sql
    return sql
