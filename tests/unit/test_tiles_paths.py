"""C2SP tlog-tiles path math (ebox.domain.proofs.tiles), golden cases from the spec's text."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ebox.domain.proofs.merkle import DictNodeStore, Frontier
from ebox.domain.proofs.tiles import (
    EntryBundle,
    NodeLocation,
    NodeRangeOf,
    Tile,
    TileFormatError,
    TilePathError,
    bundles_added,
    bundles_for_size,
    encode_index,
    entries_path,
    entry_bundle,
    is_available,
    node_location,
    parse_entry_bundle,
    parse_path,
    parse_tile,
    tile_content,
    tile_for_size,
    tile_path,
    tiles_added,
    tiles_for_size,
)

# --------------------------------------------------------------------------- golden paths


def test_the_spec_example_index_1234067_is_x001_x234_067() -> None:
    assert encode_index(1234067) == "x001/x234/067"
    assert tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert parse_path("tile/0/x001/x234/067") == Tile(0, 1234067)


@pytest.mark.parametrize(
    ("index", "encoded"),
    [(0, "000"), (5, "005"), (999, "999"), (1000, "x001/000"), (1_000_000, "x001/x000/000")],
)
def test_indexes_are_zero_padded_three_digit_elements(index: int, encoded: str) -> None:
    assert encode_index(index) == encoded


def test_partial_tiles_and_entry_bundles_carry_their_width() -> None:
    assert tile_path(1, 0, 17) == "tile/1/000.p/17"
    assert entries_path(273, 112) == "tile/entries/273.p/112"
    assert parse_path("tile/entries/273.p/112") == EntryBundle(273, 112)
    assert parse_path("tile/2/000.p/1") == Tile(2, 0, 1)
    assert parse_path("tile/63/000") == Tile(63, 0)


@pytest.mark.parametrize(
    "path",
    [
        "tile/00/000",  # leading zero in L
        "tile/01/000",
        "tile/64/000",  # L beyond 63
        "tile/0/0",  # index element not 3 digits
        "tile/0/0000",
        "tile/0/x000/001",  # leading zero element: 1 is spelled 001
        "tile/0/001/002",  # all but the last element begin with x
        "tile/0/x001",  # the last element has no x
        "tile/0/000.p/0",  # W between 1 and 255
        "tile/0/000.p/256",
        "tile/0/000.p/012",  # leading zero in W
        "tile/0/000.p/",
        "tile/0/000/",
        "/tile/0/000",
        "tile/0/000.p/5/",
        "tile/-1/000",
        "tile/+1/000",
        "tile/ 1/000",
        "tile/entries/x000/001",
        "tile/entry/000",
        "tile/entries/000.p/0",
        "tile/0/\u0661\u0662\u0663",  # Arabic-Indic digits: ASCII only
        "tile/0/000\n",
        "tile/0/" + "x001/" * 8 + "000",  # beyond 10**24: no uint64 log has such a tile
        "",
    ],
)
def test_every_other_spelling_is_refused(path: str) -> None:
    with pytest.raises(TilePathError):
        parse_path(path)


# --------------------------------------------------------------------------- properties

indexes = st.integers(min_value=0, max_value=2**64)
widths = st.integers(min_value=1, max_value=256)
levels = st.integers(min_value=0, max_value=63)
NO_DEADLINE = settings(deadline=None)  # never a wall-clock limit in a test


@NO_DEADLINE
@given(levels, indexes, widths)
def test_a_tile_path_parses_back_to_its_tile(level: int, index: int, width: int) -> None:
    tile = Tile(level, index, width)
    assert parse_path(tile.path) == tile
    assert parse_path(tile.path).path == tile.path


@NO_DEADLINE
@given(indexes, widths)
def test_an_entries_path_parses_back_to_its_bundle(index: int, width: int) -> None:
    bundle = EntryBundle(index, width)
    assert parse_path(bundle.path) == bundle


@NO_DEADLINE
@given(st.text(alphabet="tile/entrsx0123456789.p", max_size=30))
def test_a_path_is_accepted_only_in_its_one_spelling(path: str) -> None:
    try:
        resource = parse_path(path)
    except TilePathError:
        return
    assert resource.path == path


# --------------------------------------------------------------------------- a tree's tiles


def test_a_tree_of_70000_has_the_tiles_the_spec_lists() -> None:
    tiles = tiles_for_size(70_000)
    level0 = [t for t in tiles if t.level == 0]
    assert [t for t in level0 if t.full] == [Tile(0, n) for n in range(273)]
    assert [t for t in level0 if not t.full] == [Tile(0, 273, 112)]
    assert [t for t in tiles if t.level == 1] == [Tile(1, 0), Tile(1, 1, 17)]
    assert [t for t in tiles if t.level == 2] == [Tile(2, 0, 1)]
    assert len(tiles) == 273 + 1 + 2 + 1


def test_a_tree_of_256_has_a_full_level_0_tile_and_a_level_1_tile_of_width_1() -> None:
    assert tiles_for_size(256) == [Tile(0, 0), Tile(1, 0, 1)]


@pytest.mark.parametrize(
    ("size", "tiles"),
    [
        (0, []),
        (1, [Tile(0, 0, 1)]),
        (255, [Tile(0, 0, 255)]),
        (257, [Tile(0, 0), Tile(0, 1, 1), Tile(1, 0, 1)]),
        (65_536, [*(Tile(0, n) for n in range(256)), Tile(1, 0), Tile(2, 0, 1)]),
        (
            65_537,
            [*(Tile(0, n) for n in range(256)), Tile(0, 256, 1), Tile(1, 0), Tile(2, 0, 1)],
        ),
    ],
)
def test_small_trees_have_the_spec_formula_tiles(size: int, tiles: list[Tile]) -> None:
    assert tiles_for_size(size) == tiles
    assert bundles_for_size(size) == [EntryBundle(t.index, t.width) for t in tiles if t.level == 0]


@NO_DEADLINE
@given(st.integers(min_value=0, max_value=2**22))
def test_each_level_holds_floor_s_over_256_l_hashes(size: int) -> None:
    tiles = tiles_for_size(size)
    for level in range(8):
        assert sum(t.width for t in tiles if t.level == level) == size // 256**level
    assert all(is_available(t, size) for t in tiles)


@settings(deadline=None, max_examples=50)
@given(st.integers(min_value=0, max_value=2**20), st.integers(min_value=0, max_value=2**16))
def test_a_grown_tree_adds_new_full_tiles_and_its_partials(old: int, growth: int) -> None:
    new = old + growth
    added = tiles_added(old, new)
    assert set(added) == set(tiles_for_size(new)) - set(tiles_for_size(old))
    assert all(not t.full or not is_available(t, old) for t in added)
    assert set(bundles_added(old, new)) == set(bundles_for_size(new)) - set(bundles_for_size(old))


def test_availability_is_the_smallest_tree_holding_every_hash() -> None:
    assert is_available(Tile(1, 0, 17), 17 * 256)
    assert not is_available(Tile(1, 0, 17), 17 * 256 - 1)
    assert is_available(Tile(0, 0, 5), 300)  # a smaller partial tile the log MAY serve
    assert not is_available(EntryBundle(1, 1), 256)
    assert is_available(EntryBundle(1, 1), 257)


def test_the_tile_holding_a_node_at_a_size() -> None:
    assert tile_for_size(0, 273, 70_000) == Tile(0, 273, 112)
    assert tile_for_size(1, 0, 70_000) == Tile(1, 0)
    with pytest.raises(TilePathError):
        tile_for_size(0, 274, 70_000)
    assert node_location(0, 300) == NodeLocation(0, 1, 44, 1)
    assert node_location(8, 3) == NodeLocation(1, 0, 3, 1)
    assert node_location(3, 33) == NodeLocation(0, 1, 8, 8)  # leaves 264..271


# --------------------------------------------------------------------------- bytes


def _tree(size: int) -> DictNodeStore:
    frontier, store = Frontier.empty(), DictNodeStore()
    for n in range(size):
        store.put(frontier.append(hashlib.sha256(b"\x00" + n.to_bytes(32, "big")).digest()))
    return store


def test_a_tile_is_its_nodes_hashes_concatenated() -> None:
    store = _tree(70_000)
    reader = NodeRangeOf(store)
    data = tile_content(Tile(1, 1, 17), reader)
    assert len(data) == 17 * 32
    assert parse_tile(data, 17) == [
        store.get_nodes([(8, 256 + i)])[(8, 256 + i)] for i in range(17)
    ]
    assert len(tile_content(Tile(0, 3), reader)) == 8192
    with pytest.raises(TileFormatError):
        tile_content(Tile(1, 1, 18), reader)  # not in the tree of 70,000


def test_entry_bundles_are_uint16_length_prefixed() -> None:
    entries = [bytes([n]) * 32 for n in range(3)]
    data = entry_bundle(entries)
    assert data[:2] == b"\x00\x20" and len(data) == 3 * 34
    assert parse_entry_bundle(data) == entries
    assert parse_entry_bundle(entry_bundle([b"", b"x" * 0xFFFF])) == [b"", b"x" * 0xFFFF]
    with pytest.raises(TileFormatError):
        parse_entry_bundle(data[:-1])
    with pytest.raises(TileFormatError):
        entry_bundle([b"x" * 0x10000])
