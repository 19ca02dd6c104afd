"""The PDF certificate as a judge reads it: in the recipient's language with English beside it.

Each language is rendered for real (reportlab), its text read back with
pdftotext and its pages drawn with pdftoppm (poppler; under CI=true a missing
poppler is a failure, not a skip). What a judge needs on the page: who issues
the certificate and under which law, "page N of M" on every page, each moment
in Brussels time beside UTC, the recipient's name, the sender's whole key id,
the ETSI EN 319 522 name of each event, the legal moment and the rule that
produced it; standards and hashes in the annex.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ebox.domain.proofs.etsi_events import etsi_event_uri
from ebox.domain.proofs.evidence import EvidenceBundle, LegalMomentClaim
from ebox.verifier.bundle import verify_bundle
from ebox.verifier.certificate import render_certificate
from ebox.verifier.certificate_facts import (
    BundleLabels,
    Issuer,
    LegalMoment,
    labels_of,
    utc_text,
)
from ebox.verifier.certificate_text import EN, Texts
from ebox.verifier.findings import BundleReport
from tests.pg import running_in_ci
from tests.unit.test_evidence_bundle import registered_letter

ISSUER = Issuer(
    "Opérateur eBox SA", "Boulevard Simon Bolivar 30, 1000 Brussels", "Law of 27 February 2019"
)
TITLES = {
    "nl": "Bewijs van kennisgeving",
    "fr": "Preuve de notification",
    "de": "Zustellungsnachweis",
    "en": "Evidence of notification",
}
PAGE = {"nl": "pagina {n} van {m}", "fr": "page {n} sur {m}", "de": "Seite {n} von {m}"}


def poppler(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        if running_in_ci():
            pytest.fail(f"CI=true and {tool} (poppler-utils) is missing", pytrace=False)
        pytest.skip(f"{tool} (poppler-utils) is not installed")
    return found


def judged_bundle(**options: Any) -> tuple[EvidenceBundle, str]:
    """A registered letter's bundle as the ledger states it: ETSI labels and legal moment."""
    made = registered_letter(holder={"name": "Jan Peeters", "language": "nl"}, **options)
    bundle = replace(
        made.bundle,
        events=tuple(
            replace(e, etsi_event=etsi_event_uri(e.type, e.data)) for e in made.bundle.events
        ),
    )
    read = [e for e in bundle.events if e.type == "Read"]
    claim = (
        LegalMomentClaim(str(read[0].canonical["timestamp"]), "earliest-of", 3, "first-opening")
        if read
        else LegalMomentClaim("2026-03-04T23:00:00.000000Z", "earliest-of", 3, "deemed")
    )
    return replace(bundle, legal_moment=claim), made.vkey


@pytest.fixture(scope="module")
def letter() -> tuple[BundleReport, BundleLabels, str]:
    bundle, vkey = judged_bundle()
    raw = bundle.to_json()
    report = verify_bundle(raw, vkey)  # the verifier recomputes the legal moment
    assert report.legal_moment is not None
    return report, labels_of(raw), raw


