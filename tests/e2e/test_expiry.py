"""A letter's expiry, end to end: shredded at the end of its validity, and the proofs remain.

A sender publishes over HTTP; the operator runs `ebox workers --once --now T`
after the validity: the content routes answer 410 with a StatusMessage, the
ledger shows `Expired`, neither the
ciphertext nor the wrapped key is anywhere in the SQLite file or its WAL, and
the letter's evidence (never read, expired) verifies with `ebox verify` and says
when the content was destroyed and why.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from ebox.adapters.runtime import open_ledger
from ebox.adapters.tables import blobs, wrapped_keys
from ebox.domain.proofs.canonical import parse_rfc3339, rfc3339
from ebox.projections.workers import Workers
from tests.auth_helpers import api_client, bearer, person_token_for, sender_token
from tests.builders import CITIZEN, SENDER_KBO, make_world
from tests.e2e.test_consultation_api import contract_body
from tests.e2e.test_evidence_cli import ebox, ok
from tests.e2e.test_publication_api import message_to_publish, publish


def test_an_expired_letter_is_gone_and_its_evidence_says_so(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ledger = open_ledger(None, home)
    try:
        make_world(ledger)
        with api_client(ledger, home) as http:
            published = publish(http, sender_token(http, ledger, SENDER_KBO), message_to_publish())
            assert published.status_code == 201, published.text
            message_id = published.json()["messageId"]
        Workers(ledger).run_until_idle()
        expires_at = parse_rfc3339(str(ledger.app.sent(message_id).expires_at))
        documents = ledger.app.message(message_id).documents
        with ledger.db.read() as session:
            ciphertexts = [
                bytes(session.execute(select(blobs.c.data).where(blobs.c.digest == d)).scalar_one())
                for d in (doc["ciphertext_sha256"] for doc in documents)
            ]
            keys = [
                bytes(k)
                for k in session.execute(
                    select(wrapped_keys.c.wrapped).where(wrapped_keys.c.message_id == message_id)
                ).scalars()
            ]
        assert ciphertexts and keys
        content = f"/ebox/citizen/v2/ebox/messages/{message_id}/attachments/1/content"

        bad = ebox(home, "workers", "--once", "--now", "next tuesday")
        assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1, bad.stderr
        assert "--now" in bad.stderr

        after = rfc3339(expires_at + timedelta(days=1))
        ok(ebox(home, "workers", "--once", "--now", after))

        with api_client(ledger, home) as http:
            person = bearer(person_token_for(http, CITIZEN.id_value))
            gone = http.get(content, headers=person)
            body = contract_body(gone, "getAttachmentContentById", 410)
            assert body["code"] == "CONTENT_EXPIRED"
            assert (
                http.get(f"/ebox/citizen/v2/ebox/messages/{message_id}", headers=person).status_code
                == 410
            )
            listed = http.get("/ebox/citizen/v2/ebox/messages", headers=person).json()
            assert message_id not in json.dumps(listed)  # no longer available: not listed
    finally:
        ledger.close()

    exported = [json.loads(line) for line in ok(ebox(home, "ledger", "export")).splitlines()]
    types = [
        r["canonical"]["type"] for r in exported if r["canonical"]["aggregate_id"] == message_id
    ]
    assert types[-1] == "Expired" and "Read" not in types

    database = home / "ebox.sqlite"
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    stored = b"".join(p.read_bytes() for p in (database, Path(f"{database}-wal")) if p.exists())
    for secret in [*ciphertexts, *keys]:
        assert secret not in stored

    evidence = tmp_path / "evidence.json"
    ok(ebox(home, "evidence", message_id, "-o", str(evidence)))
    vkey = ok(ebox(home, "ledger", "vkey")).strip()
    report = ok(ebox(home, "verify", str(evidence), "--vkey", vkey))
    expired = next(
        r["canonical"]
        for r in exported
        if r["canonical"]["aggregate_id"] == message_id and r["canonical"]["type"] == "Expired"
    )
    assert f"EXPIRY: DESTROYED AT {expired['timestamp']}, NEVER READ" in report
    assert "validity period ended" in report and "ContentHandoverFailure" in report
