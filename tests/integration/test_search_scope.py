"""A search in one eBox costs by that person's letters, not by the whole inbox table.

The world: one citizen with a few letters, and many other citizens whose
letters hold the same words (the same sender, the same subject). A search
finds the citizen's letters and never another's; and the database reaches
them through the mailbox: on SQLite the FTS5 MATCH itself yields only the
caller's rows (every term carries the mailbox), on PostgreSQL the plan reads
the search rows through the mailbox index, not through a scan of every
letter holding the word.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import event, text

from ebox.adapters.runtime import Ledger
from ebox.adapters.schema import alembic_config, upgrade
from ebox.cli.demo import signed_publication
from ebox.cli.demo_data import national_register_number
from ebox.domain.publication import Document, Publication, Recipient
from ebox.projections.delivery import DeliveryWorker
from ebox.projections.inbox import InboxView, MessageFilter
from ebox.projections.runner import EboxId, ViewRunner
from tests.builders import CITIZEN, World, make_world

CITIZEN_BOX = EboxId(CITIZEN.ebox_type, CITIZEN.id_value)
OTHERS = 30
LETTERS_EACH = 50
"""1,500 letters of others hold the words searched for, against the citizen's 4."""
COMMON = {"nl": "Aanslag personenbelasting", "fr": "Avertissement-extrait de rôle"}
PENSION = {"nl": "Pensioenattest", "fr": "Attestation de pension"}


def letter(world: World, recipient: Recipient, subjects: dict[str, str], key: str) -> Publication:
    documents = [Document("letter.pdf", "application/pdf", b"%PDF-1.4\n", main_content=True)]
    return signed_publication(world.sender, recipient, "TAX", subjects, documents, True, key)


@dataclass
class Crowd:
    ledger: Ledger
    view: InboxView
    mine: dict[str, str]
    """The citizen's letters: message id -> which."""
    neighbour: EboxId


@pytest.fixture
def crowd(ledger: Ledger) -> Crowd:
    world = make_world(ledger)
    rng = random.Random(5)
    others: list[str] = []
    while len(others) < OTHERS:
        number = national_register_number(rng)
        if number != CITIZEN.id_value and number not in others:
            others.append(number)
    for number in others:
        ledger.app.open_mailbox("citizen", number)
    batch = [
        letter(world, Recipient("citizen", number), COMMON, f"other-{number}-{i}")
        for number in others
        for i in range(LETTERS_EACH)
    ]
    for start in range(0, len(batch), 500):
        assert all(o.ok for o in ledger.app.publish_many(batch[start : start + 500]))
    mine = {
        ledger.app.publish(letter(world, CITIZEN, COMMON, f"mine-{i}")): "tax" for i in range(3)
    }
    mine[ledger.app.publish(letter(world, CITIZEN, PENSION, "mine-pension"))] = "pension"
    DeliveryWorker(ledger).run_until_idle()
    ViewRunner(ledger, ["inbox"]).run_until_idle()
    with ledger.db.write() as session:
        session.execute(text("ANALYZE"))
    return Crowd(ledger, InboxView.of(ledger), mine, EboxId("citizen", others[0]))


def found(crowd: Crowd, q: str, qlang: str, ebox: EboxId = CITIZEN_BOX) -> list[str]:
    page = crowd.view.messages(ebox, MessageFilter(q=q, qlang=qlang), page_size=100)
    return sorted(crowd.mine.get(m.message_id, "another's") for m in page.items)


def test_a_search_finds_the_callers_letters_and_never_anothers(crowd: Crowd) -> None:
    assert found(crowd, "personenbelasting", "nl") == ["tax", "tax", "tax"]
    assert found(crowd, "AANSLAG person", "nl") == ["tax", "tax", "tax"]
    assert found(crowd, "aanslag", "nl") == ["pension", "tax", "tax", "tax"]  # the type's name
    assert found(crowd, "role", "fr") == ["tax", "tax", "tax"]
    assert found(crowd, "pension", "fr") == ["pension"]
    assert found(crowd, "financien", "nl") == ["pension", "tax", "tax", "tax"]
    assert found(crowd, "personenbelasting pensioen", "nl") == []
    assert found(crowd, "___", "nl") == []
    neighbour = crowd.view.messages(
        crowd.neighbour, MessageFilter(q="personenbelasting", qlang="nl"), page_size=100
    )
    assert neighbour.total_items == LETTERS_EACH
    assert not {m.message_id for m in neighbour.items} & set(crowd.mine)


