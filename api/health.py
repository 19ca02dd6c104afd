"""GET /health: is the database reachable, at the latest migration, and is every
follower of the log (delivery, the read models, the sealer) keeping up.

No authentication, on purpose: load balancers and orchestrators probe it without
credentials, and it says nothing sensitive: no URL, host or error text (those go
to the log), no counts of letters or mailboxes; the migration revision is
public in the source, a lag is a number of events not yet followed, and a
stuck follower is named with its position, the notification it stopped on and
the error's class, never the error's text.

`followers` comes from the database, so every API replica reports the
followers of whichever process runs them; `delivery_lag` and `sealer_lag`
repeat the two lags an operator asks about first (letters not yet in their
mailbox, events not yet sealed), also from the database, so they are there in
every topology (`ebox serve`, or `--no-workers` beside `ebox workers`). `lags`
are those of the followers this process runs (``app.state.lag_reporters``:
name -> callable), empty in an API-only process.

- ``unavailable`` (503): the database is unreachable or behind the code's
  migrations: take this replica out of rotation.
- ``degraded`` (503): a follower is parked or retrying a failing batch, a lag
  exceeds ``max_lag`` (EBOX_MAX_LAG, default 10,000 events), or a lag reporter
  fails: letters are accepted but do not reach every view, or are not sealed.
- ``degraded`` (503) too when the timestamper's last round failed (``tsa``: the
  TSA is down or answered badly; retried every EBOX_TSA_INTERVAL): checkpoints
  are still sealed, but not stamped.
- ``degraded`` (503) too with a witness policy when the latest checkpoint, signed more than
  ``WITNESS_GRACE`` (30 s) ago, is newer than the latest one cosigned by the quorum
  (``witnesses``: each witness's last cosigned size and last failure): checkpoints are
  sealed, but the served one stays the last witnessed.
- ``ok`` (200) otherwise.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from ebox.adapters.runtime import Ledger
from ebox.projections.follower_status import follower_statuses

log = logging.getLogger("ebox.api.health")

LagReporter = Callable[[], int]
DEFAULT_MAX_LAG = 10_000


HEALTH = {
    "type": "object",
    "required": ["status", "database", "lags"],
    "properties": {
        "status": {"type": "string", "enum": ["ok", "degraded", "unavailable"]},
        "database": {"type": "object"},
        "lags": {"type": "object"},
    },
}
"""The answer's shape in /openapi.json (both statuses)."""


router = APIRouter()


@router.get(
    "/health",
    tags=["Operations"],
    summary="Database, migration and projection lag.",
    responses={
        200: {"description": "ok", "content": {"application/json": {"schema": HEALTH}}},
        503: {
            "description": "unavailable or degraded: `status` says which, the body why",
            "content": {"application/json": {"schema": HEALTH}},
        },
    },
)
def health(request: Request) -> JSONResponse:
    ledger: Ledger = request.app.state.ledger
    reporters: dict[str, LagReporter] = getattr(request.app.state, "lag_reporters", {})
    settings = getattr(request.app.state, "settings", None)
    max_lag = int(getattr(settings, "max_lag", DEFAULT_MAX_LAG))
    database = _database(ledger)
    lags, lag_failed = _lags(reporters)
    body: dict[str, Any] = {"status": "ok", "database": database, "lags": lags}
    if not database["reachable"] or not database["current"]:
        body["status"] = "unavailable"
        return JSONResponse(body, 503, headers={"Cache-Control": "no-store"})
    followers, stuck = _followers(ledger, max_lag)
    body["followers"] = followers
    # From the tracking table: the same answer whichever process runs the followers.
    for name in ("delivery", "sealer"):
        body[f"{name}_lag"] = followers.get(name, {}).get("lag")
    body["max_lag"] = max_lag
    tsa = _tsa(ledger, settings)
    if tsa is not None:
        body["tsa"] = tsa
        if tsa["state"] != "ok":
            stuck.append("tsa")
    witnesses = _witnesses(ledger)
    if witnesses is not None:
        body["witnesses"] = witnesses
        if witnesses["state"] != "ok":
            stuck.append("witnesses")
    if stuck or lag_failed:
        body["status"] = "degraded"
        body["stuck"] = stuck
    code = 200 if body["status"] == "ok" else 503
    return JSONResponse(body, code, headers={"Cache-Control": "no-store"})


