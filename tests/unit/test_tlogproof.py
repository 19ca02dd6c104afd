"""Inclusion proofs travel as C2SP tlog-proof@v1 texts that verify offline."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from ebox.domain.proofs.checkpoint import Checkpoint, sign_checkpoint
from ebox.domain.proofs.errors import (
    OriginMismatchError,
    ProofError,
    ProofLengthError,
    RootMismatchError,
    SignatureError,
    TlogProofFormatError,
    UnverifiedNoteError,
)
from ebox.domain.proofs.merkle import DictNodeStore, Frontier, inclusion_proof, leaf_hash
from ebox.domain.proofs.note import NoteSigner
from ebox.domain.proofs.tlogproof import TlogProof, verify_tlog_proof

ORIGIN = "ebox.example/ledger"
SIZE = 13
ENTRIES = [bytes([i]) * 32 for i in range(SIZE)]  # stand-ins for event hashes

# The example of the C2SP tlog-proof specification (its signatures are elided
# with "[...]", so only the proof part can be checked, not the note).
SPEC_EXAMPLE = """c2sp.org/tlog-proof@v1
extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ
index 73894
gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=
B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=
EKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=
RoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=
AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=

example.com/fancylog
109482
sFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=

\u2014 example.com/fancylog hI2DJw[...]1roloI=
\u2014 witness1.example mJirIklj[...]qY9v2B/5bg==
"""


@pytest.fixture(scope="module")
def signer() -> NoteSigner:
    return NoteSigner(ORIGIN, bytes(range(1, 33)))


@pytest.fixture(scope="module")
def store() -> DictNodeStore:
    frontier = Frontier.empty()
    nodes = DictNodeStore()
    for entry in ENTRIES:
        nodes.put(frontier.append(leaf_hash(entry)))
    return nodes


@pytest.fixture(scope="module")
def note(signer: NoteSigner, store: DictNodeStore) -> str:
    frontier = Frontier.load(SIZE, store)
    when = datetime(2026, 11, 27, 20, 57, 18, 123456, tzinfo=UTC)
    return sign_checkpoint(Checkpoint(ORIGIN, SIZE, frontier.root(), when), signer)


def _proof(store: DictNodeStore, note: str, index: int, extra: bytes | None = None) -> TlogProof:
    return TlogProof(index, inclusion_proof(index, SIZE, store), note, extra)


class TestFormat:
    def test_the_text_layout_follows_the_spec(self, store: DictNodeStore, note: str) -> None:
        proof = _proof(store, note, 5)
        lines = [base64.b64encode(h).decode() for h in proof.hashes]
        expected = "c2sp.org/tlog-proof@v1\nindex 5\n" + "\n".join(lines) + "\n\n" + note
        assert proof.encode() == expected

    def test_extra_data_comes_before_the_index(self, store: DictNodeStore, note: str) -> None:
        text = _proof(store, note, 5, extra=b"vrf").encode()
        assert text.startswith("c2sp.org/tlog-proof@v1\nextra dnJm\nindex 5\n")

    @pytest.mark.parametrize("index", [0, 5, 12])
    @pytest.mark.parametrize("extra", [None, b"", b"context"])
    def test_parse_inverts_encode(
        self, store: DictNodeStore, note: str, index: int, extra: bytes | None
    ) -> None:
        proof = _proof(store, note, index, extra)
        assert TlogProof.parse(proof.encode()) == proof

    def test_the_spec_example_parses(self) -> None:
        proof = TlogProof.parse(SPEC_EXAMPLE)
        assert proof.index == 73894
        assert proof.extra is not None and proof.extra.startswith(b"age-v1.2.1-darwin-arm64")
        assert len(proof.hashes) == 5
        assert proof.checkpoint_note.startswith("example.com/fancylog\n109482\n")
        assert proof.encode() == SPEC_EXAMPLE

    def test_a_single_leaf_tree_has_no_hashes(self, signer: NoteSigner) -> None:
        root = leaf_hash(ENTRIES[0])
        note = sign_checkpoint(Checkpoint(ORIGIN, 1, root), signer)
        text = TlogProof(0, [], note).encode()
        assert text.startswith("c2sp.org/tlog-proof@v1\nindex 0\n\n")
        assert verify_tlog_proof(text, root, signer.verifier()).size == 1

    @pytest.mark.parametrize(
        "mangle",
        [
            pytest.param(
                lambda t: t.replace("c2sp.org/tlog-proof@v1", "c2sp.org/tlog-proof@v2"),
                id="wrong-header",
            ),
            pytest.param(lambda t: t.replace("index 5\n", ""), id="no-index"),
            pytest.param(lambda t: t.replace("index 5", "index 05"), id="leading-zero"),
            pytest.param(lambda t: t.replace("index 5", "index -5"), id="negative"),
            pytest.param(lambda t: t.replace("index 5", "index  5"), id="double-space"),
            pytest.param(lambda t: t.replace("index 5", f"index {2**64}"), id="beyond-uint64"),
            pytest.param(lambda t: t.replace("index 5\n", "index 5\n!!!!\n"), id="bad-base64"),
            pytest.param(lambda t: t.replace("index 5\n", "index 5\nAAAA\n"), id="short-hash"),
            pytest.param(lambda t: t.replace("index 5\n", "extra !!\nindex 5\n"), id="bad-extra"),
            pytest.param(lambda t: t.split("\n\n")[0] + "\n\n", id="no-checkpoint"),
            pytest.param(lambda t: t.split("\n\n")[0], id="no-empty-line"),
        ],
    )
    def test_malformed_proofs_are_refused(
        self, store: DictNodeStore, note: str, mangle: Callable[[str], str]
    ) -> None:
        text = _proof(store, note, 5).encode()
        with pytest.raises(TlogProofFormatError):
            TlogProof.parse(mangle(text))

    def test_construction_validates_hashes(self, note: str) -> None:
        with pytest.raises(TlogProofFormatError):
            TlogProof(0, [b"short"], note)
        with pytest.raises(TlogProofFormatError):
            TlogProof(-1, [], note)


class TestVerify:
    @pytest.mark.parametrize("index", range(SIZE))
    def test_every_entry_verifies(
        self, signer: NoteSigner, store: DictNodeStore, note: str, index: int
    ) -> None:
        text = _proof(store, note, index).encode()
        checkpoint = verify_tlog_proof(
            text, leaf_hash(ENTRIES[index]), signer.verifier(), origin=ORIGIN
        )
        assert checkpoint.size == SIZE
        assert checkpoint.origin == ORIGIN

    def test_a_parsed_proof_verifies_too(
        self, signer: NoteSigner, store: DictNodeStore, note: str
    ) -> None:
        proof = _proof(store, note, 7)
        assert verify_tlog_proof(proof, leaf_hash(ENTRIES[7]), signer.verifier()).size == SIZE

    def test_another_entry_is_refused(
        self, signer: NoteSigner, store: DictNodeStore, note: str
    ) -> None:
        text = _proof(store, note, 7).encode()
        with pytest.raises(RootMismatchError):
            verify_tlog_proof(text, leaf_hash(ENTRIES[8]), signer.verifier())

    def test_a_shifted_index_is_refused(
        self, signer: NoteSigner, store: DictNodeStore, note: str
    ) -> None:
        text = _proof(store, note, 7).encode().replace("index 7", "index 6")
        with pytest.raises(ProofError):
            verify_tlog_proof(text, leaf_hash(ENTRIES[7]), signer.verifier())

    def test_an_index_outside_the_checkpoint_is_refused(
        self, signer: NoteSigner, store: DictNodeStore, note: str
    ) -> None:
        text = _proof(store, note, 7).encode().replace("index 7", f"index {SIZE}")
        with pytest.raises(ProofError):
            verify_tlog_proof(text, leaf_hash(ENTRIES[7]), signer.verifier())

    def test_a_dropped_hash_is_refused(
        self, signer: NoteSigner, store: DictNodeStore, note: str
    ) -> None:
        proof = _proof(store, note, 7)
        shorter = TlogProof(7, proof.hashes[:-1], note)
        with pytest.raises(ProofLengthError):
            verify_tlog_proof(shorter, leaf_hash(ENTRIES[7]), signer.verifier())

    def test_a_tampered_checkpoint_is_refused(
        self, signer: NoteSigner, store: DictNodeStore, note: str
    ) -> None:
        text = _proof(store, note, 7).encode().replace(f"\n{SIZE}\n", f"\n{SIZE + 1}\n")
        with pytest.raises(SignatureError):
            verify_tlog_proof(text, leaf_hash(ENTRIES[7]), signer.verifier())

    def test_a_checkpoint_by_another_key_is_refused(self, store: DictNodeStore, note: str) -> None:
        stranger = NoteSigner(ORIGIN, bytes(32))
        text = _proof(store, note, 7).encode()
        with pytest.raises(UnverifiedNoteError):
            verify_tlog_proof(text, leaf_hash(ENTRIES[7]), stranger.verifier())

    def test_the_origin_can_be_pinned(
        self, signer: NoteSigner, store: DictNodeStore, note: str
    ) -> None:
        text = _proof(store, note, 7).encode()
        with pytest.raises(OriginMismatchError):
            verify_tlog_proof(
                text, leaf_hash(ENTRIES[7]), signer.verifier(), origin="other.example/log"
            )

    def test_witness_cosignatures_are_ignored(
        self, signer: NoteSigner, store: DictNodeStore, note: str
    ) -> None:
        witness = NoteSigner("witness.example", bytes(range(50, 82)))
        body = note.split("\n\n")[0] + "\n"
        cosigned = note + witness.signature_line(body)
        text = _proof(store, cosigned, 3).encode()
        assert verify_tlog_proof(text, leaf_hash(ENTRIES[3]), signer.verifier()).size == SIZE
