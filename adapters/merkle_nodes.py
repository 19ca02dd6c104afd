"""The stored Merkle subtrees, read back for the proof modules.

Both the sealer (a follower, which rebuilds its frontier from them) and proof
serving (`transparency.py`, which is no follower) read the same rows, so the
reader sits here, below both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from ebox.adapters.tables import merkle_nodes


class SqlNodeReader:
    """Reads stored perfect subtrees for the Merkle module, many keys per query."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get_nodes(self, keys: Sequence[tuple[int, int]]) -> Mapping[tuple[int, int], bytes]:
        if not keys:
            return {}
        rows = self.session.execute(
            select(merkle_nodes.c.level, merkle_nodes.c.idx, merkle_nodes.c.hash).where(
                tuple_(merkle_nodes.c.level, merkle_nodes.c.idx).in_(list(keys))
            )
        )
        found = {(level, idx): bytes(h) for level, idx, h in rows}
        missing = [k for k in keys if k not in found]
        if missing:
            raise KeyError(f"Merkle nodes missing from storage: {missing[:4]}")
        return found
