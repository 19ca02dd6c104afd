"""The per-event checks of the audit: hash chains, leaf order, unsealed and undecodable events.

Split out of :mod:`ebox.verifier.audit`: :class:`_ChainChecks` holds the
methods of :class:`~ebox.verifier.audit.LedgerAuditor` that judge one event
against its aggregate's chain and its place in the log; the auditor inherits them.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator
from typing import TYPE_CHECKING

from ebox.verifier.audit_result import AuditResult
from ebox.verifier.entries import (
    Entry,
    SealedLeaf,
    Unreadable,
    Witness,
    _sealed_ref,
)
from ebox.verifier.errors import (
    EventInserted,
    EventMissing,
    EventModified,
    EventReordered,
    VerificationError,
)
from ebox.verifier.events import ZERO_HASH
from ebox.verifier.jcs import jcs

LOOKAHEAD = 256
"""How far the audit reads past a gap in leaf indices to tell `missing` from `reordered`."""

_VERSION_BYTES = 8


class _Gap(Exception):
    """Leaf indices jumped: resolved by looking ahead (reordered) or not (missing)."""

    def __init__(self, expected: int, entry: Entry) -> None:
        super().__init__(expected)
        self.expected = expected
        self.entry = entry


class _ChainChecks:
    """Chain and log-order checks of :class:`~ebox.verifier.audit.LedgerAuditor`."""

    result: AuditResult
    witness: Witness | None
    _heads: dict[str, bytes]

    if TYPE_CHECKING:

        def _meaning(self, entry: Entry) -> None: ...

    # --- the checks ----------------------------------------------------------------------

    def _chain(self, entry: Entry) -> None:
        heads = self._heads
        version = entry.version
        head = heads.get(entry.aggregate_id)
        if head is None:
            if version != 1:
                raise EventMissing(
                    f"the aggregate's first event here is version {version}: versions "
                    f"1..{version - 1} are missing",
                    event=entry.ref,
                )
            if entry.prev_hash != ZERO_HASH:
                raise EventModified(
                    "a first version must start the chain",
                    event=entry.ref,
                    expected=ZERO_HASH,
                    actual=entry.prev_hash,
                )
        else:
            try:
                link = bytes.fromhex(entry.prev_hash)
            except ValueError:
                link = b""
            if head != link + (version - 1).to_bytes(_VERSION_BYTES, "big"):
                self._broken_link(entry, head)
        heads[entry.aggregate_id] = entry.digest + version.to_bytes(_VERSION_BYTES, "big")

    def _broken_link(self, entry: Entry, head: bytes) -> None:
        head_version = int.from_bytes(head[32:], "big")
        if entry.version > head_version + 1:
            raise EventMissing(
                f"the aggregate jumps from version {head_version} to {entry.version}: versions "
                f"{head_version + 1}..{entry.version - 1} are missing",
                event=entry.ref,
            )
        if entry.version <= head_version:
            raise EventReordered(
                f"version {entry.version} comes after version {head_version} of the same aggregate",
                event=entry.ref,
            )
        raise EventModified(
            f"the hash chain is broken: prev_hash is not the hash of version {head_version}",
            event=entry.ref,
            expected=head[:32].hex(),
            actual=entry.prev_hash,
        )

    def _misplaced(self, entry: Entry) -> None:
        assert entry.sealed_as is not None
        sealed_id, sealed_version = entry.sealed_as
        where = self.witness.locate(entry.aggregate_id, entry.version) if self.witness else None
        said = (
            f"leaf {entry.leaf_index} was sealed for aggregate {sealed_id} version {sealed_version}"
        )
        if where is None:
            raise EventInserted(
                f"{said}, but the event stored there was never sealed: it replaced the sealed one",
                event=entry.ref,
            )
        raise EventReordered(
            f"{said}, but holds this event, which was sealed at leaf {where}",
            event=entry.ref,
            expected=f"aggregate {sealed_id} version {sealed_version}",
            actual=f"aggregate {entry.aggregate_id} version {entry.version}",
        )

    def _recheck(self, entry: Entry) -> None:
        """Past the last checkpoint, no signature anchors a hash: re-encode what was written."""
        assert entry.written is not None
        recomputed = hashlib.sha256(jcs(entry.written)).hexdigest()
        if recomputed != entry.recorded_hash:
            raise EventModified(
                "the canonical object is not written in its canonical form, and its canonical "
                "form does not hash to the recorded hash",
                event=entry.ref,
                expected=entry.recorded_hash,
                actual=recomputed,
            )

    def _unsealed(self, entry: Entry) -> None:
        if not entry.after_log:
            raise EventInserted(
                "this stored event is in no leaf of the Merkle log, though later events are: it "
                "was "
                "inserted behind the ledger's back (or its leaf record removed)",
                event=entry.ref,
            )
        computed = entry.digest.hex()
        if entry.stored_hash is not None and entry.stored_hash != computed:
            raise EventModified(
                "the event_hash stored with the event is not its hash",
                event=entry.ref,
                expected=computed,
                actual=entry.stored_hash,
            )
        self._chain(entry)
        self.result.unsealed += 1
        if entry.data is not None:
            self._meaning(entry)

    def _unreadable(self, entry: Unreadable) -> None:
        sealed = SealedLeaf(*entry.sealed_as, "") if entry.sealed_as else None
        ref = _sealed_ref(sealed, entry.leaf_index, entry.position)
        raise EventModified(f"the stored event cannot be decoded ({entry.problem})", event=ref)

    def _resolve_gap(self, gap: _Gap, stream: Iterator[Entry | Unreadable]) -> VerificationError:
        """Read a little further: the expected leaf later on means reordered, else missing."""
        for later in itertools.islice(stream, LOOKAHEAD):
            if isinstance(later, Entry) and later.leaf_index == gap.expected:
                return EventReordered(
                    f"leaf {gap.expected} stands after leaf {gap.entry.leaf_index}, "
                    "out of log order",
                    event=later.ref,
                )
        sealed = self.witness.describe_leaf(gap.expected) if self.witness else None
        return EventMissing(
            f"leaf {gap.expected} is absent: the events jump from leaf {gap.expected - 1} to leaf "
            f"{gap.entry.leaf_index} (at {gap.entry.position})",
            event=_sealed_ref(sealed, gap.expected),
        )
