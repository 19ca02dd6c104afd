"""Issuing the PDF certificate of a verified bundle: rendered, bundle attached, sealed.

The verifier renders, the sealing adapter seals; this is where the two meet,
above both layers, so that the CLI and the API print the same issuer and labels
and seal the same way (adapters may not import the verifier, which trusts none of them).
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

from ebox.adapters.certificate_seal import BUNDLE_ATTACHMENT, SealingIdentity, seal_certificate
from ebox.verifier.certificate import render_certificate
from ebox.verifier.certificate_facts import Issuer, labels_of
from ebox.verifier.findings import BundleReport


def issue_certificate(
    report: BundleReport,
    bundle: bytes,
    identity: SealingIdentity,
    issuer: Issuer,
    *,
    bundle_name: str = BUNDLE_ATTACHMENT,
    language: str | None = None,
) -> bytes:
    """The sealed certificate of a verified bundle: rendered, bundle attached, sealed.

    One function for the CLI and the API, so both print the same issuer and
    labels and seal the same way.
    """
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "certificate.pdf"
        render_certificate(
            report,
            path,
            bundle_name=bundle_name,
            bundle_sha256=hashlib.sha256(bundle).hexdigest(),
            language=language,
            issuer=issuer,
            labels=labels_of(bundle),
        )
        pdf = path.read_bytes()
    return seal_certificate(pdf, bundle, identity, operator=issuer.name, location="Brussels")
