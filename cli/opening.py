"""Opening the ledger for a command: every way it can fail is one line on stderr and exit 2.

An operator's mistakes here are the common ones (a mistyped `--db` URL, a server that is
down, a database not yet migrated); a traceback would bury the one thing to fix. The URL is
never printed with its password.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from ebox.adapters.runtime import Ledger

UNABLE = 2

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="SQLAlchemy URL (default: $EBOX_DATABASE_URL, else SQLite in $EBOX_HOME)."
    ),
]
"""The `--db` option every command that opens the ledger takes."""


def open_or_exit(db: str | None) -> Ledger:
    """The ledger at `db` (default: the settings' database), or one line and exit 2."""
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

    from ebox.adapters.runtime import SchemaNotReady, open_ledger

    try:
        return open_ledger(db)
    except SchemaNotReady as error:
        problem = str(error)
    except (ArgumentError, NoSuchModuleError):
        problem = "--db / EBOX_DATABASE_URL is not a SQLAlchemy database URL"
    except OperationalError as error:
        reason = type(error.orig).__name__ if error.orig is not None else "OperationalError"
        problem = f"the database cannot be opened ({reason}): is the server up and the URL right?"
    print(f"ebox: {problem}", file=sys.stderr)
    raise typer.Exit(UNABLE)
