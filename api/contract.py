"""Constants of the eBox REST 2.1 contract (../shared/reference/ebox-api/ebox-rest-2.1.yaml).

A test compares them with the contract file so they cannot drift.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from ebox.domain.limits import FieldRejected, checked_moment

EBOX_DOMAINS = ("citizen", "enterprise")
LANGUAGES = ("nl", "fr", "de")
MAX_ATTACHMENTS = 6
MAX_PAGE_SIZE = 100
UPLOAD_PARTS = tuple(f"upfile{n}" for n in range(1, MAX_ATTACHMENTS + 1))

ATTACHMENT_MEDIA_TYPES = (
    "application/pdf",
    "application/zip",
    "text/csv",
    "text/html",
    "text/plain",
    "text/xml",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
    "application/vnd.oasis.opendocument.graphics",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-powerpoint",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
)
"""The contract's `Attachment.mediaType` enum: what the read side describes."""

PUBLISHED_IMAGE_MEDIA_TYPES = ("image/jpeg", "image/png")
"""Images the official publication examples publish (the Postman collection uploads a
.jpg, a .jpeg and a .png), though `Attachment.mediaType` does not list them; the
contract's own `Image` type lists both. No SVG: a picture that runs script is no picture."""

PUBLISHABLE_MEDIA_TYPES = ATTACHMENT_MEDIA_TYPES + PUBLISHED_IMAGE_MEDIA_TYPES
"""What publishMessage accepts as an attachment (README, "Contract deviations")."""


def contract_datetime(moment: datetime | str) -> str:
    """The contract's date-time form, yyyy-MM-dd'T'HH:mm:ssXXX, in UTC."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# RFC 3339 as the contract writes it (yyyy-MM-dd'T'HH:mm:ss[.fraction]XXX); the offset
# is optional only where a query parameter allows a naive time (read as UTC).
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_DATE_TIME = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?)((?:[Zz]|[+-]\d{2}:\d{2})?)",
    re.ASCII,
)


def parse_contract_datetime(
    text: object, field: str, *, date_allowed: bool = False, offset_required: bool = True
) -> datetime:
    """The one parser of the contract's date-times, for every route and every body.

    Strict RFC 3339 (Python's fromisoformat alone takes week dates and other ISO
    forms), within the ledger's range (LIMITS.earliest, LIMITS.latest), in UTC:
    ``0001-01-01T00:00:00+14:00`` lies before year 1 in UTC and would overflow
    wherever it is used. A date alone, where allowed, is its midnight UTC.
    Refusals are FieldRejected (400) naming the field.
    """
    expected = "a date (yyyy-MM-dd) or a date-time" if date_allowed else "an RFC 3339 date-time"
    if not isinstance(text, str):
        raise FieldRejected(f"{field} must be {expected}")
    try:
        if date_allowed and _DATE.fullmatch(text):
            moment = datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
        else:
            found = _DATE_TIME.fullmatch(text)
            if found is None or (offset_required and not found.group(3)):
                raise ValueError(text)
            day, time, offset = found.groups()
            offset = "+00:00" if offset in ("", "Z", "z") else offset
            moment = datetime.fromisoformat(f"{day}T{time}{offset}")
    except ValueError:
        raise FieldRejected(f"{field} must be {expected}") from None
    return checked_moment(moment, field)
