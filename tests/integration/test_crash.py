"""SIGKILL in the middle of a broadcast loses no acknowledged letter.

A broadcaster and a worker process (delivery + sealer) run at once; both are
killed with SIGKILL while the broadcast is mid-way. After a restart the
workers finish: every acknowledged letter is there, delivered exactly once,
and the Merkle log has every event once, with no gap.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import nacl.signing
import pytest
from sqlalchemy import text

from ebox.adapters.runtime import Ledger
from ebox.adapters.transparency import TransparencyLog
from ebox.cli.demo import DemoSender
from ebox.domain.proofs.checkpoint import open_checkpoint
from ebox.domain.proofs.merkle import leaf_hash, root_of
from ebox.domain.proofs.note import NoteVerifier
from ebox.domain.publication import Recipient
from ebox.projections.delivery import DeliveryWorker
from ebox.projections.sealer import Sealer
from tests.builders import SENDER_KBO, make_world

REPO = Path(__file__).resolve().parents[2]
BATCH = 20
PEOPLE = 600
KILL_AFTER_BATCHES = 5


def recipients() -> list[Recipient]:
    """PEOPLE distinct, valid national register numbers."""
    found: list[Recipient] = []
    body = 850730000
    while len(found) < PEOPLE:
        body += 1
        found.append(Recipient("citizen", f"{body}{97 - body % 97:02d}"))
    return found


def world_sender(home: Path) -> DemoSender:
    data = json.loads((home / "crash-sender.json").read_text())
    return DemoSender(
        SENDER_KBO,
        {"nl": "FOD Financiën"},
        nacl.signing.SigningKey(bytes.fromhex(data["seed"])),
        data["key_id"],
    )


@pytest.mark.slow
def test_sigkill_mid_broadcast_loses_no_acknowledged_letter(
    ledger: Ledger, database_url: str, ledger_home: Path
) -> None:
    world = make_world(ledger)
    (ledger_home / "crash-sender.json").write_text(
        json.dumps({"seed": bytes(world.sender.key).hex(), "key_id": world.sender.key_id})
    )
    for recipient in recipients():
        ledger.app.open_mailbox(recipient.ebox_type, recipient.id_value)
    env = {**os.environ, "EBOX_HOME": str(ledger_home), "PYTHONPATH": str(REPO)}

    workers = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ebox.cli.main",
            "workers",
            "--db",
            database_url,
            "--interval",
            "0.01",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    broadcaster = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).with_name("crash_child.py")),
            database_url,
            str(ledger_home),
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    acknowledged: list[str] = []
    assert broadcaster.stdout is not None
    for _ in range(KILL_AFTER_BATCHES):
        line = broadcaster.stdout.readline()
        assert line and line != "DONE\n", broadcaster.stderr.read() if broadcaster.stderr else ""
        acknowledged += json.loads(line)
    broadcaster.send_signal(signal.SIGKILL)
    workers.send_signal(signal.SIGKILL)
    broadcaster.wait()
    workers.wait()
    # Lines already written before the kill were acknowledged too.
    for line in broadcaster.stdout.read().splitlines():
        if line.startswith("["):
            acknowledged += json.loads(line)
    assert len(acknowledged) >= KILL_AFTER_BATCHES * BATCH
    assert len(acknowledged) < PEOPLE, "the broadcast finished before the kill: nothing was tested"

    # Restart: the workers finish what was committed.
    DeliveryWorker(ledger).run_until_idle()
    sealer = Sealer(ledger)
    sealer.run_until_idle()
    sealer.checkpoint_now()

    for message_id in acknowledged:
        message = ledger.app.message(message_id)
        assert message.delivered
    sent = [
        e
        for e in TransparencyLog(ledger).entries()
        if e["canonical"]["aggregate_type"] == "Message"
    ]
    kinds = Counter((e["canonical"]["aggregate_id"], e["canonical"]["type"]) for e in sent)
    assert all(count == 1 for count in kinds.values()), "an event was sealed twice"
    sent_ids = {a for a, kind in kinds if kind == "Sent"}
    assert set(acknowledged) <= sent_ids
    assert {a for a, kind in kinds if kind == "Delivered"} == sent_ids
    # Whole batches only: what was not acknowledged is either fully there or absent.
    assert len(sent_ids) % BATCH == 0

    entries = list(TransparencyLog(ledger).entries())
    assert [e["leaf_index"] for e in entries] == list(range(len(entries)))
    with ledger.db.read() as session:
        stored_events = session.execute(text("SELECT count(*) FROM ebox_events")).scalar()
    assert len(entries) == stored_events  # notification ids may have gaps; leaves may not
    log = TransparencyLog(ledger)
    size, note = log.checkpoint()
    checkpoint = open_checkpoint(note, NoteVerifier(log.vkey()))
    assert size == len(entries)
    assert checkpoint.root == root_of([leaf_hash(bytes.fromhex(e["event_hash"])) for e in entries])
