"""C2SP tlog-tiles: the log's Merkle tree as static, cacheable resources.

Built from the text of https://c2sp.org/tlog-tiles (copied in
``shared/reference/c2sp/tlog-tiles.md``). A *tile* at level ``L`` and index
``N`` holds up to 256 consecutive Merkle tree hashes, each the root of a perfect
subtree of ``256**L`` leaves: hash ``i`` is ``MTH(D[(N*256 + i) * 256**L :
(N*256 + i + 1) * 256**L])``. In the ledger's node store (``merkle_nodes``,
see :mod:`ebox.domain.proofs.merkle`) that is exactly the perfect node
``(8 * L, 256 * N + i)``, so tiles are a re-encoding of rows we already keep.
An *entry bundle* holds the entries behind a level 0 tile, each prefixed by its
length as a big-endian uint16; the ledger's entry is the 32-byte ``event_hash``
(leaf hash ``SHA-256(0x00 || event_hash)``), so the public log carries no
personal data.

This module is the path math only, pure and dependency free, so that the log
(routes, static export) and a client (the monitor, tests) share one spelling:

- :func:`tile_path` / :func:`entries_path` / :func:`encode_index` write paths,
- :func:`parse_path` reads them strictly (one spelling per resource, or
  :class:`TilePathError`),
- :func:`tiles_for_size` / :func:`bundles_for_size` list the resources a tree
  of size ``s`` has (full and partial, per the spec's formula), and
  :func:`tiles_added` / :func:`bundles_added` what a grown tree adds,
- :func:`is_available` says whether a tree of size ``s`` holds a resource,
- :func:`tile_for_size` / :func:`node_location` find the tile (as a tree of
  size ``s`` has it) holding a perfect Merkle node,
- :func:`tile_content` / :func:`encode_tile` / :func:`entry_bundle` /
  :func:`parse_tile` / :func:`parse_entry_bundle` are the byte formats.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from ebox.domain.proofs.errors import MissingNodeError, ProofError
from ebox.domain.proofs.merkle import NodeReader

TILE_WIDTH = 256
"""Hashes in a full tile (and entries in a full bundle)."""

TILE_HEIGHT = 8
"""Merkle levels a tile spans: tile level ``L`` holds node level ``8 * L``."""

HASH_SIZE = 32
FULL_TILE_BYTES = TILE_WIDTH * HASH_SIZE  # 8,192
MAX_LEVEL = 63
MAX_ENTRY_SIZE = 0xFFFF
"""An entry's length is a uint16."""


class TilePathError(ProofError, ValueError):
    """A path is not the one spelling C2SP tlog-tiles gives a tile or an entry bundle."""


class TileFormatError(ProofError, ValueError):
    """Tile or entry bundle bytes are malformed (length, width, truncated entry)."""


@dataclass(frozen=True, order=True)
class Tile:
    """Tile ``level``/``index`` with ``width`` hashes (256 full, 1..255 partial)."""

    level: int
    index: int
    width: int = TILE_WIDTH

    def __post_init__(self) -> None:
        _check(self.level, self.index, self.width)

    @property
    def full(self) -> bool:
        return self.width == TILE_WIDTH

    @property
    def path(self) -> str:
        """``tile/<L>/<N>[.p/<W>]``, relative to the log's prefix."""
        return tile_path(self.level, self.index, self.width)

    @property
    def node_level(self) -> int:
        """The Merkle node level of its hashes (``8 * level``)."""
        return TILE_HEIGHT * self.level

    @property
    def first_node(self) -> int:
        """Index (at :attr:`node_level`) of its first hash; the others follow."""
        return TILE_WIDTH * self.index

    @property
    def leaves_needed(self) -> int:
        """The smallest tree size that holds every hash of this tile."""
        return (self.first_node + self.width) << self.node_level


