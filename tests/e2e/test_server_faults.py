"""What a reader gets when the ledger, not the request, is at fault: on SQLite and PostgreSQL.

A document whose ciphertext is gone from the blob table (a lost or partial
restore) is neither the reader's mistake nor an expiry (410): the answer is a
500 in the contract's StatusMessage shape with the code ``CONTENT_UNAVAILABLE``,
the request's ``X-Request-Id``, an error id the operator's log repeats, and no
``Read`` recorded (nothing was handed over), as `/openapi.json` documents it. Its
siblings still open.

The world is the consultation tests' (`box`).
"""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import delete

from ebox.adapters.tables import blobs
from ebox.domain.errors import ContentUnavailable
from tests.e2e.test_consultation_api import CSV, Box, box, contract_body
from tests.e2e.test_response_models import assert_documented, openapi

__all__ = ["box"]  # the fixture, shared with the consultation tests


def lose_ciphertext(box: Box, message_id: str, name: str) -> str:
    """Delete one document's ciphertext behind the ledger's back; its digest."""
    (digest,) = [
        d["ciphertext_sha256"]
        for d in box.ledger.app.message(message_id).documents
        if d["name"] == name
    ]
    with box.ledger.app.stores.db.write() as session:
        assert session.execute(delete(blobs).where(blobs.c.digest == digest)).rowcount == 1
    return str(digest)


def test_a_lost_ciphertext_is_a_typed_500_that_records_nothing(
    box: Box, caplog: pytest.LogCaptureFixture
) -> None:
    digest = lose_ciphertext(box, box.tax, "aanslag.pdf")
    before = box.event_types(box.tax)
    caplog.set_level(logging.ERROR, logger="ebox.api")

    answer = box.get(
        f"/ebox/messages/{box.tax}/attachments/1/content",
        headers=box.citizen(**{"X-Request-Id": "req-lost-blob"}),
    )

    refusal = contract_body(answer, "getAttachmentContentById", 500)
    assert_documented(openapi(box), "getAttachmentContentById_citizen", answer)
    assert refusal["code"] == "CONTENT_UNAVAILABLE"
    assert answer.headers["X-Request-Id"] == "req-lost-blob"
    assert digest not in answer.text  # the store's details are the operator's
    (record,) = [r for r in caplog.records if refusal["id"] in r.getMessage()]
    assert record.request_id == "req-lost-blob"  # type: ignore[attr-defined]
    assert digest in record.getMessage()
    assert box.event_types(box.tax) == before  # no Read: nothing was handed over

    annex = box.get(f"/ebox/messages/{box.tax}/attachments/2/content")
    assert contract_body(annex, "getAttachmentContentById", 200) == CSV.decode("latin-1")


def test_the_blob_store_names_what_is_missing(box: Box) -> None:
    """The typed error is still a KeyError: callers that ask whether a blob exists keep working."""
    digest = lose_ciphertext(box, box.tax, "aanslag.pdf")
    with pytest.raises(ContentUnavailable, match=digest) as raised:
        box.ledger.app.stores.blobs.get(digest)
    assert isinstance(raised.value, KeyError)
