"""RFC 6962 / RFC 9162 Merkle tree over stored perfect subtrees.

The ledger never keeps a whole tree in memory. It stores, in a table, the hash
of every *perfect* subtree it has completed, keyed ``(level, index)``: the
subtree of ``2**level`` leaves covering leaves
``[index * 2**level, (index + 1) * 2**level)``. Level 0 holds the leaf hashes.
Perfect subtrees never change once complete, so rows are written once and
never updated, whatever the tree grows to.

Any RFC 6962 tree of size ``n`` is its binary decomposition: one perfect
subtree per set bit of ``n``, largest on the left (the *frontier*). Every hash a
proof needs is either a perfect subtree or a ragged right-edge subtree, and a
ragged subtree is itself the fold of a few perfect ones. So roots and proofs
cost O(log n) node reads, gathered into a single batched ``get_nodes`` call.

The verifiers are the RFC 9162 section 2.1.3.2 / 2.1.4.2 algorithms in the
shape used by transparency-dev/merkle: check the argument ranges and the
proof length (both fully determined by the sizes), recompute the root, compare.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from ebox.domain.proofs.errors import (
    ConsistencyProofError,
    HashLengthError,
    InclusionProofError,
    MissingNodeError,
    ProofLengthError,
    RootMismatchError,
)

HASH_SIZE = 32
"""SHA-256 output size; every leaf, node and proof hash has this length."""

NodeKey = tuple[int, int]
"""``(level, index)`` of a perfect subtree."""

Node = tuple[NodeKey, bytes]
"""A perfect subtree key with its hash, as written to the node store."""

_sha256 = hashlib.sha256
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"

EMPTY_ROOT = _sha256(b"").digest()
"""RFC 6962 root of the empty tree: SHA-256 of the empty string."""


def leaf_hash(entry: bytes) -> bytes:
    """RFC 6962 leaf hash ``SHA-256(0x00 || entry)``; the prefix separates leaves from nodes."""
    return _sha256(_LEAF_PREFIX + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node hash ``SHA-256(0x01 || left || right)``."""
    return _sha256(_NODE_PREFIX + left + right).digest()


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise HashLengthError(what, HASH_SIZE, len(value))


def _fold(hashes: Sequence[bytes]) -> bytes:
    """Hash a left-to-right list of perfect subtrees of decreasing size into one root.

    RFC 6962 splits at the largest power of two, so the right-most subtrees
    combine first: ``node(h0, node(h1, node(h2, h3)))``.
    """
    root = hashes[-1]
    for left in reversed(hashes[:-1]):
        root = _sha256(_NODE_PREFIX + left + root).digest()
    return root


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """RFC 6962 Merkle tree hash of the given leaf hashes, in memory.

    Computed with the same frontier fold as :class:`Frontier` (O(n) hashes,
    O(log n) memory) instead of the recursive definition, which would copy
    slices at every level.
    """
    if not leaf_hashes:
        return EMPTY_ROOT
    stack: list[bytes] = []
    for count, current in enumerate(leaf_hashes):
        _check_hash(current, "leaf hash")
        while count & 1:
            current = _sha256(_NODE_PREFIX + stack.pop() + current).digest()
            count >>= 1
        stack.append(current)
    return _fold(stack)


class NodeReader(Protocol):
    """Batch read access to stored perfect subtrees.

    One call per proof keeps database round trips at one (or two) whatever the
    tree size. Implementations may raise :class:`MissingNodeError` (or
    ``KeyError``) for absent keys, or simply leave them out of the mapping.
    """

    def get_nodes(self, keys: Sequence[NodeKey]) -> Mapping[NodeKey, bytes]: ...


class DictNodeStore:
    """In-memory :class:`NodeReader`, for tests and for the offline verifier."""

    def __init__(self, nodes: Iterable[Node] = ()) -> None:
        self._nodes: dict[NodeKey, bytes] = {}
        self.put(nodes)

    def put(self, nodes: Iterable[Node]) -> None:
        """Store perfect subtrees, e.g. the list returned by :meth:`Frontier.append`."""
        self._nodes.update(nodes)

    def get_nodes(self, keys: Sequence[NodeKey]) -> Mapping[NodeKey, bytes]:
        """Return the requested nodes; raise :class:`MissingNodeError` naming absent ones."""
        nodes = self._nodes
        missing = [key for key in keys if key not in nodes]
        if missing:
            raise MissingNodeError(missing)
        return {key: nodes[key] for key in keys}

    def __len__(self) -> int:
        return len(self._nodes)

    def __contains__(self, key: object) -> bool:
        return key in self._nodes


def _decompose(start: int, end: int) -> list[NodeKey]:
    """Perfect subtrees covering ``[start, end)``, left to right, largest first.

    Valid when ``start`` is a multiple of the largest power of two not above
    ``end - start`` (true for ``[0, n)`` and for every ragged right edge).
    """
    keys: list[NodeKey] = []
    width = end - start
    position = start
    for level in range(width.bit_length() - 1, -1, -1):
        if (width >> level) & 1:
            keys.append((level, position >> level))
            position += 1 << level
    return keys


