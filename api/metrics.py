"""GET /metrics (Prometheus text format) and the access log: what an operator watches.

Two kinds of values, on purpose:

- **counters of this process** (`prometheus_client`'s default registry):
  requests by route template, method and status, their latency histogram,
  publications accepted, token refusals by reason; and, in a process that runs
  followers, what they handled (ebox.projections.metrics). Each API replica
  counts its own requests; Prometheus adds replicas up (`sum by (route)`).
- **values read from the database at scrape time**: each follower's lag and
  position, whether it is parked, the latest checkpoint's size and age. These
  must be the same whichever replica is scraped, also when the followers run in
  another process (`ebox serve --no-workers` beside `ebox workers`), so no
  process keeps them in memory.

Who may read it: anyone who reaches the API port, like /health. The values are
operational (counts, lags, latencies by route template), never an identifier:
no path with ids, no subject, no client id. The deployment keeps it internal:
docker/Caddyfile answers 404 for /metrics at the public entry, and Prometheus
scrapes each replica on the internal network (docs/OPERATIONS.md, Monitoring).

The access log (logger ``ebox.access``, one line per request) is written by the
same middleware: method, route template (never the raw path: its segments may
be message ids or registry numbers), status and duration, with the request id
that ebox.api.request_id stamps on every record. /health and /metrics are
logged at DEBUG: probes and scrapes would drown the rest.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ebox.adapters.runtime import Ledger
from ebox.adapters.tables import checkpoints
from ebox.projections.follower_status import follower_statuses

log = logging.getLogger("ebox.metrics")
access = logging.getLogger("ebox.access")

HTTP_REQUESTS = Counter(
    "ebox_http_requests",
    "HTTP requests answered by this process, by route template, method and status.",
    ["route", "method", "status"],
)
HTTP_DURATION = Histogram(
    "ebox_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by route template and method.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
PUBLICATIONS = Counter(
    "ebox_publications", "Letters accepted by publishMessage in this process (201 answers)."
)
TOKEN_REFUSALS = Counter(
    "ebox_token_refusals",
    "Bearer tokens refused by this process, by reason (missing, expired, bad_signature...).",
    ["reason"],
)

UNMATCHED = "unmatched"  # one label for every path no route serves: bounded cardinality
QUIET_ROUTES = frozenset({"/health", "/metrics"})


def refused_token(reason: str) -> None:
    """Count one refused bearer token (`reason`: a fixed word, never the token's content)."""
    TOKEN_REFUSALS.labels(reason=reason).inc()


def route_template(scope: Scope) -> str:
    """The template of the route that served (or would serve) this request, e.g.
    ``/ebox/citizen/v2/ebox/messages/{messageId}``; `UNMATCHED` if none.

    FastAPI leaves the matched route in the scope; a request answered before
    routing (a refused upload) is matched here against the app's routes.
    """
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return _with_prefix(path, scope)
    app = scope.get("app")
    for candidate in getattr(getattr(app, "router", None), "routes", ()):
        match, _ = candidate.matches(scope)
        if match is Match.FULL:
            return str(getattr(candidate, "path", UNMATCHED))
    return UNMATCHED


_PARAMETER = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")


def _with_prefix(template: str, scope: Scope) -> str:
    """`template` with the prefix of the router that included it (e.g. /ebox/citizen/v2).

    An included router's route knows only its own path; the prefix is what the raw
    path has before the route's part, once its parameters are filled in. Prefixes
    here are constant (/ebox/{citizen,enterprise}/v2: no identifier); if the raw
    path does not end as expected, the route's own template is kept (never the
    raw path).
    """
    params = scope.get("path_params") or {}
    try:
        concrete = _PARAMETER.sub(lambda m: str(params[m.group(1)]), template)
    except KeyError:
        return template
    raw = str(scope.get("path", ""))
    if concrete and raw.endswith(concrete) and raw != concrete:
        prefix = raw[: len(raw) - len(concrete)]
        return prefix + template
    return template


class MetricsMiddleware:
    """Counts every request, times it, and writes its access-log line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before answering

        async def send_counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        finally:
            self._record(scope, status, time.perf_counter() - started)

    @staticmethod
    def _record(scope: Scope, status: int, seconds: float) -> None:
        method = str(scope.get("method", "?"))
        route = route_template(scope)
        HTTP_REQUESTS.labels(route=route, method=method, status=str(status)).inc()
        HTTP_DURATION.labels(route=route, method=method).observe(seconds)
        if status == 201 and method == "POST" and route.endswith("/publishMessage"):
            PUBLICATIONS.inc()
        access.log(
            logging.DEBUG if route in QUIET_ROUTES else logging.INFO,
            "%s %s %d %.1f ms",
            method,
            route,
            status,
            seconds * 1000,
            extra={
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 3),
            },
        )


class LedgerCollector(Collector):
    """The values that must agree across replicas, read from the database per scrape."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def collect(self) -> Iterator[Any]:
        up = GaugeMetricFamily(
            "ebox_metrics_database_up", "1 when this scrape could read the database, else 0."
        )
        try:
            families = list(self._from_database())
        except Exception as error:  # the class only: a driver's text may name hosts or rows
            log.warning("metrics: database read failed (%s)", type(error).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _from_database(self) -> Iterator[Any]:
        latest, statuses = follower_statuses(self.ledger)
        lag = GaugeMetricFamily(
            "ebox_follower_lag_events",
            "Events recorded and not yet followed, by follower (from the tracking table).",
            labels=["follower"],
        )
        position = GaugeMetricFamily(
            "ebox_follower_position",
            "The last notification id a follower has handled.",
            labels=["follower"],
        )
        parked = GaugeMetricFamily(
            "ebox_follower_parked",
            "1 when a follower is parked on a failing event (see `ebox projections status`).",
            labels=["follower"],
        )
        retrying = GaugeMetricFamily(
            "ebox_follower_retrying",
            "1 while a follower retries a failing batch.",
            labels=["follower"],
        )
        for s in statuses:
            lag.add_metric([s.name], s.lag)
            position.add_metric([s.name], s.position)
            parked.add_metric([s.name], 1 if s.state == "parked" else 0)
            retrying.add_metric([s.name], 1 if s.state == "retrying" else 0)
        notifications = GaugeMetricFamily(
            "ebox_log_latest_notification", "The id of the newest event in the ledger."
        )
        notifications.add_metric([], latest)
        yield from (lag, position, parked, retrying, notifications)
        size, signed_at = self._latest_checkpoint()
        checkpoint_size = GaugeMetricFamily(
            "ebox_checkpoint_size", "Leaves covered by the latest signed checkpoint (0: none yet)."
        )
        checkpoint_size.add_metric([], size)
        yield checkpoint_size
        if signed_at is not None:
            age = GaugeMetricFamily(
                "ebox_checkpoint_age_seconds", "Seconds since the latest checkpoint was signed."
            )
            age.add_metric([], max(0.0, (datetime.now(UTC) - signed_at).total_seconds()))
            yield age

    def _latest_checkpoint(self) -> tuple[int, datetime | None]:
        with self.ledger.db.read() as session:
            size = session.execute(select(func.max(checkpoints.c.size))).scalar()
            if size is None:
                return 0, None
            signed_at = session.execute(
                select(checkpoints.c.signed_at).where(checkpoints.c.size == size)
            ).scalar_one()
        if signed_at.tzinfo is None:  # SQLite keeps no zone: the ledger writes UTC
            signed_at = signed_at.replace(tzinfo=UTC)
        return int(size), signed_at


def register(app: FastAPI) -> None:
    """The /metrics route and the counting middleware (add before the request-id one)."""
    database = CollectorRegistry(auto_describe=False)
    database.register(LedgerCollector(app.state.ledger))
    app.add_middleware(MetricsMiddleware)

    @app.get(
        "/metrics",
        tags=["Operations"],
        summary="Prometheus metrics: requests, latencies, publications, followers, checkpoints.",
        response_class=Response,
        include_in_schema=False,
    )
    def metrics(request: Request) -> Response:
        body = generate_latest(REGISTRY) + generate_latest(database)
        return Response(body, media_type=CONTENT_TYPE_LATEST)
