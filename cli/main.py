"""The `ebox` command: demo, database, ledger inspection."""

from __future__ import annotations

import base64
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ebox.cli.opening import DbOption, fail, open_or_exit, run_with_one_line_errors

app = typer.Typer(
    help="The eBox ledger: verifiable official digital mailbox.", no_args_is_help=True
)
db_app = typer.Typer(help="Database schema (Alembic).", no_args_is_help=True)
ledger_app = typer.Typer(help="The Merkle log: checkpoints, proofs, export.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(ledger_app, name="ledger")

err = Console(stderr=True)

OFFLINE_COMMANDS = frozenset(
    {"verify", "sign", "monitor", "witness"}
)  # need no setting: files and a key


@app.callback()
def _settings_first(ctx: typer.Context) -> None:
    """Check every setting before any command runs: a bad one is one line and exit 2."""
    if ctx.invoked_subcommand in OFFLINE_COMMANDS or ctx.resilient_parsing:
        return
    from ebox.api.settings import Settings

    try:
        Settings.from_env()
    except ValueError as error:  # SettingsError, SecretUnavailable: each names its variable
        print(error, file=sys.stderr)  # plain: one unwrapped line per variable
        raise typer.Exit(2) from None


def _open(db: str | None):  # type: ignore[no-untyped-def]
    return open_or_exit(db)


def _read(db: str | None):  # type: ignore[no-untyped-def]
    """Open for reading only: no database, directory or key is created (`ebox ledger ...`)."""
    return open_or_exit(db, read_only=True)


@app.command()
def demo(
    db: DbOption = None,
    letters: Annotated[
        int, typer.Option("--letters", min=1, help="How many letters to publish.")
    ] = 1000,
    seed: Annotated[int | None, typer.Option(help="Random seed for reproducible data.")] = None,
) -> None:
    """Publish, deliver, read and archive letters, seal them, print the signed checkpoint."""
    from ebox.adapters.transparency import TransparencyLog
    from ebox.cli.demo import run_demo

    ledger = _open(db)
    try:
        summary = run_demo(ledger, letters, seed)
        log = TransparencyLog(ledger)
        size, note = log.checkpoint()
    finally:
        ledger.close()
    table = Table(title="eBox ledger demo", show_header=False)
    for label, value in [
        ("sender organisations", summary.senders),
        ("mailboxes", summary.mailboxes),
        ("letters published (Sent)", summary.published),
        ("letters delivered", summary.delivered),
        ("letters read", summary.read),
        ("letters archived", summary.archived),
        ("events sealed into the Merkle log", summary.leaves),
        ("ledger size (leaves)", size),
    ]:
        table.add_row(label, str(value))
    Console().print(table)
    if summary.credentials is not None:
        err.print(
            f"API credentials for curl (sender, partner app, person {summary.person}): "
            f"{summary.credentials}  (start the API with `ebox serve`)"
        )
    print("Latest checkpoint, as signed:\n")
    sys.stdout.write(note)


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None, revision: str = "head") -> None:
    """Apply the Alembic migrations (the one owner of every table)."""
    from ebox.adapters.home import default_database_url, normalize_url
    from ebox.adapters.schema import upgrade

    upgrade(normalize_url(db or default_database_url()), revision)
    err.print("database is at the latest migration")


@ledger_app.command("checkpoint")
def ledger_checkpoint(db: DbOption = None) -> None:
    """The latest checkpoint, exactly as signed."""
    from ebox.adapters.transparency import NoCheckpoint, TransparencyLog

    ledger = _read(db)
    try:
        sys.stdout.write(TransparencyLog(ledger).checkpoint()[1])
    except NoCheckpoint as error:
        err.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from None
    finally:
        ledger.close()


@ledger_app.command("vkey")
def ledger_vkey(db: DbOption = None) -> None:
    """The ledger's public key as a C2SP vkey (the data directory's, else the database's)."""
    from ebox.adapters.home import load_secrets
    from ebox.adapters.transparency import TransparencyLog

    secrets = load_secrets(create=False)  # reading a key never makes one
    if secrets.ledger_seed is not None:
        print(secrets.ledger_signer().vkey)
        return
    ledger = _read(db)
    try:
        print(TransparencyLog(ledger).vkey())
    finally:
        ledger.close()


@ledger_app.command("export")
def ledger_export(
    db: DbOption = None, output: Annotated[Path | None, typer.Option("-o")] = None
) -> None:
    """Every sealed event as one JSON line, in leaf order: leaf_index, event_hash, canonical."""
    from ebox.adapters.transparency import TransparencyLog, export_line
    from ebox.cli.evidence_commands import private_output

    ledger = _read(db)
    try:
        with private_output(output) as out:
            for row in TransparencyLog(ledger).entries():
                out.write(export_line(row))
    finally:
        ledger.close()


