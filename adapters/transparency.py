"""Read side of the Merkle log: checkpoints, proofs and the export, from storage."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select

from ebox.adapters.merkle_nodes import SqlNodeReader
from ebox.adapters.runtime import Ledger
from ebox.adapters.tables import EVENTS_TABLE, checkpoints, ledger_leaves
from ebox.adapters.witnessing import cosigned_note, latest_witnessed, policy_from_env
from ebox.domain.chain import aggregate_type_of
from ebox.domain.proofs.merkle import consistency_proof, inclusion_proof
from ebox.domain.proofs.policy import Policy
from ebox.domain.proofs.tlogproof import TlogProof


class NoCheckpoint(LookupError):
    """Nothing sealed yet, or no checkpoint of the size asked for."""


class LeafOutOfRange(LookupError):
    pass


class TransparencyLog:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def vkey(self) -> str:
        """The current ledger key: the data directory's, else the one the database records.

        An auditor's data directory holds no key; the database then names the key
        it is bound to (only a witness: an audit trusts the key it is given).
        """
        if self.ledger.secrets.ledger_seed is not None:
            return self.ledger.secrets.ledger_signer().vkey
        from ebox.adapters.key_binding import read_binding

        with self.ledger.db.read() as session:
            binding = read_binding(session)
        if binding is None:
            return self.ledger.secrets.ledger_signer().vkey  # raises: no key anywhere
        return binding.vkey

    def sealed_size(self) -> int:
        """How many leaves the sealer has appended (the log's size, signed or not yet)."""
        from sqlalchemy import func

        with self.ledger.db.read() as session:
            last = session.execute(select(func.max(ledger_leaves.c.leaf_index))).scalar()
        return 0 if last is None else int(last) + 1

    def checkpoint(self, size: int | None = None) -> tuple[int, str]:
        """(size, signed note) of the latest checkpoint, or of the one of exactly `size` leaves.

        With a witness policy (EBOX_WITNESS_POLICY) the latest is the latest whose
        cosignatures meet its quorum, and a checkpoint comes with the stored
        cosignature lines appended: the one place every reader (routes, evidence,
        CLI) gets checkpoints from (ebox.adapters.witnessing).
        """
        policy = self.policy()
        if policy is not None:
            if size is None:
                found = latest_witnessed(self.ledger, policy)
                if found is None:
                    raise NoCheckpoint("no checkpoint cosigned by the witness quorum yet")
                return found
            size, note = self._signed(size)
            return size, cosigned_note(self.ledger, policy, size, note)
        return self._signed(size)

    def policy(self) -> Policy | None:
        """The witness policy of EBOX_WITNESS_POLICY, None when unset."""
        return policy_from_env(self.ledger.secrets.origin)

    def _signed(self, size: int | None) -> tuple[int, str]:
        """(size, note) as the sealer signed it, the latest or of exactly `size` leaves."""
        query = select(checkpoints.c.size, checkpoints.c.note)
        query = (
            query.order_by(checkpoints.c.size.desc()).limit(1)
            if size is None
            else query.where(checkpoints.c.size == size)
        )
        with self.ledger.db.read() as session:
            row = session.execute(query).first()
        if row is None:
            raise NoCheckpoint(
                "no checkpoint yet" if size is None else f"no checkpoint of size {size}"
            )
        return int(row[0]), str(row[1])

    def checkpoints(self, after: int = 0, limit: int = 1000) -> list[tuple[int, str]]:
        query = (
            select(checkpoints.c.size, checkpoints.c.note)
            .where(checkpoints.c.size > after)
            .order_by(checkpoints.c.size)
            .limit(limit)
        )
        with self.ledger.db.read() as session:
            return [(int(s), str(n)) for s, n in session.execute(query)]

    def inclusion(self, index: int, size: int | None = None) -> TlogProof:
        """C2SP tlog-proof of leaf `index` against a signed checkpoint."""
        tree_size, note = self.checkpoint(size)
        if not 0 <= index < tree_size:
            raise LeafOutOfRange(f"leaf {index} is not in the checkpoint of size {tree_size}")
        with self.ledger.db.read() as session:
            hashes = inclusion_proof(index, tree_size, SqlNodeReader(session))
        return TlogProof(index=index, hashes=hashes, checkpoint_note=note)

    def consistency(self, first: int, second: int) -> list[bytes]:
        with self.ledger.db.read() as session:
            return consistency_proof(first, second, SqlNodeReader(session))

    def leaf_of(self, aggregate_id: str, version: int) -> int | None:
        query = select(ledger_leaves.c.leaf_index).where(
            ledger_leaves.c.aggregate_id == aggregate_id, ledger_leaves.c.version == version
        )
        with self.ledger.db.read() as session:
            found = session.execute(query).scalar()
        return None if found is None else int(found)

    def entries(
        self, start: int = 0, end: int | None = None, chunk: int = 2000
    ) -> Iterator[dict[str, Any]]:
        """Export rows `{"leaf_index", "event_hash", "canonical"}` in leaf order, streamed."""
        app = self.ledger.app
        events = app.recorder.events_record_cls.__table__  # type: ignore[attr-defined]
        assert events.name == EVENTS_TABLE
        position = start
        while end is None or position < end:
            stop = position + chunk if end is None else min(end, position + chunk)
            query = (
                select(
                    ledger_leaves.c.leaf_index,
                    ledger_leaves.c.event_hash,
                    events.c.id,
                    events.c.originator_id,
                    events.c.originator_version,
                    events.c.topic,
                    events.c.state,
                )
                .join(events, events.c.id == ledger_leaves.c.notification_id)
                .where(ledger_leaves.c.leaf_index >= position, ledger_leaves.c.leaf_index < stop)
                .order_by(ledger_leaves.c.leaf_index)
            )
            with self.ledger.db.read() as session:
                rows = session.execute(query).all()
            if not rows:
                return
            for leaf_index, event_hash, _id, originator_id, version, topic, state in rows:
                yield {
                    "leaf_index": int(leaf_index),
                    "event_hash": event_hash,
                    "canonical": canonical_of(app, originator_id, version, topic, bytes(state)),
                }
            position = stop


def canonical_of(
    app: Any, originator_id: Any, version: int, topic: str, state: bytes
) -> dict[str, Any]:
    """Decode a stored event and give its canonical object (ARCHITECTURE section 4)."""
    from eventsourcing.persistence import StoredEvent

    event = app.mapper.to_domain_event(
        StoredEvent(
            originator_id=originator_id, originator_version=version, topic=topic, state=state
        )
    )
    return dict(event.canonical(aggregate_type_of(event)))


def export_line(row: dict[str, Any]) -> str:
    """One export line, with `canonical` written in its exact JCS form.

    A verifier may then hash the canonical member's bytes as they stand instead
    of re-encoding them (ebox.verifier does, about 1.6x faster).
    """
    from ebox.domain.proofs.canonical import canonical_json

    return (
        f'{{"leaf_index":{int(row["leaf_index"])},"event_hash":"{row["event_hash"]}",'
        f'"canonical":{canonical_json(row["canonical"]).decode("utf-8")}}}\n'
    )
