"""The background work of one ledger process: delivery, read models, sealing.

`ebox serve` runs these in a thread beside the API (the embedded default);
`ebox workers` runs them alone (compose.yaml's workers service). Each step is
an exactly-once follower, so any number of restarts is safe.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from ebox.projections.delivery import DeliveryWorker
from ebox.projections.runner import ViewRunner
from ebox.projections.runtime import Ledger
from ebox.projections.sealer import Sealer

log = logging.getLogger("ebox.workers")


class Workers:
    def __init__(self, ledger: Ledger) -> None:
        self.delivery = DeliveryWorker(ledger)
        self.views = ViewRunner(ledger)
        self.sealer = Sealer(ledger)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:
        """One round of every step; the number of notifications handled."""
        return self.delivery.run_once() + self.views.run_once() + self.sealer.run_once()

    def run_until_idle(self) -> int:
        total = 0
        while handled := self.run_once():
            total += handled
        self.sealer.checkpoint_now()
        return total

    def lag_reporters(self) -> dict[str, Callable[[], int]]:
        reporters: dict[str, Callable[[], int]] = {
            "delivery": self.delivery.lag,
            "sealer": self.sealer.lag,
        }
        for name in self.views.lags():
            reporters[name] = lambda name=name: self.views.lag(name)  # type: ignore[misc]
        return reporters

    def run_forever(self, interval: float = 0.2) -> None:
        while not self._stop.is_set():
            try:
                if not self.run_once():
                    self.sealer.checkpoint_now()
                    self._stop.wait(interval)
            except Exception:  # a failed batch is retried; the process must not die of it
                log.exception("worker round failed; retrying")
                self._stop.wait(interval * 5)

    def start(self, interval: float = 0.2) -> None:
        self._thread = threading.Thread(
            target=self.run_forever, args=(interval,), name="ebox-workers", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
