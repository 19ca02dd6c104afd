"""`ebox admin ledger-key rotate` and `ebox admin kek rotate`: key changes, on the record.

Apart from the other admin commands because they change the keys themselves: the
rotation logic and its crash-safe order are in ebox.adapters.key_rotation; here
only the command line (a sentence, or one JSON object with --json).
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

from ebox.cli.opening import DbOption, open_or_exit

err = Console(stderr=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as one JSON object.")]

ledger_key_app = typer.Typer(help="The ledger's signing key (checkpoints).", no_args_is_help=True)
kek_app = typer.Typer(
    help="The key-encryption key of the mailbox private keys.", no_args_is_help=True
)


@ledger_key_app.command("rotate")
def ledger_key_rotate(db: DbOption = None, as_json: JsonOption = False) -> None:
    """A new ledger key: recorded as a LedgerKeyRotated event endorsed by the old key.

    Checkpoints that include the event are signed by the new key (by the sealer:
    `ebox serve` or `ebox workers`); older ones keep verifying with the old key,
    kept as ledger-<id>.retired.key. Publish the new vkey beside the old one.
    """
    from ebox.adapters.key_rotation import rotate_ledger_key

    ledger = open_or_exit(db)
    try:
        rotation = rotate_ledger_key(ledger)
    finally:
        ledger.close()
    if as_json:
        print(json.dumps(rotation.as_json()))
        return
    print(rotation.detail["vkey"])
    err.print(
        f"ledger key {rotation.previous_id} -> {rotation.new_id} (event {rotation.event}); the old "
        f"key is kept as {rotation.retired_file}"
    )


@kek_app.command("rotate")
def kek_rotate(db: DbOption = None, as_json: JsonOption = False) -> None:
    """A new KEK: every mailbox private key re-wrapped under it in one transaction.

    Restart the API and worker processes afterwards: they hold the KEK they started
    with. The old KEK is kept as kek-<id>.retired.key for older backups only.
    """
    from ebox.adapters.key_rotation import rotate_kek

    ledger = open_or_exit(db)
    try:
        rotation = rotate_kek(ledger)
    finally:
        ledger.close()
    if as_json:
        print(json.dumps(rotation.as_json()))
        return
    print(rotation.new_id)
    err.print(
        f"KEK {rotation.previous_id} -> {rotation.new_id}: {rotation.detail['rewrapped']} mailbox "
        f"keys re-wrapped (event {rotation.event}); the old KEK is kept as {rotation.retired_file}"
    )


def register(admin_app: typer.Typer) -> None:
    """Add `ledger-key` and `kek` to the `ebox admin` group."""
    admin_app.add_typer(ledger_key_app, name="ledger-key")
    admin_app.add_typer(kek_app, name="kek")
