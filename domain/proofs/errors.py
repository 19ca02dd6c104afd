"""Typed refusals of the proof machinery.

Verifiers here follow transparency-dev/merkle: they recompute what the proof
implies and then compare with what they were told, so a failure can say both
what was expected and what was actually found. Catch :class:`ProofError` for
"this evidence does not verify", whatever the reason; the subclasses exist so
that tools and tests can say *why* without parsing messages.

Only the standard library is used: the offline verifier imports
``ebox.domain.proofs`` alone.
"""

from __future__ import annotations

from collections.abc import Sequence


class ProofError(Exception):
    """Base of every refusal made by ``ebox.domain.proofs``."""


# --- Merkle tree -------------------------------------------------------------


class InclusionProofError(ProofError):
    """An inclusion proof request or proof is malformed (bad index, size, hash length)."""


class ConsistencyProofError(ProofError):
    """A consistency proof request or proof is malformed (bad sizes, hash length)."""


class ProofLengthError(ProofError):
    """A proof has the wrong number of hashes for its index and tree size(s).

    The length is fully determined by the sizes, so a mismatch is caught before
    any hashing, exactly as RFC 9162 verifiers do.
    """

    def __init__(self, kind: str, expected: int, actual: int) -> None:
        super().__init__(f"{kind} proof has {actual} hashes, expected {expected}")
        self.kind = kind
        self.expected = expected
        self.actual = actual


class HashLengthError(ProofError):
    """A hash (leaf, node or proof element) is not 32 bytes of SHA-256 output."""

    def __init__(self, what: str, expected: int, actual: int) -> None:
        super().__init__(f"{what} is {actual} bytes, expected {expected}")
        self.what = what
        self.expected = expected
        self.actual = actual


class RootMismatchError(ProofError):
    """The root recomputed from a proof differs from the trusted root.

    ``expected`` is the root the caller trusts (from a checkpoint); ``actual`` is
    the root the proof leads to.
    """

    def __init__(self, expected: bytes, actual: bytes, what: str = "root") -> None:
        super().__init__(
            f"calculated {what} {actual.hex() or '<empty>'} "
            f"does not match expected {what} {expected.hex() or '<empty>'}"
        )
        self.expected = expected
        self.actual = actual
        self.what = what


class MissingNodeError(ProofError):
    """The node store lacks perfect subtrees that a tree of this size must have.

    This means the store is behind the requested size or damaged; it is never a
    property of the proof being asked for.
    """

    def __init__(self, keys: Sequence[tuple[int, int]]) -> None:
        shown = ", ".join(f"({level}, {index})" for level, index in list(keys)[:8])
        more = "" if len(keys) <= 8 else f" and {len(keys) - 8} more"
        super().__init__(f"missing Merkle nodes {shown}{more}")
        self.keys = tuple(keys)


# --- Signed notes ------------------------------------------------------------


class NoteError(ProofError):
    """A signed note is malformed (C2SP signed-note syntax)."""


class KeyFormatError(NoteError):
    """A verifier key (vkey) or signer key (skey) string is malformed."""


class KeyIdMismatchError(KeyFormatError):
    """A key string's key id does not match the one computed from its name and key."""

    def __init__(self, expected: str, actual: str) -> None:
        super().__init__(f"key id {actual} does not match computed key id {expected}")
        self.expected = expected
        self.actual = actual


class SignatureError(NoteError):
    """A note's signature by the trusted key does not verify."""


class UnverifiedNoteError(SignatureError):
    """A well-formed note carries no signature line from the trusted key."""


# --- Checkpoints and tlog proofs ---------------------------------------------


class CheckpointFormatError(ProofError):
    """A checkpoint body does not follow C2SP tlog-checkpoint (or our extension)."""


class OriginMismatchError(CheckpointFormatError):
    """A checkpoint names a different log than the one the caller trusts."""

    def __init__(self, expected: str, actual: str) -> None:
        super().__init__(f"checkpoint origin {actual!r} does not match expected {expected!r}")
        self.expected = expected
        self.actual = actual


class TlogProofFormatError(ProofError):
    """A proof text does not follow C2SP tlog-proof@v1."""