def _read(reader: NodeReader, keys: Sequence[NodeKey]) -> Mapping[NodeKey, bytes]:
    """One batched read that turns every way of "not there" into :class:`MissingNodeError`."""
    if not keys:
        return {}
    try:
        found = reader.get_nodes(keys)
    except KeyError as error:
        raise MissingNodeError(list(keys)) from error
    missing = [key for key in keys if key not in found]
    if missing:
        raise MissingNodeError(missing)
    return found


def _resolve(groups: Sequence[list[NodeKey]], reader: NodeReader) -> list[bytes]:
    """Hash of each group of perfect subtrees (one group per proof element), one read."""
    unique = list(dict.fromkeys(key for group in groups for key in group))
    found = _read(reader, unique)
    return [_fold([found[key] for key in group]) for group in groups]


class Frontier:
    """The right edge of the tree: the perfect subtrees of the size's binary decomposition.

    This is all the sealer needs to keep in memory to append leaves and
    compute the current root. Appending returns exactly the perfect nodes that
    became complete (the leaf itself plus each parent it completes, about two
    per leaf on average), which the sealer writes to the node table.
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self, size: int, hashes: Sequence[bytes]) -> None:
        if size < 0 or len(hashes) != size.bit_count():
            raise ValueError(f"a frontier of size {size} has {size.bit_count()} hashes")
        self._size = size
        self._hashes = list(hashes)

    @classmethod
    def empty(cls) -> Frontier:
        """The frontier of the empty tree."""
        return cls(0, [])

    @classmethod
    def load(cls, size: int, reader: NodeReader) -> Frontier:
        """Rebuild the frontier of a stored tree with one batched read of O(log n) nodes."""
        if size < 0:
            raise ValueError(f"tree size {size} is negative")
        keys = _decompose(0, size)
        found = _read(reader, keys)
        return cls(size, [found[key] for key in keys])

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        """The frontier's perfect subtree hashes, left (largest) to right."""
        return tuple(self._hashes)

    def copy(self) -> Frontier:
        """An independent copy, e.g. to roll back when a sealing transaction fails."""
        return Frontier(self._size, self._hashes)

    def append(self, leaf_hash: bytes) -> list[Node]:
        """Append one leaf hash; return the newly completed perfect nodes to store.

        The hot loop of the sealer: one list, the needed hashes, nothing else.
        """
        if len(leaf_hash) != HASH_SIZE:
            raise HashLengthError("leaf hash", HASH_SIZE, len(leaf_hash))
        size = self._size
        hashes = self._hashes
        new: list[Node] = [((0, size), leaf_hash)]
        current = leaf_hash
        index = size
        level = 0
        while index & 1:
            current = _sha256(_NODE_PREFIX + hashes.pop() + current).digest()
            index >>= 1
            level += 1
            new.append(((level, index), current))
        hashes.append(current)
        self._size = size + 1
        return new

    def root(self) -> bytes:
        """Root of the tree of :attr:`size` leaves."""
        if not self._hashes:
            return EMPTY_ROOT
        return _fold(self._hashes)

    def __repr__(self) -> str:
        return f"Frontier(size={self._size})"


def root_at(size: int, reader: NodeReader) -> bytes:
    """Root of the stored tree's first ``size`` leaves, from O(log n) stored nodes."""
    if size < 0:
        raise ValueError(f"tree size {size} is negative")
    if size == 0:
        return EMPTY_ROOT
    keys = _decompose(0, size)
    found = _read(reader, keys)
    return _fold([found[key] for key in keys])


def _path(level: int, index: int, size: int) -> list[list[NodeKey]]:
    """Audit path of perfect node ``(level, index)`` in the tree of ``size`` leaves.

    Each element is given as the perfect subtrees that cover it: below the
    point where the path to the node and the path to the last leaf diverge,
    siblings are perfect except possibly the one holding the last leaf
    (ragged); above it, only left siblings appear, and those are perfect.
    Ordered bottom-up, as RFC 9162 proofs are.
    """
    last = (size - 1) >> level
    inner = (index ^ last).bit_length()
    groups: list[list[NodeKey]] = []
    for step in range(inner):
        node_level = level + step
        sibling = (index >> step) ^ 1
        start = sibling << node_level
        end = start + (1 << node_level)
        groups.append([(node_level, sibling)] if end <= size else _decompose(start, size))
    index >>= inner
    level += inner
    while index:
        if index & 1:
            groups.append([(level, index - 1)])
        index >>= 1
        level += 1
    return groups


def inclusion_proof(index: int, size: int, reader: NodeReader) -> list[bytes]:
    """RFC 9162 section 2.1.3.1 inclusion proof of leaf ``index`` in the tree of ``size``."""
    if not 0 <= index < size:
        raise InclusionProofError(f"leaf index {index} is not in a tree of size {size}")
    return _resolve(_path(0, index, size), reader)


