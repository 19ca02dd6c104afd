"""Worker processes (`ebox workers`) as they run in production, on SQLite and PostgreSQL.

- Issue 7, finding 14: two worker processes on one database while letters are
  published: every letter delivered once and every event sealed once, and
  neither process crashes on the other's moves.
- The chaos test of issue 7: one view's handler fails in the worker process;
  delivery, the sealer and the other views go on, `/health` names the stuck view,
  and after the fault is removed (a restart with the fix) it catches up.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Table, func, select

from ebox.adapters.runtime import Ledger
from ebox.adapters.tables import inbox_messages, status_messages
from ebox.adapters.transparency import NoCheckpoint, TransparencyLog
from ebox.api import health
from ebox.domain.publication import Recipient
from ebox.projections.faults import fault_of
from ebox.projections.follower_status import follower_statuses
from tests.auth_helpers import api_client
from tests.builders import CITIZEN, ENTERPRISE, World, make_world
from tests.poison import POISONED

REPO = Path(__file__).resolve().parents[2]
LIVENESS = 180.0  # seconds: generous, only so that a hung run fails instead of hanging
PERSONAL = (POISONED.id_value, "Aanslag", "Avertissement")


@contextmanager
def worker_process(
    database_url: str, home: Path, *, chaos: bool = False, **env: str
) -> Iterator[subprocess.Popen[str]]:
    """`ebox workers` (or the chaos child, whose inbox fails on POISONED) until SIGTERM."""
    command = (
        [sys.executable, str(Path(__file__).with_name("chaos_child.py"))]
        if chaos
        else [sys.executable, "-m", "ebox.cli.main", "workers"]
    )
    process = subprocess.Popen(
        [*command, "--db", database_url, "--interval", "0.02"],
        cwd=REPO,
        env={**os.environ, "EBOX_HOME": str(home), "PYTHONPATH": str(REPO), **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def stopped(process: subprocess.Popen[str]) -> str:
    """Stop the process as an orchestrator does; its stderr (logs), once it exited cleanly."""
    assert process.poll() is None, (
        f"the worker died: {process.stderr.read() if process.stderr else ''}"
    )
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    return stderr


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + LIVENESS
    while not condition():
        assert time.monotonic() < deadline, f"not within {LIVENESS:g} s: {what}"
        time.sleep(0.1)


def lags(ledger: Ledger) -> dict[str, int]:
    return {s.name: s.lag for s in follower_statuses(ledger)[1]}


def publish(world: World, recipients: list[Recipient], key: str) -> list[str]:
    letters = [world.letter(r, idempotency_key=f"{key}-{n}") for n, r in enumerate(recipients)]
    return [o.message_id for o in world.ledger.app.publish_many(letters) if o.message_id]


def rows(ledger: Ledger, table: Table) -> int:
    with ledger.db.read() as session:
        return int(session.execute(select(func.count()).select_from(table)).scalar_one())


def sealed_kinds(ledger: Ledger) -> tuple[Counter[tuple[str, str]], int]:
    """How often each (message, event type) was sealed, and the number of leaves."""
    entries = list(TransparencyLog(ledger).entries())
    assert [e["leaf_index"] for e in entries] == list(range(len(entries))), "a gap in the leaves"
    kinds = Counter(
        (e["canonical"]["aggregate_id"], e["canonical"]["type"])
        for e in entries
        if e["canonical"]["aggregate_type"] == "Message"
    )
    return kinds, len(entries)


@pytest.mark.slow
def test_two_worker_processes_on_one_database_deliver_and_seal_each_letter_once(
    ledger: Ledger, database_url: str, ledger_home: Path
) -> None:
    world = make_world(ledger)
    with (
        worker_process(database_url, ledger_home) as first,
        worker_process(database_url, ledger_home) as second,
    ):
        published: list[str] = []
        for round_ in range(12):
            published += publish(world, [CITIZEN, ENTERPRISE] * 10, key=f"r{round_}")
            time.sleep(0.05)
        wait_for(lambda: not any(lags(ledger).values()), "every follower caught up")
        logs = [stopped(first), stopped(second)]

    for log in logs:
        assert "Traceback" not in log and "moved the position" not in log, log
        assert "parked" not in log and "failed" not in log, log
    kinds, leaves = sealed_kinds(ledger)
    assert {m for m, kind in kinds if kind == "Sent"} == set(published)
    assert {m for m, kind in kinds if kind == "Delivered"} == set(published)
    assert all(n == 1 for n in kinds.values()), "an event was sealed twice"
    with ledger.db.read() as session:
        events = session.execute(select(func.count()).select_from(events_table(ledger))).scalar()
    assert leaves == events
    assert all(ledger.app.message(m).version == 2 for m in published), "delivered twice"
    assert rows(ledger, inbox_messages) == rows(ledger, status_messages) == len(published)


def checkpoint_size(ledger: Ledger) -> int:
    try:
        return TransparencyLog(ledger).checkpoint()[0]
    except NoCheckpoint:
        return 0


def events_table(ledger: Ledger) -> Table:
    table: Table = ledger.app.recorder.events_record_cls.__table__  # type: ignore[attr-defined]
    return table


@pytest.mark.slow
def test_chaos_one_view_fails_the_others_go_on_and_it_heals(
    ledger: Ledger, database_url: str, ledger_home: Path
) -> None:
    world = make_world(ledger)
    ledger.app.open_mailbox(POISONED.ebox_type, POISONED.id_value)
    fast = {
        "EBOX_FOLLOWER_ATTEMPTS": "2",
        "EBOX_FOLLOWER_BACKOFF": "0.05",
        "EBOX_FOLLOWER_BACKOFF_MAX": "0.1",
        "EBOX_FOLLOWER_PARKED_POLL": "0.2",
    }
    with worker_process(database_url, ledger_home, chaos=True, **fast) as chaos:
        first = publish(world, [CITIZEN] * 5, key="before")
        (poison,) = publish(world, [POISONED], key="poison")
        first += [poison, *publish(world, [ENTERPRISE] * 5, key="after")]
        wait_for(lambda: (f := fault_of(ledger, "inbox")) is not None and f.parked, "inbox parked")
        wait_for(lambda: lags(ledger)["sealer"] == 0 and checkpoint_size(ledger) > 0, "sealed")
        size_then = checkpoint_size(ledger)

        later = publish(world, [CITIZEN, ENTERPRISE] * 5, key="later")
        everyone_else = ("delivery", "status", "feed", "sealer")
        wait_for(lambda: all(lags(ledger)[n] == 0 for n in everyone_else), "the others go on")
        wait_for(lambda: checkpoint_size(ledger) > size_then, "the checkpoint grows")
        assert rows(ledger, status_messages) == len(first) + len(later)
        assert all(ledger.app.message(m).delivered for m in first + later)
        assert lags(ledger)["inbox"] > 0

        with api_client(ledger, ledger_home, routers=(health.register,)) as http:
            degraded = http.get("/health")
        assert degraded.status_code == 503
        body = degraded.json()
        assert body["status"] == "degraded" and body["stuck"] == ["inbox"]
        assert body["followers"]["inbox"]["state"] == "parked"
        assert body["followers"]["inbox"]["error"].startswith("IntegrityError")
        assert {body["followers"][n]["state"] for n in everyone_else} == {"running"}
        chaos_log = stopped(chaos)

    assert "follower inbox parked" in chaos_log
    for personal in PERSONAL:
        assert personal not in chaos_log and personal not in degraded.text

    with worker_process(database_url, ledger_home) as fixed:  # the fix is deployed: restart
        wait_for(lambda: fault_of(ledger, "inbox") is None, "the parked inbox retried and healed")
        wait_for(lambda: lags(ledger)["inbox"] == 0, "the inbox caught up")
        with api_client(ledger, ledger_home, routers=(health.register,)) as http:
            healthy = http.get("/health")
        stopped(fixed)
    assert healthy.status_code == 200 and healthy.json()["status"] == "ok"
    assert rows(ledger, inbox_messages) == len(first) + len(later)


@pytest.mark.slow
def test_ebox_demo_beside_running_workers_succeeds(
    database_url: str, ledger: Ledger, ledger_home: Path
) -> None:
    """Issue 7, finding 14 as reported: `ebox demo` beside `ebox serve` on one database."""
    with worker_process(database_url, ledger_home) as workers:
        demo = subprocess.run(
            [
                sys.executable,
                *("-m", "ebox.cli.main", "demo", "--db", database_url),
                "--letters",
                "300",
            ],
            cwd=REPO,
            env={**os.environ, "EBOX_HOME": str(ledger_home), "PYTHONPATH": str(REPO)},
            capture_output=True,
            text=True,
            timeout=LIVENESS,
        )
        assert demo.returncode == 0, demo.stderr
        wait_for(lambda: not any(lags(ledger).values()), "every follower caught up")
        log = stopped(workers)
    assert "Traceback" not in log + demo.stderr
    kinds, _ = sealed_kinds(ledger)
    sent = {m for m, kind in kinds if kind == "Sent"}
    assert len(sent) == 300
    assert {m for m, kind in kinds if kind == "Delivered"} == sent
    assert all(n == 1 for n in kinds.values()), "an event was sealed twice"
