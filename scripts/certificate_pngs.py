"""Draw the demo certificate in nl, fr, de and en into docs/certificate/ (PNG, all pages).

    .venv/bin/python scripts/certificate_pngs.py

The letter is the unit tests' registered letter (tests.unit.test_certificate_layout),
held by "Jan Peeters", with its ETSI labels and its legal moment (first opening);
the certificate is sealed by a demo operator seal made in a temporary directory,
as `ebox evidence --pdf` would. Needs poppler's pdftoppm. The PNGs are what a
reviewer looks at without running anything.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO.parent))  # `tests` lives beside the package

from PIL import Image  # noqa: E402

from ebox.adapters.certificate_seal import load_sealing_identity, seal_certificate  # noqa: E402
from ebox.verifier.bundle import verify_bundle  # noqa: E402
from ebox.verifier.certificate import render_certificate  # noqa: E402
from ebox.verifier.certificate_facts import labels_of  # noqa: E402


def main() -> None:
    sys.path.insert(0, str(REPO))
    from tests.unit.test_certificate_layout import ISSUER, judged_bundle

    bundle, vkey = judged_bundle()
    raw = bundle.to_json()
    report = verify_bundle(raw, vkey)
    labels = labels_of(raw)
    out = REPO / "docs" / "certificate"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        identity = load_sealing_identity(ISSUER.name, home)
        for language in ("nl", "fr", "de", "en"):
            pdf = home / f"{language}.pdf"
            render_certificate(report, pdf, language=language, issuer=ISSUER, labels=labels)
            sealed = seal_certificate(
                pdf.read_bytes(), raw.encode(), identity, operator=ISSUER.name, location="Brussels"
            )
            pdf.write_bytes(sealed)
            subprocess.run(
                ["pdftoppm", "-r", "72", "-png", str(pdf), str(home / language)], check=True
            )
            pages = [Image.open(p) for p in sorted(home.glob(f"{language}-*.png"))]
            sheet = Image.new("RGB", (sum(p.width for p in pages), pages[0].height), "white")
            x = 0
            for page in pages:
                sheet.paste(page, (x, 0))
                x += page.width
            sheet.save(out / f"certificate-{language}.png", optimize=True)
            print(out / f"certificate-{language}.png", len(pages), "pages")


if __name__ == "__main__":
    main()
