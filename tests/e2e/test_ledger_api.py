"""The transparency-log endpoints, checked the way an outside verifier would."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from ebox.adapters.runtime import Ledger
from ebox.domain.proofs.checkpoint import open_checkpoint
from ebox.domain.proofs.merkle import leaf_hash, root_of, verify_consistency
from ebox.domain.proofs.note import NoteVerifier
from ebox.domain.proofs.tlogproof import verify_tlog_proof
from ebox.projections.delivery import DeliveryWorker
from ebox.projections.sealer import Sealer
from tests.auth_helpers import api_client, auditor_token, bearer, person_token_for
from tests.builders import CITIZEN, make_world
from tests.contract import validate


def test_checkpoints_proofs_and_entries_verify_from_http_alone(
    ledger: Ledger, ledger_home: Path
) -> None:
    world = make_world(ledger)
    ledger.app.publish_many([world.letter(idempotency_key=f"l{i}") for i in range(5)])
    DeliveryWorker(ledger).run_until_idle()
    sealer = Sealer(ledger, checkpoint_every=8, checkpoint_seconds=3600)
    sealer.run_until_idle()
    sealer.checkpoint_now()

    with api_client(ledger, ledger_home) as http:
        verifier = NoteVerifier(http.get("/ledger/vkey").text.strip())
        latest = open_checkpoint(http.get("/ledger/checkpoint").text, verifier)

        anonymous = http.get("/ledger/entries")
        assert anonymous.status_code == 401
        validate("StatusMessage", anonymous.json())
        person = http.get(
            "/ledger/entries", headers=bearer(person_token_for(http, CITIZEN.id_value))
        )
        assert person.status_code == 403
        rows = [
            json.loads(line)
            for line in http.get(
                "/ledger/entries", headers=bearer(auditor_token(http, ledger))
            ).text.splitlines()
        ]
        assert len(rows) == latest.size
        leaves = [leaf_hash(bytes.fromhex(r["event_hash"])) for r in rows]
        assert root_of(leaves) == latest.root

        for index in (0, latest.size // 2, latest.size - 1):
            proof = http.get("/ledger/proof", params={"index": index})
            assert verify_tlog_proof(proof.text, leaves[index], verifier).size == latest.size

        sizes = [c["size"] for c in http.get("/ledger/checkpoints").json()]
        assert sizes[-1] == latest.size and len(sizes) >= 2
        first = open_checkpoint(http.get("/ledger/checkpoints").json()[0]["note"], verifier)
        text = http.get(
            "/ledger/consistency", params={"first": first.size, "second": latest.size}
        ).text
        verify_consistency(
            first.size,
            latest.size,
            [base64.b64decode(h) for h in text.split()],
            first.root,
            latest.root,
        )

        beyond = http.get("/ledger/proof", params={"index": latest.size})
        assert beyond.status_code == 400
        validate("StatusMessage", beyond.json())
        missing = http.get("/ledger/consistency", params={"first": 3, "second": latest.size})
        assert missing.status_code == 404