@ledger_app.command("proof")
def ledger_proof(
    index: int, db: DbOption = None, size: Annotated[int | None, typer.Option("--size")] = None
) -> None:
    """The C2SP tlog-proof of leaf INDEX against the latest (or the given) checkpoint."""
    from ebox.adapters.transparency import LeafOutOfRange, NoCheckpoint, TransparencyLog

    ledger = _read(db)
    try:
        sys.stdout.write(TransparencyLog(ledger).inclusion(index, size).encode())
    except (NoCheckpoint, LeafOutOfRange) as error:
        err.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from None
    finally:
        ledger.close()


@ledger_app.command("consistency")
def ledger_consistency(first: int, second: int, db: DbOption = None) -> None:
    """The RFC 9162 consistency proof between two tree sizes, base64 hashes one per line."""
    from ebox.adapters.transparency import TransparencyLog
    from ebox.domain.proofs.errors import ProofError

    ledger = _read(db)
    try:
        size = TransparencyLog(ledger).sealed_size()
        if not 0 <= first <= second <= size:
            fail(
                f"sizes {first} and {second}: the log has {size} leaves; a consistency proof "
                f"needs 0 <= FIRST <= SECOND <= {size}"
            )
        for digest in TransparencyLog(ledger).consistency(first, second):
            print(base64.b64encode(digest).decode())
    except (ProofError, ValueError, KeyError) as error:
        fail(str(error))
    finally:
        ledger.close()


@app.command()
def workers(
    db: DbOption = None,
    once: bool = False,
    interval: float = 0.2,
    now: Annotated[
        str | None,
        typer.Option(help="RFC 3339: run what is due as of this time (with --once)."),
    ] = None,
) -> None:
    """Run every follower, each on its own, and the lifecycle's due work (until idle with --once).

    Any number of these processes may run on one database. A follower that keeps
    failing parks alone (see `ebox projections status`); with --once that exits 1.
    Logs each follower's progress every $EBOX_WORKERS_PROGRESS_SECONDS (60), and
    serves its counters on $EBOX_WORKERS_METRICS_PORT/metrics when that is set.
    Due work (expiry, notification mails) runs on the system clock, or as of `--now`.
    """
    import signal

    from ebox.adapters.clock import BadTime, FixedClock, SystemClock
    from ebox.api.settings import Settings
    from ebox.domain.ports import Clock
    from ebox.projections.progress import ProgressLog
    from ebox.projections.workers import Workers

    clock: Clock = SystemClock()
    if now is not None:
        try:
            clock = FixedClock.parse(now)
        except BadTime as error:
            print(error, file=sys.stderr)
            raise typer.Exit(2) from None
    settings = Settings.from_env()
    ledger = _open(db)  # before logging is on: a refusal stays one line
    _log_to_stderr()
    work = Workers(ledger)
    progress = ProgressLog(ledger, settings.workers_progress_seconds)
    signal.signal(signal.SIGTERM, lambda *_: work.stop_soon())
    try:
        if once:
            parked = work.run_until_idle(clock)
            progress.report()
            if parked:
                err.print(f"[red]parked: {', '.join(parked)} (see `ebox projections status`)[/red]")
                raise typer.Exit(1)
        else:
            if settings.workers_metrics_port is not None:
                from prometheus_client import start_http_server

                start_http_server(settings.workers_metrics_port)
            progress.start()
            work.run_forever(interval, clock)
    except KeyboardInterrupt:
        pass
    finally:
        progress.stop()
        work.stop()
        ledger.close()


def _log_to_stderr() -> None:
    """Every log line of `serve` and `workers` as JSON on stderr ($EBOX_LOG_FORMAT, _LEVEL)."""
    from ebox.api.logging_setup import configure_logging
    from ebox.api.settings import Settings

    settings = Settings.from_env()
    configure_logging(settings.log_format, settings.log_level)


