"""`ebox witness`: run a C2SP tlog-witness of our own (ebox.witness).

`vkey` prints the cosigner's public key for verifiers' policies; `serve` runs
add-checkpoint for the logs named by their vkeys. Both are offline: no
database, no data directory, only the key file and the state file given.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

witness_app = typer.Typer(
    help="A C2SP tlog-witness: cosign other logs' checkpoints (ours too).", no_args_is_help=True
)

KeyOption = Annotated[
    Path,
    typer.Option(
        "--key",
        help="Witness key file (Go note signer key PRIVATE+KEY+...); serve creates it 0600.",
    ),
]


def _refused(message: str) -> NoReturn:
    """One plain line on stderr and exit status 2: an everyday mistake, no traceback."""
    print(f"ebox witness: {message}", file=sys.stderr)
    raise typer.Exit(2)


@witness_app.command("vkey")
def witness_vkey(key: KeyOption) -> None:
    """Print the witness's cosigner vkey (signature type 0x04) for verifiers' policies."""
    from ebox.witness.errors import KeyFileError
    from ebox.witness.keys import read_key

    try:
        print(read_key(key).vkey)
    except KeyFileError as error:
        _refused(str(error))


@witness_app.command("serve")
def witness_serve(
    key: KeyOption,
    state: Annotated[
        Path, typer.Option("--state", help="State file (JSON, 0600): latest cosigned per log.")
    ],
    log: Annotated[
        list[str],
        typer.Option(
            "--log", help="A log's C2SP vkey (type 0x01), named by its origin; repeatable."
        ),
    ],
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="TCP port.")] = 8880,
    name: Annotated[
        str | None,
        typer.Option("--name", help="Witness name for a new key file (default: the host name)."),
    ] = None,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
) -> None:
    """Serve POST /add-checkpoint and GET /<origin hash>/checkpoint (C2SP tlog-witness)."""
    from ebox.domain.proofs.errors import KeyFormatError
    from ebox.domain.proofs.note import NoteVerifier
    from ebox.witness.errors import KeyFileError, StateUnavailable
    from ebox.witness.keys import load_or_create_key
    from ebox.witness.server import WitnessServer
    from ebox.witness.service import Witness
    from ebox.witness.state import StateFile

    verifiers = []
    for vkey in log:
        try:
            verifiers.append(NoteVerifier(vkey.strip()))
        except KeyFormatError as error:
            _refused(f"--log {vkey[:60]!r} is not a log vkey: {error}")
    try:
        cosigner = load_or_create_key(key, name if key.exists() else name or socket.gethostname())
    except KeyFileError as error:
        _refused(str(error))
    state_file = StateFile(state)
    try:
        state_file.check()
    except StateUnavailable as error:
        _refused(str(error))
    witness = Witness(cosigner, verifiers, state_file)
    try:
        server = WitnessServer((host, port), witness)
    except OSError as error:
        _refused(f"cannot listen on {host}:{port}: {error.strerror or error}")
    bound = server.server_address[1]
    print(
        f"ebox witness {cosigner.name} ({cosigner.vkey}) on http://{host}:{bound}/ "
        f"for {', '.join(sorted(witness.logs))}",
        file=sys.stderr,
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
