"""Attachment bytes: the document's own media type by default, octet-stream when preferred."""

from __future__ import annotations

import pytest

from ebox.api.negotiation import OCTET_STREAM, content_media_type

PDF = "application/pdf"


@pytest.mark.parametrize(
    ("accept", "answered"),
    [
        (None, PDF),
        ("", PDF),
        ("*/*", PDF),
        (PDF, PDF),
        ("application/*", PDF),
        (OCTET_STREAM, OCTET_STREAM),
        ("Application/Octet-Stream", OCTET_STREAM),
        (f"{OCTET_STREAM}, */*;q=0.1", OCTET_STREAM),
        (f"{PDF};q=0.5, {OCTET_STREAM}", OCTET_STREAM),
        (f"{OCTET_STREAM};q=0.4, {PDF}", PDF),
        (f"{OCTET_STREAM}, {PDF}", PDF),  # a tie keeps the document's own type
        (f"{OCTET_STREAM}, */*", PDF),
        ("text/html", PDF),  # allows neither: disregarded (RFC 9110 12.5.1)
        (f"{OCTET_STREAM};q=0", PDF),
    ],
)
def test_the_answered_media_type(accept: str | None, answered: str) -> None:
    assert content_media_type(accept, PDF) == answered


@pytest.mark.parametrize(
    "accept",
    [
        "garbage",
        ";;;,,,",
        f"{OCTET_STREAM};q=abc",
        f"{OCTET_STREAM};q=NaN",
        f"{OCTET_STREAM};q=2",
        f"{OCTET_STREAM};q=-1",
        "a/b/c, /, */",
        "\x00/\x00",
    ],
)
def test_a_malformed_accept_never_fails_and_keeps_the_own_type(accept: str) -> None:
    assert content_media_type(accept, PDF) == PDF
