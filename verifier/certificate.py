"""The PDF certificate: a verified bundle, explained to a judge who is not an engineer.

It is rendered only from a :class:`~ebox.verifier.findings.BundleReport`, that
is, after every check passed, and says in plain words who issues it and under
which law, who sent what to whom, when it was made available and opened (each
moment in UTC and in Brussels local time), what was proven, and how anyone can
re-verify it. It speaks the recipient's language (nl, fr, de) with the English
beside it, so that the translation can be checked against the original; the
texts are in `ebox.verifier.certificate_text`. Standards, hashes and log
positions are in the annex, not in the body. Every page says "page N of M" and
which letter it is about, so a page taken out of the file is still placed.

The certificate itself proves nothing: the bundle does (and the operator's seal
says the PDF is the one issued); the certificate says how to check it.

reportlab is imported lazily, so the verifier runs without it when no PDF is
asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ebox.domain.proofs.note import b64encode
from ebox.verifier.certificate_facts import (
    BundleLabels,
    Issuer,
    LegalMoment,
    brussels_text,
    short_etsi,
    utc_text,
)
from ebox.verifier.certificate_style import Styles, fonts, numbered_canvas
from ebox.verifier.certificate_text import Texts
from ebox.verifier.findings import BundleReport


def render_certificate(
    report: BundleReport,
    path: Path,
    *,
    bundle_name: str = "evidence.json",
    bundle_sha256: str | None = None,
    verified_at: datetime | None = None,
    language: str | None = None,
    issuer: Issuer | None = None,
    labels: BundleLabels | None = None,
) -> None:
    """Write the certificate of a verified bundle to `path` (PDF, A4).

    `language` defaults to the mailbox's recorded language, else English;
    `labels` (from :func:`~ebox.verifier.certificate_facts.labels_of`) carry
    the bundle's ETSI labels and legal moment.
    """
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import PageBreak, SimpleDocTemplate, Spacer

    texts = Texts(language or report.recipient_language or "en")
    issuer = issuer or Issuer()
    labels = labels or BundleLabels()
    page = _Page(texts, Styles(*fonts()))
    moment = verified_at or datetime.now(UTC)
    kind = "kind.registered" if report.registered else "kind.letter"

    story: list[Any] = [page.title(texts.local("title"), texts.english("title"))]
    story += page.sentence("intro", kind=(texts.local(kind), texts.english(kind)))
    story += [Spacer(1, 3 * mm), page.banner(texts.label("verdict")), Spacer(1, 2 * mm)]
    story += page.sentence(
        "verified_on",
        small=True,
        utc=utc_text(moment),
        local=brussels_text(moment),
        vkey=report.vkey,
    )
    story += page.sentence("key_warning", small=True)

    story += [page.heading("issuer")]
    story.append(
        page.pairs(
            [
                ("issuer.name", issuer.name),
                ("issuer.address", issuer.address),
                ("issuer.legal_basis", issuer.legal_basis),
            ]
        )
    )
    story += page.sentence("issuer.seal", small=True, bundle=bundle_name)

    story += [page.heading("letter")]
    story.append(
        page.pairs(
            [
                ("message_id", page.mono(report.message_id)),
                ("subject", report.subject),
                ("message_type", report.message_type),
                ("registered", texts.label("yes" if report.registered else "no")),
                ("language", texts.label("language_name")),
            ]
        )
    )

    origin = report.origin
    signed = (
        f"{' '.join(texts.label('sender.signed', key_id='').split())} {origin.key.key_id}"
        if origin.key
        else texts.label("sender.attested")
    )
    story += [page.heading("parties")]
    story.append(
        page.pairs(
            [
                (
                    "sender",
                    f"{report.sender_name}, KBO/BCE {report.sender_kbo}; "
                    f"{texts.label('application')} {origin.application}; {signed}",
                ),
                ("recipient_name", report.recipient_name or texts.label("recipient.unknown")),
                ("recipient", f"eBox {report.recipient}"),
                ("mailbox", page.mono(report.mailbox_id)),
            ]
        )
    )

    legal = labels.legal_moment or _verified_moment(report)
    if legal is not None:
        story += [page.heading("legal_moment")]
        story.append(page.pairs(_legal_rows(page, legal)))

    story += [page.heading("timeline")]
    rows: list[list[Any]] = [page.header_row("when", "what", "etsi", "who")]
    for step in report.steps:
        what = texts.label(f"event.{step.type}") if texts.has(f"event.{step.type}") else step.what
        detail = "; ".join(part for part in (step.who, step.how) if part)
        rows.append(
            [
                page.moment(step.time),
                page.small(what),
                page.small(short_etsi(labels.etsi_uri(step.leaf_index, step.type)) or "-"),
                page.small(detail),
            ]
        )
    story.append(page.table(rows, [40 * mm, 48 * mm, 35 * mm, 47 * mm], header=True))

    story += [page.heading("proven")]
    rows = []
    for section in report.sections:
        key = f"section.{section.title}"
        title = texts.label(key) if texts.has(key) else section.title
        verdict = f"verdict.{section.verdict}"
        shown = texts.label(verdict) if texts.has(verdict) else section.verdict
        rows.append([page.small(title), page.small(shown, strong=True)])
    story.append(page.table(rows, [90 * mm, 80 * mm]))
    story += page.sentence("proven.annex", small=True)

    story += [page.heading("documents")]
    rows = [page.header_row("document", "document.sha256", "document.checked")]
    for document in report.documents:
        checked = "document.disclosed" if document.disclosed else "document.digest_only"
        rows.append(
            [
                page.small(f"{document.name} ({document.media_type}, {document.size} bytes)"),
                page.mono(document.sha256),
                page.small(texts.label(checked)),
            ]
        )
    story.append(page.table(rows, [44 * mm, 98 * mm, 28 * mm], header=True))

    digest = texts.local("reverify.digest", sha256=bundle_sha256) if bundle_sha256 else ""
    digest_en = texts.english("reverify.digest", sha256=bundle_sha256) if bundle_sha256 else ""
    story += [page.heading("reverify")]
    story += page.sentence(
        "reverify.1", small=True, numbered="1.", bundle=bundle_name, digest=(digest, digest_en)
    )
    story += page.sentence(
        "reverify.2", small=True, numbered="2.", bundle=bundle_name, vkey=report.vkey
    )
    story += page.sentence("reverify.3", small=True, numbered="3.")

    if report.limits:
        story += [page.heading("limits")]
        for limit in report.limits:
            story.append(page.small(f"\u2022 {limit}"))

    story += [PageBreak(), page.heading("annex", big=True)]
    story += page.sentence("annex.intro", small=True)
    story += page.sentence("annex.standards", small=True)
    _annex(page, report, labels, bundle_name, bundle_sha256, story)

    document = SimpleDocTemplate(
        str(path),
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
        title=f"{texts.english('title')} {report.message_id}",
        author=issuer.name,
        subject=report.subject,
    )
    footer = f"{texts.label('title')}: {report.message_id}"
    document.build(
        story, canvasmaker=numbered_canvas(page.styles.regular, issuer.name, footer, texts)
    )


def _verified_moment(report: BundleReport) -> LegalMoment | None:
    """The legal moment the verifier recomputed and found equal to the bundle's claim."""
    claim = report.legal_moment
    if claim is None:
        return None
    return LegalMoment(claim.at, claim.rule, claim.working_days, claim.reason)


