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
"""

from __future__ import annotations

import gc
import hashlib
import itertools
import re
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from ebox.domain.proofs.checkpoint import Checkpoint, open_checkpoint
from ebox.domain.proofs.errors import CheckpointFormatError, NoteError, OriginMismatchError
from ebox.domain.proofs.merkle import Frontier, leaf_hash
from ebox.domain.proofs.note import NoteVerifier, b64encode
from ebox.verifier.errors import (
    CheckpointForged,
    CheckpointMismatch,
    EventInserted,
    EventMissing,
    EventModified,
    EventRef,
    EventReordered,
    MalformedEvidence,
    OriginNotProven,
    VerificationError,
)
from ebox.verifier.events import CANONICAL_KEYS, ZERO_HASH, check_shape, ref_of
from ebox.verifier.jcs import NotCanonicalJSON, jcs, loads_fast
from ebox.verifier.keys import SENDER, KeyHistory
from ebox.verifier.origin import (
    ATTESTED,
    SIGNED,
    check_binding,
    check_envelope_digest,
    check_key_and_signature,
    check_signature,
    parse_envelope,
)

INTERVAL_LIMIT = 20_000
"""Leaf hashes kept since the last checkpoint, to name the event when a root differs."""

LOOKAHEAD = 256
"""How far the audit reads past a gap in leaf indices to tell `missing` from `reordered`."""

_VERSION_BYTES = 8


class Entry(NamedTuple):
    """One event as the audit needs it, hashed already.

    ``data`` is kept only for the events the audit reads (sender organisation
    events and Sent); ``stored_hash``, ``sealed_as`` and ``after_log`` are
    what a database adds: the hash stored in the event's own state, the
    aggregate and version its leaf was sealed for, and whether it comes after
    the last sealed event. ``written`` is set when the digest was taken over
    the canonical object's bytes as written rather than re-encoded (see
    :func:`entry_from_export_line`).
    """

    leaf_index: int | None
    recorded_hash: str | None
    digest: bytes
    aggregate_id: str
    version: int
    prev_hash: str
    aggregate_type: str
    type: str
    timestamp: str
    data: Mapping[str, Any] | None
    position: str
    stored_hash: str | None = None
    sealed_as: tuple[str, int] | None = None
    after_log: bool = False
    written: Mapping[str, Any] | None = None

    @property
    def ref(self) -> EventRef:
        return EventRef(
            self.aggregate_id,
            self.version,
            self.leaf_index,
            self.aggregate_type,
            self.type,
            self.position,
        )


class Unreadable(NamedTuple):
    """A stored event that cannot even be decoded (a database row whose bytes were altered)."""

    leaf_index: int | None
    sealed_as: tuple[str, int] | None
    position: str
    problem: str


class SealedLeaf(NamedTuple):
    aggregate_id: str
    version: int
    event_hash: str


class Witness(Protocol):
    """What a database remembers of sealing, used only to *name* a problem precisely.

    Never trusted for a verdict: a verdict always rests on hashes and signed
    checkpoints. An export has no witness.
    """

    def describe_leaf(self, leaf_index: int) -> SealedLeaf | None: ...

    def locate(self, aggregate_id: str, version: int) -> int | None: ...

    def sealed_leaf_hashes(self, start: int, end: int) -> Sequence[bytes]: ...


EnvelopeLookup = Callable[[str], bytes | None]
"""envelope SHA-256 (hex) -> the envelope's exact bytes, or None if not found."""

_READ_DATA = {"Sent"}


def needs_data(aggregate_type: str, kind: str) -> bool:
    """Whether the audit reads this event's data (key history, origin)."""
    return aggregate_type == SENDER or kind in _READ_DATA