@dataclass(frozen=True, order=True)
class EntryBundle:
    """Entry bundle ``index`` with ``width`` entries (256 full, 1..255 partial)."""

    index: int
    width: int = TILE_WIDTH

    def __post_init__(self) -> None:
        _check(0, self.index, self.width)

    @property
    def full(self) -> bool:
        return self.width == TILE_WIDTH

    @property
    def path(self) -> str:
        """``tile/entries/<N>[.p/<W>]``, relative to the log's prefix."""
        return entries_path(self.index, self.width)

    @property
    def first_leaf(self) -> int:
        return TILE_WIDTH * self.index

    @property
    def leaves_needed(self) -> int:
        """The smallest tree size that holds every entry of this bundle."""
        return self.first_leaf + self.width


Resource = Tile | EntryBundle


def _check(level: int, index: int, width: int) -> None:
    if not 0 <= level <= MAX_LEVEL:
        raise TilePathError(f"tile level {level} is not between 0 and {MAX_LEVEL}")
    if index < 0:
        raise TilePathError(f"tile index {index} is negative")
    if not 1 <= width <= TILE_WIDTH:
        raise TilePathError(f"tile width {width} is not between 1 and {TILE_WIDTH}")


# --------------------------------------------------------------------------- paths


def encode_index(index: int) -> str:
    """``<N>`` as zero-padded 3-digit elements, all but the last prefixed ``x``.

    1234067 -> ``x001/x234/067``; 5 -> ``005``. The ``x`` keeps a directory
    (``x001``) from ever sharing a name with a file (``001``), so the tree can
    be stored in a file system and served as it stands.
    """
    if index < 0:
        raise TilePathError(f"tile index {index} is negative")
    text = f"{index % 1000:03d}"
    index //= 1000
    while index:
        text = f"x{index % 1000:03d}/{text}"
        index //= 1000
    return text


def _suffix(width: int) -> str:
    return "" if width == TILE_WIDTH else f".p/{width}"


def tile_path(level: int, index: int, width: int = TILE_WIDTH) -> str:
    """``tile/<L>/<N>[.p/<W>]`` (the ``.p/<W>`` suffix for partial tiles only)."""
    _check(level, index, width)
    return f"tile/{level}/{encode_index(index)}{_suffix(width)}"


def entries_path(index: int, width: int = TILE_WIDTH) -> str:
    """``tile/entries/<N>[.p/<W>]``."""
    _check(0, index, width)
    return f"tile/entries/{encode_index(index)}{_suffix(width)}"


MAX_INDEX_ELEMENTS = 8
"""Index elements a path may have (indexes below 10**24): tree sizes are uint64, so no
tile index of any log needs more than 7, and an unbounded path is never parsed."""
_SMALL = r"(?:0|[1-9][0-9]{0,2})"  # a decimal without leading zeros; range checked after
_PATH = re.compile(
    rf"tile/(?P<level>{_SMALL}|entries)/"
    rf"(?P<index>(?:x[0-9]{{3}}/){{0,{MAX_INDEX_ELEMENTS - 1}}}[0-9]{{3}})"
    rf"(?:\.p/(?P<width>{_SMALL}))?",
    re.ASCII,
)


def parse_path(path: str) -> Resource:
    """The tile or entry bundle that ``path`` (relative to the prefix) names.

    Strict: exactly the spelling :func:`tile_path` / :func:`entries_path` give,
    so one resource has one URL and one file: no leading zeros (in ``L``, ``W``,
    or an index element beyond the 3 digits, e.g. ``x000/001``), ``L`` 0..63,
    ``W`` 1..255, no trailing slash, at most :data:`MAX_INDEX_ELEMENTS` index
    elements, nothing else. Raises :class:`TilePathError`.
    """
    match = _PATH.fullmatch(path)
    if match is None:
        raise TilePathError(f"{path!r} is not a tlog-tiles path")
    index = int(match["index"].replace("x", "").replace("/", ""))
    width = TILE_WIDTH if match["width"] is None else int(match["width"])
    if match["width"] is not None and not 1 <= width < TILE_WIDTH:
        raise TilePathError(f"{path!r}: a partial tile's width is between 1 and 255")
    if encode_index(index) != match["index"]:
        raise TilePathError(f"{path!r}: tile index {index} is spelled {encode_index(index)}")
    if match["level"] == "entries":
        return EntryBundle(index, width)
    level = int(match["level"])
    if level > MAX_LEVEL:
        raise TilePathError(f"{path!r}: tile level {level} is not between 0 and {MAX_LEVEL}")
    return Tile(level, index, width)