def render(
    letter: tuple[BundleReport, BundleLabels, str], folder: Path, language: str | None
) -> tuple[Path, list[str]]:
    """The certificate in `language`, and the text of each of its pages."""
    report, labels, _ = letter
    pdf = folder / f"certificate-{language}.pdf"
    render_certificate(report, pdf, language=language, issuer=ISSUER, labels=labels)
    text = subprocess.run(
        [poppler("pdftotext"), str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return pdf, text.split("\f")[:-1]


@pytest.mark.parametrize("language", ["nl", "fr", "de", "en"])
def test_every_page_says_page_n_of_m_in_the_language_and_in_english(
    letter: tuple[BundleReport, BundleLabels, str], tmp_path: Path, language: str
) -> None:
    _, pages = render(letter, tmp_path, language)
    total = len(pages)
    assert total >= 2
    for number, page in enumerate(pages, start=1):
        flat = " ".join(page.split())
        assert f"page {number} of {total}" in flat
        if language in PAGE:
            assert PAGE[language].format(n=number, m=total) in flat
        assert ISSUER.name in flat  # whose certificate a loose page is


@pytest.mark.parametrize("language", ["nl", "fr", "de"])
def test_the_recipients_language_comes_first_with_the_english_beside_it(
    letter: tuple[BundleReport, BundleLabels, str], tmp_path: Path, language: str
) -> None:
    _, pages = render(letter, tmp_path, language)
    text = " ".join(" ".join(pages).split())
    assert text.index(TITLES[language]) < text.index(TITLES["en"])
    texts = Texts(language)
    for key in ("issuer", "parties", "recipient_name", "legal_moment", "timeline"):
        assert " ".join(texts.label(key).split()) in text, key


def test_the_language_defaults_to_the_mailboxs_recorded_one(
    letter: tuple[BundleReport, BundleLabels, str], tmp_path: Path
) -> None:
    _, pages = render(letter, tmp_path, None)
    assert TITLES["nl"] in pages[0]


def test_the_issuer_the_recipient_and_the_whole_key_id_are_on_the_certificate(
    letter: tuple[BundleReport, BundleLabels, str], tmp_path: Path
) -> None:
    report, _, _ = letter
    _, pages = render(letter, tmp_path, "fr")
    text = " ".join(pages)
    for expected in (ISSUER.name, ISSUER.address, ISSUER.legal_basis, "Jan Peeters"):
        assert expected in " ".join(text.split()), expected
    assert report.origin.key is not None
    key_id = report.origin.key.key_id
    assert len(key_id) == 64 and key_id in re.sub(r"\s+", "", text)  # whole, however wrapped
    assert key_id[:16] + "..." not in text


def test_each_moment_is_given_in_utc_and_in_brussels_time(
    letter: tuple[BundleReport, BundleLabels, str], tmp_path: Path
) -> None:
    report, _, _ = letter
    _, pages = render(letter, tmp_path, "de")
    text = " ".join(" ".join(pages).split())
    sent = report.steps[0].time  # 2026-03-02T09:00:..Z: winter, Brussels is UTC+1
    day, clock = sent[:10], sent[11:19]
    hour = int(clock[:2])
    assert f"{day} {clock} UTC" in text
    assert f"{day} {hour + 1:02d}{clock[2:]} +01:00 (Brüsseler Zeit)" in text


def test_each_event_shows_its_etsi_name_and_the_annex_its_identifier(
    letter: tuple[BundleReport, BundleLabels, str], tmp_path: Path
) -> None:
    _, pages = render(letter, tmp_path, "en")
    body, annex = " ".join(pages[:2]), " ".join(pages)
    for name in ("SubmissionAcceptance", "ContentConsignment", "ContentHandover"):
        assert name in body
        assert f"http://uri.etsi.org/19522/Event/{name}" in re.sub(r"\s+", "", annex)
    assert "Annex: technical details and standards" in annex
    first = " ".join(pages[0].split())
    assert "RFC 6962" not in first and "RFC 8785" not in first  # the standards are in the annex


def test_the_legal_moment_and_its_rule_are_stated(
    letter: tuple[BundleReport, BundleLabels, str], tmp_path: Path
) -> None:
    report, _, _ = letter
    _, pages = render(letter, tmp_path, "nl")
    text = " ".join(" ".join(pages).split())
    assert "Juridisch tijdstip van ontvangst / Legal moment of receipt" in text
    read = next(step for step in report.steps if step.type == "Read")
    assert f"Geldt als ontvangen op / Counts as received on {utc_text(read.time)} UTC" in text
    assert (
        "de eerste opening van de hoofdinhoud, of geacht ontvangen 3 werkdagen na de "
        "terbeschikkingstelling" in text
    )
    assert "or deemed received 3 working days after it was made available" in text
    assert "de hoofdinhoud werd geopend / the main content was opened" in text


def test_a_rule_the_catalogue_does_not_know_is_shown_as_stated(
    letter: tuple[BundleReport, BundleLabels, str], tmp_path: Path
) -> None:
    report, labels, _ = letter
    odd = LegalMoment("2026-03-09T23:00:00Z", "by-decree", 5, "decree of the minister")
    pdf = tmp_path / "odd.pdf"
    render_certificate(report, pdf, language="en", labels=BundleLabels(labels.etsi_by_leaf, odd))
    text = subprocess.run(
        [poppler("pdftotext"), str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = " ".join(text.split())
    assert "by-decree (5 working days)" in flat and "decree of the minister" in flat


def test_a_notified_never_read_expired_letter_names_each_moment_and_its_etsi_event(
    tmp_path: Path,
) -> None:
    notice = {"channel": "email", "address_sha256": "ab" * 32, "mail_sha256": "cd" * 32}
    expired = {"reason": "validity period ended", "due_at": None, "content_handover_failure": True}
    bundle, vkey = judged_bundle(
        life=[("Notified", {**notice, "kind": "newDocument"}), ("Expired", expired)]
    )
    raw = bundle.to_json()
    pdf = tmp_path / "expired.pdf"
    render_certificate(verify_bundle(raw, vkey), pdf, language="fr", labels=labels_of(raw))
    text = subprocess.run(
        [poppler("pdftotext"), str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = " ".join(text.split())
    for expected in (
        "Destinataire averti (e-mail) / Recipient notified (e-mail)",
        "ConsignmentNotification",
        "ContentHandoverFailure",
        "les 3 jours ouvrables se sont écoulés en premier / the 3 working days passed first",
    ):
        assert expected in flat, expected


def test_a_bundle_without_labels_falls_back_to_the_etsi_table_and_states_no_legal_moment(
    tmp_path: Path,
) -> None:
    plain = registered_letter()  # as bundles were before ETSI labels and legal moments
    report = verify_bundle(plain.bundle.to_json(), plain.vkey)
    pdf = tmp_path / "plain.pdf"
    render_certificate(report, pdf, language="en")
    text = subprocess.run(
        [poppler("pdftotext"), str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "ContentHandover" in text and EN["legal_moment.at"] not in text
    assert "Legal moment of receipt" in text and "NOT STATED" in text  # says it has none


@pytest.mark.parametrize("language", ["nl", "fr", "de", "en"])
def test_the_certificate_draws_as_pictures(
    letter: tuple[BundleReport, BundleLabels, str], tmp_path: Path, language: str
) -> None:
    pdf, pages = render(letter, tmp_path, language)
    subprocess.run(
        [poppler("pdftoppm"), "-r", "40", "-png", str(pdf), str(tmp_path / language)], check=True
    )
    drawn = sorted(tmp_path.glob(f"{language}-*.png"))
    assert len(drawn) == len(pages)
    assert all(png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for png in drawn)
