"""Followers run independently: one that fails retries, parks alone, says where and why.

Issue 7, finding 1: one letter that the inbox view could not take stopped delivery,
the sealer and every view, forever, while `/health` said ok and the log printed
the letter's national register number. Here the inbox view fails on one letter
(a real database error, see tests/poison.py) and everything else goes on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select, text

from ebox.adapters.runtime import Ledger, open_ledger
from ebox.adapters.tables import inbox_messages, ledger_leaves, status_messages
from ebox.api import health
from ebox.projections.delivery import DeliveryWorker
from ebox.projections.faults import clear_fault, fault_of, record_fault
from ebox.projections.follower import latest_notification_id, set_position
from ebox.projections.inbox import InboxProjection
from ebox.projections.lifecycle import LifecycleScheduler
from ebox.projections.notifier import NotifierScheduler
from ebox.projections.runner import ProjectionTimeout, ViewRunner, wait_until_position
from ebox.projections.sealer import Sealer
from ebox.projections.workers import RetryPolicy, Workers
from tests.auth_helpers import api_client, app_settings
from tests.builders import CITIZEN, World, make_world
from tests.poison import POISONED, poisoned

FAST = RetryPolicy(attempts=3, backoff=0.01, max_backoff=0.02, parked_poll=0.05)
PERSONAL = (POISONED.id_value, "Aanslag", "Avertissement")


@pytest.fixture
def world(ledger: Ledger) -> World:
    world = make_world(ledger)
    ledger.app.open_mailbox(POISONED.ebox_type, POISONED.id_value)
    return world


def publish(world: World, *recipients: Any, key: str) -> list[str]:
    letters = [world.letter(r, idempotency_key=f"{key}-{n}") for n, r in enumerate(recipients)]
    return [o.message_id for o in world.ledger.app.publish_many(letters) if o.message_id]


def count(ledger: Ledger, table: Any) -> int:
    with ledger.db.read() as session:
        return int(session.execute(select(func.count()).select_from(table)).scalar_one())


def sent_notification(ledger: Ledger, message_id: str) -> int:
    """The notification id of the letter's Sent event (its first)."""
    notifications = ledger.app.recorder.select_notifications(start=1, limit=100_000)
    return next(
        n.id
        for n in notifications
        if str(n.originator_id) == message_id and n.originator_version == 1
    )


@pytest.fixture
def poisoned_inbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(InboxProjection, "apply", poisoned(InboxProjection.apply))
    yield
    monkeypatch.undo()


def test_a_view_that_fails_on_one_letter_parks_alone(
    ledger: Ledger, world: World, poisoned_inbox: None, caplog: pytest.LogCaptureFixture
) -> None:
    before = publish(world, CITIZEN, CITIZEN, key="before")
    (poison,) = publish(world, POISONED, key="poison")
    after = publish(world, CITIZEN, CITIZEN, CITIZEN, key="after")
    caplog.set_level(logging.DEBUG)

    parked = Workers(ledger, FAST).run_until_idle()

    assert parked == ["inbox"]
    latest = latest_notification_id(ledger)
    runner = ViewRunner(ledger)
    assert DeliveryWorker(ledger).lag() == 0
    assert runner.lag("status") == 0 and runner.lag("feed") == 0
    assert count(ledger, status_messages) == len(before) + 1 + len(after)
    assert count(ledger, ledger_leaves) == latest, "the sealer sealed every event"
    # Narrowed down: the letters before the poison reached the inbox, the poison is named.
    poison_at = sent_notification(ledger, poison)
    assert runner.position("inbox") == poison_at - 1
    assert count(ledger, inbox_messages) == len(before)
    fault = fault_of(ledger, "inbox")
    assert fault is not None and fault.parked
    assert (fault.position, fault.notification_id) == (poison_at - 1, poison_at)
    assert fault.error_class.startswith("IntegrityError")
    assert fault.attempts == FAST.attempts + 1  # the batch's, then the culprit's alone
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert "inbox parked" in logged
    for personal in PERSONAL:
        assert personal not in logged
        assert personal not in fault.error_class


def test_the_engine_hides_the_bound_values_of_a_failed_statement(
    ledger: Ledger, world: World, poisoned_inbox: None
) -> None:
    """SQLAlchemy's error text shows the statement, not its parameters.

    That is not enough on its own: PostgreSQL's DETAIL ("Failing row contains ...")
    quotes the row, so the followers log and record the error's class only.
    """
    publish(world, POISONED, key="poison")
    with pytest.raises(Exception) as failure:
        ViewRunner(ledger, ["inbox"]).run_until_idle()
    text_of_error = str(failure.value)
    assert "INSERT INTO inbox_messages" in text_of_error  # the statement, for the developer
    assert "[SQL parameters hidden due to hide_parameters=True]" in text_of_error
    assert "[parameters:" not in text_of_error


