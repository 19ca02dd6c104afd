"""The whole-ledger audit: every event, every chain, every checkpoint, in one pass.

Input is a stream of events in log order (from an export file or a database,
see :mod:`ebox.verifier.export` and ``ebox.cli.audit_source``), the
signed checkpoints in increasing size, and optionally a way to fetch the
envelopes that senders signed. For each event the auditor:

1. checks it stands at the next leaf index (nothing missing, nothing moved);
2. recomputes its hash (SHA-256 of the RFC 8785 canonical object) and compares
   it with the hash recorded when it was sealed;
3. checks its aggregate's hash chain: version = previous version + 1 and
   prev_hash = hash of the previous version;
4. appends it to an RFC 6962 tree frontier and, when the tree reaches a
   checkpoint's size, checks the checkpoint's signature with the trusted key
   and its root against the recomputed root;
5. replays sender key events and checks each Sent event's origin: the key
   valid at the time of sending and, given the envelope, the binding and the
   Ed25519 signature.

Memory: the tree frontier is O(log n); checkpoints and events are streamed.
The chains need, per aggregate, its last version and head hash (a dict of
about 200 bytes per aggregate): memory is O(aggregates), not O(events). Since
a ledger is mostly messages of a few events each, that is still proportional
to the ledger's size, about a third of its event count; it is the one thing
kept, and bench/audit.py measures it.

Consistency between successive checkpoints is proven by construction: both
roots are recomputed from one stream, the second from a prefix-extension of
the first, which is exactly what an RFC 9162 consistency proof establishes.

The first problem ends the audit with a typed error naming the event
(aggregate, version, leaf) and what happened to it.

The auditor is split by concept: :mod:`ebox.verifier.entries` (what an event
read from an export or a database is), :mod:`ebox.verifier.chain_checks`,
:mod:`ebox.verifier.checkpoint_checks`, :mod:`ebox.verifier.meaning_checks`
(the checks, inherited by :class:`LedgerAuditor`) and
:mod:`ebox.verifier.audit_result`; this module drives them.
"""

from __future__ import annotations

import gc
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable

from ebox.domain.proofs.merkle import Frontier, leaf_hash
from ebox.domain.proofs.note import NoteVerifier
from ebox.domain.proofs.policy import Policy
from ebox.verifier.audit_result import AuditResult
from ebox.verifier.chain_checks import LOOKAHEAD, _ChainChecks, _Gap
from ebox.verifier.checkpoint_checks import INTERVAL_LIMIT, _CheckpointChecks
from ebox.verifier.entries import (
    Entry,
    EnvelopeLookup,
    SealedLeaf,
    Unreadable,
    Witness,
    _sealed_ref,
    entry_from_export_line,
    entry_of,
    needs_data,
)
from ebox.verifier.errors import (
    EventMissing,
    EventModified,
    EventReordered,
    MalformedEvidence,
    VerificationError,
)
from ebox.verifier.keys import KeyHistory
from ebox.verifier.meaning_checks import _MeaningChecks
from ebox.verifier.witnesses import AuditWitnessing

__all__ = [
    "INTERVAL_LIMIT",
    "LOOKAHEAD",
    "AuditResult",
    "Entry",
    "EnvelopeLookup",
    "LedgerAuditor",
    "SealedLeaf",
    "Unreadable",
    "Witness",
    "entry_from_export_line",
    "entry_of",
    "needs_data",
]