def consistency_proof(first: int, second: int, reader: NodeReader) -> list[bytes]:
    """RFC 9162 section 2.1.4.1 consistency proof from tree size ``first`` to ``second``.

    Empty when ``first == second`` or ``first == 0`` (nothing to prove). The
    proof is the inclusion path of the largest perfect subtree ending at
    ``first``, preceded by that subtree unless ``first`` is a power of two (then
    it is the first root itself, which the verifier already has).
    """
    if not 0 <= first <= second:
        raise ConsistencyProofError(f"cannot prove tree size {first} consistent with {second}")
    if first == 0 or first == second:
        return []
    level = (first & -first).bit_length() - 1
    index = (first >> level) - 1
    groups = _path(level, index, second)
    if index:
        groups.insert(0, [(level, index)])
    return _resolve(groups, reader)


# --- Verification (RFC 9162 sections 2.1.3.2 and 2.1.4.2) --------------------


def _inclusion_shape(index: int, size: int) -> tuple[int, int]:
    """Split an inclusion proof into its inner part (below the fork with the
    last leaf's path, both siblings possible) and its border part (left
    siblings only)."""
    inner = (index ^ (size - 1)).bit_length()
    border = (index >> inner).bit_count()
    return inner, border


def _chain_inner(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    for step, sibling in enumerate(proof):
        seed = node_hash(sibling, seed) if (index >> step) & 1 else node_hash(seed, sibling)
    return seed


def _chain_inner_right(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    """Like :func:`_chain_inner` but only left siblings: the subtree as it was
    in the earlier, smaller tree."""
    for step, sibling in enumerate(proof):
        if (index >> step) & 1:
            seed = node_hash(sibling, seed)
    return seed


def _chain_border_right(seed: bytes, proof: Sequence[bytes]) -> bytes:
    for sibling in proof:
        seed = node_hash(sibling, seed)
    return seed


def _check_proof_hashes(proof: Sequence[bytes]) -> None:
    for position, value in enumerate(proof):
        _check_hash(value, f"proof hash {position}")


def root_from_inclusion_proof(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]
) -> bytes:
    """The root that ``proof`` implies for leaf ``index`` in a tree of ``size``."""
    if not 0 <= index < size:
        raise InclusionProofError(f"leaf index {index} is not in a tree of size {size}")
    _check_hash(leaf_hash, "leaf hash")
    inner, border = _inclusion_shape(index, size)
    if len(proof) != inner + border:
        raise ProofLengthError("inclusion", inner + border, len(proof))
    _check_proof_hashes(proof)
    seed = _chain_inner(leaf_hash, proof[:inner], index)
    return _chain_border_right(seed, proof[inner:])


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that leaf ``index`` with ``leaf_hash`` is in the tree of ``size`` with ``root``.

    Raises a :class:`~ebox.domain.proofs.errors.ProofError` subclass; returns
    nothing on success so that forgetting to look at a boolean cannot pass.
    """
    actual = root_from_inclusion_proof(leaf_hash, index, size, proof)
    if actual != root:
        raise RootMismatchError(expected=root, actual=actual)


def verify_consistency(
    first: int, second: int, proof: Sequence[bytes], first_root: bytes, second_root: bytes
) -> None:
    """Check that the tree of ``second`` leaves extends the tree of ``first`` leaves.

    ``first == second`` needs an empty proof and equal roots. ``first == 0`` is
    refused: every tree extends the empty one, so such a "proof" proves nothing
    and accepting one only hides a caller's mistake (the transparency-dev/merkle
    vectors treat it as an error too). Callers that hold an empty checkpoint
    simply skip the check.
    """
    if not 0 <= first <= second:
        raise ConsistencyProofError(f"tree size {first} cannot precede tree size {second}")
    if first == 0:
        raise ConsistencyProofError("a consistency proof from the empty tree is meaningless")
    if first == second:
        if proof:
            raise ProofLengthError("consistency", 0, len(proof))
        if first_root != second_root:
            raise RootMismatchError(expected=second_root, actual=first_root, what="second root")
        return
    inner, border = _inclusion_shape(first - 1, second)
    shift = (first & -first).bit_length() - 1
    inner -= shift
    # The proof starts with the largest perfect subtree ending at `first`,
    # unless that subtree is the whole first tree (first is a power of two):
    # the verifier already holds it as `first_root`.
    start = 0 if first == 1 << shift else 1
    if len(proof) != start + inner + border:
        raise ProofLengthError("consistency", start + inner + border, len(proof))
    seed = first_root if start == 0 else proof[0]
    rest = proof[start:]
    _check_proof_hashes(proof)
    mask = (first - 1) >> shift
    actual_first = _chain_border_right(_chain_inner_right(seed, rest[:inner], mask), rest[inner:])
    if actual_first != first_root:
        raise RootMismatchError(expected=first_root, actual=actual_first, what="first root")
    actual_second = _chain_border_right(_chain_inner(seed, rest[:inner], mask), rest[inner:])
    if actual_second != second_root:
        raise RootMismatchError(expected=second_root, actual=actual_second, what="second root")