def entry_of(
    canonical: Mapping[str, Any],
    *,
    leaf_index: int | None,
    recorded_hash: str | None,
    position: str,
    stored_hash: str | None = None,
    sealed_as: tuple[str, int] | None = None,
    after_log: bool = False,
    encode: Callable[[Any], bytes] = jcs,
) -> Entry:
    """Hash one canonical object into an Entry.

    The default encoder is the fast one, exact for values parsed by
    :func:`~ebox.verifier.jcs.loads`; objects decoded otherwise (from a
    database) pass the reference `canonical_json`, which also refuses floats.
    """
    if canonical.keys() != CANONICAL_KEYS or type(canonical.get("version")) is not int:
        check_shape(canonical, ref_of(canonical, leaf_index, position))
    try:
        digest = hashlib.sha256(encode(canonical)).digest()
    except (NotCanonicalJSON, ValueError, TypeError) as error:
        raise MalformedEvidence(
            f"the canonical object has no JCS form ({error})",
            event=ref_of(canonical, leaf_index, position),
        ) from error
    aggregate_type, kind = canonical["aggregate_type"], canonical["type"]
    return Entry(
        leaf_index,
        recorded_hash,
        digest,
        canonical["aggregate_id"],
        canonical["version"],
        canonical["prev_hash"],
        aggregate_type,
        kind,
        canonical["timestamp"],
        canonical["data"] if needs_data(aggregate_type, kind) else None,
        position,
        stored_hash,
        sealed_as,
        after_log,
    )


_ROW_HEAD = re.compile(
    rb'\{"leaf_index":(0|[1-9][0-9]*),"event_hash":"([0-9a-f]{64})","canonical":'
)


def entry_from_export_line(line: str | bytes, number: int, written: bool = True) -> Entry:
    """One line of `ebox ledger export`: {"leaf_index", "event_hash", "canonical"}.

    Fast path: when the canonical member is written in its JCS form, its bytes
    as written hash to the recorded `event_hash`, and re-encoding it would
    only give the same bytes back, so it is skipped. That is sound: the
    recorded hash is the SHA-256 of the JCS bytes the ledger sealed, so text
    with the same SHA-256 *is* those bytes (a different text would be a
    SHA-256 second preimage) once the hash is anchored in a signed
    checkpoint. Past the last checkpoint nothing anchors it, so the auditor
    re-encodes those events (``Entry.written``). Any other line takes the
    ordinary path: parse, re-encode, hash; `written=False` goes there directly.
    """
    position = f"line {number}"
    if written and type(line) is bytes:
        head = _ROW_HEAD.match(line)
        if head is not None:
            body = line[head.end() : line.rfind(b"}")]
            digest = hashlib.sha256(body).digest()
            if digest.hex().encode() == head.group(2):
                return _written_entry(body, int(head.group(1)), digest, position)
    try:
        row = loads_fast(line)
        leaf_index, recorded, canonical = row["leaf_index"], row["event_hash"], row["canonical"]
    except (ValueError, KeyError, TypeError) as error:
        raise MalformedEvidence(
            f"not an export row ({error})", event=EventRef(position=position)
        ) from error
    if (
        type(leaf_index) is not int
        or not isinstance(recorded, str)
        or not isinstance(canonical, dict)
    ):
        raise MalformedEvidence(
            "an export row is {leaf_index: integer, event_hash: string, canonical: object}",
            event=EventRef(position=position),
        )
    return entry_of(canonical, leaf_index=leaf_index, recorded_hash=recorded, position=position)


def _written_entry(body: bytes, leaf_index: int, digest: bytes, position: str) -> Entry:
    """An Entry from a canonical object whose written bytes hash to its recorded hash."""
    try:
        canonical = loads_fast(body)
    except ValueError as error:
        raise MalformedEvidence(
            f"the canonical member is not JSON ({error})", event=EventRef(position=position)
        ) from error
    if not isinstance(canonical, dict):
        raise MalformedEvidence(
            "the canonical member is not an object", event=EventRef(position=position)
        )
    if canonical.keys() != CANONICAL_KEYS or type(canonical.get("version")) is not int:
        check_shape(canonical, ref_of(canonical, leaf_index, position))
    aggregate_type, kind = canonical["aggregate_type"], canonical["type"]
    return Entry(
        leaf_index,
        digest.hex(),
        digest,
        canonical["aggregate_id"],
        canonical["version"],
        canonical["prev_hash"],
        aggregate_type,
        kind,
        canonical["timestamp"],
        canonical["data"] if needs_data(aggregate_type, kind) else None,
        position,
        written=canonical,
    )


