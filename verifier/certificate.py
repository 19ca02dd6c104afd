"""The PDF certificate: a verified bundle, explained to people who are not engineers.

It is rendered only from a :class:`~ebox.verifier.findings.BundleReport`, that
is, after every check passed, and says in plain words who sent what to whom,
when it was made available and opened, what was proven and how, and how anyone
can re-verify it. The certificate itself proves nothing: the bundle does; the
certificate says how to check it.

reportlab is imported lazily, so the verifier runs without it when no PDF is
asked for.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ebox.domain.proofs.canonical import rfc3339
from ebox.domain.proofs.note import b64encode
from ebox.verifier.findings import BundleReport

_FONT_CANDIDATES = (
    (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    ),
    ("/usr/share/fonts/TTF/DejaVuSans.ttf", "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf"),
)


def _fonts() -> tuple[str, str]:
    """A TrueType font with accents for names (Financiën, Gand...), embedded in the PDF."""
    from reportlab import rl_config
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if "EboxSans" in pdfmetrics.getRegisteredFontNames():
        return "EboxSans", "EboxSans-Bold"
    for regular, bold in _FONT_CANDIDATES:
        if Path(regular).is_file() and Path(bold).is_file():
            break
    else:
        folder = Path(rl_config.TTFSearchPath[0]) if rl_config.TTFSearchPath else Path()
        regular, bold = str(folder / "Vera.ttf"), str(folder / "VeraBd.ttf")
        if not Path(regular).is_file():
            return "Helvetica", "Helvetica-Bold"
    pdfmetrics.registerFont(TTFont("EboxSans", regular))
    pdfmetrics.registerFont(TTFont("EboxSans-Bold", bold))
    return "EboxSans", "EboxSans-Bold"


def render_certificate(
    report: BundleReport,
    path: Path,
    *,
    bundle_name: str = "evidence.json",
    bundle_sha256: str | None = None,
    verified_at: datetime | None = None,
) -> None:
    """Write the certificate of a verified bundle to `path` (PDF, A4)."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    regular, bold = _fonts()
    sheet = getSampleStyleSheet()
    body = ParagraphStyle(
        "body", parent=sheet["BodyText"], fontName=regular, fontSize=9, leading=12
    )
    strong = ParagraphStyle("strong", parent=body, fontName=bold)
    small = ParagraphStyle("small", parent=body, fontSize=7.5, leading=9.5)
    mono = ParagraphStyle("mono", parent=small, fontName="Courier", fontSize=6.8, leading=8.5)
    h1 = ParagraphStyle("h1", parent=sheet["Title"], fontName=bold, fontSize=18, leading=22)
    h2 = ParagraphStyle("h2", parent=sheet["Heading2"], fontName=bold, fontSize=12, leading=15)
    verdict = ParagraphStyle(
        "verdict",
        parent=body,
        fontName=bold,
        fontSize=12,
        leading=16,
        alignment=TA_CENTER,
        textColor=colors.white,
    )

    def p(text: str, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(_escape(text), style)

    def table(
        rows: Sequence[Sequence[Any]], widths: Sequence[float], header: bool = False
    ) -> Table:
        t = Table(list(rows), colWidths=list(widths), hAlign="LEFT")
        style = [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#b0b7c3")),
            ("LEFTPADDING", (0, 0), (-1, -1), 4),
            ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ]
        if header:
            style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8ecf2")))
        t.setStyle(TableStyle(style))
        return t

    moment = verified_at or datetime.now(UTC)
    kind = "registered letter" if report.registered else "letter"
    story: list[Any] = [
        p("Evidence of notification", h1),
        p(f"Certificate for an eBox {kind}, issued from an independently verified evidence file."),
        Spacer(1, 4 * mm),
    ]
    banner = Table(
        [[Paragraph("VERIFIED: every check passed", verdict)]],
        colWidths=[170 * mm],
        style=TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#1d7a3a")),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        ),
    )
    story += [banner, Spacer(1, 2 * mm)]
    story.append(
        p(
            f"Verified on {rfc3339(moment)} with the ledger key {report.vkey}. "
            "A verdict is only as good as the key: obtain the ledger key from the operator's "
            "published source, not from this document.",
            small,
        )
    )

    story += [p("The letter", h2)]
    story.append(
        table(
            [
                [p("Message id"), p(report.message_id, mono)],
                [p("Subject"), p(report.subject)],
                [p("Message type"), p(report.message_type)],
                [p("Registered letter"), p("yes" if report.registered else "no")],
            ],
            [38 * mm, 132 * mm],
        )
    )

    story += [p("Parties", h2)]
    origin = report.origin
    signed = (
        f"signed with key {origin.key.key_id[:16]}..."
        if origin.key
        else "not signed (attested by the ledger)"
    )
    story.append(
        table(
            [
                [
                    p("Sender"),
                    p(
                        f"{report.sender_name}, KBO/BCE {report.sender_kbo}; "
                        f"application {origin.application}; {signed}"
                    ),
                ],
                [p("Recipient"), p(f"eBox {report.recipient}")],
                [p("Recipient's mailbox"), p(report.mailbox_id, mono)],
            ],
            [38 * mm, 132 * mm],
        )
    )

    story += [p("Timeline (ledger time, UTC)", h2)]
    rows: list[list[Any]] = [[p("When"), p("What happened"), p("By whom"), p("How")]]
    for step in report.steps:
        rows.append(
            [
                p(_readable(step.time), small),
                p(step.what, small),
                p(step.who or "", small),
                p(_readable(step.how or ""), small),
            ]
        )
    story.append(table(rows, [32 * mm, 58 * mm, 44 * mm, 36 * mm], header=True))

    story += [p("What was proven, and how", h2)]
    for section in report.sections:
        story.append(p(f"{section.title}: {section.verdict}", strong))
        for line in section.lines:
            story.append(p(f"\u2022 {line}", small))
        story.append(Spacer(1, 2 * mm))

    story += [p("Documents", h2)]
    rows = [
        [p("Document"), p("SHA-256 of the content (signed by the sender)"), p("Content checked")]
    ]
    for document in report.documents:
        rows.append(
            [
                p(f"{document.name} ({document.media_type}, {document.size} bytes)", small),
                p(document.sha256, mono),
                p(
                    "yes: disclosed, decrypted, digest matches"
                    if document.disclosed
                    else "no: digest only",
                    small,
                ),
            ]
        )
    story.append(table(rows, [45 * mm, 95 * mm, 30 * mm], header=True))

    story += [p("Technical annex", h2)]
    checkpoint = report.checkpoint
    story.append(
        table(
            [
                [p("Log (origin)"), p(checkpoint.origin, mono)],
                [
                    p("Checkpoint"),
                    p(f"size {checkpoint.size}, root {b64encode(checkpoint.root)}", mono),
                ],
                [
                    p("Signed at"),
                    p(rfc3339(checkpoint.time) if checkpoint.time else "(not stated)", mono),
                ],
                [p("Ledger key (vkey)"), p(report.vkey, mono)],
                [
                    p("Evidence file"),
                    p(
                        f"{bundle_name}" + (f", SHA-256 {bundle_sha256}" if bundle_sha256 else ""),
                        mono,
                    ),
                ],
            ],
            [38 * mm, 132 * mm],
        )
    )
    story.append(Spacer(1, 2 * mm))
    rows = [[p("Version"), p("Event"), p("Leaf"), p("Event hash (SHA-256 of the canonical event)")]]
    for step in report.steps:
        rows.append(
            [
                p(str(step.version), small),
                p(step.type, small),
                p(str(step.leaf_index), small),
                p(step.event_hash, mono),
            ]
        )
    story.append(table(rows, [15 * mm, 30 * mm, 17 * mm, 108 * mm], header=True))

    story += [p("How to re-verify", h2)]
    for line in (
        f"1. Keep the evidence file {bundle_name} unchanged"
        + (f" (its SHA-256 is {bundle_sha256})" if bundle_sha256 else "")
        + " and obtain the ledger's public key from the operator's published source.",
        f"2. Run: ebox verify {bundle_name} --vkey '{report.vkey}'. The verifier works offline and "
        "needs no database; it prints what is proven and exits with status 0, or names the first "
        "check that fails.",
        "3. Or write an independent verifier: docs/EVIDENCE.md describes every format and every "
        "step (canonical events, SHA-256 hash chain, RFC 6962 Merkle proofs, C2SP signed "
        "checkpoints, Ed25519 sender signatures, NaCl encryption).",
    ):
        story.append(p(line, small))

    story += [p("Limits", h2)]
    for limit in report.limits:
        story.append(p(f"\u2022 {limit}", small))

    document = SimpleDocTemplate(
        str(path),
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=f"Evidence of notification {report.message_id}",
        author="eBox ledger verifier",
        subject=report.subject,
    )
    document.build(story)


def _readable(text: str) -> str:
    """RFC 3339 times with a space instead of the `T`, so that table cells can wrap them."""
    return re.sub(r"(\d{4}-\d{2}-\d{2})T(\d{2}:)", r"\1 \2", text)


def _escape(text: str) -> str:
    """reportlab paragraphs are XML-ish: escape the three characters that matter."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
