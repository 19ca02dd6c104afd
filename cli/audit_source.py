"""The audit's view of a ledger database: stored events, checkpoints, envelopes, leaves.

It serves `ebox audit` and lives with the CLI because it speaks the verifier's types, and
only the CLI and the API may import the verifier (tests/unit/test_layers.py).

Events are read as stored, in notification order, straight from the event
table (not through the application, which would refuse to load a tampered
aggregate before the audit could say what is wrong with it), each joined with
the leaf the sealer recorded for it. The audit itself
(:class:`ebox.verifier.audit.LedgerAuditor`) decides; this module only reads,
in chunks, so that memory stays flat however large the ledger.

The sealing records (`ledger_leaves`, `merkle_nodes`) are a *witness*: they
help name the event a problem is at, never decide a verdict, since whoever can
alter events could alter them too. Verdicts rest on the hashes and on the
checkpoints signed with the ledger key.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from sqlalchemy import func, select

from ebox.adapters.runtime import Ledger
from ebox.adapters.tables import EVENTS_TABLE, blobs, ledger_leaves, merkle_nodes
from ebox.adapters.transparency import TransparencyLog
from ebox.domain.chain import aggregate_type_of
from ebox.domain.proofs.canonical import canonical_json
from ebox.verifier.entries import Entry, SealedLeaf, Unreadable, entry_of
from ebox.verifier.errors import MalformedEvidence


class DatabaseAuditSource:
    """Streams a ledger database for :class:`~ebox.verifier.audit.LedgerAuditor`."""

    def __init__(self, ledger: Ledger, chunk: int = 2000) -> None:
        self.ledger = ledger
        self.chunk = chunk
        self.log = TransparencyLog(ledger)
        self.events = ledger.app.recorder.events_record_cls.__table__  # type: ignore[attr-defined]
        assert self.events.name == EVENTS_TABLE
        self._envelopes: dict[str, bytes] = {}

    def count(self) -> int:
        with self.ledger.db.read() as session:
            return int(session.execute(select(func.count()).select_from(self.events)).scalar() or 0)

    def entries(self) -> Iterator[Entry | Unreadable]:
        """Every stored event in notification order, with its leaf (if sealed), hashed."""
        e, leaves = self.events, ledger_leaves
        with self.ledger.db.read() as session:
            last_sealed = session.execute(select(func.max(leaves.c.notification_id))).scalar()
        query = (
            select(
                e.c.id,
                e.c.originator_id,
                e.c.originator_version,
                e.c.topic,
                e.c.state,
                leaves.c.leaf_index,
                leaves.c.aggregate_id,
                leaves.c.version,
                leaves.c.event_hash,
            )
            .outerjoin(leaves, leaves.c.notification_id == e.c.id)
            .order_by(e.c.id)
            .limit(self.chunk)
        )
        after: int | None = None
        while True:
            page = query if after is None else query.where(e.c.id > after)
            with self.ledger.db.read() as session:
                rows = session.execute(page).all()
            if not rows:
                return
            entries = [self._entry(row, last_sealed) for row in rows]
            self._prefetch_envelopes(entries)
            yield from entries
            after = int(rows[-1][0])

    def _entry(self, row: Any, last_sealed: int | None) -> Entry | Unreadable:
        (
            notification_id,
            originator_id,
            version,
            topic,
            state,
            leaf,
            sealed_id,
            sealed_version,
            sealed_hash,
        ) = row
        position = f"notification id {notification_id}"
        sealed_as = None if leaf is None else (str(sealed_id), int(sealed_version))
        leaf_index = None if leaf is None else int(leaf)
        try:
            event = self.ledger.app.mapper.to_domain_event(
                StoredEvent(
                    originator_id=originator_id,
                    originator_version=version,
                    topic=topic,
                    state=bytes(state),
                )
            )
            canonical = event.canonical(aggregate_type_of(event))
            stored_hash = event.event_hash
        except Exception as error:  # any decoding failure of altered bytes is the finding itself
            return Unreadable(leaf_index, sealed_as, position, f"{type(error).__name__}: {error}")
        try:
            return entry_of(
                canonical,
                leaf_index=leaf_index,
                recorded_hash=sealed_hash,
                position=position,
                stored_hash=stored_hash,
                sealed_as=sealed_as,
                after_log=leaf is None and (last_sealed is None or notification_id > last_sealed),
                encode=canonical_json,
            )
        except MalformedEvidence as error:
            return Unreadable(leaf_index, sealed_as, position, error.reason)

    def checkpoints(self, page: int = 1000) -> Iterator[tuple[int, str]]:
        after = 0
        while batch := self.log.checkpoints(after=after, limit=page):
            yield from batch
            after = batch[-1][0]

    def envelope(self, digest: str) -> bytes | None:
        """The envelope's exact bytes: fetched with its chunk of events, else on its own."""
        found = self._envelopes.get(digest)
        if found is not None:
            return found
        try:
            return self.ledger.app.stores.blobs.get(digest)
        except KeyError:
            return None

    def _prefetch_envelopes(self, entries: Sequence[Entry | Unreadable], batch: int = 500) -> None:
        """One query for the envelopes a chunk's Sent events will ask for (not one per letter)."""
        wanted = sorted(
            {
                str(e.data["envelope_sha256"])
                for e in entries
                if isinstance(e, Entry)
                and e.type == "Sent"
                and e.data
                and "envelope_sha256" in e.data
            }
        )
        self._envelopes = {}
        for start in range(0, len(wanted), batch):
            query = select(blobs.c.digest, blobs.c.data).where(
                blobs.c.digest.in_(wanted[start : start + batch])
            )
            with self.ledger.db.read() as session:
                self._envelopes.update((str(d), bytes(b)) for d, b in session.execute(query))

    # --- witness: the sealing records, to name what a problem is at ---------------------------

    def describe_leaf(self, leaf_index: int) -> SealedLeaf | None:
        query = select(
            ledger_leaves.c.aggregate_id, ledger_leaves.c.version, ledger_leaves.c.event_hash
        ).where(ledger_leaves.c.leaf_index == leaf_index)
        with self.ledger.db.read() as session:
            row = session.execute(query).first()
        return None if row is None else SealedLeaf(str(row[0]), int(row[1]), str(row[2]))

    def locate(self, aggregate_id: str, version: int) -> int | None:
        return self.log.leaf_of(aggregate_id, version)

    def sealed_leaf_hashes(self, start: int, end: int) -> Sequence[bytes]:
        query = (
            select(merkle_nodes.c.hash)
            .where(merkle_nodes.c.level == 0, merkle_nodes.c.idx >= start, merkle_nodes.c.idx < end)
            .order_by(merkle_nodes.c.idx)
        )
        with self.ledger.db.read() as session:
            return [bytes(h) for (h,) in session.execute(query)]
