"""Plain-text reports: what a bundle or an audit proved, or exactly why it failed."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

from ebox.domain.proofs.canonical import rfc3339
from ebox.domain.proofs.note import b64encode
from ebox.verifier.errors import VerificationError
from ebox.verifier.findings import BundleReport
from ebox.verifier.witnesses import LogNotInPolicy, WitnessQuorumRefused

if TYPE_CHECKING:
    from ebox.verifier.audit import AuditResult

WIDTH = 100


def _wrap(text: str, indent: str = "  - ", rest: str = "    ") -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=rest) or [indent]


def render_bundle_report(report: BundleReport) -> str:
    kind = "Registered letter" if report.registered else "Letter"
    lines = [
        f"EVIDENCE VERIFIED: message {report.message_id}",
        f"{kind} \u201c{report.subject}\u201d (message type {report.message_type})",
        f"From: {report.sender_name} (KBO {report.sender_kbo})",
        f"To:   eBox {report.recipient} (mailbox {report.mailbox_id})",
        "",
    ]
    for section in report.sections:
        lines.append(f"{section.title.upper()}: {section.verdict}")
        for line in section.lines:
            lines.extend(_wrap(line))
        lines.append("")
    lines.append("TIMELINE (ledger time, UTC)")
    for step in report.steps:
        detail = "; ".join(
            part for part in (f"by {step.who}" if step.who else None, step.how) if part
        )
        lines.extend(
            _wrap(
                f"{step.time}  {step.what}"
                + (f" [{detail}]" if detail else "")
                + f" (version {step.version}, leaf {step.leaf_index})",
                indent="  ",
                rest="      ",
            )
        )
    lines.append("")
    lines.append("DOCUMENTS")
    for document in report.documents:
        status = "disclosed, decrypted and checked" if document.disclosed else "digest only"
        lines.append(f"  {document.name} ({document.media_type}, {document.size} bytes): {status}")
        lines.append(f"    plaintext SHA-256  {document.sha256}")
        lines.append(f"    ciphertext SHA-256 {document.ciphertext_sha256}")
    lines.append("")
    checkpoint = report.checkpoint
    lines.extend(
        [
            "LEDGER",
            f"  log origin  {checkpoint.origin}",
            f"  checkpoint  size {checkpoint.size}, root {b64encode(checkpoint.root)}",
            f"  signed at   {rfc3339(checkpoint.time) if checkpoint.time else '(not stated)'}",
            f"  ledger key  {report.vkey}",
            "",
            "LIMITS",
        ]
    )
    for limit in report.limits:
        lines.extend(_wrap(limit))
    return "\n".join(lines) + "\n"


def render_failure(error: VerificationError, what: str = "VERIFICATION FAILED") -> str:
    if isinstance(error, (WitnessQuorumRefused, LogNotInPolicy)):  # one line: rule and cosigners
        return f"{what}: {error.describe()}\n"
    lines = [
        what,
        *textwrap.wrap(error.describe(), WIDTH, initial_indent="  ", subsequent_indent="  "),
    ]
    return "\n".join(lines) + "\n"


def render_audit_result(result: AuditResult) -> str:
    lines = [
        "LEDGER AUDIT PASSED" if result.ok else "LEDGER AUDIT FAILED",
        f"  source                 {result.source}",
        f"  events read            {result.events}",
        f"  aggregates (chains)    {result.aggregates}",
        f"  leaves in the log      {result.leaves}",
        f"  checkpoints verified   {result.checkpoints}",
    ]
    if result.latest is not None:
        time = rfc3339(result.latest.time) if result.latest.time else "(no time)"
        lines.append(
            f"  latest checkpoint      size {result.latest.size}, root "
            f"{b64encode(result.latest.root)}, signed {time}"
        )
    lines.append(f"  sender signatures      {result.signature_summary()}")
    if result.types:
        kinds = ", ".join(f"{kind} {count}" for kind, count in result.types.most_common())
        lines.extend(_wrap(kinds, indent="  events by type         ", rest=" " * 25))
    lines.append(f"  elapsed                {result.elapsed:.1f} s ({result.rate():,.0f} events/s)")
    if result.failure is not None:
        lines.append("")
        lines.append("FIRST BAD EVENT")
        lines.extend(
            textwrap.wrap(
                result.failure.describe(), WIDTH, initial_indent="  ", subsequent_indent="  "
            )
        )
    else:
        lines.append("")
        lines.append("PROVEN")
        for statement in result.statements():
            lines.extend(_wrap(statement))
    if result.witnesses:
        lines.append("")
        lines.append("WITNESSES (policy)")
        for line in result.witnesses:
            lines.extend(_wrap(line))
    if result.notes:
        lines.append("")
        lines.append("NOTES")
        for note in result.notes:
            lines.extend(_wrap(note))
    return "\n".join(lines) + "\n"
