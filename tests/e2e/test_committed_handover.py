"""A committed handover is answered as committed; content that cannot be served records nothing.

Opening a document records `Read` (or `ContentAccessed`): the evidence of a
handover. So the ledger decrypts and prepares the content first and records the
opening only when it can be served; and a failure after the commit (catching the
inbox view up, here made to fail by a trigger that refuses every update of the
view's table) is logged, never turned into an error for the committed action.
The same holds for every write that catches the view up: archive, PATCH; and a
PATCH of several messages is saved whole or not at all.

On SQLite and PostgreSQL: the seam is the database's own (a trigger), and each
database fails the view's transaction in its own way.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from ebox.adapters.runtime import Ledger
from ebox.adapters.tables import blobs
from ebox.projections.runner import latest_notification_id
from tests.auth_helpers import api_client
from tests.e2e.test_consultation_api import (
    BASE,
    MERGE_PATCH,
    PDF,
    PENSION_BODY,
    Box,
    build_world,
    contract_body,
)

TRIGGER = "ebox_test_inbox_refuses_updates"


@pytest.fixture
def box(ledger: Ledger, ledger_home: Path) -> Iterator[Box]:
    letters = build_world(ledger)
    with api_client(ledger, ledger_home) as http:
        yield Box(ledger, http, **letters)


def _execute(ledger: Ledger, *statements: str) -> None:
    with ledger.db.write() as session:
        for statement in statements:
            session.execute(text(statement))


@contextmanager
def inbox_view_broken(ledger: Ledger) -> Iterator[None]:
    """Every UPDATE of the inbox view's table fails until the block ends."""
    if ledger.db.dialect == "postgresql":
        _execute(
            ledger,
            f"CREATE FUNCTION {TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'inbox view broken by the test'; END $$",
            f"CREATE TRIGGER {TRIGGER} BEFORE UPDATE ON inbox_messages "
            f"FOR EACH ROW EXECUTE FUNCTION {TRIGGER}()",
        )
        drop = [f"DROP TRIGGER {TRIGGER} ON inbox_messages", f"DROP FUNCTION {TRIGGER}()"]
    else:
        _execute(
            ledger,
            f"CREATE TRIGGER {TRIGGER} BEFORE UPDATE ON inbox_messages "
            "BEGIN SELECT RAISE(ABORT, 'inbox view broken by the test'); END",
        )
        drop = [f"DROP TRIGGER {TRIGGER}"]
    try:
        yield
    finally:
        _execute(ledger, *drop)


def test_a_read_whose_view_catch_up_fails_is_served_and_stays_recorded(box: Box) -> None:
    with inbox_view_broken(box.ledger):
        content = box.get(f"/ebox/messages/{box.tax}/attachments/1/content")
        assert contract_body(content, "getAttachmentContentById", 200) == PDF.decode("latin-1")
        assert content.content == PDF
        body = box.get(f"/ebox/messages/{box.pension}/body")
        assert contract_body(body, "getBodyContent", 200) == PENSION_BODY
        assert box.event_types(box.tax)[-1] == "Read"
        assert box.event_types(box.pension)[-1] == "Read"
        # The view could not follow: it still shows both unread...
        assert box.listed(readStatus="true") == []
        position = int(content.headers["X-Ebox-Position"])
        # ... and a reader who asks for that position is told to come back, not a 500.
        stuck = box.get("/ebox", headers=box.citizen(**{"X-Ebox-Min-Position": str(position)}))
        assert contract_body(stuck, "getEBoxById", 503)["code"] == "NOT_YET_CONSISTENT"
        assert stuck.headers["Retry-After"] == "1"
    assert int(body.headers["X-Ebox-Position"]) == latest_notification_id(box.ledger)

    # Once the fault is gone the view catches up to the position the answer named.
    caught_up = box.get(
        "/ebox/messages",
        headers=box.citizen(**{"X-Ebox-Min-Position": str(position)}),
        params={"readStatus": "true"},
    )
    listed = contract_body(caught_up, "getMessagesByEBoxId", 200)
    assert [m["messageId"] for m in listed["items"]] == [box.pension, box.tax]


def test_archive_and_patch_answer_what_they_committed_when_the_view_fails(box: Box) -> None:
    with inbox_view_broken(box.ledger):
        archived = box.http.post(f"{BASE}/ebox/messages/{box.fine}/archive", headers=box.citizen())
        contract_body(archived, None, 204)
        assert "X-Ebox-Position" in archived.headers
        hidden = box.http.patch(
            f"{BASE}/ebox/messages",
            content=json.dumps({"items": [{"messageId": box.tax, "visible": False}]}),
            headers=box.citizen(**MERGE_PATCH),
        )
        contract_body(hidden, "patchMessagesByEBoxId", 200)
        assert box.event_types(box.fine)[-1] == "Archived"
        assert box.event_types(box.tax)[-1] == "Hidden"


@contextmanager
def events_of_refused(ledger: Ledger, aggregate: UUID) -> Iterator[None]:
    """The event store refuses new events of one aggregate until the block ends."""
    if ledger.db.dialect == "postgresql":
        _execute(
            ledger,
            f"CREATE FUNCTION {TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'events refused by the test'; END $$",
            f"CREATE TRIGGER {TRIGGER} BEFORE INSERT ON ebox_events FOR EACH ROW "
            f"WHEN (NEW.originator_id = '{aggregate}'::uuid) EXECUTE FUNCTION {TRIGGER}()",
        )
        drop = [f"DROP TRIGGER {TRIGGER} ON ebox_events", f"DROP FUNCTION {TRIGGER}()"]
    else:
        _execute(
            ledger,
            f"CREATE TRIGGER {TRIGGER} BEFORE INSERT ON ebox_events "
            f"WHEN NEW.originator_id = X'{aggregate.hex}' "
            "BEGIN SELECT RAISE(ABORT, 'events refused by the test'); END",
        )
        drop = [f"DROP TRIGGER {TRIGGER}"]
    try:
        yield
    finally:
        _execute(ledger, *drop)


def test_a_patch_that_cannot_be_saved_whole_changes_nothing(box: Box) -> None:
    items = [{"messageId": box.tax, "visible": False}, {"messageId": box.fine, "visible": False}]
    with (
        events_of_refused(box.ledger, box.ledger.app.message(box.fine).id),
        TestClient(box.http.app, raise_server_exceptions=False) as http,
    ):
        refused = http.patch(
            f"{BASE}/ebox/messages",
            content=json.dumps({"items": items}),
            headers=box.citizen(**MERGE_PATCH),
        )
    assert refused.status_code >= 500  # the store failed: not the request's fault
    assert box.event_types(box.tax) == ["Sent", "Delivered"]  # not half-written
    assert box.event_types(box.fine) == ["Sent", "Delivered"]


def test_content_that_cannot_be_decrypted_records_no_handover(box: Box) -> None:
    pdf = box.ledger.app.message(box.tax).document("aanslag.pdf")
    with box.ledger.db.write() as session:
        session.execute(blobs.delete().where(blobs.c.digest == pdf["ciphertext_sha256"]))
    before = box.event_types(box.tax)

    with TestClient(box.http.app, raise_server_exceptions=False) as http:
        refused = http.get(
            f"{BASE}/ebox/messages/{box.tax}/attachments/1/content", headers=box.citizen()
        )
    contract_body(refused, "getAttachmentContentById", 500)
    assert box.event_types(box.tax) == before  # no Read: nothing was handed over
    assert "Read" not in before
