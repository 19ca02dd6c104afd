"""`ebox evidence`, `ebox verify` (`ebox audit` is in ebox.cli.audit_command), and exports.

- `ebox evidence MESSAGE_ID -o FILE [--pdf FILE] [--disclose]` builds one
  message's evidence bundle from the database and checks it before writing it.
- `ebox verify FILE --vkey VKEY [--pdf FILE] [--policy FILE]` checks a bundle
  offline: exit 0 and a plain report of what is proven, or exit 1 and the exact
  reason; with a C2SP tlog-policy, its checkpoints must meet the witness quorum.
- `ebox audit` re-verifies a whole ledger, from its database (`--db`) or from
  an export (`--export FILE --checkpoints FILE [--envelopes FILE]`): exit 0,
  or exit 1 naming the first bad event; with `--policy FILE`, the latest
  checkpoint must meet the witness quorum (earlier ones are counted).
- `ebox ledger checkpoints` and `ebox ledger envelopes` write the two files an
  export audit needs beside `ebox ledger export` (on a live ledger, write the
  checkpoints first, then the export, so that the export reaches the latest
  checkpoint).

Exit codes: 0 verified, 1 verification failed, 2 could not run (bad input,
unknown message, nothing sealed yet).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from ebox.cli.opening import CommandError, DbOption, fail, open_or_exit

if TYPE_CHECKING:
    from ebox.adapters.runtime import Ledger

err = Console(stderr=True)
PRIVATE_FILE = 0o600

VERIFIED, FAILED, UNABLE = 0, 1, 2

PolicyOption = Annotated[
    Path | None,
    typer.Option(
        "--policy",
        help="A C2SP tlog-policy file (log, witness, group and quorum lines): every checkpoint "
        "the bundle relies on must carry its witnesses' quorum of cosignatures, and the ledger "
        "key be one of its logs (if it lists any).",
    ),
]

VkeyOption = Annotated[
    str | None,
    typer.Option(
        "--vkey",
        help="The ledger's public key (C2SP vkey), or a file holding it. Obtain it from the "
        "operator's published source: a verdict is only as good as this key.",
    ),
]


def register(app: typer.Typer) -> None:
    """Add the evidence commands to the `ebox` application (and two to its `ledger` group)."""
    app.command("evidence")(evidence)
    app.command("verify")(verify)
    for group in app.registered_groups:
        if group.name == "ledger" and group.typer_instance is not None:
            group.typer_instance.command("checkpoints")(ledger_checkpoints)
            group.typer_instance.command("envelopes")(ledger_envelopes)


def _open(db: str | None) -> Ledger:
    """Every command here only reads: no database, directory or key is created."""
    return open_or_exit(db, read_only=True)


def _vkey(value: str) -> str:
    """A vkey given inline, or the path of a file that holds one.

    A vkey is `name+keyid+key`; anything else was meant as a file, and a missing
    one is said to be missing (not reported as a malformed key).
    """
    path = Path(value)
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    if value.strip().count("+") < 2:
        raise CommandError(f"--vkey {value}: no such file (and not a vkey name+keyid+key)")
    return value.strip()


# --- evidence ------------------------------------------------------------------------------


def evidence(
    message_id: Annotated[str, typer.Argument(help="The message's id.")],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Where to write the bundle (JSON).")
    ],
    db: DbOption = None,
    pdf: Annotated[
        Path | None, typer.Option("--pdf", help="Also write the PDF certificate.")
    ] = None,
    disclose: Annotated[
        bool,
        typer.Option(
            "--disclose",
            help="Include the data key and the ciphertexts, so that a court can check the content. "
            "Whoever holds the file can then read the letter.",
        ),
    ] = False,
) -> None:
    """Write the evidence of notification of MESSAGE_ID (ebox-evidence/v1), checked first."""
    from ebox.adapters.evidence import EvidenceUnavailable, build_evidence
    from ebox.adapters.transparency import NoCheckpoint, TransparencyLog
    from ebox.domain.errors import ChainIntegrityError, EboxError
    from ebox.verifier.bundle import verify_bundle
    from ebox.verifier.errors import VerificationError
    from ebox.verifier.report import render_failure

    ledger = _open(db)
    try:
        bundle = build_evidence(ledger, message_id, disclose=disclose)
        vkey = TransparencyLog(ledger).vkey()
    except ChainIntegrityError as error:  # the stored events were altered: no evidence, and say why
        err.print(
            f"[red]the message's stored events do not verify: {error}; run `ebox audit`[/red]"
        )
        raise typer.Exit(FAILED) from None
    except (EboxError, EvidenceUnavailable, NoCheckpoint) as error:
        fail(str(error))
    finally:
        ledger.close()
    text = bundle.to_json()
    try:
        report = verify_bundle(text, vkey, _operator_tsa_anchors())
    except VerificationError as error:  # the database itself does not verify: say so, write nothing
        err.print(render_failure(error, "THE LEDGER'S OWN EVIDENCE DOES NOT VERIFY"), end="")
        raise typer.Exit(FAILED) from None
    _write_private(output, text.encode("utf-8"))
    err.print(f"evidence of message {message_id} written to {output} (verified with {vkey})")
    if pdf is not None:
        _certificate(report, pdf, output, text.encode("utf-8"))


def _write_private(path: Path, content: bytes) -> None:
    """Write a file only its owner may read (0600), also over an existing file.

    A bundle names the recipient and the letter's subject; a disclosed one holds
    the data key, so whoever reads the file reads the letter.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(fd, "wb") as handle:
        os.fchmod(handle.fileno(), PRIVATE_FILE)
        handle.write(content)


