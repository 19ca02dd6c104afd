"""GET /evidence/{messageId}: for the letter's parties and auditors, verifiable offline."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ebox.adapters.runtime import Ledger
from ebox.projections.delivery import DeliveryWorker
from ebox.projections.sealer import Sealer
from ebox.verifier.bundle import verify_bundle
from ebox.verifier.sealed_pdf import open_sealed_certificate
from tests.auth_helpers import api_client, auditor_token, bearer, person_token_for, sender_token
from tests.builders import CITIZEN, OTHER_KBO, SENDER_KBO, make_world
from tests.contract import validate


def test_evidence_is_served_to_parties_and_auditors_only(ledger: Ledger, ledger_home: Path) -> None:
    world = make_world(ledger)
    message_id = ledger.app.publish(world.letter())
    DeliveryWorker(ledger).run_until_idle()
    ledger.app.open_document(message_id, "letter.pdf", CITIZEN.address, "portal")
    ledger.app.archive(message_id, by=CITIZEN.address)
    sealer = Sealer(ledger)
    sealer.run_until_idle()
    sealer.checkpoint_now()
    ledger.app.register_sender(OTHER_KBO, {"nl": "RSZ"})

    with api_client(ledger, ledger_home) as http:
        vkey = http.get("/ledger/vkey").text.strip()
        person = bearer(person_token_for(http, CITIZEN.id_value))
        sender = bearer(sender_token(http, ledger, SENDER_KBO))
        auditor = bearer(auditor_token(http, ledger))
        for headers in (person, sender, auditor):
            response = http.get(f"/evidence/{message_id}", headers=headers)
            assert response.status_code == 200, response.text
            report = verify_bundle(response.text, vkey)
            assert (report.message_id, report.recipient) == (message_id, CITIZEN.address)
            assert report.sender_kbo == SENDER_KBO and report.registered

        other_sender = http.get(
            f"/evidence/{message_id}", headers=bearer(sender_token(http, ledger, OTHER_KBO))
        )
        assert other_sender.status_code == 404
        validate("StatusMessage", other_sender.json())
        stranger = http.get(
            f"/evidence/{message_id}", headers=bearer(person_token_for(http, "85073003328"))
        )
        assert stranger.status_code in (403, 404)
        assert http.get(f"/evidence/{message_id}?disclose=true", headers=auditor).status_code == 403
        disclosed = http.get(f"/evidence/{message_id}?disclose=true", headers=person)
        assert disclosed.status_code == 200 and "disclosure" in disclosed.text

        pdf = http.get(f"/evidence/{message_id}", headers={**person, "Accept": "application/pdf"})
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        path = ledger_home / "certificate.pdf"
        path.write_bytes(pdf.content)
        try:
            text = subprocess.run(
                ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
            ).stdout
        except FileNotFoundError:
            pytest.skip("pdftotext is not installed")
        assert message_id in text
        assert "Issued by" in text and "page 1 of" in text  # the layout a judge reads
        bundle, seal_line = open_sealed_certificate(pdf.content, None)
        assert verify_bundle(bundle, vkey).message_id == message_id
        assert seal_line.startswith("PDF seal: intact, covers the whole file")
