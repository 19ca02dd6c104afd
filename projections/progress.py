"""`ebox workers` says how it is doing: one log line per follower, every so often.

A worker process that logs nothing between a start and a failure leaves an
operator guessing whether it is stuck or idle. Every `interval` seconds
(EBOX_WORKERS_PROGRESS_SECONDS, default 60) this thread writes, per follower,
its position and lag as the database has them (so the line is true whichever
process moved it) and how many notifications this process handled since the
last line. Positions and counts only: nothing of an event's content.
"""

from __future__ import annotations

import logging
import threading

from ebox.adapters.runtime import Ledger
from ebox.projections.follower_status import follower_statuses
from ebox.projections.metrics import processed_counts

log = logging.getLogger("ebox.workers.progress")


class ProgressLog(threading.Thread):
    """A daemon thread logging each follower's progress until `stop()`."""

    def __init__(self, ledger: Ledger, interval: float) -> None:
        super().__init__(name="ebox-progress", daemon=True)
        self.ledger = ledger
        self.interval = interval
        self._stop_event = threading.Event()
        self._last: dict[str, int] = processed_counts()

    def run(self) -> None:
        # Once at start: where each follower stands is the first thing an operator looks
        # for after a (re)start, before the first interval has passed.
        self.report()
        while not self._stop_event.wait(self.interval):
            self.report()

    def report(self) -> None:
        """One line per follower: position, lag, processed since the previous report."""
        try:
            latest, statuses = follower_statuses(self.ledger)
        except Exception as error:  # the class only: a driver's text may quote rows
            log.warning("progress: follower status failed (%s)", type(error).__name__)
            return
        counts = processed_counts()
        for s in statuses:
            processed = counts.get(s.name, 0) - self._last.get(s.name, 0)
            log.info(
                "follower %s at %d, lag %d, processed %d, %s",
                s.name,
                s.position,
                s.lag,
                processed,
                s.state,
                extra={
                    "follower": s.name,
                    "position": s.position,
                    "lag": s.lag,
                    "processed": processed,
                    "state": s.state,
                    "latest": latest,
                },
            )
        self._last = counts

    def stop(self) -> None:
        self._stop_event.set()
