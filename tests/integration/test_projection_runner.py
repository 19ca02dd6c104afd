"""Running the views: exactly once, crash-safe, rebuildable, with their lag reported."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner

from ebox.adapters.runtime import Ledger
from ebox.adapters.tables import tracking
from ebox.projections.delivery import DeliveryWorker
from ebox.projections.runner import (
    PROJECTION_NAMES,
    EboxId,
    ProjectionTimeout,
    RowBatch,
    UnknownProjection,
    ViewRunner,
    latest_notification_id,
    wait_until_position,
)
from ebox.projections.status import MessageRef, StatusView
from tests.builders import CITIZEN, ENTERPRISE, World, make_world


@pytest.fixture
def world(ledger: Ledger) -> World:
    return make_world(ledger)


def busy_day(ledger: Ledger, world: World, letters: int = 6) -> list[str]:
    """Letters published, delivered, some read, archived and hidden."""
    recipients = [CITIZEN, ENTERPRISE]
    ids = [
        o.message_id
        for o in ledger.app.publish_many(
            [world.letter(recipients[n % 2], idempotency_key=f"k{n}") for n in range(letters)]
        )
        if o.message_id
    ]
    DeliveryWorker(ledger).run_until_idle()
    for message_id in ids[:3]:
        ledger.app.open_document(message_id, "letter.pdf", "reader", "portal")
    ledger.app.archive(ids[0], by="reader")
    ledger.app.hide(ids[1], by="reader")
    return ids


def snapshot(ledger: Ledger, name: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of a view's tables, in a stable order."""
    view = ViewRunner(ledger, [name]).projection(name).view
    with view.reading() as session:
        return {
            table.name: sorted(tuple(map(repr, row)) for row in session.execute(select(table)))
            for table in view.view_tables
        }


def rows_of(ledger: Ledger, name: str) -> int:
    return sum(len(rows) for rows in snapshot(ledger, name).values())


def test_a_rebuild_yields_the_same_rows(ledger: Ledger, world: World) -> None:
    busy_day(ledger, world)
    runner = ViewRunner(ledger, batch_size=4)
    runner.run_until_idle()
    before = {name: snapshot(ledger, name) for name in PROJECTION_NAMES}
    assert all(rows_of(ledger, name) for name in PROJECTION_NAMES)

    for name in PROJECTION_NAMES:
        runner.rebuild(name)
        assert snapshot(ledger, name) == before[name], name
        assert runner.lag(name) == 0


def test_lag_counts_the_notifications_a_view_has_not_examined(ledger: Ledger, world: World) -> None:
    runner = ViewRunner(ledger)
    latest = latest_notification_id(ledger)
    assert latest > 0 and runner.lags() == dict.fromkeys(PROJECTION_NAMES, latest)

    runner.run_until_idle()
    assert runner.lags() == dict.fromkeys(PROJECTION_NAMES, 0)

    # Events no view cares about still count until a view has looked past them.
    ledger.app.open_mailbox("citizen", "85073003328")
    assert runner.lag("status") > 0
    runner.run_until_idle()
    assert runner.lag("status") == 0 and runner.position("status") == latest_notification_id(ledger)


