"""The certificate PDF is sealed (PAdES) by the operator and carries its evidence bundle."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from ebox.adapters.certificate_seal import load_sealing_identity, seal_certificate
from ebox.verifier.bundle import verify_bundle
from ebox.verifier.certificate import render_certificate
from ebox.verifier.certificate_text import CATALOGUES, EN
from ebox.verifier.errors import VerificationError
from ebox.verifier.sealed_pdf import embedded_bundle, seal_status
from tests.unit.test_evidence_bundle import registered_letter


@pytest.fixture(scope="module")
def sealed(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes, bytes, str]:
    home = tmp_path_factory.mktemp("home")
    letter = registered_letter()
    raw = letter.bundle.to_json().encode("utf-8")
    report = verify_bundle(raw, letter.vkey)
    pdf = home / "certificate.pdf"
    render_certificate(report, pdf)
    identity = load_sealing_identity("Demo operator", home)
    assert stat.S_IMODE((home / "seal.key").stat().st_mode) == 0o600
    out = seal_certificate(
        pdf.read_bytes(), raw, identity, operator="Demo operator", location="Brussels"
    )
    return out, raw, identity.certificate_pem, letter.vkey


def test_pyhanko_says_the_seal_is_intact_and_trusted(
    sealed: tuple[bytes, bytes, bytes, str],
) -> None:
    pdf, _, cert, _ = sealed
    status = seal_status(pdf, cert)
    assert status.ok and "Demo operator" in status.signer


def test_a_changed_byte_breaks_the_seal(sealed: tuple[bytes, bytes, bytes, str]) -> None:
    pdf, _, cert, _ = sealed
    changed = bytearray(pdf)
    changed[len(pdf) // 4] ^= 0x01
    assert not seal_status(bytes(changed), cert).ok


def test_the_embedded_bundle_is_the_bundle_and_verifies(
    sealed: tuple[bytes, bytes, bytes, str],
) -> None:
    pdf, raw, _, vkey = sealed
    assert embedded_bundle(pdf) == raw
    assert verify_bundle(embedded_bundle(pdf), vkey).message_id


def test_a_pdf_without_a_bundle_is_refused_with_a_reason(tmp_path: Path) -> None:
    with pytest.raises(VerificationError, match=r"no embedded evidence\.json"):
        embedded_bundle(b"%PDF-1.4\n%%EOF\n")


def test_every_language_has_every_text() -> None:
    for language, catalogue in CATALOGUES.items():
        assert set(catalogue) == set(EN), language


def test_a_configured_sealing_certificate_with_an_encrypted_key_seals(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization

    from ebox.api.settings import Settings
    from ebox.verifier.sealed_pdf import open_sealed_certificate

    made = load_sealing_identity("Operator NV", tmp_path / "made")  # any certificate and key
    key = serialization.load_pem_private_key(made.key_pem, password=None)
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"correct horse"),
    )
    cert_file, key_file, password_file = (tmp_path / n for n in ("seal.pem", "key.pem", "pw"))
    cert_file.write_bytes(made.chain_pem)
    key_file.write_bytes(encrypted)
    password_file.write_text("correct horse\n")
    settings = Settings(
        environment="production",
        seal_cert_file=cert_file,
        seal_key_file=key_file,
        seal_key_password_file=password_file,
        operator_name="Operator NV",
    )
    identity = settings.sealing_identity()
    assert not identity.demo
    letter = registered_letter()
    raw = letter.bundle.to_json().encode("utf-8")
    pdf = tmp_path / "c.pdf"
    render_certificate(verify_bundle(raw, letter.vkey), pdf)
    sealed = seal_certificate(pdf.read_bytes(), raw, identity, operator="Operator NV", location="B")
    bundle, line = open_sealed_certificate(sealed, made.certificate_pem)
    assert bundle == raw and "against the sealing certificate you gave" in line


def test_a_seal_by_another_certificate_than_the_trusted_one_is_refused(
    sealed: tuple[bytes, bytes, bytes, str], tmp_path: Path
) -> None:
    from ebox.verifier.sealed_pdf import open_sealed_certificate

    pdf, _, _, _ = sealed
    stranger = load_sealing_identity("Someone else", tmp_path).certificate_pem
    with pytest.raises(VerificationError, match="does not validate against the sealing cert"):
        open_sealed_certificate(pdf, stranger)
