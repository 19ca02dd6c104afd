"""A small real transparency log for the witness tests: a Merkle tree and a note key.

Real RFC 6962 hashing (ebox.domain.proofs.merkle) and real Ed25519 signatures;
any checkpoint size it ever had can be signed again, and any consistency proof
between two of its sizes produced, so tests can play a log (honest or forked)
against the witness. Also the interoperability vector of transparency-dev/witness.
"""

from __future__ import annotations

import hashlib

from ebox.domain.proofs.checkpoint import Checkpoint, sign_checkpoint
from ebox.domain.proofs.merkle import DictNodeStore, Frontier, consistency_proof, leaf_hash, root_at
from ebox.domain.proofs.note import NoteSigner
from ebox.witness.request import encode_add_checkpoint


class PlayedLog:
    """A log under the test's control: grow it, sign a size, prove consistency."""

    def __init__(self, origin: str = "example.org/played-log", signer: NoteSigner | None = None):
        self.origin = origin
        self.signer = signer or NoteSigner.generate(origin)
        self.store = DictNodeStore()
        self.frontier = Frontier.empty()

    @property
    def vkey(self) -> str:
        return self.signer.vkey

    @property
    def size(self) -> int:
        return self.frontier.size

    def grow(self, leaves: int, salt: str = "") -> PlayedLog:
        for _ in range(leaves):
            entry = hashlib.sha256(f"{salt}leaf {self.frontier.size}".encode()).digest()
            self.store.put(self.frontier.append(leaf_hash(entry)))
        return self

    def root(self, size: int) -> bytes:
        return root_at(size, self.store)

    def checkpoint(self, size: int | None = None) -> str:
        """The signed checkpoint note of ``size`` (default: the current size)."""
        size = self.size if size is None else size
        return sign_checkpoint(Checkpoint(self.origin, size, self.root(size)), self.signer)

    def proof(self, old: int, new: int) -> list[bytes]:
        return consistency_proof(old, new, self.store)

    def request(self, old: int, new: int | None = None) -> bytes:
        """The add-checkpoint body from ``old`` (with its proof) to ``new``."""
        new = self.size if new is None else new
        return encode_add_checkpoint(old, self.proof(old, new), self.checkpoint(new))


def forked(log: PlayedLog, common: int, extra: int) -> PlayedLog:
    """Another history of the same log, under the same key: shares ``common`` leaves."""
    other = PlayedLog(log.origin, log.signer)
    other.grow(common)
    return other.grow(extra, salt="fork ")


# Interoperability vector from transparency-dev/witness (Apache-2.0),
# internal/witness/witness_test.go: its log key mPK ("monkeys"), the monkeys checkpoints
# of sizes 5 and 8 and consProof between them, as signed by the Go implementation.
MONKEYS_VKEY = "monkeys+db4d9f7e+AULaJMvTtDLHPUcUrjdDad9vDlh/PTfC2VV60JUtCfWT"
MONKEYS_5 = (
    "monkeys\n5\n41smjBUiAU70EtKlT6lIOIYtRTYxYXsDB+XHfcvu/BE=\n\n"
    "\u2014 monkeys 202fftzGl3LVoqjXfwCFZZXs8I+5G22+Ek2K0AOyBuSJ/8/CZawNF+6fNlTKOCd622pbzJNkkJF"
    "Wuw9DbicZCkEx9AY=\n"
)
MONKEYS_8 = (
    "monkeys\n8\nV8K9aklZ4EPB+RMOk1/8VsJUdFZR77GDtZUQq84vSbo=\n\n"
    "\u2014 monkeys 202ffoUEboiQYpHzICeaFmoy3RNviHTpAxYrq/eO4QQVQMvu9UebKBMX2MJC76NLthZaKsnKbCA8"
    "GxrjePZhvDCH7Ag=\n"
)
MONKEYS_PROOF_5_8 = [
    bytes.fromhex(h)
    for h in (
        "b9e1d62618f7fee8034e4c5010f727ab24d8e4705cb296c374bf2025a87a10d2",
        "aac66cd7a79ce4012d80762fe8eec3a77f22d1ca4145c3f4cee022e7efcd599d",
        "89d0f753f66a290c483b39cd5e9eafb12021293395fad3d4a2ad053cfbcfdc9e",
        "29e40bb79c966f4c6fe96aff6f30acfce5f3e8d84c02215175d6e018a5dee833",
    )
]