class _Gap(Exception):
    """Leaf indices jumped: resolved by looking ahead (reordered) or not (missing)."""

    def __init__(self, expected: int, entry: Entry) -> None:
        super().__init__(expected)
        self.expected = expected
        self.entry = entry


@dataclass
class AuditResult:
    """What the audit saw and proved, or the first bad event (``failure``)."""

    source: str
    events: int = 0
    leaves: int = 0
    aggregates: int = 0
    checkpoints: int = 0
    latest: Checkpoint | None = None
    unsealed: int = 0
    signatures_verified: int = 0
    keys_only: int = 0
    attested: int = 0
    signature_checks: str = "verified"
    elapsed: float = 0.0
    failure: VerificationError | None = None
    notes: list[str] = field(default_factory=list)
    types: Counter[str] = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        return self.failure is None

    def rate(self) -> float:
        return self.events / self.elapsed if self.elapsed > 0 else 0.0

    def signature_summary(self) -> str:
        parts = [f"{self.signatures_verified} signatures verified"]
        if self.keys_only:
            parts.append(f"{self.keys_only} signed letters checked for key validity only")
        parts.append(f"{self.attested} attested (unsigned) letters")
        return ", ".join(parts)

    def statements(self) -> list[str]:
        covered = self.latest.size if self.latest else 0
        lines = [
            f"All {self.events} events hash (SHA-256 of RFC 8785 canonical JSON) to the hashes "
            "recorded for them.",
            f"All {self.aggregates} aggregates form unbroken hash chains (versions 1..n, each "
            "naming the hash of the one before).",
            f"The RFC 6962 root recomputed from the events equals the signed root of each of the "
            f"{self.checkpoints} checkpoints, each signature verifying with the trusted ledger "
            "key; "
            f"so leaves 0..{covered - 1} are exactly what the ledger signed, and every checkpoint "
            "extends the one before (consistency).",
        ]
        if self.signatures_verified:
            lines.append(
                f"{self.signatures_verified} sender signatures verify over their envelopes with "
                "keys "
                "valid at the time of sending; each envelope matches its Sent event."
            )
        return lines


