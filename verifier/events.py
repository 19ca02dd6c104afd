"""Canonical event objects as the verifier reads them: shape, hash, identity.

The canonical object is self-describing (ARCHITECTURE section 4): aggregate,
version, type, time, link and data. The verifier needs nothing else from the
mailbox model, so it never imports the aggregates.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from ebox.domain.proofs.canonical import ZERO_HASH, CanonicalFormError
from ebox.verifier.errors import EventRef, MalformedEvidence
from ebox.verifier.jcs import NotCanonicalJSON, jcs

CANONICAL_KEYS = frozenset(
    {"aggregate_id", "aggregate_type", "version", "type", "timestamp", "prev_hash", "data"}
)
_HEX64 = re.compile(r"[0-9a-f]{64}", re.ASCII)
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z", re.ASCII)

__all__ = ["CANONICAL_KEYS", "ZERO_HASH", "check_shape", "event_digest", "ref_of"]


def ref_of(
    canonical: Mapping[str, Any], leaf_index: int | None = None, position: str | None = None
) -> EventRef:
    """How to name an event in a message: its aggregate, version, type and leaf."""
    version = canonical.get("version")
    return EventRef(
        aggregate_id=_text(canonical.get("aggregate_id")),
        version=version if type(version) is int else None,
        leaf_index=leaf_index,
        aggregate_type=_text(canonical.get("aggregate_type")),
        type=_text(canonical.get("type")),
        position=position,
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def check_shape(canonical: Mapping[str, Any], ref: EventRef) -> None:
    """Refuse an object that is not a canonical event: exactly seven members, right types."""
    if canonical.keys() != CANONICAL_KEYS:
        extra = sorted(set(canonical) - CANONICAL_KEYS)
        missing = sorted(CANONICAL_KEYS - set(canonical))
        raise MalformedEvidence(
            f"canonical object has members {sorted(canonical)}"
            + (f"; unexpected {extra}" if extra else "")
            + (f"; missing {missing}" if missing else ""),
            event=ref,
        )
    problems = []
    for key in ("aggregate_id", "aggregate_type", "type"):
        if not isinstance(canonical[key], str) or not canonical[key]:
            problems.append(f"{key} is not a non-empty string")
    version = canonical["version"]
    if type(version) is not int or version < 1:
        problems.append(f"version {version!r} is not a positive integer")
    if not isinstance(canonical["prev_hash"], str) or not _HEX64.fullmatch(canonical["prev_hash"]):
        problems.append("prev_hash is not 64 lowercase hex digits")
    if not isinstance(canonical["timestamp"], str) or not _TIMESTAMP.fullmatch(
        canonical["timestamp"]
    ):
        problems.append("timestamp is not RFC 3339 UTC with microseconds and Z")
    if not isinstance(canonical["data"], Mapping):
        problems.append("data is not an object")
    if problems:
        raise MalformedEvidence("; ".join(problems), event=ref)


def event_digest(canonical: Mapping[str, Any], ref: EventRef) -> bytes:
    """SHA-256 of the JCS bytes of the canonical object (the raw 32 bytes of `event_hash`)."""
    try:
        return hashlib.sha256(jcs(canonical)).digest()
    except (NotCanonicalJSON, CanonicalFormError, TypeError, ValueError) as error:
        raise MalformedEvidence(f"canonical object has no JCS form ({error})", event=ref) from error
