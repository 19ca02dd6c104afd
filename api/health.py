"""GET /health: is the database reachable, at the latest migration, and how far behind
is each projection.

No authentication, on purpose: load balancers and orchestrators probe it without
credentials, and it says nothing sensitive: no URL, host or error text (those go
to the log), no counts of letters or mailboxes; the migration revision is
public in the source, and a lag is one number of events not yet projected.

Projection runners report their lag through ``app.state.lag_reporters``: a dict
of name -> callable returning the number of events the projection has yet to
process. A reporter that fails makes the answer ``degraded`` (HTTP 200, the API
still serves); an unreachable database or one behind the code's migrations
makes it ``unavailable`` (HTTP 503, take this replica out of rotation).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from ebox.projections.runtime import Ledger

log = logging.getLogger("ebox.api.health")

LagReporter = Callable[[], int]


def register(app: FastAPI) -> None:
    if not hasattr(app.state, "lag_reporters"):
        app.state.lag_reporters = {}

    @app.get("/health", tags=["Operations"], summary="Database, migration and projection lag.")
    def health(request: Request) -> JSONResponse:
        ledger: Ledger = request.app.state.ledger
        reporters: dict[str, LagReporter] = getattr(request.app.state, "lag_reporters", {})
        database = _database(ledger)
        lags, lag_failed = _lags(reporters)
        if not database["reachable"] or not database["current"]:
            status, code = "unavailable", 503
        elif lag_failed:
            status, code = "degraded", 200
        else:
            status, code = "ok", 200
        body = {"status": status, "database": database, "lags": lags}
        return JSONResponse(body, code, headers={"Cache-Control": "no-store"})


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

    from ebox.projections.schema import alembic_config

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
