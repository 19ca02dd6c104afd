"""Evidence of notification from a real ledger: built from the database, checked offline.

The bundle is made by adapters/evidence.py from what the application stored
and the sealer sealed, then verified by ebox.verifier with nothing but the
ledger's public key, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ebox.adapters.evidence import EvidenceUnavailable, build_evidence
from ebox.adapters.runtime import Ledger, open_ledger
from ebox.adapters.transparency import TransparencyLog
from ebox.domain.proofs.canonical import b64url, unb64url
from ebox.domain.proofs.encryption import decrypt_document
from ebox.domain.proofs.evidence import EvidenceBundle
from ebox.projections.delivery import DeliveryWorker
from ebox.projections.sealer import Sealer
from ebox.verifier.bundle import verify_bundle
from ebox.verifier.certificate import render_certificate
from ebox.verifier.errors import DisclosureInvalid
from tests.builders import CITIZEN, SECRET_SENTENCE, make_world


@dataclass
class Letter:
    ledger: Ledger
    message_id: str
    vkey: str


def seal(ledger: Ledger) -> None:
    sealer = Sealer(ledger, checkpoint_every=5, checkpoint_seconds=3600)
    sealer.run_until_idle()
    sealer.checkpoint_now()


def read_and_archived_letter(ledger: Ledger) -> Letter:
    """A registered letter, sent among others, delivered, read on the portal, then archived."""
    world = make_world(ledger)
    app = ledger.app
    ids = [
        o.message_id
        for o in app.publish_many([world.letter(idempotency_key=f"k{i}") for i in range(3)])
    ]
    DeliveryWorker(ledger).run_until_idle()
    message_id = ids[1]
    assert message_id is not None
    app.open_document(message_id, "letter.pdf", reader=CITIZEN.address, channel="portal")
    app.archive(message_id, by="owner")
    seal(ledger)
    return Letter(ledger, message_id, TransparencyLog(ledger).vkey())


@pytest.fixture
def letter(ledger: Ledger) -> Letter:
    return read_and_archived_letter(ledger)


@pytest.fixture
def sqlite_letter(sqlite_url: str, ledger_home: Path) -> Iterator[Letter]:
    opened = open_ledger(sqlite_url, home=ledger_home)
    try:
        yield read_and_archived_letter(opened)
    finally:
        opened.close()


def test_the_evidence_of_a_read_and_archived_registered_letter_verifies(letter: Letter) -> None:
    bundle = build_evidence(letter.ledger, letter.message_id)
    report = verify_bundle(bundle.to_json(), letter.vkey)

    assert report.message_id == letter.message_id and report.registered
    assert report.recipient == CITIZEN.address
    assert report.origin.kind == "signed"
    assert [s.type for s in report.steps] == ["Sent", "Delivered", "Read", "Archived"]
    read = report.steps[2]
    assert (read.who, read.how) == (CITIZEN.address, "channel portal")
    assert report.checkpoint.size == TransparencyLog(letter.ledger).checkpoint()[0]
    assert [e.type for e in bundle.sender_events][:2] == ["Registered", "ApplicationRegistered"]
    assert "SigningKeyAdded" in [e.type for e in bundle.sender_events]
    assert [e.type for e in bundle.mailbox_events][:2] == ["Opened", "EncryptionKeyAdded"]
    assert bundle.disclosure is None


def test_a_disclosure_lets_a_court_read_and_check_the_content(sqlite_letter: Letter) -> None:
    bundle = build_evidence(sqlite_letter.ledger, sqlite_letter.message_id, disclose=True)
    report = verify_bundle(bundle.to_json(), sqlite_letter.vkey)

    assert all(d.disclosed for d in report.documents)
    assert bundle.disclosure is not None
    letter_pdf = next(d for d in bundle.disclosure.documents if d.name == "letter.pdf")
    assert SECRET_SENTENCE in decrypt_document(bundle.disclosure.data_key, letter_pdf.ciphertext)


def test_a_disclosure_whose_ciphertext_was_altered_is_rejected(sqlite_letter: Letter) -> None:
    document = build_evidence(
        sqlite_letter.ledger, sqlite_letter.message_id, disclose=True
    ).as_json()
    ciphertext = bytearray(unb64url(document["disclosure"]["documents"][0]["ciphertext"]))
    ciphertext[40] ^= 0x01
    document["disclosure"]["documents"][0]["ciphertext"] = b64url(bytes(ciphertext))

    with pytest.raises(DisclosureInvalid, match="is not the one the ledger recorded") as refused:
        verify_bundle(json.dumps(document), sqlite_letter.vkey)
    assert refused.value.event is not None and refused.value.event.version == 1


def test_no_evidence_until_every_event_of_the_message_is_sealed(sqlite_letter: Letter) -> None:
    sqlite_letter.ledger.app.unarchive(sqlite_letter.message_id, by="owner")
    with pytest.raises(EvidenceUnavailable, match="not covered by a signed checkpoint yet"):
        build_evidence(sqlite_letter.ledger, sqlite_letter.message_id)
    seal(sqlite_letter.ledger)
    bundle = build_evidence(sqlite_letter.ledger, sqlite_letter.message_id)
    assert [e.type for e in bundle.events][-1] == "Unarchived"


def test_an_expired_letter_keeps_its_proof_but_can_no_longer_be_disclosed(
    sqlite_letter: Letter,
) -> None:
    sqlite_letter.ledger.app.expire(sqlite_letter.message_id, reason="retention period over")
    seal(sqlite_letter.ledger)
    with pytest.raises(EvidenceUnavailable, match="data key is gone"):
        build_evidence(sqlite_letter.ledger, sqlite_letter.message_id, disclose=True)
    report = verify_bundle(
        build_evidence(sqlite_letter.ledger, sqlite_letter.message_id).to_json(), sqlite_letter.vkey
    )
    assert report.steps[-1].type == "Expired"


def test_the_certificate_tells_people_who_sent_what_to_whom_and_the_verdict(
    sqlite_letter: Letter, tmp_path: Path
) -> None:
    bundle = build_evidence(sqlite_letter.ledger, sqlite_letter.message_id, disclose=True)
    report = verify_bundle(bundle.to_json(), sqlite_letter.vkey)
    pdf = tmp_path / "certificate.pdf"
    render_certificate(report, pdf, bundle_name="evidence.json")
    assert pdf.read_bytes().startswith(b"%PDF")
    text = pdf_text(pdf)
    for expected in (
        sqlite_letter.message_id,
        "FOD Financiën",
        "0308357159",
        CITIZEN.address,
        "VERIFIED",
        "How to re-verify",
        report.checkpoint_note.split("\n")[2],  # the checkpoint's root
    ):
        assert expected in text, expected
    assert_renders(pdf, tmp_path)


def test_the_bundle_of_the_database_survives_its_json_form(sqlite_letter: Letter) -> None:
    bundle = build_evidence(sqlite_letter.ledger, sqlite_letter.message_id, disclose=True)
    assert EvidenceBundle.parse(bundle.to_json()) == bundle


# --- PDF tools (poppler-utils) ----------------------------------------------------------------


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"CI=true and {name} (poppler-utils) is missing")
        pytest.skip(f"{name} (poppler-utils) is not installed")
    return path


def pdf_text(pdf: Path) -> str:
    """The PDF's text as pdftotext reads it, lines joined so that wrapped cells read whole."""
    done = subprocess.run(
        [_tool("pdftotext"), str(pdf), "-"], capture_output=True, text=True, check=True
    )
    return done.stdout


def assert_renders(pdf: Path, directory: Path) -> None:
    subprocess.run(
        [_tool("pdftoppm"), "-r", "40", "-png", str(pdf), str(directory / "page")], check=True
    )
    pages = sorted(directory.glob("page*.png"))
    assert pages and all(p.stat().st_size > 1000 for p in pages)