@app.command()
def serve(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    run_workers: Annotated[
        bool,
        typer.Option("--workers/--no-workers", help="Run delivery, views and sealer here too."),
    ] = True,
    header_timeout: Annotated[
        float | None,
        typer.Option(
            min=0.001, help="Seconds to send a request head (default $EBOX_HEADER_TIMEOUT, 10)."
        ),
    ] = None,
    body_timeout: Annotated[
        float | None,
        typer.Option(
            min=0.001,
            help="Seconds allowed between two pieces of a body (default $EBOX_BODY_TIMEOUT, 30).",
        ),
    ] = None,
    keep_alive_timeout: Annotated[
        float | None,
        typer.Option(
            min=0.001,
            help="Seconds an idle connection stays open (default $EBOX_KEEP_ALIVE_TIMEOUT, 5).",
        ),
    ] = None,
    max_concurrency: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Connections or requests in flight before 503 ($EBOX_MAX_CONCURRENCY, 500).",
        ),
    ] = None,
) -> None:
    """The eBox REST API (and, on the embedded default, the workers) in one process."""
    from ebox.adapters.clock import SystemClock
    from ebox.api.app import create_app
    from ebox.api.server import run_server
    from ebox.api.settings import Settings
    from ebox.projections.workers import Workers

    overrides = {
        "header_timeout_seconds": header_timeout,
        "body_timeout_seconds": body_timeout,
        "keep_alive_timeout_seconds": keep_alive_timeout,
        "max_concurrency": max_concurrency,
    }
    settings = (
        Settings.from_env()
        .served_at(host, port)
        .replace(**{k: v for k, v in overrides.items() if v is not None})
    )
    ledger = _open(db)
    api = create_app(ledger, settings)
    _log_to_stderr()
    work = Workers(ledger) if run_workers else None
    if work is not None:
        api.state.lag_reporters.update(work.lag_reporters())
        work.start(clock=SystemClock())
    try:
        run_server(api, host, port, settings)
    finally:
        if work is not None:
            work.stop()
        ledger.close()


# --------------------------------------------------------------------------- projections

projections_app = typer.Typer(
    help="Followers: positions, lags, parked ones; read model rebuilds.", no_args_is_help=True
)
app.add_typer(projections_app, name="projections")


@projections_app.command("status")
def projections_status(db: DbOption = None) -> None:
    """Each follower's position in the notification log, its lag, and why it is stuck."""
    from ebox.projections.follower_status import follower_statuses

    ledger = _open(db)
    try:
        latest, statuses = follower_statuses(ledger)
    finally:
        ledger.close()
    table = Table(title=f"followers (latest notification {latest})")
    for column in ("follower", "position", "lag", "state", "notification", "error"):
        table.add_column(column)
    for s in statuses:
        state = s.state if not s.stuck else f"[red]{s.state}[/red] ({s.attempts} attempts)"
        table.add_row(
            s.name,
            str(s.position),
            str(s.lag),
            state,
            "" if s.notification_id is None else str(s.notification_id),
            s.error_class or "",
        )
    Console().print(table)


@projections_app.command("retry")
def projections_retry(name: str, db: DbOption = None) -> None:
    """Clear follower NAME's fault: parked loops of every process resume within seconds."""
    from ebox.projections.faults import clear_fault, fault_of
    from ebox.projections.follower_status import FOLLOWER_NAMES

    if name not in FOLLOWER_NAMES:
        err.print(f"[red]no follower named {name!r}; known: {', '.join(FOLLOWER_NAMES)}[/red]")
        raise typer.Exit(2)
    ledger = _open(db)
    try:
        fault = fault_of(ledger, name)
        clear_fault(ledger, name)
    finally:
        ledger.close()
    err.print(f"{name}: {'fault cleared' if fault else 'had no fault'}")


@projections_app.command("rebuild")
def projections_rebuild(name: str, db: DbOption = None) -> None:
    """Empty read model NAME and replay the whole log into it."""
    from ebox.projections.runner import UnknownProjection, ViewRunner

    ledger = _open(db)
    try:
        replayed = ViewRunner(ledger, [name]).rebuild(name)
    except UnknownProjection as error:
        err.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None
    finally:
        ledger.close()
    err.print(f"{name} rebuilt from {replayed} notifications")


from ebox.cli.access_commands import admin_app, token_app  # noqa: E402
from ebox.cli.admin_commands import sender_app as _onboarding  # noqa: E402, F401  (registers)
from ebox.cli.audit_command import audit as _audit  # noqa: E402
from ebox.cli.evidence_commands import register as _register_evidence  # noqa: E402
from ebox.cli.key_commands import register as _register_key_commands  # noqa: E402
from ebox.cli.monitor_commands import register as _register_monitor  # noqa: E402
from ebox.cli.sign_command import register as _register_sign  # noqa: E402
from ebox.cli.tiles_commands import register as _register_tiles  # noqa: E402
from ebox.cli.witness_commands import witness_app  # noqa: E402

app.add_typer(token_app, name="token")
app.add_typer(admin_app, name="admin")
app.add_typer(witness_app, name="witness")
_register_evidence(app)
app.command("audit")(_audit)
_register_sign(app)
_register_key_commands(admin_app)
_register_tiles(ledger_app)
_register_monitor(app)


def main() -> None:
    """The `ebox` command, inside the one error boundary (ebox.cli.opening)."""
    run_with_one_line_errors(app)


if __name__ == "__main__":
    main()
