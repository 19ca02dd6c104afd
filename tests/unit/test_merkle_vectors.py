"""The Merkle log agrees with the reference implementations, vector for vector.

Sources:
- transparency-dev/merkle ``testdata/inclusion`` and ``testdata/consistency``
  JSON cases, copied with their licence into
  ``shared/reference/vectors/transparency-dev-merkle/`` (see its SOURCE file);
- transparency-dev/merkle ``testonly/constants.go`` (the eight reference leaves,
  every node hash and every root) and ``testonly/reference_test.go`` /
  ``proof/verify_test.go`` (known-good proofs).
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import pytest

from ebox.domain.proofs.errors import (
    ConsistencyProofError,
    HashLengthError,
    InclusionProofError,
    MissingNodeError,
    ProofError,
    ProofLengthError,
    RootMismatchError,
)
from ebox.domain.proofs.merkle import (
    EMPTY_ROOT,
    DictNodeStore,
    Frontier,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_at,
    root_of,
    verify_consistency,
    verify_inclusion,
)


def _shared_dir() -> Path:
    configured = os.environ.get("EBOX_SHARED_DIR")
    if configured:
        return Path(configured)
    # tests/unit/<this file> -> repository -> its parent, where shared/ lives.
    return Path(__file__).resolve().parents[3] / "shared"


VECTORS = _shared_dir() / "reference" / "vectors" / "transparency-dev-merkle" / "testdata"


def _cases(kind: str) -> list[Any]:
    files = sorted((VECTORS / kind).rglob("*.json"))
    return [pytest.param(path, id=str(path.relative_to(VECTORS / kind))) for path in files]


INCLUSION_CASES = _cases("inclusion")
CONSISTENCY_CASES = _cases("consistency")


def test_the_reference_vectors_are_present() -> None:
    # A missing directory must fail loudly, never turn into zero silent cases.
    assert VECTORS.is_dir(), f"transparency-dev/merkle vectors not found at {VECTORS}"
    assert len(INCLUSION_CASES) > 50
    assert len(CONSISTENCY_CASES) > 50


def _b64(value: str) -> bytes:
    return base64.b64decode(value)


def _proof(value: list[str] | None) -> list[bytes]:
    return [_b64(item) for item in value or []]


# The reference leaves of transparency-dev/merkle testonly/constants.go.
LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]

# RootHashes(): the root of every prefix of LEAVES, by size.
ROOTS = [
    bytes.fromhex(h)
    for h in [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]
]

# NodeHashes(): every perfect subtree of the 8-leaf tree, by level then index.
NODES = [
    [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    [
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    [
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    ["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
]


def _h(*hexes: str) -> list[bytes]:
    return [bytes.fromhex(h) for h in hexes]


@pytest.fixture(scope="module")
def store() -> DictNodeStore:
    """The reference leaves appended one by one, every completed node stored."""
    frontier = Frontier.empty()
    nodes = DictNodeStore()
    for leaf in LEAVES:
        nodes.put(frontier.append(leaf_hash(leaf)))
    return nodes


# --- Hashing and roots -------------------------------------------------------


def test_empty_root_is_sha256_of_nothing() -> None:
    assert ROOTS[0] == EMPTY_ROOT
    assert root_of([]) == EMPTY_ROOT
    assert Frontier.empty().root() == EMPTY_ROOT


@pytest.mark.parametrize("size", range(len(ROOTS)))
def test_root_of_every_prefix_matches_rfc6962(size: int) -> None:
    assert root_of([leaf_hash(leaf) for leaf in LEAVES[:size]]) == ROOTS[size]


def test_frontier_root_after_each_append_matches_rfc6962() -> None:
    frontier = Frontier.empty()
    for size, leaf in enumerate(LEAVES, start=1):
        frontier.append(leaf_hash(leaf))
        assert frontier.size == size
        assert frontier.root() == ROOTS[size]


def test_store_holds_exactly_the_perfect_subtrees(store: DictNodeStore) -> None:
    expected = {
        (level, index): bytes.fromhex(value)
        for level, row in enumerate(NODES)
        for index, value in enumerate(row)
    }
    assert len(store) == len(expected)
    assert store.get_nodes(list(expected)) == expected


@pytest.mark.parametrize("size", range(len(ROOTS)))
def test_root_at_and_load_read_roots_back_from_the_store(store: DictNodeStore, size: int) -> None:
    assert root_at(size, store) == ROOTS[size]
    assert Frontier.load(size, store).root() == ROOTS[size]


# --- Known proofs (reference_test.go and verify_test.go) ---------------------

KNOWN_INCLUSION = [
    (0, 1, []),
    (0, 2, _h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7")),
    (1, 2, _h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")),
    (2, 3, _h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")),
    (
        1,
        5,
        _h(
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ),
    ),
    (
        0,
        8,
        _h(
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ),
    ),
    (
        5,
        8,
        _h(
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ),
    ),
]

KNOWN_CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        _h(
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ),
    ),
    (
        2,
        5,
        _h(
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ),
    ),
    (
        6,
        8,
        _h(
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ),
    ),
    (
        6,
        7,
        _h(
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ),
    ),
]


@pytest.mark.parametrize(("index", "size", "expected"), KNOWN_INCLUSION)
def test_inclusion_proof_matches_the_reference(
    store: DictNodeStore, index: int, size: int, expected: list[bytes]
) -> None:
    proof = inclusion_proof(index, size, store)
    assert proof == expected
    verify_inclusion(leaf_hash(LEAVES[index]), index, size, proof, ROOTS[size])


@pytest.mark.parametrize(("first", "second", "expected"), KNOWN_CONSISTENCY)
def test_consistency_proof_matches_the_reference(
    store: DictNodeStore, first: int, second: int, expected: list[bytes]
) -> None:
    proof = consistency_proof(first, second, store)
    assert proof == expected
    verify_consistency(first, second, proof, ROOTS[first], ROOTS[second])


def test_consistency_proof_from_the_empty_tree_is_empty(store: DictNodeStore) -> None:
    # RFC 9162: nothing to prove. Verifying one is refused (see verify_consistency).
    assert consistency_proof(0, 5, store) == []
    assert consistency_proof(0, 0, store) == []


@pytest.mark.parametrize(("index", "size"), [(0, 0), (3, 3), (9, 8), (-1, 4)])
def test_inclusion_proof_refuses_an_index_outside_the_tree(
    store: DictNodeStore, index: int, size: int
) -> None:
    with pytest.raises(InclusionProofError):
        inclusion_proof(index, size, store)


@pytest.mark.parametrize(("first", "second"), [(5, 4), (-1, 3), (1, 0)])
def test_consistency_proof_refuses_shrinking_sizes(
    store: DictNodeStore, first: int, second: int
) -> None:
    with pytest.raises(ConsistencyProofError):
        consistency_proof(first, second, store)


def test_proofs_beyond_the_stored_tree_report_missing_nodes(store: DictNodeStore) -> None:
    with pytest.raises(MissingNodeError) as caught:
        inclusion_proof(3, 9, store)
    assert (0, 8) in caught.value.keys
    with pytest.raises(MissingNodeError):
        root_at(12, store)
    with pytest.raises(MissingNodeError):
        Frontier.load(9, store)


def test_errors_carry_expected_and_actual() -> None:
    proof = KNOWN_INCLUSION[-1][2]
    with pytest.raises(RootMismatchError) as mismatch:
        verify_inclusion(leaf_hash(LEAVES[5]), 5, 8, proof, ROOTS[7])
    assert mismatch.value.expected == ROOTS[7]
    assert mismatch.value.actual == ROOTS[8]
    with pytest.raises(ProofLengthError) as length:
        verify_inclusion(leaf_hash(LEAVES[5]), 5, 8, proof[:2], ROOTS[8])
    assert (length.value.expected, length.value.actual) == (3, 2)
    with pytest.raises(HashLengthError) as size:
        verify_inclusion(b"short", 5, 8, proof, ROOTS[8])
    assert (size.value.expected, size.value.actual) == (32, 5)


# --- transparency-dev/merkle JSON vectors ------------------------------------


@pytest.mark.parametrize("path", INCLUSION_CASES)
def test_inclusion_vector(path: Path, store: DictNodeStore) -> None:
    case = json.loads(path.read_text())
    args = (
        _b64(case["leafHash"]),
        case["leafIdx"],
        case["treeSize"],
        _proof(case["proof"]),
        _b64(case["root"]),
    )
    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(*args)
        return
    verify_inclusion(*args)
    # Known-good cases over the reference leaves: our stored proof is the same.
    index, size = case["leafIdx"], case["treeSize"]
    if size < len(ROOTS) and _b64(case["root"]) == ROOTS[size]:
        assert inclusion_proof(index, size, store) == _proof(case["proof"])


@pytest.mark.parametrize("path", CONSISTENCY_CASES)
def test_consistency_vector(path: Path, store: DictNodeStore) -> None:
    case = json.loads(path.read_text())
    args = (
        case["size1"],
        case["size2"],
        _proof(case["proof"]),
        _b64(case["root1"]),
        _b64(case["root2"]),
    )
    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify_consistency(*args)
        return
    verify_consistency(*args)
    first, second = case["size1"], case["size2"]
    if second < len(ROOTS) and _b64(case["root2"]) == ROOTS[second]:
        assert consistency_proof(first, second, store) == _proof(case["proof"])