def _certificate(report: Any, pdf: Path, bundle_path: Path, raw: bytes) -> None:
    """The sealed certificate (issuer and seal from the settings), written 0600."""
    from ebox.adapters.certificate_seal import SealUnavailable
    from ebox.api.certificates import issue_certificate
    from ebox.api.settings import Settings

    settings = Settings.from_env()
    try:  # the operator's seal over the certificate and the bundle it carries
        sealed = issue_certificate(
            report, raw, settings.sealing_identity(), settings.issuer, bundle_name=bundle_path.name
        )
    except SealUnavailable as error:
        err.print(f"[red]{error}[/red]")
        raise typer.Exit(UNABLE) from None
    # 0600: the certificate names the parties.
    _write_private(pdf, sealed)
    err.print(f"certificate written to {pdf} (sealed, carrying {bundle_path.name})")


# --- verify --------------------------------------------------------------------------------------


def verify(
    file: Annotated[
        Path,
        typer.Argument(
            help="The evidence bundle (ebox-evidence/v1 JSON) or a sealed certificate PDF."
        ),
    ],
    vkey: VkeyOption = None,
    pdf: Annotated[
        Path | None, typer.Option("--pdf", help="Write the PDF certificate if it verifies.")
    ] = None,
    seal_cert: Annotated[
        Path | None,
        typer.Option(
            "--seal-cert",
            help="For a PDF: the operator's sealing certificate (PEM) to validate its seal "
            "against. Without it, the certificate the PDF carries: integrity only.",
        ),
    ] = None,
    tsa_ca: Annotated[
        list[Path] | None,
        typer.Option(
            "--tsa-ca",
            help="PEM trust anchors of the time-stamping authority (repeatable, or one file "
            "of several): the bundle's RFC 3161 token must chain to one. Without it, the "
            "token's integrity only.",
        ),
    ] = None,
    policy: PolicyOption = None,
) -> None:
    """Verify an evidence bundle offline, trusting only the ledger key given with --vkey.

    A sealed certificate PDF is accepted too: its PAdES seal is validated
    (pyHanko), then the bundle it carries is verified like a bundle file.
    """
    from ebox.verifier.bundle import verify_bundle
    from ebox.verifier.errors import VerificationError
    from ebox.verifier.report import render_bundle_report, render_failure
    from ebox.verifier.sealed_pdf import BUNDLE_ATTACHMENT, is_pdf, open_sealed_certificate

    if vkey is None:
        err.print(
            "[red]--vkey is required: the ledger's public key is what the verdict rests on[/red]"
        )
        raise typer.Exit(UNABLE)
    try:
        raw = file.read_bytes()
    except OSError as error:
        err.print(f"[red]cannot read {file}: {error}[/red]")
        raise typer.Exit(UNABLE) from None
    source = file
    if is_pdf(raw):
        source = Path(BUNDLE_ATTACHMENT)
        try:
            trusted = seal_cert.read_bytes() if seal_cert else None
        except OSError as error:
            err.print(f"[red]cannot read {seal_cert}: {error}[/red]")
            raise typer.Exit(UNABLE) from None
        try:
            raw, seal_line = open_sealed_certificate(raw, trusted)
        except VerificationError as error:  # one line: no seal, broken seal, no bundle
            sys.stdout.write(f"VERIFICATION FAILED: {error.reason}\n")
            raise typer.Exit(FAILED) from None
        sys.stdout.write(seal_line + "\n")
    anchors = _tsa_anchors(tsa_ca or [])
    witness_policy = _policy(policy)
    try:
        report = verify_bundle(raw, _vkey(vkey), anchors, witness_policy)
    except VerificationError as error:
        sys.stdout.write(render_failure(error))
        raise typer.Exit(FAILED) from None
    sys.stdout.write(render_bundle_report(report))
    if pdf is not None:
        _certificate(report, pdf, source, raw)


