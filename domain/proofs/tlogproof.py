"""C2SP transparency log proofs (https://c2sp.org/tlog-proof), version 1.

One self-contained text proves that an entry is in the log: the entry's index,
its RFC 6962 inclusion proof and the signed checkpoint it leads to. Anyone
holding the log's vkey can check it offline, which is what the evidence bundle
needs. The layout, line by line::

    c2sp.org/tlog-proof@v1
    [extra <base64 opaque data>]        (optional, unauthenticated)
    index <decimal, no leading zeros>
    <base64 hash>                       (zero or more: leaf's sibling first)
    <empty line>
    <signed checkpoint note, verbatim>

Parsing mirrors transparency-dev/merkle ``VerifyTLogProof`` but is strict about
spelling (canonical base64, no leading zeros, 32-byte hashes).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ebox.domain.proofs.checkpoint import Checkpoint, open_checkpoint
from ebox.domain.proofs.errors import TlogProofFormatError
from ebox.domain.proofs.merkle import HASH_SIZE, verify_inclusion
from ebox.domain.proofs.note import NoteVerifier, b64decode_strict, b64encode

HEADER = "c2sp.org/tlog-proof@v1"
EXTRA_PREFIX = "extra "
INDEX_PREFIX = "index "
FILE_EXTENSION = ".tlog-proof"
"""The spec's recommended file name extension."""

_MAX_INDEX = 2**64 - 1
_DECIMAL = re.compile(r"0|[1-9][0-9]*", re.ASCII)


@dataclass(frozen=True)
class TlogProof:
    """An entry's index, inclusion proof hashes and signed checkpoint note.

    ``extra`` is opaque application data that the proof carries but does not
    authenticate: never trust it without checking it some other way.
    """

    index: int
    hashes: Sequence[bytes]
    checkpoint_note: str
    extra: bytes | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.index <= _MAX_INDEX:
            raise TlogProofFormatError(f"index {self.index} is out of range")
        object.__setattr__(self, "hashes", tuple(self.hashes))
        for position, value in enumerate(self.hashes):
            if len(value) != HASH_SIZE:
                raise TlogProofFormatError(
                    f"hash {position} is {len(value)} bytes, expected {HASH_SIZE}"
                )
        if not self.checkpoint_note.endswith("\n") or self.checkpoint_note.startswith("\n"):
            raise TlogProofFormatError("checkpoint note must be non-empty and end with a newline")

    def encode(self) -> str:
        """The proof text (store it with the ``.tlog-proof`` extension)."""
        lines = [HEADER]
        if self.extra is not None:
            lines.append(EXTRA_PREFIX + b64encode(self.extra))
        lines.append(f"{INDEX_PREFIX}{self.index}")
        lines.extend(b64encode(value) for value in self.hashes)
        return "\n".join(lines) + "\n\n" + self.checkpoint_note

    @classmethod
    def parse(cls, text: str) -> TlogProof:
        """Parse a proof text; the checkpoint's signature is checked later, on verify."""
        header, sep, rest = text.partition("\n")
        if header != HEADER or not sep:
            raise TlogProofFormatError(f"proof does not start with {HEADER!r}")
        line, sep, rest = rest.partition("\n")
        extra = None
        if line.startswith(EXTRA_PREFIX):
            extra = b64decode_strict(line[len(EXTRA_PREFIX) :])
            if extra is None:
                raise TlogProofFormatError("extra data is not canonical base64")
            line, sep, rest = rest.partition("\n")
        if not line.startswith(INDEX_PREFIX) or not sep:
            raise TlogProofFormatError("proof lacks its index line")
        index = _parse_index(line[len(INDEX_PREFIX) :])
        hashes: list[bytes] = []
        while True:
            line, sep, rest = rest.partition("\n")
            if not sep:
                raise TlogProofFormatError("proof lacks the empty line before its checkpoint")
            if not line:
                break
            value = b64decode_strict(line)
            if value is None or len(value) != HASH_SIZE:
                raise TlogProofFormatError(
                    f"proof hash {len(hashes)} is not base64 of {HASH_SIZE} bytes"
                )
            hashes.append(value)
        return cls(index, hashes, rest, extra)


def _parse_index(text: str) -> int:
    if not _DECIMAL.fullmatch(text):
        raise TlogProofFormatError(f"index {text!r} is not a decimal without leading zeros")
    value = int(text)
    if value > _MAX_INDEX:
        raise TlogProofFormatError(f"index {text} does not fit in 64 bits")
    return value


def verify_tlog_proof(
    proof: TlogProof | str,
    leaf_hash: bytes,
    verifier: NoteVerifier,
    *,
    origin: str | None = None,
) -> Checkpoint:
    """Check that the entry with ``leaf_hash`` is in the log; return the checkpoint.

    Order matters: the checkpoint's signature is verified first (by the trusted
    ``verifier``, optionally pinning the ``origin``), and only then is the
    inclusion proof checked against the size and root the log signed.
    ``leaf_hash`` is the RFC 6962 leaf hash, i.e. ``merkle.leaf_hash(entry)``;
    for ledger events the entry is the raw 32-byte ``event_hash``.
    Raises a :class:`~ebox.domain.proofs.errors.ProofError` subclass.
    """
    if isinstance(proof, str):
        proof = TlogProof.parse(proof)
    checkpoint = open_checkpoint(proof.checkpoint_note, verifier, origin=origin)
    verify_inclusion(leaf_hash, proof.index, checkpoint.size, proof.hashes, checkpoint.root)
    return checkpoint