def _legal_rows(page: _Page, legal: LegalMoment) -> list[tuple[str, Any]]:
    """When the letter counts as received, the rule in words, and which branch of it applied."""
    texts, days = page.texts, legal.working_days
    rule_key, reason_key = f"rule.{legal.rule}", f"reason.{legal.reason}"
    if texts.has(rule_key):
        rule = texts.label(rule_key, days=days)
    elif days is not None:
        rule = texts.label("legal_moment.rule_value", rule=legal.rule, days=days)
    else:
        rule = legal.rule
    reason = texts.label(reason_key, days=days) if texts.has(reason_key) else legal.reason
    return [
        ("legal_moment.at", page.moment(legal.at)),
        ("legal_moment.rule", rule),
        ("legal_moment.reason", reason),
    ]


def _annex(
    page: _Page,
    report: BundleReport,
    labels: BundleLabels,
    bundle_name: str,
    bundle_sha256: str | None,
    story: list[Any],
) -> None:
    """The technical annex: proofs line by line, checkpoint, ETSI identifiers, event hashes."""
    from reportlab.lib.units import mm
    from reportlab.platypus import Spacer

    texts = page.texts
    story.append(page.heading("annex.proofs"))
    for section in report.sections:
        story.append(page.small(f"{section.title}: {section.verdict}", strong=True))
        for line in section.lines:
            story.append(page.small(f"\u2022 {line}"))
        story.append(Spacer(1, 1.5 * mm))
    checkpoint = report.checkpoint
    signed_at = (
        f"{utc_text(checkpoint.time)} UTC" if checkpoint.time else texts.label("annex.not_stated")
    )
    file_text = bundle_name + (f", SHA-256 {bundle_sha256}" if bundle_sha256 else "")
    story.append(page.heading("annex.checkpoint"))
    story.append(
        page.pairs(
            [
                ("annex.log", page.mono(checkpoint.origin)),
                (
                    "annex.checkpoint",
                    page.mono(
                        texts.english(
                            "annex.checkpoint_value",
                            size=checkpoint.size,
                            root=b64encode(checkpoint.root),
                        )
                    ),
                ),
                ("annex.signed_at", signed_at),
                ("annex.vkey", page.mono(report.vkey)),
                ("annex.bundle", page.mono(file_text)),
            ]
        )
    )
    story.append(page.heading("annex.etsi_uri"))
    rows: list[list[Any]] = [page.header_row("annex.version", "annex.event", "annex.etsi")]
    for step in report.steps:
        uri = labels.etsi_uri(step.leaf_index, step.type)
        rows.append([page.small(str(step.version)), page.small(step.type), page.mono(uri or "-")])
    story.append(page.table(rows, [18 * mm, 40 * mm, 112 * mm], header=True))
    story.append(Spacer(1, 2 * mm))
    rows = [page.header_row("annex.version", "annex.leaf", "annex.hash")]
    for step in report.steps:
        rows.append(
            [
                page.small(str(step.version)),
                page.small(str(step.leaf_index)),
                page.mono(step.event_hash),
            ]
        )
    story.append(page.table(rows, [18 * mm, 18 * mm, 134 * mm], header=True))