@contextmanager
def sent_statements(ledger: Ledger) -> Iterator[list[tuple[str, Any]]]:
    """The (statement, parameters) the view sends to the driver meanwhile."""
    engine = ledger.app.factory.datastore.engine  # type: ignore[attr-defined]
    seen: list[tuple[str, Any]] = []

    def listener(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def search_statement(crowd: Crowd, q: str, qlang: str) -> tuple[str, Any]:
    with sent_statements(crowd.ledger) as seen:
        crowd.view.messages(CITIZEN_BOX, MessageFilter(q=q, qlang=qlang))
    (listing,) = [(st, params) for st, params in seen if "inbox_search" in st][:1]
    return listing


def test_a_search_reads_only_the_callers_rows(crowd: Crowd) -> None:
    statement, parameters = search_statement(crowd, "personenbelasting", "nl")
    engine = crowd.ledger.app.factory.datastore.engine  # type: ignore[attr-defined]
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if crowd.ledger.db.dialect == "postgresql":
            cursor.execute(f"EXPLAIN (FORMAT JSON) {statement}", parameters)
            plan = cursor.fetchone()[0]
            nodes = list(plan_nodes(plan[0]["Plan"]))
            # The search rows are reached through the mailbox index alone: no scan of
            # the table, no index of the word whose postings span every mailbox.
            assert [
                n.get("Index Name")
                for n in nodes
                if n.get("Index Name", "").startswith("inbox_search")
            ] == ["inbox_search_mailbox_idx"], json.dumps(plan, indent=1)
            assert not [n for n in nodes if n["Node Type"] in ("Seq Scan", "BitmapAnd")], (
                json.dumps(plan, indent=1)
            )
        else:
            # What the FTS5 MATCH yields is what the search pays for: the caller's rows.
            match = next(p for p in parameters if isinstance(p, str) and " : (" in p)
            cursor.execute("SELECT count(*) FROM inbox_search WHERE inbox_search MATCH ?", (match,))
            assert cursor.fetchone()[0] == 3
            cursor.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)
            steps = [row[3] for row in cursor.fetchall()]
            assert any(s.startswith("SEARCH inbox_messages USING") for s in steps), steps
            assert not any(s.startswith("SCAN inbox_messages") for s in steps), steps
    finally:
        raw.rollback()
        raw.close()


def plan_nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from plan_nodes(child)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_migration_scopes_the_rows_written_before_it(crowd: Crowd, database_url: str) -> None:
    """SQLite rows indexed before 0006 are rewritten with the mailbox's mark."""
    from alembic import command

    command.downgrade(alembic_config(database_url), "0005_followers")
    with crowd.ledger.db.read() as session:
        unscoped = session.execute(
            text("SELECT count(*) FROM inbox_search WHERE inbox_search MATCH 'personenbelasting*'")
        ).scalar_one()
    assert unscoped == OTHERS * LETTERS_EACH + 3  # the old index: every mailbox's rows
    upgrade(database_url)
    assert found(crowd, "personenbelasting", "nl") == ["tax", "tax", "tax"]
    assert found(crowd, "pension", "fr") == ["pension"]
    _, parameters = search_statement(crowd, "personenbelasting", "nl")
    match = next(p for p in parameters if isinstance(p, str) and " : (" in p)
    with crowd.ledger.db.read() as session:
        scoped = session.execute(
            text("SELECT count(*) FROM inbox_search WHERE inbox_search MATCH :q"), {"q": match}
        ).scalar_one()
    assert scoped == 3