class LedgerAuditor:
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
    ) -> None:
        self.verifier = verifier
        self.origin = origin
        self.witness = witness
        self.envelopes = envelopes if verify_signatures else None
        self.result = AuditResult(source=source)
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

    # --- checkpoints -----------------------------------------------------------------------

    def _advance(self) -> None:
        previous = self._next
        self._next = next(self._checkpoints, None)
        while self._next is not None and self._next[0] == 0:
            self._next = next(self._checkpoints, None)
        if previous is not None and self._next is not None and self._next[0] < previous[0]:
            raise MalformedEvidence(
                f"checkpoints must come in increasing size: {self._next[0]} after {previous[0]}"
            )

    def _check_checkpoints(self) -> None:
        while self._next is not None and self._next[0] == self._frontier.size:
            self._check_checkpoint(*self._next)
            self._advance()

    def _check_checkpoint(self, size: int, note: str) -> None:
        ref = EventRef(leaf_index=size - 1, position=f"checkpoint of size {size}")
        try:
            checkpoint = open_checkpoint(note, self.verifier, origin=self.origin)
        except OriginMismatchError as error:
            raise CheckpointMismatch(f"checkpoint of another log: {error}", event=ref) from error
        except (NoteError, CheckpointFormatError) as error:
            raise CheckpointForged(
                f"the checkpoint of size {size} does not verify with the trusted ledger key "
                f"({error})",
                event=ref,
            ) from error
        if self.origin is None:
            self.origin = checkpoint.origin
        if checkpoint.size != size:
            raise CheckpointForged(
                f"the checkpoint stored for size {size} is a note for another size",
                event=ref,
                expected=size,
                actual=checkpoint.size,
            )
        root = self._frontier.root()
        if checkpoint.root != root:
            raise self._root_mismatch(checkpoint, root)
        latest = self.result.latest
        if latest is not None and latest.time and checkpoint.time and checkpoint.time < latest.time:
            self.result.notes.append(
                f"checkpoint {checkpoint.size} is dated before checkpoint {latest.size} "
                "(times are informational, not part of the proof)."
            )
        self.result.latest = checkpoint
        self.result.checkpoints += 1
        self._interval.clear()
        self._interval_start = size

    def _root_mismatch(self, checkpoint: Checkpoint, root: bytes) -> VerificationError:
        start, end = self._interval_start, checkpoint.size
        reason = (
            f"checkpoint {checkpoint.size} is correctly signed, but the events give root "
            f"{b64encode(root)} instead of the signed {b64encode(checkpoint.root)}: an event among "
            f"leaves {start}..{end - 1} differs from what was sealed, with its recorded hash "
            "rewritten"
        )
        if self.witness is not None and len(self._interval) == end - start:
            sealed = self.witness.sealed_leaf_hashes(start, end)
            for offset, (node, aggregate_id, version) in enumerate(self._interval):
                if offset >= len(sealed) or sealed[offset] != node:
                    return EventModified(
                        reason
                        + f"; the first that differs from the sealed leaf is leaf {start + offset}",
                        event=EventRef(aggregate_id, version, start + offset),
                    )
        return CheckpointMismatch(
            reason, event=EventRef(leaf_index=start, position=f"leaves {start}..{end - 1}")
        )

    # --- what the events mean: key history, origin ------------------------------------------------

    def _meaning(self, entry: Entry) -> None:
        result = self.result
        result.types[entry.type] += 1
        assert entry.data is not None
        if entry.aggregate_type == SENDER:
            self._keys.apply(
                {
                    "aggregate_id": entry.aggregate_id,
                    "aggregate_type": entry.aggregate_type,
                    "version": entry.version,
                    "type": entry.type,
                    "timestamp": entry.timestamp,
                    "data": entry.data,
                },
                entry.leaf_index,
            )
        elif entry.type == "Sent":
            self._origin(entry, entry.data)

    def _origin(self, entry: Entry, sent: Mapping[str, Any]) -> None:
        result = self.result
        ref = entry.ref
        kind = sent.get("origin")
        if self.envelopes is None:
            check_key_and_signature(
                sent, None, self._keys, ref, verify_signature=False, sent_at=entry.timestamp
            )
            if kind == SIGNED:
                result.keys_only += 1
            elif kind == ATTESTED:
                result.attested += 1
            return
        digest = str(sent.get("envelope_sha256"))
        raw = self._envelope(digest)
        if raw is None:
            raise OriginNotProven(
                f"the envelope the sender submitted (SHA-256 {digest}) is missing from the store",
                event=ref,
            )
        check_envelope_digest(raw, sent, ref)
        check_binding(sent, parse_envelope(raw, ref), ref)
        if kind != SIGNED:
            check_key_and_signature(
                sent, None, self._keys, ref, verify_signature=False, sent_at=entry.timestamp
            )
            result.attested += 1
            return
        key = check_key_and_signature(
            sent, None, self._keys, ref, verify_signature=False, sent_at=entry.timestamp
        ).key
        assert key is not None
        signature = str(sent.get("signature"))
        memo = (digest, signature, key.key_id)
        if memo not in self._verified:
            check_signature(raw, signature, key.public_key, ref)
            self._verified[memo] = None
            if len(self._verified) > 4096:
                self._verified.popitem(last=False)
        result.signatures_verified += 1

    def _envelope(self, digest: str) -> bytes | None:
        """One broadcast envelope serves many letters: keep the last few at hand."""
        cached = self._parsed.get(digest)
        if cached is not None:
            self._parsed.move_to_end(digest)
            return cached
        assert self.envelopes is not None
        raw = self.envelopes(digest)
        if raw is not None:
            self._parsed[digest] = raw
            if len(self._parsed) > 64:
                self._parsed.popitem(last=False)
        return raw


def _sealed_ref(
    sealed: SealedLeaf | None, leaf_index: int | None, position: str | None = None
) -> EventRef:
    if sealed is None:
        return EventRef(leaf_index=leaf_index, position=position)
    return EventRef(sealed.aggregate_id, sealed.version, leaf_index, position=position)
