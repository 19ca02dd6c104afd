"""`ebox admin mailbox open|contact|close|import`: eBoxes, one by one or by the hundred thousand.

The import reads and checks the whole file first (ebox.adapters.mailbox_file):
a bad row is reported by its line number and nothing of that file is opened.
Only then are the mailboxes opened, in batches of one transaction each
(`EboxLedger.open_mailboxes`), with a progress bar on stderr. Mailboxes
already open are skipped and counted, so a run stopped half-way (a killed
process, a lost connection) is finished by running the same command again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ebox.cli.admin_common import (
    EboxIdArg,
    EboxType,
    JsonOption,
    done,
    ebox_id,
    fail,
    ledger_for,
)
from ebox.cli.opening import DbOption

IMPORT_BATCH = 1000
"""Mailboxes per transaction: big enough to amortise a commit, small enough to show progress."""

IMPORT_HELP = """Open every mailbox of FILE: CSV with a header line, or NDJSON.

\b
CSV (header = line 1; email and language may be empty or left out):
    type,id,email,language
    citizen,58102882214,an.peeters@example.be,nl
    enterprise,0207251386,,fr
NDJSON (one object a line, same keys):
    {"type": "citizen", "id": "58102882214", "language": "nl"}

\b
type: citizen (id: national register number) or enterprise (id: KBO
number); language: nl, fr, de or en. The whole file is checked first: a
bad row is reported by its line number and nothing is imported. Mailboxes
already open (or closed) are skipped and counted: a re-run is safe.
"""

mailbox_app = typer.Typer(
    help="Mailboxes (eBoxes): open, contact, close, import.", no_args_is_help=True
)


@mailbox_app.command("open")
def mailbox_open(
    ebox_type: EboxType,
    id_value: EboxIdArg,
    email: Annotated[str | None, typer.Option("--email", help="Where to notify.")] = None,
    language: Annotated[
        str | None, typer.Option("--language", help="nl, fr, de or en", metavar="nl|fr|de|en")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Open an eBox (with its encryption key pair); the id's check digits are checked."""
    number = ebox_id(ebox_type, id_value)
    with ledger_for(db) as ledger:
        mailbox_id = ledger.app.open_mailbox(ebox_type, number, email, language)
    done(
        as_json,
        f"eBox {ebox_type}:{number} opened",
        {"ebox_type": ebox_type, "id_value": number, "mailbox_id": mailbox_id},
    )


@mailbox_app.command("contact")
def mailbox_contact(
    ebox_type: EboxType,
    id_value: EboxIdArg,
    email: Annotated[str | None, typer.Option("--email", help="Where to notify.")] = None,
    language: Annotated[
        str | None, typer.Option("--language", help="nl, fr, de or en", metavar="nl|fr|de|en")
    ] = None,
    digest: Annotated[
        bool | None,
        typer.Option("--digest/--no-digest", help="One mail a day for new letters."),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Set an eBox's notification address, language and digest (the person's preferences route
    and the portal use the same use case)."""
    number = ebox_id(ebox_type, id_value)
    with ledger_for(db) as ledger:
        ledger.app.set_contact(ebox_type, number, email, language, digest)
    done(
        as_json,
        f"eBox {ebox_type}:{number}: contact set",
        {"ebox_type": ebox_type, "id_value": number, "language": language, "digest": digest},
    )


@mailbox_app.command("close")
def mailbox_close(
    ebox_type: EboxType,
    id_value: EboxIdArg,
    reason: Annotated[str, typer.Option("--reason", help="Recorded with the closing.")] = (
        "closed by the operator"
    ),
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Close an eBox: no letter is delivered to it any more."""
    number = ebox_id(ebox_type, id_value)
    with ledger_for(db) as ledger:
        ledger.app.close_mailbox(ebox_type, number, reason)
    done(
        as_json,
        f"eBox {ebox_type}:{number} closed",
        {"ebox_type": ebox_type, "id_value": number, "closed": True},
    )


@mailbox_app.command("import", help=IMPORT_HELP)
def mailbox_import(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="CSV or NDJSON (see above).")],
    batch: Annotated[
        int, typer.Option("--batch", min=1, max=10_000, help="Mailboxes per transaction.")
    ] = IMPORT_BATCH,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from ebox.adapters.mailbox_file import BadMailboxFile, read_mailbox_file

    try:
        checked = read_mailbox_file(file)
    except BadMailboxFile as error:
        fail(f"{file}: {error}; nothing was imported")
    opened = already = 0
    columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    progress = Progress(*columns, console=Console(stderr=True), transient=True)
    with ledger_for(db) as ledger, progress:
        task = progress.add_task("Opening mailboxes", total=len(checked.rows))
        for start in range(0, len(checked.rows), batch):
            rows = checked.rows[start : start + batch]
            new, old = ledger.app.open_mailboxes(rows)
            opened, already = opened + new, already + old
            progress.advance(task, len(rows))
    done(
        as_json,
        f"{opened} mailboxes opened, {already} already open ({len(checked.rows)} rows of {file})",
        {
            "file": str(file),
            "format": checked.format,
            "rows": len(checked.rows),
            "opened": opened,
            "already_open": already,
        },
    )