# --------------------------------------------------------------------------- a tree's tiles


def _level_tiles(level: int, size: int) -> Iterator[Tile]:
    hashes = size >> (TILE_HEIGHT * level)  # floor(size / 256**level)
    full, partial = divmod(hashes, TILE_WIDTH)
    for index in range(full):
        yield Tile(level, index)
    if partial:
        yield Tile(level, full, partial)


def _levels(size: int) -> range:
    """Tile levels with at least one hash: while ``floor(size / 256**L) > 0``."""
    levels = 0
    while size >> (TILE_HEIGHT * levels):
        levels += 1
    return range(min(levels, MAX_LEVEL + 1))


def tiles_for_size(size: int) -> list[Tile]:
    """Every tile of a tree of ``size`` leaves, level by level, full then partial.

    At level ``l`` there are ``floor(s / 256**(l+1))`` full tiles and, if
    ``floor(s / 256**l) mod 256`` is not zero, one partial tile of that width
    (empty tiles do not exist). Size 70,000: 273 full level 0 tiles, one of
    width 112, one full level 1 tile, one of width 17, one level 2 tile of width 1.
    """
    _check_size(size)
    return [tile for level in _levels(size) for tile in _level_tiles(level, size)]


def bundles_for_size(size: int) -> list[EntryBundle]:
    """Every entry bundle of a tree of ``size`` leaves (those of its level 0 tiles)."""
    _check_size(size)
    return [EntryBundle(tile.index, tile.width) for tile in _level_tiles(0, size)]


def tiles_added(old_size: int, new_size: int) -> list[Tile]:
    """The tiles of ``new_size`` that ``old_size`` does not have (new full ones, new partials).

    What an incremental copy must write when the tree grows; full tiles that
    ``old_size`` already had never change and are left out.
    """
    _check_growth(old_size, new_size)
    before = set(tiles_for_size(old_size))
    return [tile for tile in tiles_for_size(new_size) if tile not in before]


def bundles_added(old_size: int, new_size: int) -> list[EntryBundle]:
    """The entry bundles of ``new_size`` that ``old_size`` does not have."""
    _check_growth(old_size, new_size)
    before = set(bundles_for_size(old_size))
    return [bundle for bundle in bundles_for_size(new_size) if bundle not in before]


def is_available(resource: Resource, size: int) -> bool:
    """Whether a tree of ``size`` leaves holds every hash (or entry) of ``resource``.

    True for the tiles of :func:`tiles_for_size` and also for partial tiles of
    smaller widths, which the log MAY serve (those of earlier checkpoints).
    """
    return resource.leaves_needed <= size


def tile_for_size(level: int, index: int, size: int) -> Tile:
    """Tile ``level``/``index`` as a tree of ``size`` has it: full, or partial of its width.

    Raises :class:`TilePathError` if that tree has no such tile.
    """
    _check(level, index, 1)
    hashes = size >> (TILE_HEIGHT * level)
    width = min(TILE_WIDTH, hashes - TILE_WIDTH * index)
    if width <= 0:
        raise TilePathError(f"a tree of size {size} has no tile {level}/{index}")
    return Tile(level, index, width)


@dataclass(frozen=True)
class NodeLocation:
    """Where a perfect Merkle node's hash is found: ``count`` consecutive hashes of a
    tile from ``position``, whose RFC 6962 root it is (``count == 1``: the hash itself)."""

    tile_level: int
    tile_index: int
    position: int
    count: int


def node_location(level: int, index: int) -> NodeLocation:
    """The tile hashes that make up perfect node ``(level, index)`` (``2**level`` leaves).

    A node at a tile level (``level % 8 == 0``) is one tile hash; a node between
    tile levels is the root of ``2 ** (level % 8)`` hashes of the tile below it,
    all in one tile since tiles are aligned subtrees of height 8.
    """
    if level < 0 or index < 0:
        raise TilePathError(f"no Merkle node ({level}, {index})")
    tile_level, rest = divmod(level, TILE_HEIGHT)
    first = index << rest
    tile_index, position = divmod(first, TILE_WIDTH)
    return NodeLocation(tile_level, tile_index, position, 1 << rest)


