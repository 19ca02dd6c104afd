"""`python -m ebox.verifier`: the offline verifier on its own, without the `ebox` command.

An auditor or a court can run this with nothing but the proof modules, PyNaCl
and rfc8785 installed (reportlab only for ``--pdf``, asn1crypto and pyHanko only
for a bundle that carries an RFC 3161 time-stamp): no database driver, no
web framework, no event store. Same verdicts and exit codes as `ebox verify`
and `ebox audit --export`: 0 verified, 1 failed (with the exact reason), 2
could not run.

    python -m ebox.verifier bundle evidence.json --vkey VKEY [--pdf certificate.pdf] \\
        [--tsa-ca tsa-ca.pem] [--policy policy.txt]
    python -m ebox.verifier audit export.jsonl --checkpoints checkpoints.jsonl --vkey VKEY \\
        [--envelopes envelopes.jsonl] [--policy policy.txt]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ebox.verifier.errors import VerificationError

if TYPE_CHECKING:
    from ebox.domain.proofs.policy import Policy

VERIFIED, FAILED, UNABLE = 0, 1, 2
POLICY_HELP = (
    "a C2SP tlog-policy file: every checkpoint the bundle relies on must meet its witness "
    "quorum, and the ledger key be one of its logs (if it lists any)"
)
AUDIT_POLICY_HELP = (
    "a C2SP tlog-policy file: the latest checkpoint (the one the audit ends at) must meet its "
    "witness quorum; earlier ones are counted as witnessed or not"
)


def _vkey(value: str) -> str:
    """A vkey, or the path of a file holding one."""
    path = Path(value)
    return path.read_text(encoding="utf-8").strip() if path.is_file() else value.strip()


def _policy(path: Path | None) -> Policy | None:
    """The --policy file's policy; None (after one line on stderr) if it is unusable."""
    if path is None:
        return None
    from ebox.verifier.witnesses import PolicyFormatError, read_policy

    try:
        return read_policy(path.read_bytes())
    except OSError as error:
        print(f"--policy {path}: cannot read it ({error.strerror})", file=sys.stderr)
    except PolicyFormatError as error:
        print(f"--policy {path}: {error}", file=sys.stderr)
    return None


def _bundle(args: argparse.Namespace) -> int:
    from ebox.verifier.bundle import verify_bundle
    from ebox.verifier.report import render_bundle_report, render_failure

    raw = args.file.read_bytes()
    anchors = []
    for path in args.tsa_ca or []:
        from ebox.domain.proofs.timestamp import load_anchors

        try:
            anchors.extend(load_anchors(path.read_bytes()))
        except (ValueError, TypeError):
            print(f"--tsa-ca {path}: not a PEM (or DER) certificate file", file=sys.stderr)
            return UNABLE
    policy = _policy(args.policy)
    if policy is None and args.policy is not None:
        return UNABLE
    try:
        report = verify_bundle(raw, _vkey(args.vkey), anchors, policy)
    except VerificationError as error:
        sys.stdout.write(render_failure(error))
        return FAILED
    sys.stdout.write(render_bundle_report(report))
    if args.pdf:
        from ebox.verifier.certificate import render_certificate
        from ebox.verifier.certificate_facts import labels_of

        render_certificate(  # unsealed: sealing is the operator's, not an auditor's
            report,
            args.pdf,
            bundle_name=args.file.name,
            bundle_sha256=hashlib.sha256(raw).hexdigest(),
            labels=labels_of(raw),
        )
    return VERIFIED


def _audit(args: argparse.Namespace) -> int:
    from ebox.verifier.audit import LedgerAuditor
    from ebox.verifier.bundle import trusted_verifier
    from ebox.verifier.export import EnvelopeFile, read_checkpoints, read_export
    from ebox.verifier.report import render_audit_result, render_failure

    policy = _policy(args.policy)
    if policy is None and args.policy is not None:
        return UNABLE
    try:
        verifier = trusted_verifier(_vkey(args.vkey))
    except VerificationError as error:
        sys.stdout.write(render_failure(error, "LEDGER AUDIT COULD NOT RUN"))
        return UNABLE
    auditor = LedgerAuditor(
        verifier,
        read_checkpoints(args.checkpoints),
        envelopes=EnvelopeFile(args.envelopes) if args.envelopes else None,
        source=f"export {args.export}",
        policy=policy,
    )
    result = auditor.run(read_export(args.export))
    sys.stdout.write(render_audit_result(result))
    return VERIFIED if result.ok else FAILED


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ebox.verifier", description="The eBox ledger's offline verifier."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    bundle = commands.add_parser("bundle", help="verify an ebox-evidence/v1 bundle")
    bundle.add_argument("file", type=Path)
    bundle.add_argument("--vkey", required=True, help="the ledger's C2SP vkey, or its file")
    bundle.add_argument("--pdf", type=Path, help="write the PDF certificate if it verifies")
    bundle.add_argument(
        "--tsa-ca",
        type=Path,
        action="append",
        help="PEM trust anchors of the time-stamping authority (repeatable; needs asn1crypto)",
    )
    bundle.add_argument("--policy", type=Path, help=POLICY_HELP)
    audit = commands.add_parser("audit", help="audit an `ebox ledger export` file")
    audit.add_argument("export", type=Path)
    audit.add_argument("--checkpoints", type=Path, required=True)
    audit.add_argument("--envelopes", type=Path)
    audit.add_argument("--vkey", required=True)
    audit.add_argument("--policy", type=Path, help=AUDIT_POLICY_HELP)
    args = parser.parse_args(argv)
    try:
        return _bundle(args) if args.command == "bundle" else _audit(args)
    except OSError as error:
        print(f"cannot read the input: {error}", file=sys.stderr)
        return UNABLE


if __name__ == "__main__":
    sys.exit(main())
