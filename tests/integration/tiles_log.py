"""A ledger log of any size in seconds: synthetic entries written as the sealer writes them.

Publishing 65,537 letters through the application would take minutes; the tiles
depend only on `ledger_leaves`, `merkle_nodes` and `checkpoints`, so the builder
writes those rows exactly as the sealer does (domain Frontier, the same bulk
insert, checkpoints signed with the ledger's key by the domain's signer).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from ebox.adapters.bulk import insert_rows
from ebox.adapters.runtime import Ledger
from ebox.adapters.tables import checkpoints, ledger_leaves, merkle_nodes
from ebox.domain.proofs.checkpoint import Checkpoint, sign_checkpoint
from ebox.domain.proofs.merkle import Frontier, leaf_hash
from ebox.projections.delivery import DeliveryWorker
from ebox.projections.sealer import Sealer
from tests.builders import CITIZEN, make_world


def entry(n: int) -> bytes:
    """The synthetic event hash of leaf `n` (any 32 bytes do: the log holds hashes)."""
    return hashlib.sha256(f"event {n}".encode()).digest()


class LogBuilder:
    """Grows the ledger's Merkle log and signs a checkpoint at each size asked for."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.frontier = Frontier.empty()
        self.signer = ledger.secrets.ledger_signer()
        self.notes: dict[int, str] = {}

    @property
    def size(self) -> int:
        return self.frontier.size

    def grow_to(self, size: int, chunk: int = 20_000) -> str:
        """Append leaves up to `size`, sign a checkpoint of `size`, return its note."""
        while self.frontier.size < size:
            stop = min(size, self.frontier.size + chunk)
            leaves: list[dict[str, Any]] = []
            nodes: list[dict[str, Any]] = []
            for n in range(self.frontier.size, stop):
                for (level, idx), digest in self.frontier.append(leaf_hash(entry(n))):
                    nodes.append({"level": level, "idx": idx, "hash": digest})
                leaves.append(
                    {
                        "leaf_index": n,
                        "notification_id": n + 1,
                        "aggregate_id": f"00000000-0000-4000-8000-{n:012d}",
                        "version": 1,
                        "event_hash": entry(n).hex(),
                    }
                )
            with self.ledger.db.write() as session:
                insert_rows(session, ledger_leaves, leaves)
                insert_rows(session, merkle_nodes, nodes)
        checkpoint = Checkpoint(
            origin=self.signer.name, size=size, root=self.frontier.root(), time=datetime.now(UTC)
        )
        note = sign_checkpoint(checkpoint, self.signer)
        with self.ledger.db.write() as session:
            insert_rows(
                session,
                checkpoints,
                [
                    {
                        "size": size,
                        "root": checkpoint.root,
                        "note": note,
                        "signed_at": checkpoint.time,
                    }
                ],
            )
        self.notes[size] = note
        return note


def sealed_letters(ledger: Ledger, letters: int, every: int) -> tuple[list[Any], Sealer]:
    """Real events: `letters` letters published, delivered, the first one read, all sealed
    (a checkpoint every `every` leaves and one at the end); the sealer, to seal more later."""
    world = make_world(ledger)
    batch = [world.letter(idempotency_key=f"letter-{i}") for i in range(letters)]
    outcomes = list(ledger.app.publish_many(batch))
    DeliveryWorker(ledger).run_until_idle()
    ledger.app.open_document(
        str(outcomes[0].message_id), "letter.pdf", reader=CITIZEN.address, channel="portal"
    )
    sealer = Sealer(ledger, checkpoint_every=every, checkpoint_seconds=3600)
    sealer.run_until_idle()
    sealer.checkpoint_now()
    return outcomes, sealer
