"""What the audit reads: one event of a ledger, hashed, from an export line or a database row.

Split out of :mod:`ebox.verifier.audit` so that the readers of an export
(:mod:`ebox.verifier.export`) and of a database (``ebox.cli.audit_source``)
depend on the entry format only, not on the auditor that checks entries.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple, Protocol

from ebox.domain.proofs.rotation import LEDGER_KEYS
from ebox.verifier.errors import (
    EventRef,
    MalformedEvidence,
)
from ebox.verifier.events import CANONICAL_KEYS, check_shape, ref_of
from ebox.verifier.jcs import NotCanonicalJSON, jcs, loads_fast
from ebox.verifier.keys import SENDER


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
    return aggregate_type in (SENDER, LEDGER_KEYS) or kind in _READ_DATA


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


def _sealed_ref(
    sealed: SealedLeaf | None, leaf_index: int | None, position: str | None = None
) -> EventRef:
    if sealed is None:
        return EventRef(leaf_index=leaf_index, position=position)
    return EventRef(sealed.aggregate_id, sealed.version, leaf_index, position=position)
