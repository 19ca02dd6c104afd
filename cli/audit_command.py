"""`ebox audit`: re-verify a whole ledger (its database, or an export) and name the first bad event.

Apart from the bundle commands (ebox.cli.evidence_commands) because an audit
reads the whole log: progress bars, export files and the database's own source.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from ebox.cli.evidence_commands import (
    FAILED,
    UNABLE,
    VERIFIED,
    VkeyOption,
    _open,
    _policy,
    _vkey,
    err,
)
from ebox.cli.opening import DbOption

AuditPolicyOption = Annotated[
    Path | None,
    typer.Option(
        "--policy",
        help="A C2SP tlog-policy file: the LATEST checkpoint (the one the audit ends at, which "
        "covers every earlier leaf) must carry its witness quorum, and the ledger key be one of "
        "its logs (if it lists any); earlier checkpoints are counted as witnessed or not.",
    ),
]

# --- audit ---------------------------------------------------------------------------------


def audit(
    db: DbOption = None,
    export: Annotated[
        Path | None,
        typer.Option(
            "--export", help="Audit this `ebox ledger export` file instead of a database."
        ),
    ] = None,
    checkpoints: Annotated[
        Path | None,
        typer.Option(
            "--checkpoints",
            help="With --export: the `ebox ledger checkpoints` file (or signed notes).",
        ),
    ] = None,
    envelopes: Annotated[
        Path | None,
        typer.Option(
            "--envelopes",
            help="With --export: the `ebox ledger envelopes` file, to verify signatures.",
        ),
    ] = None,
    vkey: VkeyOption = None,
    signatures: Annotated[
        bool,
        typer.Option("--signatures/--no-signatures", help="Verify sender signatures (Ed25519)."),
    ] = True,
    policy: AuditPolicyOption = None,
) -> None:
    """Re-verify every event, chain, checkpoint and signature; name the first bad event.

    With --policy, the latest checkpoint must also meet the policy's witness quorum
    (earlier checkpoints are counted as witnessed or not, not required to be).
    """
    from ebox.verifier.errors import VerificationError
    from ebox.verifier.report import render_audit_result, render_failure

    witness_policy = _policy(policy)
    try:
        if export is not None:
            result = _audit_export(export, checkpoints, envelopes, vkey, signatures, witness_policy)
        else:
            result = _audit_database(db, vkey, signatures, witness_policy)
    except VerificationError as error:  # the trusted key itself is unusable
        sys.stdout.write(render_failure(error, "LEDGER AUDIT COULD NOT RUN"))
        raise typer.Exit(UNABLE) from None
    sys.stdout.write(render_audit_result(result))
    raise typer.Exit(VERIFIED if result.ok else FAILED)


def _audit_export(
    export: Path,
    checkpoints: Path | None,
    envelopes: Path | None,
    vkey: str | None,
    signatures: bool,
    policy: Any = None,
) -> Any:
    from ebox.verifier.audit import LedgerAuditor
    from ebox.verifier.bundle import trusted_verifier
    from ebox.verifier.export import EnvelopeFile, read_checkpoints, read_export

    if checkpoints is None or vkey is None:
        err.print("[red]an export audit needs --checkpoints FILE and --vkey VKEY[/red]")
        raise typer.Exit(UNABLE)
    auditor = LedgerAuditor(
        trusted_verifier(_vkey(vkey)),
        read_checkpoints(checkpoints),
        envelopes=EnvelopeFile(envelopes) if envelopes else None,
        verify_signatures=signatures,
        source=f"export {export}",
        policy=policy,
    )
    with _progress(_count_lines(export), "Auditing the export") as advance:
        return auditor.run(read_export(export), advance)


def _audit_database(db: str | None, vkey: str | None, signatures: bool, policy: Any = None) -> Any:
    from ebox.adapters.transparency import TransparencyLog
    from ebox.cli.audit_source import DatabaseAuditSource
    from ebox.verifier.audit import LedgerAuditor
    from ebox.verifier.bundle import trusted_verifier

    ledger = _open(db)
    try:
        if vkey is None:
            trusted = TransparencyLog(ledger).vkey()
            err.print(
                "[yellow]no --vkey: trusting the ledger key of the data directory; an auditor "
                "should pass the published key[/yellow]"
            )
        else:
            trusted = _vkey(vkey)
        source = DatabaseAuditSource(ledger)
        auditor = LedgerAuditor(
            trusted_verifier(trusted),
            source.checkpoints(),
            envelopes=source.envelope,
            verify_signatures=signatures,
            witness=source,
            source=f"database {_redact(ledger.url)}",
            policy=policy,
        )
        with _progress(source.count(), "Auditing the database") as advance:
            return auditor.run(source.entries(), advance)
    finally:
        ledger.close()


@contextmanager
def _progress(total: int, label: str) -> Iterator[Any]:
    """A rich progress bar on stderr; yields the callback the auditor calls with its count."""
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task(label, total=total or None, rate="")

        def advance(count: int) -> None:
            elapsed = progress.tasks[0].elapsed or 0.0
            rate = f"{count / elapsed:,.0f} events/s" if elapsed > 0 else ""
            progress.update(task, completed=count, rate=rate)

        yield advance


def _count_lines(path: Path) -> int:
    count = 0
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            count += block.count(b"\n")
    return count


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
