"""Bulk inserts: COPY on PostgreSQL for many rows, one Core INSERT otherwise.

Row-by-row INSERTs dominate the ledger's write time on PostgreSQL (blobs,
leaves, Merkle nodes: thousands of rows per batch); COPY moves the same rows in
one round trip, inside the caller's transaction. For the few rows of one
letter (a blob or two, a wrapped key) COPY costs more than it saves: skipping
existing rows needs a temporary staging table and four statements, where one
multi-row INSERT .. ON CONFLICT DO NOTHING does it; below `COPY_FROM` rows the
INSERT is used.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

COPY_FROM = 64
"""Rows from which COPY is used on PostgreSQL: a letter's one to three rows go as one
INSERT; a batch's hundreds of rows (bench/publish.py) keep COPY."""


def _text_value(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\\\x" + bytes(value).hex()
    text = str(value)
    if any(ch in text for ch in "\\\t\n\r"):
        text = (
            text.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return text


def _copy_buffer(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> io.StringIO:
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(_text_value(row[c]) for c in columns))
        buffer.write("\n")
    buffer.seek(0)
    return buffer


def insert_rows(
    session: Session, table: Table, rows: Sequence[dict[str, Any]], *, skip_existing: bool = False
) -> None:
    """Insert `rows` into `table` in the session's transaction.

    With `skip_existing`, rows whose primary key exists are ignored (content-
    addressed data); otherwise a duplicate is an error, as it should be.
    """
    if not rows:
        return
    postgresql = session.get_bind().dialect.name == "postgresql"
    if not postgresql:
        statement: Any = insert(table)
        if skip_existing:
            statement = statement.prefix_with("OR IGNORE")
        session.execute(statement, list(rows))
        return
    if len(rows) < COPY_FROM:
        statement = pg_insert(table)
        if skip_existing:
            statement = statement.on_conflict_do_nothing()
        session.execute(statement, list(rows))
        return
    columns = list(rows[0])
    column_list = ", ".join(columns)
    cursor = session.connection().connection.cursor()  # type: ignore[attr-defined]
    try:
        if not skip_existing:
            cursor.copy_expert(
                f"COPY {table.name} ({column_list}) FROM STDIN", _copy_buffer(rows, columns)
            )
            return
        stage = f"stage_{table.name}"
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {table.name} INCLUDING DEFAULTS) "
            "ON COMMIT DELETE ROWS"
        )
        cursor.copy_expert(f"COPY {stage} ({column_list}) FROM STDIN", _copy_buffer(rows, columns))
        cursor.execute(
            f"INSERT INTO {table.name} ({column_list}) SELECT {column_list} FROM {stage} "
            "ON CONFLICT DO NOTHING"
        )
        cursor.execute(f"DELETE FROM {stage}")
    finally:
        cursor.close()
