"""Canonical events: our fast JCS must equal RFC 8785 byte for byte."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from ebox.domain.proofs.canonical import (
    ZERO_HASH,
    CanonicalFormError,
    b64url,
    canonical_event,
    canonical_json,
    event_hash,
    rfc3339,
    unb64url,
)

json_scalars = st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text()
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)


@given(json_values)
def test_canonical_json_is_rfc8785(value: Any) -> None:
    try:
        expected = rfc8785.dumps(value)
    except rfc8785.CanonicalizationError:
        with pytest.raises((CanonicalFormError, rfc8785.CanonicalizationError, UnicodeEncodeError)):
            canonical_json(value)
        return
    assert canonical_json(value) == expected


def test_non_bmp_keys_sort_by_utf16_code_units() -> None:
    value = {"\U0001f600": 1, "\ufb01": 2}
    assert canonical_json(value) == rfc8785.dumps(value)


@pytest.mark.parametrize("bad", [1.5, 2**53, {"a": [0.0]}, b"bytes", {1: "x"}])
def test_values_outside_canonical_json_are_refused(bad: object) -> None:
    with pytest.raises(CanonicalFormError):
        canonical_json(bad)


def test_timestamps_are_utc_with_microseconds_and_z() -> None:
    moment = datetime(2026, 11, 27, 21, 0, 0, 5, tzinfo=timezone(timedelta(hours=1)))
    assert rfc3339(moment) == "2026-11-27T20:00:00.000005Z"
    with pytest.raises(CanonicalFormError):
        rfc3339(datetime(2026, 1, 1))


def test_bytes_are_base64url_without_padding() -> None:
    assert b64url(b"\xfb\xff") == "-_8"
    assert unb64url("-_8") == b"\xfb\xff"


def test_event_hash_is_sha256_of_the_jcs_of_seven_members() -> None:
    canonical = canonical_event(
        aggregate_id="6f1c2c4e-0000-4000-8000-000000000001",
        aggregate_type="Message",
        version=1,
        type="Sent",
        timestamp=datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
        prev_hash=ZERO_HASH,
        data={"b": 1, "a": "é"},
    )
    assert list(canonical) == [
        "aggregate_id",
        "aggregate_type",
        "version",
        "type",
        "timestamp",
        "prev_hash",
        "data",
    ]
    # Golden value: a stranger's verifier must reach the same hash from this exact object.
    assert canonical_json(canonical) == (
        b'{"aggregate_id":"6f1c2c4e-0000-4000-8000-000000000001","aggregate_type":"Message",'
        b'"data":{"a":"\xc3\xa9","b":1},"prev_hash":"' + ZERO_HASH.encode() + b'",'
        b'"timestamp":"2026-01-02T03:04:05.000006Z","type":"Sent","version":1}'
    )
    import hashlib

    assert event_hash(canonical) == hashlib.sha256(canonical_json(canonical)).hexdigest()
