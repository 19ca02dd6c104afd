"""What every `ebox admin ...` command shares: opening, refusing, and saying what it did.

Outside scripts drive these commands, so their output is a contract: with
`--json`, exactly one JSON object on stdout (the ids made: client_id, key_id,
...); without it, one line for a person. A refusal (a wrong check digit, an
unknown sender, a key already registered) is one line on stderr and exit 2,
never a traceback: the operator fixes the one thing the line names.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from ebox.cli.opening import UNABLE, open_or_exit

if TYPE_CHECKING:
    from ebox.adapters.runtime import Ledger

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON object on stdout instead of a sentence.")
]
NameNl = Annotated[str | None, typer.Option("--name-nl", help="Name in Dutch.")]
NameFr = Annotated[str | None, typer.Option("--name-fr", help="Name in French.")]
NameDe = Annotated[str | None, typer.Option("--name-de", help="Name in German.")]
NameEn = Annotated[str | None, typer.Option("--name-en", help="Name in English.")]
EboxType = Annotated[
    str, typer.Argument(help="citizen or enterprise", metavar="citizen|enterprise")
]
EboxIdArg = Annotated[
    str, typer.Argument(help="National register number (citizen) or KBO number (enterprise).")
]


def fail(message: str) -> NoReturn:
    """One line on stderr, exit 2."""
    print(f"ebox: {message}", file=sys.stderr)
    raise typer.Exit(UNABLE)


def refusals() -> tuple[type[BaseException], ...]:
    """The errors that are an operator's mistake (one line), not the program's (traceback)."""
    from ebox.adapters.clients import ClientError, UnknownClient
    from ebox.domain.errors import EboxError

    return (EboxError, ClientError, UnknownClient, ValueError)


@contextmanager
def ledger_for(db: str | None) -> Iterator[Ledger]:
    """The ledger of `--db` / the settings, closed after; refusals become one line, exit 2."""
    ledger = open_or_exit(db)
    try:
        yield ledger
    except refusals() as error:
        fail(message_of(error))
    finally:
        ledger.close()


def message_of(error: BaseException) -> str:
    text = getattr(error, "message", None) or str(error)
    return " ".join(str(text).split()) or type(error).__name__


def names_of(nl: str | None, fr: str | None, de: str | None, en: str | None) -> dict[str, str]:
    """The --name-xx options given, by language; at least one is needed."""
    names = {k: v for k, v in {"nl": nl, "fr": fr, "de": de, "en": en}.items() if v is not None}
    if not names:
        fail("give a name: --name-nl, --name-fr, --name-de or --name-en")
    return names


def done(as_json: bool, sentence: str, result: dict[str, Any]) -> None:
    """What the command did: `result` as one JSON object, or `sentence`."""
    print(json.dumps(result, sort_keys=True, ensure_ascii=False) if as_json else sentence)


def ebox_id(ebox_type: str, value: str) -> str:
    """The canonical id (digits) of an eBox, its check digits checked; else one line."""
    from ebox.domain.errors import EboxError
    from ebox.domain.ids import checked_ebox_id

    try:
        return checked_ebox_id(ebox_type, value)
    except EboxError as error:
        fail(error.message)


def guarded(action: Callable[[], Any]) -> Any:
    """Run a step that needs no ledger; refusals become one line, exit 2."""
    try:
        return action()
    except refusals() as error:
        fail(message_of(error))


def add_client_with_key(
    kind: str,
    subject: str,
    key_out: Path,
    alg: str,
    db: str | None,
    scopes: list[str] | None = None,
) -> str:
    """A new key pair, its private half claimed at `key_out` (0600) before registering.

    Never a client whose key could not be kept: the file is created first (and
    refused if it exists), and removed again if the registration is refused.
    Also what `ebox token client` does, the older name of `ebox admin client add`.
    """
    import os

    from ebox.adapters.clients import CLIENT_KINDS, generate_key
    from ebox.adapters.onboarding import add_client

    if kind not in CLIENT_KINDS:
        fail(f"KIND is one of {', '.join(CLIENT_KINDS)}, not {kind!r}")
    pair = guarded(lambda: generate_key(alg))
    try:
        fd = os.open(key_out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        fail(f"{key_out} exists: refusing to overwrite a key")
    except OSError as error:
        fail(f"{key_out} cannot be written: {error.strerror or error}")
    with os.fdopen(fd, "wb") as handle:
        handle.write(pair.private_pem)
    try:
        with ledger_for(db) as ledger:
            return add_client(ledger, kind, subject, pair.public_jwk, scopes or None)
    except BaseException:
        key_out.unlink(missing_ok=True)
        raise
