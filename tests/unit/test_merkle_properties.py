"""Properties of the stored Merkle log, checked against the RFC 6962 definitions.

The reference functions below transcribe RFC 6962 section 2.1 (MTH, PATH,
SUBPROOF) recursively over leaf ranges, independently of the iterative code
under test, which works from stored perfect subtrees.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ebox.domain.proofs.errors import ProofError, RootMismatchError
from ebox.domain.proofs.merkle import (
    EMPTY_ROOT,
    DictNodeStore,
    Frontier,
    NodeKey,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_at,
    root_of,
    verify_consistency,
    verify_inclusion,
)

N = 2_500
LEAF_HASHES = tuple(leaf_hash(i.to_bytes(8, "big")) for i in range(N))

FAST = settings(max_examples=150, deadline=None)


def _split(n: int) -> int:
    """Largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


@functools.cache
def ref_root(start: int, end: int) -> bytes:
    """MTH(D[start:end]) by the recursive definition."""
    if end == start:
        return EMPTY_ROOT
    if end - start == 1:
        return LEAF_HASHES[start]
    k = _split(end - start)
    return node_hash(ref_root(start, start + k), ref_root(start + k, end))


def ref_path(index: int, start: int, end: int) -> list[bytes]:
    """PATH(m, D[start:end]) with m relative to start."""
    n = end - start
    if n == 1:
        return []
    k = _split(n)
    if index < k:
        return [*ref_path(index, start, start + k), ref_root(start + k, end)]
    return [*ref_path(index - k, start + k, end), ref_root(start, start + k)]


def ref_subproof(m: int, start: int, end: int, complete: bool) -> list[bytes]:
    """SUBPROOF(m, D[start:end], b) of RFC 6962 section 2.1.2."""
    n = end - start
    if m == n:
        return [] if complete else [ref_root(start, end)]
    k = _split(n)
    if m <= k:
        return [*ref_subproof(m, start, start + k, complete), ref_root(start + k, end)]
    return [*ref_subproof(m - k, start + k, end, False), ref_root(start, start + k)]


class CountingReader:
    """Wraps a store to count batched reads and keys per read."""

    def __init__(self, inner: DictNodeStore) -> None:
        self.inner = inner
        self.calls: list[int] = []

    def get_nodes(self, keys: Sequence[NodeKey]) -> Mapping[NodeKey, bytes]:
        self.calls.append(len(keys))
        return self.inner.get_nodes(keys)


@functools.cache
def grown() -> tuple[DictNodeStore, list[bytes]]:
    """A store of N leaves and the frontier root after each append."""
    frontier = Frontier.empty()
    store = DictNodeStore()
    roots = [frontier.root()]
    for value in LEAF_HASHES:
        store.put(frontier.append(value))
        roots.append(frontier.root())
    return store, roots


