"""Constants of the eBox REST 2.1 contract (../shared/reference/ebox-api/ebox-rest-2.1.yaml).

A test compares them with the contract file so they cannot drift.
"""

from __future__ import annotations

from datetime import UTC, datetime

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