def test_a_restart_retries_a_parked_follower_once_and_it_heals(
    ledger: Ledger, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts: list[int] = []
    real = InboxProjection.apply
    failing = poisoned(real)

    def counted(self: InboxProjection, session: Any, items: Any) -> None:
        attempts.append(len(items))
        failing(self, session, items)

    monkeypatch.setattr(InboxProjection, "apply", counted)
    publish(world, POISONED, CITIZEN, key="mixed")
    assert Workers(ledger, FAST).run_until_idle() == ["inbox"]

    attempts.clear()  # a restart with the bug still there: one more try, still parked
    assert Workers(ledger, FAST).run_until_idle() == ["inbox"]
    assert attempts == [1]
    fault = fault_of(ledger, "inbox")
    assert fault is not None and fault.parked and fault.attempts == FAST.attempts + 2

    monkeypatch.setattr(InboxProjection, "apply", real)  # the fix is deployed
    assert Workers(ledger, FAST).run_until_idle() == []
    assert fault_of(ledger, "inbox") is None
    assert ViewRunner(ledger).lag("inbox") == 0
    assert count(ledger, inbox_messages) == 2


def test_a_rebuild_clears_a_parked_view(
    ledger: Ledger, world: World, poisoned_inbox: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(world, POISONED, key="poison")
    assert Workers(ledger, FAST).run_until_idle() == ["inbox"]
    monkeypatch.undo()
    ViewRunner(ledger, ["inbox"]).rebuild("inbox")
    assert fault_of(ledger, "inbox") is None and ViewRunner(ledger).lag("inbox") == 0


def test_a_transient_failure_is_retried_and_leaves_no_fault(
    ledger: Ledger, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = InboxProjection.apply
    failures = [RuntimeError("the disk hiccuped")]

    def once(self: InboxProjection, session: Any, items: Any) -> None:
        if failures:
            raise failures.pop()
        real(self, session, items)

    monkeypatch.setattr(InboxProjection, "apply", once)
    publish(world, CITIZEN, key="one")
    assert Workers(ledger, FAST).run_until_idle() == []
    assert fault_of(ledger, "inbox") is None
    assert count(ledger, inbox_messages) == 1


def test_backoff_doubles_up_to_its_bound_and_is_read_from_the_environment() -> None:
    policy = RetryPolicy(attempts=4, backoff=0.5, max_backoff=3.0)
    assert [policy.delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    configured = RetryPolicy.from_env(
        {
            "EBOX_FOLLOWER_ATTEMPTS": "7",
            "EBOX_FOLLOWER_BACKOFF": "0.25",
            "EBOX_FOLLOWER_BACKOFF_MAX": "8",
        }
    )
    assert (configured.attempts, configured.backoff, configured.max_backoff) == (7, 0.25, 8.0)


# ------------------------------------------------------------------ two processes, one position


def test_a_follower_that_loses_the_race_rereads_and_goes_on(
    sqlite_url: str, ledger_home: Any
) -> None:
    """Issue 7, finding 14: `RuntimeError: delivery: another worker moved the position`.

    The other process (a second ledger on the same file) moves the position between
    this follower's read and its claim; on PostgreSQL the tracking row's lock makes
    the loser wait instead (the two-process test covers both databases).
    """
    ledger = open_ledger(sqlite_url, home=ledger_home)
    other = open_ledger(sqlite_url, home=ledger_home)
    try:
        world = make_world(ledger)
        ids = publish(world, CITIZEN, CITIZEN, CITIZEN, key="race")
        with ledger.db.write() as session:  # both have followed before: the row exists
            set_position(session, DeliveryWorker.name, 0)
        rival = DeliveryWorker(other)
        follower = DeliveryWorker(ledger, batch_size=2)
        real_select = follower.select
        raced: list[int] = []

        def select_then_lose(session: Any, position: int, upper: int, limit: int) -> Any:
            found = real_select(session, position, upper, limit)
            if not raced:  # the rival, on its own connection, delivers everything first
                rival_thread = threading.Thread(target=lambda: raced.append(rival.run_until_idle()))
                rival_thread.start()
                rival_thread.join(timeout=60)
            return found

        follower.select = select_then_lose  # type: ignore[method-assign]
        assert follower.run_until_idle() == 0  # nothing left for the loser, and no error
        assert raced == [len(ids)]
        assert follower.position() == latest_notification_id(ledger)
        assert all(ledger.app.message(i).delivered for i in ids)
        with ledger.db.read() as session:
            delivered = session.execute(
                text("SELECT count(*) FROM ebox_events WHERE topic LIKE '%Delivered'")
            ).scalar()
        assert delivered == len(ids)
    finally:
        other.close()
        ledger.close()


# ------------------------------------------------------------------ /health


def test_health_names_a_parked_follower_with_its_position_and_error_class(
    ledger: Ledger, world: World, ledger_home: Any, poisoned_inbox: None
) -> None:
    (poison,) = publish(world, POISONED, key="poison")
    Workers(ledger, FAST).run_until_idle()
    with api_client(ledger, ledger_home, routers=(health.register,)) as http:
        response = http.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded" and body["stuck"] == ["inbox"]
    inbox = body["followers"]["inbox"]
    poison_at = sent_notification(ledger, poison)
    assert inbox["state"] == "parked"
    assert inbox["position"] == ViewRunner(ledger).position("inbox") < poison_at
    assert inbox["notification"] == poison_at
    assert inbox["error"].startswith("IntegrityError")
    assert body["followers"]["sealer"] == {"state": "running", "position": poison_at + 1, "lag": 0}
    for personal in PERSONAL:
        assert personal not in response.text


def test_health_is_degraded_when_a_lag_exceeds_the_bound(
    ledger: Ledger, world: World, ledger_home: Any
) -> None:
    publish(world, CITIZEN, key="late")
    DeliveryWorker(ledger).run_until_idle()
    ViewRunner(ledger).run_until_idle()
    LifecycleScheduler(ledger).run_until_idle()
    NotifierScheduler(ledger).run_until_idle()
    late = latest_notification_id(ledger)
    with ledger.db.write() as session:  # the sealer has sealed nothing yet
        set_position(session, "sealer", 0)

    def get(max_lag: int) -> Any:
        settings = app_settings(max_lag=max_lag)
        with api_client(ledger, ledger_home, settings, routers=(health.register,)) as http:
            return http.get("/health")

    within = get(late)
    assert within.status_code == 200 and within.json()["status"] == "ok"
    beyond = get(late - 1)
    assert beyond.status_code == 503
    assert beyond.json()["stuck"] == ["sealer"]
    assert beyond.json()["followers"]["sealer"]["late"] is True


# ------------------------------------------------------------------ the operator's view


def test_the_cli_shows_a_parked_follower_and_workers_once_exits_1(
    ledger: Ledger, world: World, poisoned_inbox: None, ledger_home: Any
) -> None:
    from typer.testing import CliRunner

    from ebox.cli.main import app as cli

    (poison,) = publish(world, POISONED, key="poison")
    env = {
        # The operator's own data directory: the database is bound to its keys.
        "EBOX_HOME": str(ledger_home),
        "EBOX_FOLLOWER_ATTEMPTS": "2",
        "EBOX_FOLLOWER_BACKOFF": "0.01",
    }
    once = CliRunner().invoke(cli, ["workers", "--once", "--db", ledger.url], env=env)
    assert once.exit_code == 1, once.output
    assert "parked: inbox" in once.output

    status = CliRunner().invoke(cli, ["projections", "status", "--db", ledger.url], env=env)
    assert status.exit_code == 0, status.output
    inbox_line = next(line for line in status.output.splitlines() if "inbox" in line)
    assert "parked" in inbox_line and "IntegrityError" in inbox_line
    assert str(sent_notification(ledger, poison)) in inbox_line
    sealer_line = next(line for line in status.output.splitlines() if "sealer" in line)
    assert "running" in sealer_line

    retried = CliRunner().invoke(
        cli, ["projections", "retry", "inbox", "--db", ledger.url], env=env
    )
    assert retried.exit_code == 0, retried.output
    assert fault_of(ledger, "inbox") is None  # parked loops see it and resume
    unknown = CliRunner().invoke(cli, ["projections", "retry", "nope", "--db", ledger.url], env=env)
    assert unknown.exit_code == 2


# ------------------------------------------------------------------ the migration


def test_the_migration_keeps_each_views_position(database_url: str) -> None:
    """0005_followers moves the views' positions into `ebox_tracking`, and back on downgrade."""
    from alembic import command
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from ebox.adapters.schema import alembic_config, upgrade

    config = alembic_config(database_url)
    command.downgrade(config, "0004")
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            for view, position in (("inbox", 42), ("status", 7)):  # feed never ran
                connection.execute(
                    text(f"INSERT INTO {view}_tracking VALUES ('Ebox', :position)"),
                    {"position": position},
                )
        upgrade(database_url)
        with engine.connect() as connection:
            tracked = dict(
                connection.execute(text("SELECT name, position FROM ebox_tracking")).tuples().all()
            )
        assert tracked == {"inbox": 42, "status": 7}
        command.downgrade(config, "0004")
        with engine.connect() as connection:
            back = connection.execute(text("SELECT notification_id FROM inbox_tracking")).scalar()
            left = connection.execute(text("SELECT count(*) FROM ebox_tracking")).scalar()
        assert (back, left) == (42, 0)
    finally:
        upgrade(database_url)
        engine.dispose()


def test_a_fault_left_by_a_dead_process_is_cleared_by_a_live_one(
    ledger: Ledger, world: World
) -> None:
    """Another process recorded a failure of the sealer and was killed; this one goes on fine."""
    publish(world, CITIZEN, key="one")
    workers = Workers(ledger, FAST)
    workers.start(interval=0.01)
    try:
        deadline = time.monotonic() + 60  # liveness only
        while ViewRunner(ledger).lag("inbox") or Sealer(ledger).lag():
            assert time.monotonic() < deadline, "the workers never caught up"
            time.sleep(0.02)
        record_fault(
            ledger,
            "sealer",
            position=0,
            notification_id=1,
            error=RuntimeError("the dead process's failure"),
            attempts=1,
            parked=False,
        )
        while fault_of(ledger, "sealer") is not None:
            assert time.monotonic() < deadline, "the stale fault was never cleared"
            time.sleep(0.02)
    finally:
        workers.stop()


def test_a_parked_loop_resumes_when_its_fault_is_cleared_elsewhere(
    ledger: Ledger, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ebox projections retry NAME`, or a restart's retry in another process, clears it."""
    monkeypatch.setattr(InboxProjection, "apply", poisoned(InboxProjection.apply))
    publish(world, POISONED, CITIZEN, key="mixed")
    workers = Workers(ledger, FAST)
    workers.start(interval=0.01)
    try:
        deadline = time.monotonic() + 60  # liveness only
        while not workers.parked():
            assert time.monotonic() < deadline, "the inbox never parked"
            time.sleep(0.02)
        monkeypatch.undo()  # the fix, and then the operator's retry
        clear_fault(ledger, "inbox")
        while ViewRunner(ledger).lag("inbox"):
            assert time.monotonic() < deadline, "the parked inbox never resumed"
            time.sleep(0.02)
    finally:
        workers.stop()
    assert count(ledger, inbox_messages) == 2 and fault_of(ledger, "inbox") is None


def test_a_follower_says_it_is_parked_only_once_its_fault_is_on_record(
    ledger: Ledger, world: World, poisoned_inbox: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Otherwise a `retry` that clears the fault in between is lost and the loop stays parked."""
    import ebox.projections.supervisor as supervisor

    workers = Workers(ledger, FAST)
    loop = workers.loops["inbox"]
    seen_parked: list[bool] = []

    def recording(*args: Any, **kwargs: Any) -> None:
        if kwargs.get("parked"):
            seen_parked.append(loop.parked)
        record_fault(*args, **kwargs)

    monkeypatch.setattr(supervisor, "record_fault", recording)
    publish(world, POISONED, key="poison")
    assert workers.run_until_idle() == ["inbox"]
    assert seen_parked and not any(seen_parked)


def test_read_your_writes_on_a_failing_view_is_a_timeout_not_the_views_error(
    ledger: Ledger, world: World, poisoned_inbox: None
) -> None:
    """The request that waits for its write is not failed with the view's database error."""
    publish(world, POISONED, key="poison")
    written = latest_notification_id(ledger)
    with pytest.raises(ProjectionTimeout):
        wait_until_position(ledger, "inbox", written, timeout=0.5)
    assert Workers(ledger, FAST).run_until_idle() == ["inbox"]
    with pytest.raises(ProjectionTimeout) as parked:  # parked: no point in waiting
        wait_until_position(ledger, "inbox", written, timeout=600)
    assert parked.value.position < written