def test_a_failure_mid_batch_leaves_neither_rows_nor_position(
    ledger: Ledger, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    busy_day(ledger, world)
    flushed: list[str] = []
    real_flush = RowBatch.flush

    def flush_then_crash(self: RowBatch, session: Any) -> None:
        real_flush(self, session)  # the rows (and the moved position) are in the transaction...
        flushed.append(self.table.name)
        raise RuntimeError("power cut before the commit")  # ...and then the batch dies

    monkeypatch.setattr(RowBatch, "flush", flush_then_crash)
    runner = ViewRunner(ledger, batch_size=1000)
    for name in PROJECTION_NAMES:
        with pytest.raises(RuntimeError, match="power cut"):
            runner.run_once(name)
    assert set(flushed) >= {"inbox_messages", "status_messages", "feed_messages"}
    for name in PROJECTION_NAMES:
        assert rows_of(ledger, name) == 0, f"{name} shows part of a failed batch"
        assert runner.position(name) == 0

    monkeypatch.undo()
    runner.run_until_idle()
    recovered = {name: snapshot(ledger, name) for name in PROJECTION_NAMES}
    for name in PROJECTION_NAMES:
        runner.rebuild(name)
    assert recovered == {name: snapshot(ledger, name) for name in PROJECTION_NAMES}


def test_a_view_crashed_half_way_catches_up_from_its_position(ledger: Ledger, world: World) -> None:
    busy_day(ledger, world)
    runner = ViewRunner(ledger, ["inbox"], batch_size=5)
    runner.run_once()
    halfway = runner.position("inbox")
    assert 0 < halfway < latest_notification_id(ledger)

    restarted = ViewRunner(ledger, ["inbox"], batch_size=5)  # a new process, same database
    assert restarted.position("inbox") == halfway
    restarted.run_until_idle()
    caught_up = snapshot(ledger, "inbox")
    restarted.rebuild("inbox")
    assert snapshot(ledger, "inbox") == caught_up


def test_every_view_tracks_its_position_where_delivery_and_the_sealer_do(
    ledger: Ledger, world: World
) -> None:
    """One kind of tracking record: a row of `ebox_tracking` per follower."""
    DeliveryWorker(ledger).run_until_idle()
    ViewRunner(ledger).run_until_idle()
    with ledger.db.read() as session:
        found = session.execute(select(tracking.c.name, tracking.c.position)).all()
    rows = {name: position for name, position in found}
    latest = latest_notification_id(ledger)
    assert rows == {"delivery": latest, **dict.fromkeys(PROJECTION_NAMES, latest)}
    engine = create_engine(ledger.url, poolclass=NullPool)
    try:
        left = {f"{name}_tracking" for name in PROJECTION_NAMES} & set(
            inspect(engine).get_table_names()
        )
    finally:
        engine.dispose()
    assert not left, "the views' own tracking tables are gone"


def test_waiting_for_ones_own_write(ledger: Ledger, world: World) -> None:
    message_id = ledger.app.publish(world.letter())
    written = latest_notification_id(ledger)
    with pytest.raises(ProjectionTimeout):
        wait_until_position(ledger, "status", written, timeout=0.05, inline=False)

    assert wait_until_position(ledger, "status", written, timeout=5) >= written
    ebox = EboxId(CITIZEN.ebox_type, CITIZEN.id_value)
    found = StatusView.of(ledger).statuses(world.sender.kbo, [MessageRef(message_id, ebox)])
    assert [s.message_id for s in found] == [message_id]


@pytest.fixture
def background(ledger: Ledger) -> Iterator[ViewRunner]:
    """A runner following the log in a thread, as the workers process does."""
    runner = ViewRunner(ledger)
    stop = threading.Event()
    # On PostgreSQL a long poll interval shows that a NOTIFY wakes the runner up.
    interval = 2.0 if ledger.url.startswith("postgresql") else 0.05
    thread = threading.Thread(target=runner.run_forever, args=(stop, interval))
    thread.start()
    try:
        yield runner
    finally:
        stop.set()
        thread.join(timeout=10)


def test_a_background_runner_follows_new_events(
    ledger: Ledger, world: World, background: ViewRunner
) -> None:
    time.sleep(0.1)  # let it reach its first wait
    ledger.app.publish(world.letter())
    written = latest_notification_id(ledger)
    started = time.monotonic()
    wait_until_position(ledger, "inbox", written, timeout=5, inline=False)
    if ledger.url.startswith("postgresql"):  # woken by NOTIFY, not by its 2 s poll
        assert time.monotonic() - started < 1.5


def test_unknown_projection_names_are_refused(ledger: Ledger) -> None:
    with pytest.raises(UnknownProjection):
        ViewRunner(ledger, ["mailboxes"])
    with pytest.raises(UnknownProjection):
        ViewRunner(ledger, ["inbox"]).lag("feed")


def test_the_cli_reports_lag_and_rebuilds(ledger: Ledger, world: World, ledger_home: Any) -> None:
    from ebox.cli.main import app as cli

    busy_day(ledger, world, letters=2)
    env = {"EBOX_HOME": str(ledger_home)}  # the operator's: the database is bound to its keys
    status = CliRunner().invoke(cli, ["projections", "status", "--db", ledger.url], env=env)
    assert status.exit_code == 0, status.output
    latest = latest_notification_id(ledger)
    for name in PROJECTION_NAMES:
        assert name in status.output
    assert str(latest) in status.output

    rebuilt = CliRunner().invoke(
        cli, ["projections", "rebuild", "inbox", "--db", ledger.url], env=env
    )
    assert rebuilt.exit_code == 0, rebuilt.output
    assert ViewRunner(ledger, ["inbox"]).lag("inbox") == 0
    with ledger.db.read() as session:
        assert session.execute(text("SELECT count(*) FROM inbox_messages")).scalar() == 2

    unknown = CliRunner().invoke(
        cli, ["projections", "rebuild", "nope", "--db", ledger.url], env=env
    )
    assert unknown.exit_code != 0
