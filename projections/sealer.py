"""The sealer: every event, in log order, becomes the next leaf of the Merkle log.

It follows the notification log like any projection (position tracked in the
same transaction), keeps the tree's right edge (the frontier) in memory, stores
each completed perfect subtree once, and signs a C2SP checkpoint every N leaves
or T seconds. Proofs are then served from the stored subtrees in O(log n) reads.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ebox.adapters.bulk import insert_rows
from ebox.adapters.home import find_secret, retired_ledger_seeds
from ebox.adapters.merkle_nodes import SqlNodeReader
from ebox.adapters.runtime import Ledger
from ebox.adapters.tables import checkpoints, ledger_keys, ledger_leaves, merkle_nodes
from ebox.domain.ledger_keys import LedgerKeys
from ebox.domain.proofs.checkpoint import Checkpoint, sign_checkpoint
from ebox.domain.proofs.merkle import Frontier, leaf_hash
from ebox.domain.proofs.note import NoteSigner
from ebox.projections.follower import Follower

DEFAULT_CHECKPOINT_EVERY = 1000
DEFAULT_CHECKPOINT_SECONDS = 1.0
ROTATED_TOPIC = get_topic(LedgerKeys.LedgerKeyRotated)


class LedgerKeyNotHeld(RuntimeError):
    """The log was rotated to a ledger key this process does not hold (restart with it)."""


_HASH_KEY = b'"event_hash":"'
_HEX = frozenset(b"0123456789abcdef")


def stored_event_hash(state: bytes) -> str:
    """The `event_hash` stored with an event, without decoding the whole state.

    The hash is a top-level field that comes before any nested data in the
    stored JSON, so its first occurrence is the right one; anything unexpected
    falls back to a full parse.
    """
    start = state.find(_HASH_KEY)
    if start >= 0:
        value = state[start + len(_HASH_KEY) : start + len(_HASH_KEY) + 64]
        if (
            len(value) == 64
            and state[start + len(_HASH_KEY) + 64 : start + len(_HASH_KEY) + 65] == b'"'
            and set(value) <= _HEX
        ):
            return value.decode()
    return str(json.loads(state)["event_hash"])


class Sealer(Follower):
    name = "sealer"
    batch_size = 5000

    def __init__(
        self,
        ledger: Ledger,
        batch_size: int | None = None,
        checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
        checkpoint_seconds: float = DEFAULT_CHECKPOINT_SECONDS,
    ) -> None:
        super().__init__(ledger, batch_size)
        self.checkpoint_every = checkpoint_every
        self.checkpoint_seconds = checkpoint_seconds
        self.signer = ledger.secrets.ledger_signer()
        self.keyring: dict[str, NoteSigner] = {self.signer.vkey: self.signer}
        self.effective: str = self.signer.vkey
        """The vkey that signs checkpoints of the frontier's size (see ebox.domain.ledger_keys)."""
        self.frontier: Frontier | None = None
        self.last_checkpoint_at = time.monotonic()

    def forget(self) -> None:
        self.frontier = None

    def select(
        self, session: Session, position: int, upper: int, limit: int
    ) -> Sequence[Notification]:
        """Core rows rather than ORM objects: the sealer reads every event of the ledger."""
        events = self.app.recorder.events_record_cls.__table__  # type: ignore[attr-defined]
        rows = session.execute(
            select(
                events.c.id,
                events.c.originator_id,
                events.c.originator_version,
                events.c.topic,
                events.c.state,
            )
            .where(events.c.id > position, events.c.id <= upper)
            .order_by(events.c.id)
            .limit(limit)
        )
        return [
            Notification(id=i, originator_id=o, originator_version=v, topic=t, state=bytes(s))
            for i, o, v, t, s in rows
        ]

    def handle(self, session: Session, notifications: Sequence[Notification]) -> None:
        frontier = self._frontier(session)
        leaves: list[dict[str, Any]] = []
        nodes: list[dict[str, Any]] = []
        for notification in notifications:
            event_hash = stored_event_hash(notification.state)
            index = frontier.size
            for (level, idx), digest in frontier.append(leaf_hash(bytes.fromhex(event_hash))):
                nodes.append({"level": level, "idx": idx, "hash": digest})
            leaves.append(
                {
                    "leaf_index": index,
                    "notification_id": notification.id,
                    "aggregate_id": str(notification.originator_id),
                    "version": notification.originator_version,
                    "event_hash": event_hash,
                }
            )
            if notification.topic == ROTATED_TOPIC:  # this checkpoint on: the new key signs
                self._rotated(session, notification.state, frontier.size)
            if frontier.size % self.checkpoint_every == 0:
                self._sign(session, frontier)
        insert_rows(session, ledger_leaves, leaves)
        insert_rows(session, merkle_nodes, nodes)
        if time.monotonic() - self.last_checkpoint_at >= self.checkpoint_seconds:
            self._sign(session, frontier)

    def checkpoint_now(self) -> Checkpoint | None:
        """Sign the current size if no checkpoint covers it yet (used at idle and on demand)."""
        with self.ledger.db.write() as session:
            frontier = self._frontier(session)
            latest = session.execute(select(func.max(checkpoints.c.size))).scalar()
            if frontier.size == 0 or latest == frontier.size:
                return None
            return self._sign(session, frontier)

    def _rotated(self, session: Session, state: bytes, size: int) -> None:
        """Record that the rotation's key signs from `size` on; it must be held here."""
        vkey = str(json.loads(state)["vkey"])
        if self._signer(vkey) is None:
            raise LedgerKeyNotHeld(
                f"the ledger key was rotated to {vkey.split('+')[1]}, which this process does not "
                "hold: restart it with the data directory's new ledger key"
            )
        session.execute(
            update(ledger_keys).where(ledger_keys.c.vkey == vkey).values(first_size=size)
        )
        self.effective = vkey

    def _signer(self, vkey: str) -> NoteSigner | None:
        """The signer of `vkey`: the current key or a retired one (re-read once if unknown)."""
        if vkey not in self.keyring:
            home, origin = self.ledger.home, self.ledger.secrets.origin
            seeds = [find_secret("EBOX_LEDGER_KEY", home / "ledger.key")]
            for seed in [*seeds, *retired_ledger_seeds(home)]:
                if seed is not None:
                    signer = NoteSigner(origin, seed)
                    self.keyring[signer.vkey] = signer
        return self.keyring.get(vkey)

    def _sign(self, session: Session, frontier: Frontier) -> Checkpoint | None:
        """Sign the frontier with the key in effect at its size; none if it is not held here."""
        signer = self._signer(self.effective)
        if signer is None:
            return None
        checkpoint = Checkpoint(
            origin=signer.name,
            size=frontier.size,
            root=frontier.root(),
            time=datetime.now(UTC),
        )
        session.execute(
            self.ledger.db.insert_ignore(checkpoints),
            {
                "size": checkpoint.size,
                "root": checkpoint.root,
                "note": sign_checkpoint(checkpoint, signer),
                "signed_at": checkpoint.time,
            },
        )
        self.last_checkpoint_at = time.monotonic()
        return checkpoint

    def _frontier(self, session: Session) -> Frontier:
        last = session.execute(select(func.max(ledger_leaves.c.leaf_index))).scalar()
        size = 0 if last is None else int(last) + 1
        if self.frontier is None or self.frontier.size != size:
            # First batch, or another sealer process moved on: rebuild from storage.
            self.frontier = Frontier.load(size, SqlNodeReader(session))
            self.effective = self._effective_at(session)
        return self.frontier

    def _effective_at(self, session: Session) -> str:
        """The latest key whose rotation is sealed (the bound key before any rotation)."""
        found = session.execute(
            select(ledger_keys.c.vkey)
            .where(ledger_keys.c.first_size.is_not(None))
            .order_by(ledger_keys.c.first_size.desc(), ledger_keys.c.position.desc())
            .limit(1)
        ).scalar()
        return self.signer.vkey if found is None else str(found)
