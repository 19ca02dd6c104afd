"""The FastAPI application: eBox REST 2.1 for citizens and enterprises, OAuth2, ledger.

`create_app(ledger)` wires routers onto one ledger; handlers stay thin and map
each domain error to one status through api/errors.py.
"""

from __future__ import annotations

from fastapi import FastAPI

from ebox.adapters.runtime import Ledger
from ebox.api import (
    admin,
    ebox_routes,
    evidence_routes,
    feed,
    health,
    ledger_routes,
    metrics,
    oauth,
    openapi,
    portal,
    preferences,
    publication,
    reference,
    replies,
    request_id,
    tlog_routes,
)
from ebox.api.errors import install_error_handlers
from ebox.api.limits import BodyLimits
from ebox.api.settings import Settings
from ebox.api.upload_guard import UploadGuard


def create_app(ledger: Ledger, settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    app = FastAPI(
        title="eBox ledger",
        version="2.1",
        description=(
            "The eBox Message Registry contract (REST 2.1) over a verifiable ledger, with "
            "extensions: archive/unarchive, sender signatures, Idempotency-Key, evidence and "
            "transparency-log endpoints."
        ),
    )
    app.state.ledger = ledger
    app.state.settings = settings
    install_error_handlers(app, settings.environment)
    app.add_middleware(
        UploadGuard, max_upload_bytes=settings.max_upload_bytes, environment=settings.environment
    )
    app.add_middleware(
        BodyLimits,
        max_request_bytes=settings.max_request_bytes,
        max_upload_bytes=settings.max_upload_bytes,
        timeout=settings.body_timeout_seconds,
        environment=settings.environment,
    )
    metrics.register(app)  # inside the request id: its access log lines carry it
    request_id.install(app)  # last added, so outermost: every answer carries X-Request-Id
    for module in (
        oauth,
        health,
        ebox_routes,
        publication,
        replies,
        preferences,
        reference,
        feed,
        ledger_routes,
        tlog_routes,
        evidence_routes,
        admin,
    ):
        module.register(app)
    portal.register(app)  # the My e-box pages at /, after the API's routes
    openapi.install(app)  # refusals as the error handlers answer them, not FastAPI's 422
    return app
