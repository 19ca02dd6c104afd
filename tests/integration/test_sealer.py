"""The sealer: every event becomes the next leaf, checkpoints are signed, proofs verify."""

from __future__ import annotations

from itertools import pairwise

import pytest
from sqlalchemy import text

from ebox.adapters.runtime import Ledger
from ebox.adapters.transparency import TransparencyLog
from ebox.domain.proofs.checkpoint import open_checkpoint
from ebox.domain.proofs.merkle import leaf_hash, root_of, verify_consistency
from ebox.domain.proofs.note import NoteVerifier
from ebox.domain.proofs.tlogproof import TlogProof, verify_tlog_proof
from ebox.projections.delivery import DeliveryWorker
from ebox.projections.sealer import Sealer
from tests.builders import make_world


@pytest.fixture
def sealed(ledger: Ledger) -> TransparencyLog:
    world = make_world(ledger)
    letters = [world.letter(idempotency_key=f"k{i}") for i in range(12)]
    ids = [o.message_id for o in ledger.app.publish_many(letters)]
    DeliveryWorker(ledger).run_until_idle()
    for message_id in ids[:4]:
        ledger.app.open_document(message_id, "letter.pdf", "citizen:58102882214", "portal")
    sealer = Sealer(ledger, batch_size=10, checkpoint_every=7, checkpoint_seconds=3600)
    sealer.run_until_idle()
    sealer.checkpoint_now()
    return TransparencyLog(ledger)


def test_every_event_is_one_leaf_in_log_order(ledger: Ledger, sealed: TransparencyLog) -> None:
    entries = list(sealed.entries(chunk=5))
    assert [e["leaf_index"] for e in entries] == list(range(len(entries)))
    with ledger.db.read() as session:
        assert len(entries) == session.execute(text("SELECT count(*) FROM ebox_events")).scalar()
    assert len(
        {(e["canonical"]["aggregate_id"], e["canonical"]["version"]) for e in entries}
    ) == len(entries)


def test_checkpoints_every_n_leaves_sign_the_rfc6962_root(
    ledger: Ledger, sealed: TransparencyLog
) -> None:
    leaves = [leaf_hash(bytes.fromhex(e["event_hash"])) for e in sealed.entries()]
    verifier = NoteVerifier(sealed.vkey())
    sizes = []
    for size, note in sealed.checkpoints():
        checkpoint = open_checkpoint(note, verifier)
        assert checkpoint.size == size
        assert checkpoint.root == root_of(leaves[:size])
        sizes.append(size)
    assert sizes[:-1] == list(range(7, len(leaves), 7))[: len(sizes) - 1]
    assert sizes[-1] == len(leaves)


def test_every_leaf_has_an_inclusion_proof_that_verifies(sealed: TransparencyLog) -> None:
    verifier = NoteVerifier(sealed.vkey())
    entries = list(sealed.entries())
    for entry in entries:
        proof = sealed.inclusion(entry["leaf_index"])
        text = proof.encode()
        checkpoint = verify_tlog_proof(
            TlogProof.parse(text), leaf_hash(bytes.fromhex(entry["event_hash"])), verifier
        )
        assert checkpoint.size == len(entries)
    older = sealed.inclusion(3, size=7)
    assert (
        verify_tlog_proof(older, leaf_hash(bytes.fromhex(entries[3]["event_hash"])), verifier).size
        == 7
    )


def test_consistency_between_successive_checkpoints(sealed: TransparencyLog) -> None:
    checkpoints = sealed.checkpoints()
    roots = {}
    verifier = NoteVerifier(sealed.vkey())
    for size, note in checkpoints:
        roots[size] = open_checkpoint(note, verifier).root
    sizes = sorted(roots)
    for first, second in pairwise(sizes):
        verify_consistency(
            first, second, sealed.consistency(first, second), roots[first], roots[second]
        )


def test_a_second_sealer_continues_where_the_first_stopped(
    ledger: Ledger, sealed: TransparencyLog
) -> None:
    size_before, _ = sealed.checkpoint()
    message_id = next(
        e["canonical"]["aggregate_id"] for e in sealed.entries() if e["canonical"]["type"] == "Sent"
    )
    ledger.app.archive(message_id, by="owner")
    fresh = Sealer(ledger, checkpoint_every=1000, checkpoint_seconds=3600)
    assert fresh.run_until_idle() == 1
    fresh.checkpoint_now()
    size_after, _ = sealed.checkpoint()
    assert size_after == size_before + 1
    leaves = [leaf_hash(bytes.fromhex(e["event_hash"])) for e in sealed.entries()]
    assert len(leaves) == size_after