def _policy(path: Path | None) -> Any:
    """The --policy file's tlog-policy; one line naming the bad line and exit 2 if unusable."""
    if path is None:
        return None
    from ebox.verifier.witnesses import PolicyFormatError, read_policy

    try:
        return read_policy(path.read_bytes())
    except OSError as error:
        line = f"--policy {path}: cannot read it ({error.strerror})"
    except PolicyFormatError as error:
        line = f"--policy {path}: {error}"
    err.print(f"[red]{escape(line)}[/red]", soft_wrap=True)
    raise typer.Exit(UNABLE)


def _operator_tsa_anchors() -> tuple[Any, ...]:
    """EBOX_TSA_CA_FILE's anchors: the operator's certificate says whether its TSA chains."""
    from ebox.adapters.tsa import read_anchors
    from ebox.api.settings import Settings

    ca_file = Settings.from_env().tsa_ca_file
    return read_anchors(ca_file) if ca_file is not None else ()


def _tsa_anchors(files: list[Path]) -> list[Any]:
    """The certificates of every --tsa-ca file; one line and exit 2 if one cannot be read."""
    from ebox.domain.proofs.timestamp import load_anchors

    anchors = []
    for path in files:
        try:
            anchors.extend(load_anchors(path.read_bytes()))
        except OSError as error:
            err.print(f"[red]--tsa-ca {path}: cannot read it ({error.strerror})[/red]")
            raise typer.Exit(UNABLE) from None
        except (ValueError, TypeError):
            err.print(f"[red]--tsa-ca {path}: not a PEM (or DER) certificate file[/red]")
            raise typer.Exit(UNABLE) from None
    return anchors


# --- exports for an offline audit -------------------------------------------------------


@contextmanager
def private_output(path: Path | None) -> Iterator[IO[str]]:
    """Standard output, or a text file only its owner may read (0600, also over an old file).

    Exports name every recipient and carry the letters' metadata: personal data.
    """
    if path is None:
        yield sys.stdout
        return
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), PRIVATE_FILE)
        yield handle


def ledger_checkpoints(
    db: DbOption = None,
    output: Annotated[Path | None, typer.Option("-o", "--output")] = None,
    notes: Annotated[
        bool, typer.Option("--notes", help="Write the signed notes only, one after the other.")
    ] = False,
) -> None:
    """Every signed checkpoint in increasing size: one JSON line {size, note} each (or --notes)."""
    from ebox.cli.audit_source import DatabaseAuditSource

    ledger = _open(db)
    try:
        with private_output(output) as out:
            for size, note in DatabaseAuditSource(ledger).checkpoints():
                out.write(
                    note
                    if notes
                    else json.dumps({"size": size, "note": note}, ensure_ascii=False) + "\n"
                )
    finally:
        ledger.close()


def ledger_envelopes(
    db: DbOption = None,
    output: Annotated[Path | None, typer.Option("-o", "--output")] = None,
) -> None:
    """The envelopes senders signed, in log order: JSON lines {sha256, envelope (base64url)}."""
    from ebox.adapters.transparency import TransparencyLog
    from ebox.domain.proofs.canonical import b64url

    ledger = _open(db)
    seen: dict[str, None] = {}
    try:
        with private_output(output) as out:
            for row in TransparencyLog(ledger).entries():
                canonical = row["canonical"]
                if canonical["type"] != "Sent" or canonical["aggregate_type"] != "Message":
                    continue
                digest = canonical["data"]["envelope_sha256"]
                if digest in seen:
                    continue
                seen[digest] = None
                if len(seen) > 4096:  # a broadcast's envelope repeats within a run of letters
                    seen.pop(next(iter(seen)))
                raw = ledger.app.stores.blobs.get(digest)
                out.write(json.dumps({"sha256": digest, "envelope": b64url(raw)}) + "\n")
    finally:
        ledger.close()
