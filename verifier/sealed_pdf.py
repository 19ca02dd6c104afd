"""Reading a sealed certificate PDF: the bundle it carries, and whether its seal holds.

A sealed certificate (see `ebox.adapters.certificate_seal`) carries its evidence
bundle as the embedded file `evidence.json`. The bundle is what proves; the seal
only says the PDF is the one the operator issued. Reading needs pyHanko, not the
ledger, so an auditor's verifier can do it offline.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from ebox.verifier.errors import VerificationError

BUNDLE_ATTACHMENT = "evidence.json"
PDF_MAGIC = b"%PDF-"


def is_pdf(raw: bytes) -> bool:
    return raw.lstrip()[:5] == PDF_MAGIC


def embedded_bundle(pdf: bytes) -> bytes:
    """The bytes of the `evidence.json` attachment, or VerificationError saying what is wrong."""
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        names = reader.root["/Names"]["/EmbeddedFiles"]["/Names"]
        for index in range(0, len(names) - 1, 2):
            if str(names[index]) == BUNDLE_ATTACHMENT:
                stream = names[index + 1].get_object()["/EF"]["/F"].get_object()
                return bytes(stream.data)
    except (KeyError, PdfError, ValueError, TypeError, AttributeError):
        pass
    raise VerificationError(
        "the PDF carries no evidence bundle (no embedded evidence.json): "
        "verify the bundle file itself"
    )


@dataclass(frozen=True)
class SealStatus:
    """What pyHanko's validator says of the PDF's seal, against the trusted certificate."""

    present: bool
    intact: bool
    trusted: bool
    covers_whole_file: bool
    signer: str

    @property
    def ok(self) -> bool:
        return self.present and self.intact and self.trusted and self.covers_whole_file


def seal_status(pdf: bytes, trusted_certificate_pem: bytes | None) -> SealStatus:
    """Validate the last signature of `pdf`, trusting `trusted_certificate_pem` as root.

    Without a trusted certificate, the certificate the PDF itself carries is
    trusted: that checks integrity (no byte changed since sealing), not who sealed.
    """
    from pyhanko.keys import load_certs_from_pemder_data
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = reader.embedded_signatures
    except (PdfError, ValueError, KeyError, TypeError):
        return SealStatus(False, False, False, False, "")
    if not signatures:
        return SealStatus(False, False, False, False, "")
    signature = signatures[-1]
    roots = (
        list(load_certs_from_pemder_data(trusted_certificate_pem))
        if trusted_certificate_pem
        else [signature.signer_cert]
    )
    try:
        status = validate_pdf_signature(signature, ValidationContext(trust_roots=roots))
    except (PdfError, ValueError, KeyError, TypeError) as error:
        return SealStatus(True, False, False, False, f"(unreadable signature: {error})")
    return SealStatus(
        present=True,
        intact=bool(status.intact),
        trusted=bool(status.valid and status.trusted),
        covers_whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        signer=status.signing_cert.subject.human_friendly,
    )


def open_sealed_certificate(pdf: bytes, trusted_certificate_pem: bytes | None) -> tuple[bytes, str]:
    """The embedded bundle of a sealed certificate whose seal holds, and one line saying so.

    Raises VerificationError, in one line, for a PDF without a seal, with a
    broken or untrusted seal, or without a bundle.
    """
    trust = (
        "against the sealing certificate you gave"
        if trusted_certificate_pem
        else "against the certificate the PDF carries (integrity only: give --seal-cert to "
        "check who sealed it)"
    )
    status = seal_status(pdf, trusted_certificate_pem)
    if not status.present:
        raise VerificationError(
            "the PDF carries no seal (no PAdES signature): not a sealed certificate"
        )
    if not status.intact or not status.covers_whole_file:
        raise VerificationError(
            "the PDF's seal is broken: the file was changed after it was sealed"
            if not status.intact
            else "the PDF was changed after it was sealed (the seal does not cover the whole file)"
        )
    if not status.trusted:
        raise VerificationError(f"the PDF's seal by {status.signer} does not validate {trust}")
    bundle = embedded_bundle(pdf)
    return bundle, f"PDF seal: intact, covers the whole file, by {status.signer}, validated {trust}"