class LedgerAuditor(_ChainChecks, _CheckpointChecks, _MeaningChecks):
    """Feeds on events in log order; raises at the first problem. See the module docstring."""

    def __init__(
        self,
        verifier: NoteVerifier,
        checkpoints: Iterable[tuple[int, str]],
        *,
        envelopes: EnvelopeLookup | None = None,
        verify_signatures: bool = True,
        witness: Witness | None = None,
        origin: str | None = None,
        source: str = "ledger",
        policy: Policy | None = None,
    ) -> None:
        self.verifier = verifier
        self._trusted = verifier.vkey
        self._anchored = False
        self._rotations = 0
        self._held: list[tuple[int, str]] = []
        self.origin = origin
        self.witness = witness
        self.envelopes = envelopes if verify_signatures else None
        self.result = AuditResult(source=source)
        self.witnessing = AuditWitnessing(policy) if policy is not None else None
        if envelopes is None or not verify_signatures:
            self.result.signature_checks = "key validity only"
        self._checkpoints = iter(checkpoints)
        self._next: tuple[int, str] | None = None
        self._advance()
        self._frontier = Frontier.empty()
        self._heads: dict[str, bytes] = {}
        self._keys = KeyHistory()
        self._interval: list[tuple[bytes, str, int]] = []
        self._interval_start = 0
        self._verified: OrderedDict[tuple[str, str, str], None] = OrderedDict()
        self._parsed: OrderedDict[str, bytes] = OrderedDict()

    # --- driving --------------------------------------------------------------------

    def run(
        self, entries: Iterable[Entry | Unreadable], progress: Callable[[int], None] | None = None
    ) -> AuditResult:
        """Audit the whole stream; the result holds the first failure, if any.

        The cyclic garbage collector is paused meanwhile: every object made per
        event is acyclic and freed by reference counting, and what is kept (the
        chain heads) holds no references, so the collector would only re-scan
        the same live objects again and again (about 15 % of the run time).
        """
        started = time.perf_counter()
        stream = iter(entries)
        collecting = gc.isenabled()
        gc.disable()
        try:
            try:
                for count, entry in enumerate(stream, 1):
                    self.feed(entry)
                    if progress is not None and not count & 0xFFF:
                        progress(count)
            except _Gap as gap:
                raise self._resolve_gap(gap, stream) from None
            self.finish()
        except VerificationError as failure:
            self.result.failure = failure
            close = getattr(stream, "close", None)
            if close is not None:  # stop reading at once (release the file or the database)
                close()
        finally:
            if collecting:
                gc.enable()
            self.result.elapsed = time.perf_counter() - started
            self.result.aggregates = len(self._heads)
            if progress is not None:
                progress(self.result.events)
        return self.result

    def feed(self, entry: Entry | Unreadable) -> None:
        if type(entry) is not Entry:
            assert isinstance(entry, Unreadable)
            self._unreadable(entry)
        assert isinstance(entry, Entry)
        result = self.result
        result.events += 1
        if entry.leaf_index is None:
            self._unsealed(entry)
            return
        leaf = self._frontier.size
        if entry.leaf_index != leaf:
            if entry.leaf_index > leaf:
                raise _Gap(leaf, entry)
            raise EventReordered(
                f"leaf {entry.leaf_index} appears again after leaf {leaf - 1}", event=entry.ref
            )
        if entry.sealed_as is not None and entry.sealed_as != (entry.aggregate_id, entry.version):
            self._misplaced(entry)
        computed = entry.digest.hex()
        if computed != entry.recorded_hash:
            raise EventModified(
                "the event no longer hashes to the hash recorded when it was sealed",
                event=entry.ref,
                expected=entry.recorded_hash,
                actual=computed,
            )
        if entry.stored_hash is not None and entry.stored_hash != computed:
            raise EventModified(
                "the event_hash stored with the event is not its hash",
                event=entry.ref,
                expected=computed,
                actual=entry.stored_hash,
            )
        if entry.written is not None and self._next is None:
            self._recheck(entry)
        self._chain(entry)
        node = leaf_hash(entry.digest)
        self._frontier.append(node)
        result.leaves += 1
        if len(self._interval) < INTERVAL_LIMIT:
            self._interval.append((node, entry.aggregate_id, entry.version))
        if entry.data is not None:
            self._meaning(entry)
        else:
            result.types[entry.type] += 1
        if self._next is not None and self._frontier.size == self._next[0]:
            self._check_checkpoints()

    def finish(self) -> AuditResult:
        size = self._frontier.size
        self._finish_keys(size)
        if self._next is not None:
            pending, _ = self._next
            sealed = self.witness.describe_leaf(size) if self.witness else None
            raise EventMissing(
                f"a checkpoint of size {pending} was signed, but the events end after {size} "
                f"leaves: leaves {size}..{pending - 1} are missing (an export must be written "
                "after its checkpoints file, so that it reaches the latest checkpoint)",
                event=_sealed_ref(sealed, size),
            )
        result = self.result
        if result.latest is None and result.leaves:
            raise MalformedEvidence(
                "no signed checkpoint: nothing in the ledger can be checked against the ledger key"
            )
        if self.witnessing is not None:
            self.witnessing.finish(self.verifier, result)
        after = size - (result.latest.size if result.latest else 0)
        if after:
            result.notes.append(
                f"{after} leaves after the latest checkpoint are hashed and chained but not yet "
                "covered by a signed checkpoint."
            )
        if result.unsealed:
            result.notes.append(
                f"{result.unsealed} stored events are not sealed into the Merkle log yet: hashed "
                "and "
                "chained, not yet covered by any signature (the operator could still change them)."
            )
        if result.keys_only:
            result.notes.append(
                "Sender signatures were not verified (no envelopes given, or --no-signatures): "
                "the signing keys' validity at the time of sending was checked."
            )
        return result