def _check_size(size: int) -> None:
    if size < 0:
        raise ValueError(f"tree size {size} is negative")


def _check_growth(old_size: int, new_size: int) -> None:
    _check_size(old_size)
    if new_size < old_size:
        raise ValueError(f"tree size {new_size} is smaller than {old_size}")


# --------------------------------------------------------------------------- bytes


class NodeRangeReader(Protocol):
    """Consecutive stored perfect nodes of one level, in one read (one range query).

    Returns the hashes of nodes ``(level, start) .. (level, start + count - 1)``
    in order; fewer than ``count`` if the store does not hold them all.
    """

    def node_range(self, level: int, start: int, count: int) -> Sequence[bytes]: ...


class NodeRangeOf:
    """A :class:`NodeRangeReader` over any Merkle ``NodeReader`` (one batched ``get_nodes``).

    For in-memory stores (``DictNodeStore``) and tests; the database adapter
    reads a range with one ``BETWEEN`` query instead.
    """

    def __init__(self, reader: NodeReader) -> None:
        self.reader = reader

    def node_range(self, level: int, start: int, count: int) -> list[bytes]:
        keys = [(level, start + offset) for offset in range(count)]
        try:
            found = self.reader.get_nodes(keys)
        except (KeyError, MissingNodeError):
            return []
        return [found[key] for key in keys if key in found]


def tile_content(tile: Tile, reader: NodeRangeReader) -> bytes:
    """The tile's bytes, its hashes read from ``reader`` in one range read."""
    return encode_tile(tile, reader.node_range(tile.node_level, tile.first_node, tile.width))


def encode_tile(tile: Tile, hashes: Sequence[bytes]) -> bytes:
    """The tile's bytes: its ``width`` hashes of 32 bytes, concatenated (checked)."""
    if len(hashes) != tile.width:
        raise TileFormatError(
            f"{tile.path}: the node store holds {len(hashes)} of its {tile.width} hashes"
        )
    for value in hashes:
        if len(value) != HASH_SIZE:
            raise TileFormatError(f"{tile.path}: a stored hash is {len(value)} bytes")
    return b"".join(hashes)


def parse_tile(data: bytes, width: int = TILE_WIDTH) -> list[bytes]:
    """The ``width`` hashes of a tile's bytes (exactly ``32 * width`` of them)."""
    if len(data) != HASH_SIZE * width:
        raise TileFormatError(
            f"a tile of width {width} is {HASH_SIZE * width} bytes, not {len(data)}"
        )
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def entry_bundle(entries: Sequence[bytes]) -> bytes:
    """Entries as a bundle: each prefixed by its length, a big-endian uint16."""
    if not 1 <= len(entries) <= TILE_WIDTH:
        raise TileFormatError(f"an entry bundle holds 1 to 256 entries, not {len(entries)}")
    parts: list[bytes] = []
    for entry in entries:
        if len(entry) > MAX_ENTRY_SIZE:
            raise TileFormatError(f"an entry of {len(entry)} bytes does not fit a uint16 length")
        parts.append(len(entry).to_bytes(2, "big"))
        parts.append(entry)
    return b"".join(parts)


def parse_entry_bundle(data: bytes) -> list[bytes]:
    """The entries of a bundle's bytes; refuses a truncated entry."""
    entries: list[bytes] = []
    position = 0
    while position < len(data):
        if position + 2 > len(data):
            raise TileFormatError("an entry bundle ends inside a length prefix")
        length = int.from_bytes(data[position : position + 2], "big")
        position += 2
        if position + length > len(data):
            raise TileFormatError("an entry bundle ends inside an entry")
        entries.append(data[position : position + length])
        position += length
    if len(entries) > TILE_WIDTH:
        raise TileFormatError(f"an entry bundle holds at most 256 entries, not {len(entries)}")
    return entries
