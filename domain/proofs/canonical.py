"""Canonical events: the exact bytes that outside verifiers hash.

ARCHITECTURE section 4 fixes the form: a JSON object with seven members,
serialised with RFC 8785 (JCS), hashed with SHA-256. Any verifier in any
language must reach the same `event_hash`, so everything here is deliberately
boring: no floats, RFC 3339 UTC timestamps with microseconds, bytes as
base64url without padding.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import rfc8785

ZERO_HASH = "0" * 64
"""The `prev_hash` of an aggregate's first event."""

CANONICAL_KEYS = (
    "aggregate_id",
    "aggregate_type",
    "version",
    "type",
    "timestamp",
    "prev_hash",
    "data",
)

_MAX_SAFE_INT = 2**53 - 1


class CanonicalFormError(ValueError):
    """A value cannot be put in canonical form (a float, a huge int, bytes...)."""


def rfc3339(moment: datetime) -> str:
    """RFC 3339 UTC with exactly six fractional digits and a `Z`."""
    if moment.tzinfo is None:
        raise CanonicalFormError(f"naive datetime {moment!r} has no time zone")
    if moment.utcoffset():
        moment = moment.astimezone(UTC)
    # isoformat is several times faster than strftime, and this runs for every event.
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_rfc3339(text: str) -> datetime:
    """Inverse of :func:`rfc3339` (accepts any RFC 3339 offset)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise CanonicalFormError(f"timestamp {text!r} has no offset")
    return moment.astimezone(UTC)


def b64url(raw: bytes) -> str:
    """Base64url without padding, the form bytes take in canonical data."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _check(value: Any) -> bool:
    """Validate a JSON value; return True when the fast serialiser is exact.

    Python's json module matches JCS for our values except for key order when a
    key is not ASCII (code points versus UTF-16 code units): such values go to
    rfc8785. Lone surrogates need no walk: encoding the output to UTF-8 refuses
    them. Strings, the bulk of every event, are skipped without a call.
    """
    kind = type(value)
    if kind is dict:
        fast = True
        for key, item in value.items():
            if type(key) is not str:
                raise CanonicalFormError(f"object key {key!r} is not a string")
            if not key.isascii():
                fast = False
            if type(item) is not str and not _check(item):
                fast = False
        return fast
    if kind is list or kind is tuple:
        fast = True
        for item in value:
            if type(item) is not str and not _check(item):
                fast = False
        return fast
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        if -_MAX_SAFE_INT <= value <= _MAX_SAFE_INT:
            return True
        raise CanonicalFormError(f"integer {value} is outside the I-JSON safe range")
    if kind is float:
        raise CanonicalFormError(f"float {value!r} is not allowed in canonical data")
    if isinstance(value, Mapping):
        return _check(dict(value))
    if isinstance(value, str | int | list | tuple) and not isinstance(value, bool):
        return _check(value.__class__.__mro__[-2](value))  # str/int subclasses, e.g. enums
    raise CanonicalFormError(f"{type(value).__name__} is not a JSON value")


def canonical_json(value: Any) -> bytes:
    """RFC 8785 (JCS) bytes of a JSON value made of dicts, lists, str, int, bool, None."""
    try:
        if _check(value):
            return json.dumps(
                value, ensure_ascii=False, separators=(",", ":"), sort_keys=True
            ).encode("utf-8")
        return rfc8785.dumps(value)
    except UnicodeEncodeError as error:
        raise CanonicalFormError(
            "a string holds a lone surrogate, which JSON text cannot"
        ) from error
    except rfc8785.CanonicalizationError as error:
        raise CanonicalFormError(str(error)) from error


def canonical_event(
    *,
    aggregate_id: str,
    aggregate_type: str,
    version: int,
    type: str,
    timestamp: datetime | str,
    prev_hash: str,
    data: Mapping[str, Any],
) -> dict[str, Any]:
    """The canonical event object of ARCHITECTURE section 4."""
    return {
        "aggregate_id": aggregate_id,
        "aggregate_type": aggregate_type,
        "version": version,
        "type": type,
        "timestamp": timestamp if isinstance(timestamp, str) else rfc3339(timestamp),
        "prev_hash": prev_hash,
        "data": dict(data),
    }


def event_hash(canonical: Mapping[str, Any]) -> str:
    """Lowercase hex SHA-256 of the JCS bytes of a canonical event object."""
    return hashlib.sha256(canonical_json(canonical)).hexdigest()
