"""The stored log as C2SP tlog-tiles: tile and entry bundle bytes, in few queries.

A tile hash is a stored perfect node (``merkle_nodes`` row ``(8 * L, 256 * N +
i)``, see :mod:`ebox.domain.proofs.tiles`), and an entry is a leaf's 32-byte
``event_hash``. The sealer writes a leaf, its nodes and its ``ledger_leaves``
row in one transaction, so "the stored rows are all there" is the same as "the
sealed tree holds this resource": one range query per tile answers both, with
no separate read of the tree's size. Both the HTTP routes and the static
export read through here, which is what makes them byte-identical.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ebox.adapters.runtime import Ledger
from ebox.adapters.tables import ledger_leaves, merkle_nodes
from ebox.domain.proofs.tiles import (
    TILE_WIDTH,
    EntryBundle,
    Resource,
    Tile,
    encode_tile,
    entry_bundle,
)

MAX_STORED_INDEX = 2**63 - 1
"""Indexes are BIGINT columns: a resource beyond them is in no stored tree (and must
not reach the database, which would refuse the query)."""


class SqlNodeRange:
    """Consecutive perfect nodes of one level: ``level = :l AND idx BETWEEN :a AND :b``."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def node_range(self, level: int, start: int, count: int) -> list[bytes]:
        rows = self.session.execute(
            select(merkle_nodes.c.hash)
            .where(
                merkle_nodes.c.level == level,
                merkle_nodes.c.idx.between(start, start + count - 1),
            )
            .order_by(merkle_nodes.c.idx)
        )
        return [bytes(digest) for (digest,) in rows]


def _entries(session: Session, start: int, count: int) -> list[bytes]:
    """The 32-byte entries (event hashes) of leaves ``start .. start + count - 1``."""
    rows = session.execute(
        select(ledger_leaves.c.event_hash)
        .where(ledger_leaves.c.leaf_index.between(start, start + count - 1))
        .order_by(ledger_leaves.c.leaf_index)
    )
    return [bytes.fromhex(event_hash) for (event_hash,) in rows]


def _stored(resource: Resource) -> bool:
    """Whether the resource's rows can exist at all (every index within BIGINT)."""
    return resource.leaves_needed <= MAX_STORED_INDEX


def read_resource(session: Session, resource: Resource) -> bytes | None:
    """The tile's or entry bundle's bytes, or None when the sealed tree does not hold it."""
    if not _stored(resource):
        return None
    if isinstance(resource, Tile):
        reader = SqlNodeRange(session)
        hashes = reader.node_range(resource.node_level, resource.first_node, resource.width)
        if len(hashes) != resource.width:
            return None
        return encode_tile(resource, hashes)
    entries = _entries(session, resource.first_leaf, resource.width)
    if len(entries) != resource.width:
        return None
    return entry_bundle(entries)


class TileStore:
    """Tiles and entry bundles of the ledger's sealed tree."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def read(self, resource: Resource) -> bytes | None:
        """One resource in one query; None when beyond the sealed tree."""
        with self.ledger.db.read() as session:
            return read_resource(session, resource)

    def sealed_size(self) -> int:
        with self.ledger.db.read() as session:
            last = session.execute(select(func.max(ledger_leaves.c.leaf_index))).scalar()
        return 0 if last is None else int(last) + 1

    def read_many(self, resources: Sequence[Resource], batch: int = 64) -> Iterator[bytes]:
        """The bytes of each resource, in order; consecutive full ones of a level share a query.

        For the export of a large tree: one range query per run of up to
        ``batch`` consecutive full tiles (or bundles) instead of one per tile.
        Raises LookupError if the sealed tree lacks one of them.
        """
        position = 0
        with self.ledger.db.read() as session:
            while position < len(resources):
                run = _run(resources, position, batch)
                yield from _read_run(session, run)
                position += len(run)


def _same_row(first: Resource, second: Resource) -> bool:
    if not (first.full and second.full and first.index + 1 == second.index):
        return False
    if isinstance(first, Tile) and isinstance(second, Tile):
        return first.level == second.level
    return isinstance(first, EntryBundle) and isinstance(second, EntryBundle)


def _run(resources: Sequence[Resource], start: int, batch: int) -> Sequence[Resource]:
    end = start + 1
    while (
        end < len(resources)
        and end - start < batch
        and _same_row(resources[end - 1], resources[end])
    ):
        end += 1
    return resources[start:end]


def _read_run(session: Session, run: Sequence[Resource]) -> Iterator[bytes]:
    first = run[0]
    if len(run) == 1:
        data = read_resource(session, first)
        if data is None:
            raise LookupError(f"the sealed tree does not hold {first.path}")
        yield data
        return
    count = TILE_WIDTH * len(run)
    if isinstance(first, Tile):
        values = SqlNodeRange(session).node_range(first.node_level, first.first_node, count)
    else:
        values = _entries(session, first.first_leaf, count)
    if len(values) != count:
        raise LookupError(f"the sealed tree does not hold {run[-1].path}")
    for offset, resource in enumerate(run):
        chunk = values[offset * TILE_WIDTH : (offset + 1) * TILE_WIDTH]
        yield encode_tile(resource, chunk) if isinstance(resource, Tile) else entry_bundle(chunk)
