"""Fonts, paragraph styles and the page frame (header, "page N of M") of the certificate.

A page taken out of the file must still say whose certificate it is, who
issued it, and where it sits: each page carries the issuer, the message id and
"page N of M" in both languages. M is known only once the whole document is
laid out, so the canvas keeps every page until the end and then stamps them
(the usual reportlab two-pass canvas).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ebox.verifier.certificate_text import Texts

_FONT_CANDIDATES = (
    (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    ),
    ("/usr/share/fonts/TTF/DejaVuSans.ttf", "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf"),
)


def fonts() -> tuple[str, str]:
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


@dataclass
class Styles:
    """The paragraph styles, built from the two fonts."""

    regular: str
    bold: str

    def __post_init__(self) -> None:
        from reportlab.lib import colors
        from reportlab.lib.enums import TA_CENTER
        from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet

        sheet = getSampleStyleSheet()
        self.body = ParagraphStyle(
            "body", parent=sheet["BodyText"], fontName=self.regular, fontSize=9, leading=12
        )
        self.small = ParagraphStyle("small", parent=self.body, fontSize=7.5, leading=9.5)
        self.small_bold = ParagraphStyle("small_bold", parent=self.small, fontName=self.bold)
        self.english = ParagraphStyle(
            "english", parent=self.small, textColor=colors.HexColor("#555555"), spaceAfter=3
        )
        # Courier has no accents, but ids, hashes and keys are ASCII; long ones wrap anywhere.
        self.mono = ParagraphStyle(
            "mono",
            parent=self.small,
            fontName="Courier",
            fontSize=7,
            leading=8.8,
            splitLongWords=True,
        )
        self.h1 = ParagraphStyle(
            "h1",
            parent=sheet["Title"],
            fontName=self.bold,
            fontSize=18,
            leading=22,
            keepWithNext=True,
        )
        self.h2 = ParagraphStyle(
            "h2",
            parent=sheet["Heading2"],
            fontName=self.bold,
            fontSize=11.5,
            leading=14,
            spaceBefore=8,
            spaceAfter=4,
            keepWithNext=True,
        )
        self.verdict = ParagraphStyle(
            "verdict",
            parent=self.body,
            fontName=self.bold,
            fontSize=12,
            leading=16,
            alignment=TA_CENTER,
            textColor=colors.white,
        )


def numbered_canvas(font: str, issuer: str, footer: str, texts: Texts) -> Any:
    """A canvas class that stamps issuer, letter and "page N of M" on every page."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    width, _height = A4

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self._frame(number, total)
                super().showPage()
            super().save()

        def _frame(self, number: int, total: int) -> None:
            self.saveState()
            self.setFont(font, 7)
            self.setFillGray(0.35)
            self.drawString(20 * mm, _height - 12 * mm, issuer)
            self.drawRightString(width - 20 * mm, _height - 12 * mm, footer)
            self.drawRightString(width - 20 * mm, 11 * mm, texts.label("page", n=number, m=total))
            self.setStrokeGray(0.7)
            self.line(20 * mm, 14 * mm, width - 20 * mm, 14 * mm)
            self.restoreState()

    return NumberedCanvas