def _flip(value: bytes, bit: int) -> bytes:
    data = bytearray(value)
    data[bit // 8 % len(data)] ^= 1 << (bit % 8)
    return bytes(data)


def test_frontier_root_equals_the_definition_for_every_prefix() -> None:
    store, roots = grown()
    for size in range(N + 1):
        assert roots[size] == ref_root(0, size)
        assert root_at(size, store) == roots[size]


def test_append_stores_each_perfect_subtree_once() -> None:
    store, _ = grown()
    # Every perfect subtree of N leaves, and nothing else: about two per leaf.
    expected = sum(N >> level for level in range(N.bit_length()))
    assert len(store) == expected < 2 * N
    for level in range(N.bit_length()):
        width = 1 << level
        for index in range(0, N >> level, 97):
            key = (level, index)
            assert store.get_nodes([key])[key] == ref_root(index * width, (index + 1) * width)


@FAST
@given(size=st.integers(0, 600))
def test_root_of_equals_the_definition(size: int) -> None:
    assert root_of(LEAF_HASHES[:size]) == ref_root(0, size)


@FAST
@given(size=st.integers(0, N), extra=st.integers(1, 40))
def test_a_loaded_frontier_continues_exactly_like_the_original(size: int, extra: int) -> None:
    store, roots = grown()
    reader = CountingReader(store)
    frontier = Frontier.load(size, reader)
    assert len(reader.calls) <= 1
    assert frontier.size == size and frontier.root() == roots[size]
    for index in range(size, min(size + extra, N)):
        for key, value in frontier.append(LEAF_HASHES[index]):
            assert store.get_nodes([key])[key] == value
        assert frontier.root() == roots[index + 1]


@FAST
@given(data=st.data(), size=st.integers(1, N))
def test_inclusion_proofs_equal_the_definition_and_verify(data: st.DataObject, size: int) -> None:
    store, roots = grown()
    index = data.draw(st.integers(0, size - 1), label="index")
    reader = CountingReader(store)
    proof = inclusion_proof(index, size, reader)
    assert len(reader.calls) <= 1
    assert sum(reader.calls) <= 2 * size.bit_length()
    assert proof == ref_path(index, 0, size)
    verify_inclusion(LEAF_HASHES[index], index, size, proof, roots[size])


@FAST
@given(data=st.data(), size=st.integers(2, N))
def test_a_tampered_inclusion_proof_fails(data: st.DataObject, size: int) -> None:
    store, roots = grown()
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = inclusion_proof(index, size, store)
    bit = data.draw(st.integers(0, 255), label="bit")
    if proof:
        position = data.draw(st.integers(0, len(proof) - 1), label="position")
        tampered = [*proof]
        tampered[position] = _flip(proof[position], bit)
        with pytest.raises(RootMismatchError):
            verify_inclusion(LEAF_HASHES[index], index, size, tampered, roots[size])
    with pytest.raises(RootMismatchError):
        verify_inclusion(LEAF_HASHES[index], index, size, proof, _flip(roots[size], bit))
    with pytest.raises(RootMismatchError):
        verify_inclusion(_flip(LEAF_HASHES[index], bit), index, size, proof, roots[size])
    other = data.draw(st.integers(0, size - 1).filter(lambda i: i != index), label="other")
    with pytest.raises(ProofError):
        verify_inclusion(LEAF_HASHES[index], other, size, proof, roots[size])


@FAST
@given(data=st.data(), second=st.integers(1, N))
def test_consistency_proofs_equal_the_definition_and_verify(
    data: st.DataObject, second: int
) -> None:
    store, roots = grown()
    first = data.draw(st.integers(1, second), label="first")
    reader = CountingReader(store)
    proof = consistency_proof(first, second, reader)
    assert len(reader.calls) <= 1
    assert sum(reader.calls) <= 2 * second.bit_length() + 1
    expected = [] if first == second else ref_subproof(first, 0, second, True)
    assert proof == expected
    verify_consistency(first, second, proof, roots[first], roots[second])


@FAST
@given(data=st.data(), second=st.integers(2, N))
def test_a_tampered_consistency_proof_fails(data: st.DataObject, second: int) -> None:
    store, roots = grown()
    first = data.draw(st.integers(1, second - 1), label="first")
    proof = consistency_proof(first, second, store)
    bit = data.draw(st.integers(0, 255), label="bit")
    position = data.draw(st.integers(0, len(proof) - 1), label="position")
    tampered = [*proof]
    tampered[position] = _flip(proof[position], bit)
    with pytest.raises(RootMismatchError):
        verify_consistency(first, second, tampered, roots[first], roots[second])
    with pytest.raises(RootMismatchError):
        verify_consistency(first, second, proof, _flip(roots[first], bit), roots[second])
    with pytest.raises(RootMismatchError):
        verify_consistency(first, second, proof, roots[first], _flip(roots[second], bit))
    with pytest.raises(ProofError):
        verify_consistency(first, second, proof[:-1], roots[first], roots[second])
