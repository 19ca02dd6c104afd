"""Sealing the PDF certificate: the bundle embedded, then a PAdES signature by the operator.

The certificate the verifier renders is a readable page and nothing more; this
module makes it one self-contained, tamper-evident file. The JSON bundle goes in
as an embedded file attachment (so whoever holds the PDF holds the machine
proof, and `ebox verify certificate.pdf` checks it), then the whole document is
signed with the operator's sealing certificate as a PAdES baseline signature
(ETSI.CAdES.detached): any byte changed afterwards breaks the seal in every PDF
reader and in pyHanko's validator.

Which certificate: in production the operator's qualified (or at least
CA-issued) sealing certificate, configured as files (`EBOX_SEAL_CERT_FILE`, a
PEM chain with the sealing certificate first, and `EBOX_SEAL_KEY_FILE`, its
PEM private key, encrypted or not: `EBOX_SEAL_KEY_PASSWORD_FILE` holds the
password; all mounted secrets, read through `ebox.api.settings`, which refuses
production without them). Unset, the embedded default
generates a self-signed demo certificate and its key in the data directory on
first use (`seal.crt`, and `seal.key` 0600 like the other keys): it proves the
file was not altered since this installation sealed it, not who the operator is.
The private key is never stored in the database.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from ebox.adapters.home import PRIVATE_FILE, data_dir, private_directory

if TYPE_CHECKING:
    from pyhanko.sign.signers import SimpleSigner

BUNDLE_ATTACHMENT = "evidence.json"
DEMO_OPERATOR = "eBox ledger (demo operator)"
SEAL_FIELD = "OperatorSeal"
DEMO_CERT, DEMO_KEY = "seal.crt", "seal.key"
DEMO_VALIDITY = timedelta(days=3650)


class SealUnavailable(ValueError):
    """The sealing certificate or key cannot be used: one line naming the setting and file."""


@dataclass(frozen=True)
class SealingIdentity:
    """The operator's sealing certificate chain (PEM, sealing certificate first) and key (PEM)."""

    chain_pem: bytes
    key_pem: bytes
    demo: bool
    key_password: bytes | None = None

    @property
    def certificate_pem(self) -> bytes:
        """The sealing certificate alone: what a relying party trusts (or finds under a CA)."""
        end = b"-----END CERTIFICATE-----"
        return self.chain_pem.split(end, 1)[0] + end + b"\n"

    def signer(self) -> SimpleSigner:
        from pyhanko.keys import load_certs_from_pemder_data, load_private_key_from_pemder_data
        from pyhanko.sign.signers import SimpleSigner
        from pyhanko_certvalidator.registry import SimpleCertificateStore

        certificates = list(load_certs_from_pemder_data(self.chain_pem))
        if not certificates:
            raise SealUnavailable("the sealing certificate file holds no PEM certificate")
        try:
            key = load_private_key_from_pemder_data(self.key_pem, passphrase=self.key_password)
        except (ValueError, TypeError) as error:
            raise SealUnavailable(f"the sealing key cannot be read: {error}") from None
        return SimpleSigner(
            signing_cert=certificates[0],
            signing_key=key,
            cert_registry=SimpleCertificateStore.from_certs(certificates),
        )


def load_sealing_identity(
    operator: str,
    home: Path | None = None,
    *,
    cert_file: Path | None = None,
    key_file: Path | None = None,
    password_file: Path | None = None,
) -> SealingIdentity:
    """The configured sealing identity, else the demo one of the data directory (made once).

    The files are the settings `EBOX_SEAL_CERT_FILE`, `EBOX_SEAL_KEY_FILE` and
    `EBOX_SEAL_KEY_PASSWORD_FILE` (see `ebox.api.settings`).
    """
    if cert_file or key_file:
        if not (cert_file and key_file):
            raise SealUnavailable(
                "EBOX_SEAL_CERT_FILE and EBOX_SEAL_KEY_FILE go together: set both"
            )
        password = (
            _read("EBOX_SEAL_KEY_PASSWORD_FILE", password_file).strip() if password_file else None
        )
        return SealingIdentity(
            _read("EBOX_SEAL_CERT_FILE", cert_file),
            _read("EBOX_SEAL_KEY_FILE", key_file),
            False,
            password,
        )
    return _demo_identity(home or data_dir(), operator)


def _read(name: str, file: Path) -> bytes:
    try:
        content = Path(file).read_bytes()
    except OSError as error:
        raise SealUnavailable(f"{name}: cannot read {file}: {error.strerror}") from None
    if not content.strip():
        raise SealUnavailable(f"{name}: {file} is empty")
    return content


def _demo_identity(home: Path, operator: str) -> SealingIdentity:
    """A self-signed ECDSA P-256 sealing certificate, generated into the data directory once."""
    cert_path, key_path = home / DEMO_CERT, home / DEMO_KEY
    if cert_path.is_file() and key_path.is_file():
        if key_path.stat().st_mode & 0o777 != PRIVATE_FILE:
            os.chmod(key_path, PRIVATE_FILE)
        return SealingIdentity(cert_path.read_bytes(), key_path.read_bytes(), True)
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"{operator} (demo seal)"[:64]),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, operator[:64]),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "BE"),
        ]
    )
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + DEMO_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM)
    private_directory(home)
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(fd, "wb") as handle:
        os.fchmod(handle.fileno(), PRIVATE_FILE)
        handle.write(key_pem)
    cert_path.write_bytes(cert_pem)
    return SealingIdentity(cert_pem, key_pem, True)


def seal_certificate(
    pdf: bytes, bundle: bytes, identity: SealingIdentity, *, operator: str, location: str
) -> bytes:
    """The certificate `pdf` with `bundle` attached, sealed by `identity` (PAdES B-B)."""
    from pyhanko.pdf_utils import embed, generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    now = datetime.now(UTC)
    data = embed.EmbeddedFileObject.from_file_data(
        writer,
        bundle,
        mime_type="application/json",
        params=embed.EmbeddedFileParams(creation_date=now, modification_date=now),
    )
    embed.embed_file(
        writer,
        embed.FileSpec(
            file_spec_string=BUNDLE_ATTACHMENT,
            file_name=BUNDLE_ATTACHMENT,
            embedded_data=data,
            description="The evidence bundle (ebox-evidence/v1): verify it with `ebox verify`",
            af_relationship=generic.NameObject("/Source"),
        ),
    )
    metadata = signers.PdfSignatureMetadata(
        field_name=SEAL_FIELD,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        name=operator,
        location=location,
        reason="Evidence of notification issued by the operator of the eBox ledger",
    )
    out = signers.sign_pdf(writer, metadata, signer=identity.signer())
    return out.getvalue()
