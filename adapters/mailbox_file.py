"""The file an operator imports mailboxes from: CSV with a header line, or NDJSON.

Why a whole-file check before any write: the import must never stop half-way
on row 73,412 with 73,411 mailboxes opened and the rest not, leaving the
operator to work out which. So `read_mailbox_file` reads and checks every row
(type, id and its check digits, email, language, no repeated mailbox) and
reports the first bad one by its line number in the file (the header is line
1); only a file without a bad row is handed to the writer, in batches.

CSV::

    type,id,email,language
    citizen,58102882214,an@example.be,nl
    enterprise,0207251386,,fr

`email` and `language` may be empty or absent. NDJSON: one object a line with
the same keys (`type`, `id`, optional `email` and `language`); blank lines are
skipped but counted. The format is taken from the extension (`.csv`, `.ndjson`
or `.jsonl`), else sniffed from the first non-blank character (`{` is NDJSON).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ebox.domain.application import MailboxToOpen
from ebox.domain.errors import EboxError
from ebox.domain.ids import checked_ebox_id, mailbox_id
from ebox.domain.mailbox import EBOX_TYPES, checked_email, checked_language

CSV_HEADER = ("type", "id", "email", "language")
REQUIRED = ("type", "id")
MAX_LINE = 4096
"""No honest row is longer; a longer one is a wrong file, refused before it fills memory."""


class BadMailboxFile(ValueError):
    """A file that cannot be imported; `line` is the 1-based line (header = 1), 0 if none."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}" if line else reason)
        self.line = line
        self.reason = reason


@dataclass(frozen=True)
class MailboxFile:
    """Every row of a checked file, in file order, and the format it was read as."""

    format: str  # "csv" or "ndjson"
    rows: list[MailboxToOpen]


def read_mailbox_file(path: Path) -> MailboxFile:
    """Read and check the whole file; the first bad row raises `BadMailboxFile`."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise BadMailboxFile(0, f"{path} cannot be read: {error.strerror or error}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise BadMailboxFile(line, "not UTF-8 text") from None
    kind = file_format(path, text)
    return MailboxFile(kind, parse_mailboxes(text, kind))


def file_format(path: Path, text: str) -> str:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".ndjson", ".jsonl"):
        return "ndjson"
    return "ndjson" if text.lstrip().startswith("{") else "csv"


def parse_mailboxes(text: str, kind: str) -> list[MailboxToOpen]:
    """The checked rows of a file's text (`kind` "csv" or "ndjson")."""
    records = _csv_records(text) if kind == "csv" else _ndjson_records(text)
    rows: list[MailboxToOpen] = []
    first_seen: dict[Any, int] = {}
    for line, record in records:
        row = mailbox_row(line, record)
        key = mailbox_id(row.ebox_type, row.id_value)
        if key in first_seen:
            raise BadMailboxFile(
                line, f"{row.ebox_type} {row.id_value} is already on line {first_seen[key]}"
            )
        first_seen[key] = line
        rows.append(row)
    if not rows:
        raise BadMailboxFile(0, "the file names no mailbox")
    return rows


def mailbox_row(line: int, record: dict[str, Any]) -> MailboxToOpen:
    """One checked row (`line` for the refusal); also what /admin/v1's import checks."""
    for name in REQUIRED:
        if not record.get(name):
            raise BadMailboxFile(line, f"{name} is missing")
    for name, value in record.items():
        if value is not None and not isinstance(value, str):
            raise BadMailboxFile(line, f"{name} must be a string")
    ebox_type = record["type"].strip()
    if ebox_type not in EBOX_TYPES:
        raise BadMailboxFile(line, f"type is citizen or enterprise, not {ebox_type!r}")
    try:
        return MailboxToOpen(
            ebox_type,
            checked_ebox_id(ebox_type, record["id"]),
            checked_email((record.get("email") or "").strip() or None),
            checked_language((record.get("language") or "").strip().lower() or None),
        )
    except EboxError as error:
        raise BadMailboxFile(line, error.message) from None


def _csv_records(text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    lines = text.splitlines(keepends=True)
    _check_lengths(lines)
    reader = csv.reader(io.StringIO(text))
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        raise BadMailboxFile(0, "the file is empty") from None
    except csv.Error as error:
        raise BadMailboxFile(1, f"not CSV: {error}") from None
    unknown = [name for name in header if name not in CSV_HEADER]
    missing = [name for name in REQUIRED if name not in header]
    if unknown or missing or len(set(header)) != len(header):
        raise BadMailboxFile(
            1, f"the header must name the columns {','.join(CSV_HEADER)} (type and id required)"
        )
    while True:
        line = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise BadMailboxFile(line, f"not CSV: {error}") from None
        if not values or values == [""]:
            continue
        if len(values) > len(header):
            raise BadMailboxFile(line, f"{len(values)} values for {len(header)} columns")
        yield line, dict(zip(header, values, strict=False))


def _ndjson_records(text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    lines = text.splitlines()
    _check_lengths(lines)
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as error:
            raise BadMailboxFile(number, f"not JSON: {error.msg}") from None
        if not isinstance(record, dict):
            raise BadMailboxFile(number, "each line is a JSON object")
        unknown = sorted(set(record) - set(CSV_HEADER))
        if unknown:
            raise BadMailboxFile(number, f"unknown keys {unknown}: {', '.join(CSV_HEADER)}")
        yield number, record


def _check_lengths(lines: list[str]) -> None:
    for number, line in enumerate(lines, start=1):
        if len(line) > MAX_LINE:
            raise BadMailboxFile(number, f"longer than {MAX_LINE} characters")
