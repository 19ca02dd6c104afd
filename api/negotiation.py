"""Which media type to answer a document's bytes with: its own, or the contract's octet-stream.

The contract says getAttachmentContentById `produces` application/octet-stream.
A browser or a partner app wants the document's own type (to show a PDF, to pick
the program for a spreadsheet), and a client generated from the contract asks
for `Accept: application/octet-stream`. Both are served: the document's own
type by default (no Accept, ``*/*``, or its own type ranked at least as high),
application/octet-stream when the client's Accept ranks it above the own type.
An Accept that allows neither is disregarded (RFC 9110, section 12.5.1): the
bytes are the same whatever the label, and the contract names no 406.
"""

from __future__ import annotations

OCTET_STREAM = "application/octet-stream"


def content_media_type(accept: str | None, own: str) -> str:
    """The Content-Type for a document of type `own` asked for with this Accept header."""
    if not accept or not accept.strip():
        return own
    ranges = _media_ranges(accept)
    if _quality(ranges, OCTET_STREAM) > _quality(ranges, own):
        return OCTET_STREAM
    return own


def _media_ranges(accept: str) -> list[tuple[str, float]]:
    """(range, q) for each well-formed entry of an Accept header; malformed ones are ignored."""
    ranges = []
    for entry in accept.split(","):
        media_range, *parameters = (part.strip() for part in entry.split(";"))
        if media_range.count("/") != 1:
            continue
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = 0.0
                if not 0.0 <= quality <= 1.0:  # also NaN
                    quality = 0.0
        ranges.append((media_range.lower(), quality))
    return ranges


def _quality(ranges: list[tuple[str, float]], media_type: str) -> float:
    """The q of the most specific range matching `media_type` (0 if none does)."""
    kind = media_type.split("/", 1)[0]
    best_specificity, quality = -1, 0.0
    for media_range, q in ranges:
        if media_range == media_type:
            specificity = 2
        elif media_range == f"{kind}/*":
            specificity = 1
        elif media_range == "*/*":
            specificity = 0
        else:
            continue
        if specificity > best_specificity:
            best_specificity, quality = specificity, q
    return quality