def register(app: FastAPI) -> None:
    if not hasattr(app.state, "lag_reporters"):
        app.state.lag_reporters = {}

    app.include_router(router)


def _followers(ledger: Ledger, max_lag: int) -> tuple[dict[str, Any], list[str]]:
    """Each follower's position, lag and state; the names of those parked, failing or late."""
    try:
        _, statuses = follower_statuses(ledger)
    except Exception as error:
        log.warning("health: follower status failed (%s)", type(error).__name__)
        return {}, ["followers"]
    followers: dict[str, Any] = {}
    stuck: list[str] = []
    for s in statuses:
        entry: dict[str, Any] = {"state": s.state, "position": s.position, "lag": s.lag}
        if s.stuck:
            entry |= {"notification": s.notification_id, "error": s.error_class}
        if s.lag > max_lag:
            entry["late"] = True
        if s.stuck or s.lag > max_lag:
            stuck.append(s.name)
        followers[s.name] = entry
    return followers, stuck


def _tsa(ledger: Ledger, settings: Any) -> dict[str, Any] | None:
    """The timestamper's last stamp and last failure (no URL, no error text); None if unused."""
    from ebox.adapters.timestamps import latest_timestamp
    from ebox.projections.faults import fault_of
    from ebox.projections.timestamper import NAME

    try:
        fault = fault_of(ledger, NAME)
        latest = latest_timestamp(ledger)
    except Exception as error:
        log.warning("health: time-stamp status failed (%s)", type(error).__name__)
        return {"state": "unknown"}
    if fault is None and latest is None and not getattr(settings, "tsa_url", None):
        return None
    entry: dict[str, Any] = {
        "state": "ok" if fault is None else "failing",
        "stamped_size": None if latest is None else latest[0],
        "stamped_at": None if latest is None else latest[1].isoformat(),
    }
    if fault is not None:
        entry |= {
            "checkpoint": fault.position,
            "error": fault.error_class,
            "attempts": fault.attempts,
            "failed_at": fault.failed_at.isoformat(),
        }
    return entry


def _witnesses(ledger: Ledger) -> dict[str, Any] | None:
    """Witnessing (ebox.api.witness_health); None without EBOX_WITNESS_POLICY."""
    from ebox.api.witness_health import witness_health

    try:
        return witness_health(ledger)
    except Exception as error:
        log.warning("health: witness status failed (%s)", type(error).__name__)
        return {"state": "unknown"}


def _database(ledger: Ledger) -> dict[str, Any]:
    expected = sorted(_heads())
    try:
        with ledger.db.read() as session:
            revisions = sorted(
                str(r)
                for r in session.execute(text("SELECT version_num FROM alembic_version")).scalars()
            )
    except Exception as error:  # any failure means: not reachable; details to the log only
        log.warning("health: database check failed (%s)", type(error).__name__)
        return {
            "reachable": False,
            "dialect": ledger.db.dialect,
            "migration": None,
            "expected": expected,
            "current": False,
        }
    return {
        "reachable": True,
        "dialect": ledger.db.dialect,
        "migration": revisions[0] if len(revisions) == 1 else revisions,
        "expected": expected[0] if len(expected) == 1 else expected,
        "current": revisions == expected,
    }


@lru_cache(maxsize=1)
def _heads() -> tuple[str, ...]:
    """The code's latest migration(s), read once from the migration scripts."""
    from alembic.script import ScriptDirectory

    from ebox.adapters.schema import alembic_config

    return tuple(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def _lags(reporters: dict[str, LagReporter]) -> tuple[dict[str, int | None], bool]:
    lags: dict[str, int | None] = {}
    failed = False
    for name, reporter in sorted(reporters.items()):
        try:
            lags[name] = int(reporter())
        except Exception as error:
            log.warning("health: lag reporter %s failed (%s)", name, type(error).__name__)
            lags[name] = None
            failed = True
    return lags, failed
