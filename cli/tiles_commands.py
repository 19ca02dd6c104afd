"""`ebox ledger tiles export DIR`: the log as C2SP tlog-tiles static files.

Read-only on the database, like every `ebox ledger` command. See
ebox.adapters.tlog_export for what a run writes and why it is safe to serve DIR
while a later run updates it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ebox.cli.opening import DbOption, fail, open_or_exit

tiles_app = typer.Typer(
    help="The log as C2SP tlog-tiles (served under /ledger/tlog/).", no_args_is_help=True
)


@tiles_app.command("export")
def tiles_export(
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="Where to write the tiles.")],
    db: DbOption = None,
) -> None:
    """Write checkpoint, tile/... and tile/entries/... of the latest checkpoint into DIR.

    Incremental: full tiles already in DIR are skipped; the checkpoint's partial
    tiles and the checkpoint itself (last) are written; earlier partial tiles are
    kept. Bytes are those /ledger/tlog/ serves (entry bundles uncompressed).
    """
    from ebox.adapters.tlog_export import ExportDirectoryError, export_tiles, prepare_directory
    from ebox.adapters.tlog_tiles import TileStore
    from ebox.adapters.transparency import NoCheckpoint, TransparencyLog

    try:
        prepare_directory(directory)
    except ExportDirectoryError as error:
        fail(str(error))
    ledger = open_or_exit(db, read_only=True)
    try:
        try:
            size, note = TransparencyLog(ledger).checkpoint()
        except NoCheckpoint as error:
            fail(f"nothing to export: {error}")
        summary = export_tiles(TileStore(ledger), size, note, directory)
    except ExportDirectoryError as error:
        fail(str(error))
    finally:
        ledger.close()
    print(summary.line(directory))


def register(ledger_app: typer.Typer) -> None:
    ledger_app.add_typer(tiles_app, name="tiles")
