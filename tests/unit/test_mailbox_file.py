"""The mailbox import file: every row checked before anything is written, a bad one by its line.

Line numbers are the file's own (the header is line 1; blank lines count), so
an operator opens the file at the line the refusal names and finds the row.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ebox.adapters.mailbox_file import (
    BadMailboxFile,
    parse_mailboxes,
    read_mailbox_file,
)
from ebox.domain.application import MailboxToOpen

CITIZEN, OTHER, ENTERPRISE = "58102882214", "85073003328", "0207251386"


def refusal(text: str, kind: str = "csv") -> BadMailboxFile:
    with pytest.raises(BadMailboxFile) as caught:
        parse_mailboxes(text, kind)
    return caught.value


def test_a_csv_with_its_header_gives_every_row_in_order() -> None:
    text = (
        "type,id,email,language\n"
        f"citizen,{CITIZEN},an@example.be,nl\n"
        f"enterprise,{ENTERPRISE},,FR\n"
        "\n"
        f"citizen,{OTHER},,\n"
    )
    assert parse_mailboxes(text, "csv") == [
        MailboxToOpen("citizen", CITIZEN, "an@example.be", "nl"),
        MailboxToOpen("enterprise", ENTERPRISE, None, "fr"),
        MailboxToOpen("citizen", OTHER, None, None),
    ]


def test_columns_may_come_in_any_order_and_email_and_language_may_be_left_out() -> None:
    assert parse_mailboxes(f"id,type\n{CITIZEN},citizen\n", "csv") == [
        MailboxToOpen("citizen", CITIZEN)
    ]


def test_separators_in_a_number_are_dropped() -> None:
    (row,) = parse_mailboxes("type,id\ncitizen,58.10.28-822.14\n", "csv")
    assert row.id_value == CITIZEN


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        (f"type,id\ncitizen,{CITIZEN}\ncitizen,58102882215\n", 3, "wrong check digits 15"),
        ("type,id\n\n\nenterprise,0207251387\n", 4, "wrong check digits 87 (expected 86)"),
        (f"type,id\ncitizen,{CITIZEN}\nperson,{OTHER}\n", 3, "citizen or enterprise"),
        (f"type,id\ncitizen,{CITIZEN}\ncitizen,\n", 3, "id is missing"),
        (f"type,id,email\ncitizen,{CITIZEN},not-an-address\n", 2, "the email must be"),
        (f"type,id,language\ncitizen,{CITIZEN},es\n", 2, "nl, fr, de, en"),
        (f"type,id\ncitizen,{CITIZEN},extra\n", 2, "3 values for 2 columns"),
        (f"type,id\ncitizen,{CITIZEN}\ncitizen,{CITIZEN}\n", 3, "already on line 2"),
        (f"type,ident\ncitizen,{CITIZEN}\n", 1, "the header must name the columns"),
        (f"citizen,{CITIZEN}\n", 1, "the header must name the columns"),
        ("type,id\n", 0, "names no mailbox"),
        ("", 0, "empty"),
    ],
)
def test_a_bad_row_is_named_by_its_line_the_header_being_line_1(
    text: str, line: int, says: str
) -> None:
    error = refusal(text)
    assert error.line == line
    assert says in str(error)
    if line:
        assert str(error).startswith(f"line {line}: ")


def test_ndjson_rows_are_checked_the_same_way() -> None:
    text = (
        f'{{"type": "citizen", "id": "{CITIZEN}", "language": "de"}}\n'
        "\n"
        f'{{"type": "enterprise", "id": "{ENTERPRISE}", "email": "info@example.be"}}\n'
    )
    assert parse_mailboxes(text, "ndjson") == [
        MailboxToOpen("citizen", CITIZEN, None, "de"),
        MailboxToOpen("enterprise", ENTERPRISE, "info@example.be", None),
    ]
    for bad, says in [
        ('{"type": "citizen", "id": "58102882215"}', "wrong check digits"),
        ('{"type": "citizen", "id": 58102882214}', "id must be a string"),
        ('{"type": "citizen", "id": "58102882214", "name": "x"}', "unknown keys ['name']"),
        ('["citizen", "58102882214"]', "each line is a JSON object"),
        ('{"type": "citizen",', "not JSON"),
    ]:
        error = refusal(f'{{"type": "citizen", "id": "{OTHER}"}}\n\n{bad}\n', "ndjson")
        assert (error.line, says in error.reason) == (3, True), error


def test_the_format_is_taken_from_the_extension_else_sniffed(tmp_path: Path) -> None:
    rows = f'{{"type": "citizen", "id": "{CITIZEN}"}}\n'
    for name, text, kind in [
        ("people.ndjson", rows, "ndjson"),
        ("people.jsonl", rows, "ndjson"),
        ("people.txt", rows, "ndjson"),
        ("people.txt", f"type,id\ncitizen,{CITIZEN}\n", "csv"),
        ("people.csv", f"\ufefftype,id\r\ncitizen,{CITIZEN}\r\n", "csv"),  # Excel's BOM, CRLF
    ]:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        checked = read_mailbox_file(path)
        assert (checked.format, checked.rows) == (kind, [MailboxToOpen("citizen", CITIZEN)])


def test_a_file_that_is_not_text_or_not_there_is_refused(tmp_path: Path) -> None:
    latin = tmp_path / "latin.csv"
    latin.write_bytes(f"type,id,email\ncitizen,{CITIZEN},\xe9@example.be\n".encode("latin-1"))
    assert read_mailbox_file_refusal(latin).line == 2
    assert "cannot be read" in str(read_mailbox_file_refusal(tmp_path / "missing.csv"))


def read_mailbox_file_refusal(path: Path) -> BadMailboxFile:
    with pytest.raises(BadMailboxFile) as caught:
        read_mailbox_file(path)
    return caught.value
