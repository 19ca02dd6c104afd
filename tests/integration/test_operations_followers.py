"""The followers as an operator sees them: /health's delivery and sealer lag, the workers'
progress log, on SQLite and PostgreSQL.

- `/health` reports `delivery_lag` and `sealer_lag` from the tracking table, so an API
  process that runs no follower (`--no-workers`) still says how far the workers are.
- `ebox workers` logs, per follower, its position, lag and what this process handled,
  as JSON lines without personal data.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ebox.adapters.runtime import Ledger
from ebox.api import health
from ebox.projections.follower import latest_notification_id
from ebox.projections.follower_status import FOLLOWER_NAMES
from ebox.projections.workers import Workers
from tests.auth_helpers import api_client
from tests.builders import CITIZEN, ENTERPRISE, make_world

REPO = Path(__file__).resolve().parents[2]


def test_health_reports_delivery_and_sealer_lag_without_running_a_follower(
    ledger: Ledger, ledger_home: Path
) -> None:
    world = make_world(ledger)
    for key in ("h-1", "h-2"):
        ledger.app.publish(world.letter(idempotency_key=key))
    with api_client(ledger, ledger_home, routers=(health.register,)) as http:
        before = http.get("/health").json()
        assert before["lags"] == {}  # this process runs no follower
        # Lags count notifications of the log: neither follower has read one yet.
        latest = latest_notification_id(ledger)
        assert latest > 2
        assert before["delivery_lag"] == before["sealer_lag"] == latest
        Workers(ledger).run_until_idle()  # "another process": the workers
        after = http.get("/health").json()
    assert (after["delivery_lag"], after["sealer_lag"]) == (0, 0)
    assert after["status"] == "ok"


def test_ebox_workers_logs_each_followers_progress_as_json(
    database_url: str, ledger: Ledger, ledger_home: Path
) -> None:
    world = make_world(ledger)
    ledger.app.publish(world.letter(CITIZEN, idempotency_key="p-1"))
    ledger.app.publish(world.letter(ENTERPRISE, idempotency_key="p-2"))
    done = subprocess.run(
        [sys.executable, "-m", "ebox.cli.main", "workers", "--once", "--db", database_url],
        cwd=REPO,
        env={
            **os.environ,
            "EBOX_HOME": str(ledger_home),
            "PYTHONPATH": str(REPO),
            "EBOX_LOG_FORMAT": "json",
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    progress = {r["follower"]: r for r in lines if r["logger"] == "ebox.workers.progress"}
    assert set(progress) == set(FOLLOWER_NAMES)
    assert progress["delivery"]["processed"] == 2  # the two letters' Sent events
    assert progress["delivery"]["lag"] == 0 and progress["sealer"]["lag"] == 0
    assert progress["sealer"]["position"] == progress["sealer"]["latest"]
    assert all(r["state"] == "running" for r in progress.values())
    for personal in (CITIZEN.id_value, ENTERPRISE.id_value, "Aanslag", "Avertissement"):
        assert personal not in done.stderr
