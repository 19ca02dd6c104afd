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


def seal_status(pdf: bytes, trusted_certificate_pem: bytes) -> SealStatus:
    """Validate the last signature of `pdf`, trusting `trusted_certificate_pem` as root."""
    from pyhanko.keys import load_certs_from_pemder_data
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    signatures = reader.embedded_signatures
    if not signatures:
        return SealStatus(False, False, False, False, "")
    roots = list(load_certs_from_pemder_data(trusted_certificate_pem))
    context = ValidationContext(trust_roots=roots)
    status = validate_pdf_signature(signatures[-1], context)
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    return SealStatus(
        present=True,
        intact=bool(status.intact),
        trusted=bool(status.valid and status.trusted),
        covers_whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        signer=status.signing_cert.subject.human_friendly,
    )
