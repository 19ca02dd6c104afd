"""From the contract's multipart request to a Publication: every malformed input is refused."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest

from ebox.api.contract import (
    ATTACHMENT_MEDIA_TYPES,
    PUBLISHABLE_MEDIA_TYPES,
    PUBLISHED_IMAGE_MEDIA_TYPES,
)
from ebox.api.errors import ApiError
from ebox.api.publication_request import UploadedPart, publication_of
from tests.contract import load

PDF = b"%PDF-1.4 a letter"


def digest(data: bytes) -> dict[str, str]:
    return {
        "digestMethod": "sha_256",
        "digestValue": base64.urlsafe_b64encode(hashlib.sha256(data).digest())
        .rstrip(b"=")
        .decode(),
    }


def message(**changes: Any) -> str:
    body: dict[str, Any] = {
        "recipient": {"eboxType": "citizen", "eboxIdValue": "58102882214"},
        "subject": {"nl": "Aanslag", "fr": "Avertissement"},
        "messageTypeId": "TAX",
        "senderOrganizationId": "0308357159",
        "senderApplicationId": "mybox-publisher",
        "attachments": [{"httpPartName": "upfile1", "mainContent": True, "digest": digest(PDF)}],
        "bodyMainContent": False,
        "replyAuthorized": False,
    }
    body.update(changes)
    return json.dumps(body)


PARTS = {"upfile1": UploadedPart("upfile1", "letter.pdf", "application/pdf", PDF)}


def parse(text: str, parts: dict[str, UploadedPart] = PARTS) -> Any:
    return publication_of(text, parts, sender_kbo="0308357159", client_id="c", idempotency_key=None)


def refusal(text: str, parts: dict[str, UploadedPart] = PARTS) -> ApiError:
    with pytest.raises(ApiError) as refused:
        parse(text, parts)
    return refused.value


def test_the_postman_shaped_request_becomes_a_publication() -> None:
    publication = parse(message(bodyContent={"nl": "Beste"}, bodyMainContent=False))
    assert publication.recipients[0].address == "citizen:58102882214"
    assert [d.kind for d in publication.documents] == ["attachment", "body"]
    assert publication.documents[0].main_content and publication.documents[0].name == "letter.pdf"


def test_the_media_type_list_is_the_contracts() -> None:
    enum = load()["definitions"]["Attachment"]["properties"]["mediaType"]["enum"]
    assert tuple(enum) == ATTACHMENT_MEDIA_TYPES
    images = load()["definitions"]["Image"]["properties"]["mediaType"]["enum"]
    assert set(PUBLISHED_IMAGE_MEDIA_TYPES) <= set(images)  # types the contract knows


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("{not json", "INVALID_REQUEST"),
        ("[]", "INVALID_REQUEST"),
        (json.dumps({"subject": {"nl": "x"}}), "INVALID_REQUEST"),
        (
            message(recipient={"eboxType": "citizen", "eboxIdValue": "12345678901"}),
            "INVALID_REQUEST",
        ),
        (message(subject={}), "INVALID_REQUEST"),
        (message(attachments=[{"httpPartName": "upfile2", "mainContent": True}]), "MISSING_PART"),
        (
            message(
                attachments=[
                    {"httpPartName": "upfile1", "mainContent": True, "digest": digest(b"other")}
                ]
            ),
            "DIGEST_MISMATCH",
        ),
        (
            message(attachments=[{"httpPartName": "upfile1", "mainContent": False}]),
            "INVALID_REQUEST",
        ),
        (message(bodyMainContent=True), "INVALID_REQUEST"),
        (message(messageTypeId=None), "INVALID_REQUEST"),
        (message(expirationDate="tomorrow"), "INVALID_REQUEST"),
    ],
)
def test_malformed_requests_are_refused_with_a_status_code(text: str, code: str) -> None:
    error = refusal(text)
    assert (error.status, error.code) == (400, code)


def test_a_media_type_outside_the_list_is_refused_naming_the_list() -> None:
    parts = {"upfile1": UploadedPart("upfile1", "drawing.svg", "image/svg+xml", b"<svg/>")}
    error = refusal(message(attachments=[{"httpPartName": "upfile1", "mainContent": True}]), parts)
    assert error.code == "UNSUPPORTED_MEDIA_TYPE"
    assert "image/svg+xml" in error.message
    assert all(media_type in error.message for media_type in PUBLISHABLE_MEDIA_TYPES)


@pytest.mark.parametrize(
    ("filename", "media_type"), [("a.jpg", "image/jpeg"), ("b.png", "image/png")]
)
def test_the_images_of_the_official_examples_are_published(filename: str, media_type: str) -> None:
    parts = {"upfile1": UploadedPart("upfile1", filename, media_type, b"picture")}
    publication = parse(
        message(attachments=[{"httpPartName": "upfile1", "mainContent": True}]), parts
    )
    assert publication.documents[0].media_type == media_type


def test_an_unreferenced_part_is_refused() -> None:
    parts = {**PARTS, "upfile2": UploadedPart("upfile2", "x.pdf", "application/pdf", PDF)}
    assert refusal(message(), parts).status == 400


def test_publishing_as_another_organisation_is_forbidden() -> None:
    assert refusal(message(senderOrganizationId="0206731645")).status == 403