class _Page:
    """The certificate's building blocks, bilingual where a judge reads them."""

    def __init__(self, texts: Texts, styles: Styles) -> None:
        self.texts = texts
        self.styles = styles

    def title(self, local: str, english: str) -> Any:
        from reportlab.platypus import Paragraph

        text = (
            _escape(local)
            if local == english
            else f"{_escape(local)}<br/><font size=12 color='#555555'>{_escape(english)}</font>"
        )
        return Paragraph(text, self.styles.h1)

    def heading(self, key: str, big: bool = False) -> Any:
        from reportlab.platypus import Paragraph

        return Paragraph(_escape(self.texts.label(key)), self.styles.h1 if big else self.styles.h2)

    def sentence(
        self, key: str, *, small: bool = False, numbered: str = "", **values: Any
    ) -> list[Any]:
        """The sentence in the recipient's language, then its English original in grey."""
        from reportlab.platypus import Paragraph

        local = {k: (v[0] if isinstance(v, tuple) else v) for k, v in values.items()}
        english = {k: (v[1] if isinstance(v, tuple) else v) for k, v in values.items()}
        style = self.styles.small if small else self.styles.body
        prefix = f"{numbered} " if numbered else ""
        out = [Paragraph(prefix + _escape(self.texts.local(key, **local)), style)]
        if self.texts.bilingual:
            out.append(
                Paragraph(prefix + _escape(self.texts.english(key, **english)), self.styles.english)
            )
        return out

    def small(self, text: str, strong: bool = False) -> Any:
        from reportlab.platypus import Paragraph

        return Paragraph(_escape(text), self.styles.small_bold if strong else self.styles.small)

    def mono(self, text: str) -> Any:
        from reportlab.platypus import Paragraph

        return Paragraph(_escape(text), self.styles.mono)

    def moment(self, text: str) -> Any:
        """A moment as UTC, then Brussels local time beside it (below, in a narrow cell)."""
        from reportlab.platypus import Paragraph

        utc = f"{utc_text(text)} {self.texts.local('utc')}"
        local = f"{brussels_text(text)} ({self.texts.local('brussels')})"
        return Paragraph(f"{_escape(utc)}<br/>{_escape(local)}", self.styles.small)

    def header_row(self, *keys: str) -> list[Any]:
        return [self.small(self.texts.label(key), strong=True) for key in keys]

    def pairs(self, rows: Sequence[tuple[str, Any]]) -> Any:
        from reportlab.lib.units import mm

        cells = [
            [self.small(self.texts.label(key), strong=True), self._cell(value)]
            for key, value in rows
        ]
        return self.table(cells, [48 * mm, 122 * mm])

    def _cell(self, value: Any) -> Any:
        return self.small(value) if isinstance(value, str) else value

    def table(
        self, rows: Sequence[Sequence[Any]], widths: Sequence[float], header: bool = False
    ) -> Any:
        from reportlab.lib import colors
        from reportlab.platypus import Table, TableStyle

        t = Table(list(rows), colWidths=list(widths), hAlign="LEFT", repeatRows=1 if header else 0)
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

    def banner(self, text: str) -> Any:
        from reportlab.lib import colors
        from reportlab.lib.units import mm
        from reportlab.platypus import Paragraph, Table, TableStyle

        return Table(
            [[Paragraph(_escape(text), self.styles.verdict)]],
            colWidths=[170 * mm],
            style=TableStyle(
                [
                    ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#1d7a3a")),
                    ("TOPPADDING", (0, 0), (-1, -1), 6),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
                ]
            ),
        )


def _escape(text: str) -> str:
    """reportlab paragraphs are XML-ish: escape the three characters that matter."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
