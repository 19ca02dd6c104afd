"""The API's side of ebox.domain.limits: parameter types and a bounded JSON parser.

Every route declares its identifiers with these types instead of bare ``str``,
and its integers with ``le=LIMITS.page`` or ``le=LIMITS.position``, so that one
rule refuses (400, StatusMessage) what the databases would otherwise refuse
with a 500: a NUL in a text (PostgreSQL), an integer beyond 64 bits (SQLite),
an identifier longer than its column.

``parse_json`` is how a JSON text inside a request (``messageToPublish``) is
read: the standard parser recurses without bound, accepts ``NaN`` and
``Infinity``, turns ``1e400`` into infinity and integers into any size, none
of which the canonical form of the events (RFC 8785) can hold.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import AfterValidator

from ebox.domain.limits import (
    LIMITS,
    FieldRejected,
    checked_identifier,
    checked_text,
)


def _reference(value: str) -> str:
    return checked_identifier(value, "the identifier", LIMITS.reference_id)


def _filter_id(limit: int) -> Any:
    return AfterValidator(lambda value: checked_identifier(value, "the identifier", limit))


ReferenceId = Annotated[str, AfterValidator(_reference)]
"""A message, attachment, image or client id that is looked up, never stored as given."""
MessageTypeId = Annotated[str, _filter_id(LIMITS.message_type_id)]
SenderApplicationId = Annotated[str, _filter_id(LIMITS.sender_application_id)]
KboNumber = Annotated[str, _filter_id(LIMITS.kbo_number)]
EboxIdValue = Annotated[str, _filter_id(LIMITS.ebox_id_value)]
SearchText = Annotated[
    str, AfterValidator(lambda v: checked_text(v, "the search", LIMITS.search_query))
]
"""The words of a search (q): a text, as long as a search may be."""


# --------------------------------------------------------------------------- JSON


def _no_constant(name: str) -> Any:
    raise FieldRejected(f"{name} is not a JSON number the ledger accepts")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise FieldRejected(f"the number {text[:40]} is out of range")
    return value


def _exact_integer(text: str) -> int:
    # Checked on the text first: int() of thousands of digits is refused with a ValueError.
    if len(text.lstrip("-")) > len(str(LIMITS.json_integer)):
        raise FieldRejected(f"the integer {text[:40]}... is out of range")
    value = int(text)
    if abs(value) > LIMITS.json_integer:
        raise FieldRejected(f"the integer {text} is beyond {LIMITS.json_integer}")
    return value


def parse_json(text: str, field: str) -> Any:
    """JSON with the ledger's bounds: depth, finite numbers, exact integers; else FieldRejected."""
    try:
        value = json.loads(
            text,
            parse_constant=_no_constant,
            parse_float=_finite_float,
            parse_int=_exact_integer,
        )
    except json.JSONDecodeError as error:
        raise FieldRejected(f"{field} is not valid JSON: {error.msg}") from None
    except RecursionError:
        raise FieldRejected(f"{field} is nested deeper than {LIMITS.json_depth}") from None
    except FieldRejected as error:
        raise FieldRejected(f"{field}: {error.message}") from None
    _check_tree(value, field)
    return value


def _check_tree(value: Any, field: str) -> None:
    """Depth within LIMITS.json_depth and every string (keys too) a text; without recursion."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            checked_text(item, f"a text of {field}", LIMITS.body_text)
        elif isinstance(item, dict | list):
            if depth + 1 > LIMITS.json_depth:
                raise FieldRejected(f"{field} is nested deeper than {LIMITS.json_depth}")
            if isinstance(item, dict):
                stack.extend((key, depth) for key in item)
                stack.extend((child, depth + 1) for child in item.values())
            else:
                stack.extend((child, depth + 1) for child in item)
