"""The followers' counters of this process, for /metrics and the workers' progress log.

Counters are per process (Prometheus sums them across processes with `sum by`);
what must be right across processes (a follower's position and lag, whether it
is parked) is read from the database when /metrics is scraped (ebox.api.metrics).

The supervisor (`FollowerLoop`) reports every batch it completes and every
attempt that fails; delivery's handled notifications are its Sent events, each
one letter made available (`ebox_deliveries_total`).
"""

from __future__ import annotations

import threading

from prometheus_client import Counter

FOLLOWER_PROCESSED = Counter(
    "ebox_follower_processed",
    "Notifications a follower of this process handled.",
    ["follower"],
)
FOLLOWER_FAILURES = Counter(
    "ebox_follower_failures",
    "Failed batches of a follower of this process (each retry counts once).",
    ["follower"],
)
DELIVERIES = Counter("ebox_deliveries", "Letters made available in a mailbox by this process.")

_lock = threading.Lock()
_processed: dict[str, int] = {}


def record_batch(follower: str, handled: int) -> None:
    """A batch of `follower` committed, having handled `handled` notifications."""
    if handled <= 0:
        return
    FOLLOWER_PROCESSED.labels(follower=follower).inc(handled)
    if follower == "delivery":
        DELIVERIES.inc(handled)
    with _lock:
        _processed[follower] = _processed.get(follower, 0) + handled


def record_failure(follower: str) -> None:
    FOLLOWER_FAILURES.labels(follower=follower).inc()


def processed_counts() -> dict[str, int]:
    """Notifications handled so far in this process, by follower (for the progress log)."""
    with _lock:
        return dict(_processed)
