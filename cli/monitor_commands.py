"""`ebox monitor PREFIX --vkey VKEY [--policy F] --state F [--entries] [--follow]`.

Follows a remote ledger, or any other C2SP tlog-tiles log, through its tiles
only. Exit codes (for scripts and alerting): 0 consistent, 2 usage, network or
state-file trouble, 3 fork, 4 rollback, 5 bad signature or witness quorum,
6 inconsistent history, 7 an entry that is not what the log commits to.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ebox.cli.opening import fail

if TYPE_CHECKING:
    from ebox.monitor.monitor import Monitor


def monitor(
    prefix: Annotated[str, typer.Argument(metavar="PREFIX", help="The tiles prefix URL.")],
    vkey: Annotated[
        str, typer.Option("--vkey", help="The log's C2SP vkey (its name is the origin).")
    ],
    state: Annotated[
        Path, typer.Option("--state", help="Where the last verified checkpoint is kept.")
    ],
    policy: Annotated[
        Path | None, typer.Option("--policy", help="C2SP tlog-policy: the witness quorum required.")
    ] = None,
    entries: Annotated[
        bool, typer.Option("--entries", help="Also check every new entry against its leaf.")
    ] = False,
    token_file: Annotated[
        Path | None,
        typer.Option(
            "--token-file", help="With --entries: an audit-scope token; recompute events."
        ),
    ] = None,
    follow: Annotated[
        bool, typer.Option("--follow", help="Keep checking until interrupted.")
    ] = False,
    interval: Annotated[
        float, typer.Option("--interval", min=0.1, help="Seconds between checks.")
    ] = 10.0,
) -> None:
    """Verify the log's new checkpoint: signature, cosignatures, consistency with the last one."""
    from ebox.domain.proofs.errors import ProofError
    from ebox.domain.proofs.policy import Policy
    from ebox.monitor.audit_events import AuditEvents
    from ebox.monitor.monitor import Monitor
    from ebox.monitor.tiles_reader import FetchError, TileFetcher

    if not prefix.startswith(("http://", "https://")):
        fail(f"PREFIX {prefix!r} is not an http(s) URL")
    if token_file is not None and not entries:
        fail("--token-file goes with --entries")
    if not state.parent.is_dir():
        fail(f"--state {state}: directory {state.parent} does not exist")
    try:
        rules = None if policy is None else Policy.parse(policy.read_bytes())
        token = None if token_file is None else token_file.read_text(encoding="utf-8").strip()
        events = None if token is None else AuditEvents(prefix, token)
        watcher = Monitor(TileFetcher(prefix), vkey, state, rules, entries, events)
    except OSError as error:
        fail(f"cannot read {error.filename}: {error.strerror}")
    except (ProofError, FetchError) as error:
        fail(str(error))
    try:
        while True:
            _check(watcher, follow)
            if not follow:
                return
            time.sleep(interval)
    except KeyboardInterrupt:  # Ctrl-C while following: a normal end, the state is intact
        return


def _check(watcher: Monitor, following: bool) -> None:
    """One step, printed; an alarm is one line and its exit code.

    A log that cannot be read is exit 2 for a single check; a following monitor
    says so in one line and tries again at the next interval (a network blip is
    no reason to stop watching), leaving the state as it was.
    """
    from ebox.domain.proofs.errors import ProofError
    from ebox.monitor.monitor import MonitorAlarm
    from ebox.monitor.tiles_reader import FetchError

    try:
        print(watcher.step().line(), flush=True)
    except MonitorAlarm as alarm:
        print(f"ebox monitor: {alarm}", file=sys.stderr)
        raise typer.Exit(alarm.exit_code) from None
    except (FetchError, ProofError) as error:
        print(f"ebox monitor: {error}", file=sys.stderr, flush=True)
        if not following:
            raise typer.Exit(2) from None


def register(app: typer.Typer) -> None:
    app.command("monitor")(monitor)
