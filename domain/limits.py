"""The bounds of every value the ledger accepts, in one table.

Why one table: a value the API accepts ends up in a read-model column, a search
document or a canonical event. If the API's bound and the column's width are
two numbers in two places, they drift, and a letter that was accepted (201)
then fails to fit its row and stops the view that follows it, for every later
letter too. So the columns of ``ebox.adapters.tables`` are declared as
``String(LIMITS.x)`` and the API validates against the same ``LIMITS.x``:
nothing accepted can fail to fit. It lives in the domain because both the
projections and the API import it, and the projections may not import the API.

The text rules are here too, for the same reason: PostgreSQL refuses a NUL
character in any text value, and control characters or lone surrogates have
no business in an identifier, a subject or a file name. They are refused at
the boundary, with the field's name, rather than by the database afterwards.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from ebox.domain.errors import EboxError


@dataclass(frozen=True)
class FieldLimits:
    """Maximum lengths (characters), counts, numbers and dates of the contract's fields."""

    # Identifiers stored in read-model columns (the columns are this wide).
    mailbox_id: int = 36
    """uuid5 of the eBox address (ebox.domain.ids.mailbox_id), canonical text."""
    message_id: int = 36
    """A message aggregate's id, canonical UUID text."""
    publication_id: int = 64
    ebox_type: int = 16
    ebox_id_value: int = 32
    """A national register number (11 digits) or a KBO number (10), with separators."""
    kbo_number: int = 32
    sender_application_id: int = 100
    message_type_id: int = 100
    original_message_id: int = 64
    validity_unit: int = 8
    feed_event_type: int = 32

    # Identifiers that are only looked up (path, query and body parameters: message,
    # attachment, image and client ids): never stored as given, bounded all the same.
    reference_id: int = 100

    # Free texts (JSON columns, search documents, encrypted documents).
    subject: int = 500
    title: int = 500
    """A name or title in one language: attachment titles, business data names."""
    business_data_key: int = 200
    business_data_text: int = 1_000
    business_data_items: int = 50
    business_data_values: int = 50
    attention_text: int = 200
    body_text: int = 100_000
    file_name: int = 255
    media_type: int = 255
    payment_text: int = 140
    """paymentDataId, currency, IBAN, BIC: SEPA's remittance field is 140 characters."""
    search_query: int = 200
    search_text: int = 100_000
    """The searchable text of one letter in one language, as the search folds it (subjects,
    attachment titles, business data): PostgreSQL's tsvector holds at most 1 MB, and one
    letter of 1 MB of distinct words makes one of 1.3 MB."""

    # Structure and numbers.
    json_depth: int = 16
    """Nesting of messageToPublish; the contract's deepest is 6 (business data values)."""
    page: int = 2**31 - 1
    position: int = 2**63 - 1
    """Ledger positions and feed sequence numbers: a signed 64-bit integer (BIGINT)."""
    json_integer: int = 2**53 - 1
    """I-JSON's exact integers, the only ones canonical JSON (RFC 8785) can carry."""
    amount: Decimal = Decimal("999999999999.999")
    amount_places: int = 3

    # Date-times: a range every database and every calculation on them can hold.
    earliest: datetime = datetime(1900, 1, 1, tzinfo=UTC)
    latest: datetime = datetime(9999, 1, 1, tzinfo=UTC)
    """Exclusive; a year short of datetime.max so no expiry arithmetic overflows."""


LIMITS = FieldLimits()


class FieldRejected(EboxError, ValueError):
    """A value outside the bounds of its field: 400 at the API, never written.

    Also a ValueError, so a pydantic validator can raise it and FastAPI reports
    it as an invalid request like any other.
    """

    code = "INVALID_REQUEST"


# C0 controls, DEL, C1 controls and lone surrogates (which cannot be encoded in UTF-8).
_NOT_IN_IDENTIFIERS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# The same, but tab, line feed and carriage return are text.
_NOT_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def checked_identifier(value: str, field: str, max_length: int) -> str:
    """An identifier: at most `max_length` characters, no control character; else refused."""
    return _checked(value, field, max_length, _NOT_IN_IDENTIFIERS)


def checked_text(value: str, field: str, max_length: int) -> str:
    """A free text: at most `max_length` characters, no control but tab and line ends."""
    return _checked(value, field, max_length, _NOT_IN_TEXT)


def _checked(value: str, field: str, max_length: int, forbidden: re.Pattern[str]) -> str:
    if not isinstance(value, str):
        raise FieldRejected(f"{field} must be a string")
    if len(value) > max_length:
        raise FieldRejected(f"{field} is longer than {max_length} characters")
    found = forbidden.search(value)
    if found is not None:
        raise FieldRejected(
            f"{field} holds U+{ord(found.group()):04X} at {found.start()}: no control characters"
        )
    return value


def checked_names(names: dict[str, str], field: str) -> dict[str, str]:
    """A name per language (a sender's, an application's, a message type's): texts, bounded."""
    if not isinstance(names, dict):
        raise FieldRejected(f"{field} must map languages to names")
    for language, name in names.items():
        checked_identifier(language, f"a language of {field}", 8)
        checked_text(name, f"{field} ({language})", LIMITS.title)
    return names


def checked_moment(moment: datetime, field: str) -> datetime:
    """A date-time within the ledger's range, in UTC; else refused."""
    try:
        in_utc = moment.astimezone(UTC)
    except OverflowError:
        in_utc = None
    if in_utc is None or not LIMITS.earliest <= in_utc < LIMITS.latest:
        raise FieldRejected(
            f"{field} must lie between {LIMITS.earliest:%Y-%m-%d} and {LIMITS.latest:%Y-%m-%d}"
        )
    return in_utc


def checked_amount(value: object, field: str) -> Decimal:
    """A money amount: a finite JSON number, at most LIMITS.amount, LIMITS.amount_places."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FieldRejected(f"{field} must be a number")
    try:
        amount = Decimal(str(value))
    except ArithmeticError:
        raise FieldRejected(f"{field} must be a finite number") from None
    if not amount.is_finite() or abs(amount) > LIMITS.amount:
        raise FieldRejected(f"{field} must be a number of at most {LIMITS.amount}")
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -LIMITS.amount_places:
        raise FieldRejected(f"{field} has more than {LIMITS.amount_places} decimal places")
    return amount
