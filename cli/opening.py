"""Opening the ledger for a command, and the CLI's one error boundary: one line, exit 2.

An operator's mistakes are the common ones (a mistyped `--db` URL, a server that
is down, a database not yet migrated, a data directory that is not the
database's, a file that is not there); a traceback would bury the one thing to
fix. Every command opens the ledger through :func:`open_or_exit`, and `ebox`
itself runs inside :func:`run_with_one_line_errors`, which turns the everyday
exceptions raised anywhere (a file, the database, the keys) into one line on
stderr and exit 2. A bug still shows its traceback. A URL is never printed with
its password.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, NoReturn

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


class CommandError(Exception):
    """An everyday mistake a command found itself: its message is the one line to print."""


def fail(message: str) -> NoReturn:
    """Stop the command: `message` on one line of stderr, exit 2."""
    print(f"ebox: {message}", file=sys.stderr)
    raise typer.Exit(UNABLE)


def open_or_exit(db: str | None, *, read_only: bool = False) -> Ledger:
    """The ledger at `db` (default: the settings' database), or one line and exit 2.

    `read_only` for the commands that only read (audit, ledger, evidence): they
    create no database, no directory and no key, and work on a read-only copy.
    """
    from ebox.adapters.runtime import open_ledger

    try:
        return open_ledger(db, read_only=read_only)
    except Exception as error:
        problem = describe(error)
        if problem is None:
            raise
        fail(problem)


def describe(error: BaseException) -> str | None:
    """The one line that says what is wrong, or None for an error that is a bug."""
    from eventsourcing.persistence import PersistenceError
    from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError

    from ebox.adapters.home import KeysUnavailable, SecretUnavailable
    from ebox.adapters.key_binding import KeysNotBound
    from ebox.adapters.runtime import DatabaseMissing, SchemaNotReady

    if isinstance(error, CommandError | SchemaNotReady | KeysNotBound | KeysUnavailable):
        return str(error)
    if isinstance(error, SecretUnavailable | DatabaseMissing):
        return str(error)
    if isinstance(error, ArgumentError | NoSuchModuleError):
        return "--db / EBOX_DATABASE_URL is not a SQLAlchemy database URL (dialect+driver://...)"
    if isinstance(error, OperationalError):
        return _database_problem(error)
    if isinstance(error, DBAPIError | PersistenceError) and "permission denied" in str(error):
        first = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        first = first.removeprefix("(psycopg2.errors.InsufficientPrivilege) ")
        return f"the database refuses this command ({first}): it writes, and this role only reads"
    if isinstance(error, OSError) and error.filename is not None:
        return f"{error.filename}: {error.strerror or type(error).__name__}"
    return None


def _database_problem(error: BaseException) -> str:
    """A driver's error as the one thing to fix (its first line only: no SQL, no values)."""
    orig = getattr(error, "orig", None)
    text = str(orig if orig is not None else error).strip().splitlines()
    first = text[0] if text else type(error).__name__
    lowered = first.lower()
    if "does not exist" in lowered and "database" in lowered:
        server, _, reason = first.partition("FATAL:")
        where = server.removeprefix("connection to ").removesuffix(" failed: ").strip()
        return f"{reason.strip() or first} ({where}): create it, then run `ebox db upgrade`"
    if "connection refused" in lowered or "could not connect" in lowered:
        return (
            f"the database cannot be opened: cannot connect to its server ({first}): "
            "is it up, and the URL right?"
        )
    if "unable to open database file" in lowered:
        return "cannot open the SQLite database file: does its folder exist, may ebox write it?"
    if "readonly database" in lowered or "read-only" in lowered:
        return f"the database is read-only ({first}): this command writes"
    return f"the database cannot be used ({first})"


def run_with_one_line_errors(command: Callable[[], object]) -> None:
    """Run `ebox`: an everyday error anywhere is one line on stderr and exit 2."""
    try:
        command()
    except Exception as error:
        problem = describe(error)
        if problem is None:
            raise
        print(f"ebox: {problem}", file=sys.stderr)
        sys.exit(UNABLE)
