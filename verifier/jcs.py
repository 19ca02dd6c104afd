"""JSON in, canonical bytes out, fast: the audit's hot path.

An audit parses every exported event and hashes the RFC 8785 (JCS) bytes of
its canonical object. :func:`ebox.domain.proofs.canonical.canonical_json`
walks each value to reject what JCS cannot represent; here the parser does
that instead, for free: :func:`loads` refuses floats, NaN/Infinity and
integers outside the I-JSON range while parsing, so every value it returns is
one that Python's C encoder serialises exactly as JCS does, except in two
corners handled by :func:`jcs`:

- object keys are sorted by code point where JCS sorts by UTF-16 code unit;
  the orders differ only when a key holds a character beyond U+FFFF, so any
  text with such a character goes to the exact (slow) serialiser;
- a lone surrogate (``"\\ud800"``) is not Unicode: encoding fails and the
  value is refused, as JCS refuses it.

A property test checks :func:`jcs` against the reference implementation.

:func:`loads_fast` is the audit's parser: it refuses floats and NaN/Infinity
but does not range-check integers, which would cost a Python call per
integer. That is safe there: the ledger never writes an integer beyond 2**53
(its own canonical form refuses them), so an event holding one cannot hash to
the hash the ledger sealed; it fails the audit as modified, only with a less
precise reason than :func:`loads` would give.
"""

from __future__ import annotations

import json
import json.encoder
import json.scanner
from collections.abc import Callable
from typing import Any

from ebox.domain.proofs.canonical import canonical_json

MAX_SAFE_INT = 2**53 - 1

_FOUR_BYTE_LEADS = (b"\xf0", b"\xf1", b"\xf2", b"\xf3", b"\xf4")
"""UTF-8 lead bytes of the characters beyond U+FFFF."""


def _make_encoder() -> Callable[[Any], str]:
    """Python's C JSON encoder, configured once (JSONEncoder.encode builds one per call)."""
    make = getattr(json.encoder, "c_make_encoder", None)
    escape = getattr(json.encoder, "c_encode_basestring", None)
    if make is None or escape is None:  # pragma: no cover - no C accelerator
        return json.JSONEncoder(
            ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False
        ).encode
    encoder = make(None, None, escape, None, ":", ",", True, False, False)

    def encode(value: Any) -> str:
        return "".join(encoder(value, 0))

    return encode


_encode = _make_encoder()


class NotCanonicalJSON(ValueError):
    """The text holds a value that has no canonical form (a float, a huge integer...)."""


def _float(text: str) -> Any:
    raise NotCanonicalJSON(f"number {text} is not an integer: canonical data has no floats")


def _constant(name: str) -> Any:
    raise NotCanonicalJSON(f"{name} is not JSON")


def _int(text: str) -> int:
    value = int(text)
    if -MAX_SAFE_INT <= value <= MAX_SAFE_INT:
        return value
    raise NotCanonicalJSON(f"integer {text} is outside the I-JSON safe range")


_decoder = json.JSONDecoder(parse_float=_float, parse_int=_int, parse_constant=_constant)
_fast_decoder = json.JSONDecoder(parse_float=_float, parse_constant=_constant)


def loads(text: str | bytes) -> Any:
    """Parse JSON, refusing every value that has no JCS form; raise ValueError."""
    if isinstance(text, bytes | bytearray):
        text = text.decode("utf-8")
    return _decoder.decode(text)


_fast_scan = json.scanner.make_scanner(_fast_decoder)  # type: ignore[arg-type]


def loads_fast(text: str | bytes) -> Any:
    """Like :func:`loads` without the integer range check (see the module docstring).

    Calls the C scanner directly: `JSONDecoder.decode` adds two regular
    expression matches per call, a tenth of the parsing time of a small event.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    try:
        value, end = _fast_scan(text, 0)
    except StopIteration:  # leading whitespace or not JSON: let the decoder say which
        return _fast_decoder.decode(text)
    if end != len(text) and not text[end:].isspace():
        return _fast_decoder.decode(text)  # raises "Extra data" with its position
    return value


def jcs(value: Any) -> bytes:
    """RFC 8785 bytes of a value returned by :func:`loads` (or built of the same types)."""
    text = _encode(value)
    if text.isascii():
        return text.encode("ascii")
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise NotCanonicalJSON("a string holds a lone surrogate: it is not Unicode") from error
    for lead in _FOUR_BYTE_LEADS:
        if lead in raw:  # a character beyond U+FFFF: keys may sort differently, be exact
            return canonical_json(value)
    return raw
