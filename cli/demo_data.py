"""Believable Belgian reference data for the demo: senders, people, letters."""

from __future__ import annotations

import random

# (8-digit base, names): the check digits are computed, so every number passes modulo 97.
SENDERS = [
    ("03083571", {"nl": "FOD Financiën", "fr": "SPF Finances", "de": "FÖD Finanzen"}),
    (
        "02067316",
        {
            "nl": "Rijksdienst voor Sociale Zekerheid",
            "fr": "Office national de sécurité sociale",
            "de": "Landesamt für soziale Sicherheit",
        },
    ),
    ("02072513", {"nl": "Stad Gent", "fr": "Ville de Gand", "de": "Stadt Gent"}),
    (
        "02016531",
        {
            "nl": "Rijksdienst voor Pensioenen",
            "fr": "Service fédéral des Pensions",
            "de": "Föderaler Pensionsdienst",
        },
    ),
]

MESSAGE_TYPES = [
    (
        "TAX_ASSESSMENT",
        {"nl": "Aanslagbiljet", "fr": "Avertissement-extrait de rôle", "de": "Steuerbescheid"},
        "YEAR",
        2,
        True,
    ),
    ("REMINDER", {"nl": "Herinnering", "fr": "Rappel", "de": "Erinnerung"}, "MONTH", 6, False),
    ("INFO", {"nl": "Informatie", "fr": "Information", "de": "Information"}, "DAY", 90, False),
]

SUBJECTS = [
    {
        "nl": "Uw aanslagbiljet personenbelasting {year}",
        "fr": "Votre avertissement-extrait de rôle {year}",
        "de": "Ihr Steuerbescheid {year}",
    },
    {
        "nl": "Herinnering: bijdrage {year}",
        "fr": "Rappel : cotisation {year}",
        "de": "Erinnerung: Beitrag {year}",
    },
    {
        "nl": "Uw pensioenoverzicht {year}",
        "fr": "Votre aperçu de pension {year}",
        "de": "Ihre Rentenübersicht {year}",
    },
]


def kbo(base8: str) -> str:
    check = 97 - int(base8) % 97
    return f"{base8}{check:02d}"


def national_register_number(rng: random.Random) -> str:
    """A syntactically valid NRN (born 1950-1999): yymmdd + sequence + check."""
    yy, mm, dd = rng.randint(50, 99), rng.randint(1, 12), rng.randint(1, 28)
    seq = rng.randint(1, 997)
    body = f"{yy:02d}{mm:02d}{dd:02d}{seq:03d}"
    return f"{body}{97 - int(body) % 97:02d}"


def letter_pdf(title: str, lines: list[str]) -> bytes:
    """A small but valid one-page PDF, built by hand so the demo needs no PDF library."""
    text = "BT /F1 14 Tf 72 760 Td (" + _pdf_escape(title) + ") Tj ET\n"
    for number, line in enumerate(lines):
        text += f"BT /F1 11 Tf 72 {730 - 16 * number} Td (" + _pdf_escape(line) + ") Tj ET\n"
    stream = text.encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"endstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def _pdf_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
