"""Bulk inserts: COPY on PostgreSQL, executemany elsewhere.

Row-by-row INSERTs dominate the ledger's write time on PostgreSQL (blobs,
leaves, Merkle nodes: thousands of rows per batch); COPY moves the same rows in
one round trip, inside the caller's transaction.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session


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
    if session.get_bind().dialect.name != "postgresql":
        statement: Any = insert(table)
        if skip_existing:
            statement = statement.prefix_with("OR IGNORE")
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
