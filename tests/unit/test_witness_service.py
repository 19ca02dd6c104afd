"""The witness's add-checkpoint checks, in the order and with the status codes of tlog-witness.

A real witness (Ed25519 key, JSON state file on disk) against a real log played
by the test (tests/witness_log.py): no HTTP here, the server only maps these
refusals to their status codes (tests/e2e/test_witness_serve.py checks that).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import threading
from pathlib import Path

import pytest

from ebox.domain.proofs.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from ebox.domain.proofs.cosignature import CosignatureVerifier, Cosigner
from ebox.domain.proofs.note import NoteSigner, NoteVerifier
from ebox.witness.errors import (
    Inconsistent,
    MalformedRequest,
    OldSizeTooLarge,
    SizeConflict,
    UnknownLog,
    UntrustedCheckpoint,
    WitnessError,
)
from ebox.witness.request import encode_add_checkpoint, parse_add_checkpoint
from ebox.witness.service import EMPTY_ROOT, Witness, origin_hash
from ebox.witness.state import StateFile
from tests.witness_log import (
    MONKEYS_5,
    MONKEYS_8,
    MONKEYS_PROOF_5_8,
    MONKEYS_VKEY,
    PlayedLog,
    forked,
)

NOW = 1_790_000_000


@pytest.fixture
def log() -> PlayedLog:
    return PlayedLog().grow(20)


@pytest.fixture
def cosigner() -> Cosigner:
    return Cosigner.generate("witness.example/w1")


@pytest.fixture
def evidence() -> io.StringIO:
    return io.StringIO()


@pytest.fixture
def witness(log: PlayedLog, cosigner: Cosigner, tmp_path: Path, evidence: io.StringIO) -> Witness:
    return Witness(
        cosigner,
        [NoteVerifier(log.vkey)],
        StateFile(tmp_path / "state.json"),
        clock=lambda: NOW,
        evidence=evidence,
    )


def submit(witness: Witness, body: bytes) -> str:
    return witness.add_checkpoint(parse_add_checkpoint(body))


def refusal(witness: Witness, body: bytes) -> WitnessError:
    with pytest.raises(WitnessError) as refused:
        submit(witness, body)
    return refused.value


def test_the_first_checkpoint_with_old_zero_is_cosigned(
    witness: Witness, log: PlayedLog, cosigner: Cosigner
) -> None:
    line = submit(witness, log.request(0, 7))
    assert line.startswith("\u2014 witness.example/w1 ") and line.endswith("\n")
    cosigned = log.checkpoint(7) + line
    assert CosignatureVerifier(cosigner.vkey).timestamp(cosigned) == NOW
    assert witness.state.latest(log.origin).size == 7  # type: ignore[union-attr]


def test_each_later_checkpoint_needs_the_consistency_proof_from_the_last_cosigned(
    witness: Witness, log: PlayedLog
) -> None:
    submit(witness, log.request(0, 7))
    submit(witness, log.request(7, 13))
    submit(witness, log.request(13, 20))
    assert witness.state.latest(log.origin).root == log.root(20)  # type: ignore[union-attr]


def test_an_unknown_origin_is_404(witness: Witness) -> None:
    other = PlayedLog("example.org/other-log").grow(3)
    refused = refusal(witness, other.request(0))
    assert isinstance(refused, UnknownLog) and refused.status == 404


def test_a_checkpoint_signed_only_by_an_unknown_key_is_403(
    witness: Witness, log: PlayedLog
) -> None:
    impostor = PlayedLog(log.origin).grow(3)  # same origin and key name, another key
    refused = refusal(witness, impostor.request(0))
    assert isinstance(refused, UntrustedCheckpoint) and refused.status == 403


def test_a_bad_signature_by_the_trusted_key_is_403_even_beside_a_good_one(
    witness: Witness, log: PlayedLog
) -> None:
    note = log.checkpoint(5)
    forged_line = log.signer.signature_line(Checkpoint(log.origin, 6, log.root(6)).body())
    refused = refusal(witness, encode_add_checkpoint(0, [], note + forged_line))
    assert isinstance(refused, UntrustedCheckpoint) and refused.status == 403


def test_an_unsigned_checkpoint_is_403(witness: Witness, log: PlayedLog) -> None:
    body = Checkpoint(log.origin, 5, log.root(5)).body()
    refused = refusal(witness, encode_add_checkpoint(0, [], body + "\n"))
    assert refused.status == 403


def test_signatures_of_unknown_keys_are_ignored_and_not_kept(
    witness: Witness, log: PlayedLog, cosigner: Cosigner
) -> None:
    stranger = NoteSigner.generate("stranger.example")
    note = log.checkpoint(5)
    with_stranger = note + stranger.signature_line(note[: note.index("\n\n") + 1])
    submit(witness, encode_add_checkpoint(0, [], with_stranger))
    kept = witness.latest_checkpoint(origin_hash(log.origin))
    assert kept is not None and "stranger.example" not in kept
    assert open_checkpoint(kept, NoteVerifier(log.vkey)).size == 5
    assert CosignatureVerifier(cosigner.vkey).timestamp(kept) == NOW


def test_a_rotated_log_key_is_trusted_beside_the_old_one(
    log: PlayedLog, cosigner: Cosigner, tmp_path: Path
) -> None:
    rotated = PlayedLog(log.origin).grow(20)
    witness = Witness(
        cosigner,
        [NoteVerifier(log.vkey), NoteVerifier(rotated.vkey)],
        StateFile(tmp_path / "state.json"),
    )
    submit(witness, log.request(0, 4))
    submit(
        witness,
        encode_add_checkpoint(
            4,
            log.proof(4, 9),
            sign_checkpoint(Checkpoint(log.origin, 9, log.root(9)), rotated.signer),
        ),
    )
    assert witness.state.latest(log.origin).size == 9  # type: ignore[union-attr]


def test_an_old_size_above_the_checkpoint_size_is_400(witness: Witness, log: PlayedLog) -> None:
    refused = refusal(witness, encode_add_checkpoint(9, [], log.checkpoint(8)))
    assert isinstance(refused, OldSizeTooLarge) and refused.status == 400


def test_a_signed_text_that_is_no_checkpoint_is_400(witness: Witness, log: PlayedLog) -> None:
    note = log.signer.sign(f"{log.origin}\nfive\nroot\n")
    assert isinstance(refusal(witness, encode_add_checkpoint(0, [], note)), MalformedRequest)


def test_a_wrong_old_size_is_409_with_the_latest_cosigned_size_then_the_retry_succeeds(
    witness: Witness, log: PlayedLog
) -> None:
    submit(witness, log.request(0, 7))
    refused = refusal(witness, log.request(3, 12))
    assert isinstance(refused, SizeConflict) and refused.status == 409
    assert refused.latest == 7
    submit(witness, log.request(refused.latest, 12))
    assert witness.state.latest(log.origin).size == 12  # type: ignore[union-attr]


def test_a_never_seen_log_conflicts_at_zero(witness: Witness, log: PlayedLog) -> None:
    refused = refusal(witness, log.request(4, 9))
    assert isinstance(refused, SizeConflict) and refused.latest == 0


def test_a_size_zero_checkpoint_must_have_the_empty_root(
    witness: Witness, log: PlayedLog, evidence: io.StringIO
) -> None:
    assert hashlib.sha256(b"").digest() == EMPTY_ROOT
    wrong = sign_checkpoint(Checkpoint(log.origin, 0, log.root(1)), log.signer)
    refused = refusal(witness, encode_add_checkpoint(0, [], wrong))
    assert isinstance(refused, Inconsistent) and refused.status == 422
    assert len(evidence.getvalue().splitlines()) == 1  # a signed, impossible checkpoint
    submit(witness, encode_add_checkpoint(0, [], log.checkpoint(0)))
    assert witness.state.latest(log.origin).size == 0  # type: ignore[union-attr]


def test_a_proof_with_old_size_zero_is_422(witness: Witness, log: PlayedLog) -> None:
    body = encode_add_checkpoint(0, log.proof(3, 8), log.checkpoint(8))
    refused = refusal(witness, body)
    assert isinstance(refused, Inconsistent) and refused.status == 422


def test_a_failing_consistency_proof_is_422_and_logged(
    witness: Witness, log: PlayedLog, evidence: io.StringIO
) -> None:
    submit(witness, log.request(0, 5))
    refused = refusal(witness, encode_add_checkpoint(5, log.proof(6, 9), log.checkpoint(9)))
    assert isinstance(refused, Inconsistent) and refused.status == 422
    (record,) = [json.loads(line) for line in evidence.getvalue().splitlines()]
    assert record["origin"] == log.origin and record["checkpoint"] == log.checkpoint(9)
    assert witness.state.latest(log.origin).size == 5  # type: ignore[union-attr]


def test_a_fork_at_the_cosigned_size_is_422_and_logged_as_evidence(
    witness: Witness, log: PlayedLog, evidence: io.StringIO
) -> None:
    submit(witness, log.request(0, 10))
    fork = forked(log, common=6, extra=4)  # same key, same size 10, another root
    assert fork.root(10) != log.root(10)
    refused = refusal(witness, encode_add_checkpoint(10, [], fork.checkpoint(10)))
    assert isinstance(refused, Inconsistent) and refused.status == 422
    (record,) = [json.loads(line) for line in evidence.getvalue().splitlines()]
    assert record["event"] == "witness.refused_inconsistent_checkpoint"
    assert record["checkpoint"] == fork.checkpoint(10)
    assert witness.state.latest(log.origin).root == log.root(10)  # type: ignore[union-attr]


def test_a_fork_that_grows_past_the_cosigned_size_fails_its_consistency_proof(
    witness: Witness, log: PlayedLog
) -> None:
    submit(witness, log.request(0, 10))
    fork = forked(log, common=6, extra=10)
    refused = refusal(witness, encode_add_checkpoint(10, fork.proof(10, 16), fork.checkpoint(16)))
    assert isinstance(refused, Inconsistent)


def test_the_same_checkpoint_again_is_cosigned_again(witness: Witness, log: PlayedLog) -> None:
    submit(witness, log.request(0, 10))
    submit(witness, log.request(10, 10))
    assert witness.state.latest(log.origin).size == 10  # type: ignore[union-attr]


def test_the_latest_cosigned_checkpoint_carries_the_log_signature_and_ours(
    witness: Witness, log: PlayedLog, cosigner: Cosigner
) -> None:
    assert witness.latest_checkpoint(origin_hash(log.origin)) is None
    line = submit(witness, log.request(0, 11))
    note = witness.latest_checkpoint(origin_hash(log.origin))
    assert note == log.checkpoint(11) + line
    assert witness.latest_checkpoint(origin_hash("example.org/other")) is None
    assert origin_hash(log.origin) == hashlib.sha256(log.origin.encode()).hexdigest()


def test_the_transparency_dev_witness_vector_is_cosigned(
    tmp_path: Path, cosigner: Cosigner
) -> None:
    """Checkpoints signed by the Go implementation (tests/witness_log.py cites the source)."""
    witness = Witness(cosigner, [NoteVerifier(MONKEYS_VKEY)], StateFile(tmp_path / "s.json"))
    first = submit(witness, encode_add_checkpoint(0, [], MONKEYS_5))
    second = submit(witness, encode_add_checkpoint(5, MONKEYS_PROOF_5_8, MONKEYS_8))
    verifier = CosignatureVerifier(cosigner.vkey)
    assert verifier.timestamp(MONKEYS_5 + first) is not None
    assert verifier.timestamp(MONKEYS_8 + second) is not None
    root = base64.b64decode("V8K9aklZ4EPB+RMOk1/8VsJUdFZR77GDtZUQq84vSbo=")
    assert witness.state.latest("monkeys").root == root  # type: ignore[union-attr]


def test_concurrent_submissions_of_n_and_n_plus_k_never_roll_back(
    log: PlayedLog, cosigner: Cosigner, tmp_path: Path
) -> None:
    """The spec's six-step race, many times: two witnesses (each its own lock, as two
    processes have) on one state file, a log submitting N and N+K at once, each
    retrying from the size a 409 states as long as that is below its own."""
    log.grow(200)
    for round_ in range(40):
        path = tmp_path / f"state-{round_}.json"
        witnesses = [Witness(cosigner, [NoteVerifier(log.vkey)], StateFile(path)) for _ in range(2)]
        submit(witnesses[0], log.request(0, 100))
        n, n_plus_k = 100 + round_ + 1, 100 + round_ + 50
        barrier = threading.Barrier(2)

        def push(witness: Witness, size: int, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            old = 100
            while True:
                try:
                    submit(witness, log.request(old, size))
                    return
                except SizeConflict as conflict:
                    if conflict.latest >= size:
                        return
                    old = conflict.latest

        threads = [
            threading.Thread(target=push, args=(witnesses[0], n)),
            threading.Thread(target=push, args=(witnesses[1], n_plus_k)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert StateFile(path).latest(log.origin).size == n_plus_k  # type: ignore[union-attr]
