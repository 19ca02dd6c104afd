"""The background work of one ledger process: every follower on its own.

`ebox serve` runs these threads beside the API (the embedded default);
`ebox workers` runs them alone (compose.yaml's workers service), as many
processes as one likes. Each follower (delivery, each read model, the sealer)
runs in its own supervised loop (`ebox.projections.supervisor`), so a follower
that fails holds back no other.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from ebox.adapters.runtime import Ledger
from ebox.domain.ports import Clock
from ebox.projections.delivery import DeliveryWorker
from ebox.projections.follower import Follower
from ebox.projections.lifecycle import EXPIRE, SHRED, DueWork, LifecycleScheduler, expire
from ebox.projections.notifier import Notifier, NotifierScheduler
from ebox.projections.runner import PROJECTION_NAMES, ViewRunner
from ebox.projections.sealer import Sealer
from ebox.projections.supervisor import FollowerLoop, RetryPolicy
from ebox.projections.timestamper import Timestamper
from ebox.projections.wakeup import Alarm
from ebox.projections.witnessing import Witnessing

__all__ = ["FollowerLoop", "RetryPolicy", "Workers"]

log = logging.getLogger("ebox.workers")


class Workers:
    """Delivery, read models, lifecycle, notifier and sealer, each in its own loop."""

    def __init__(
        self,
        ledger: Ledger,
        policy: RetryPolicy | None = None,
        notifier: Notifier | None = None,
        timestamper: Timestamper | None = None,
    ) -> None:
        self.ledger = ledger
        self.policy = policy or RetryPolicy.from_env()
        self.delivery = DeliveryWorker(ledger)
        self.views = ViewRunner(ledger)
        self.sealer = Sealer(ledger)
        self.lifecycle = LifecycleScheduler(ledger)
        self.notifier_schedule = NotifierScheduler(ledger)
        self.notifier = notifier or Notifier(home=ledger.home)
        self.timestamper = timestamper or Timestamper.from_env(ledger)
        """RFC 3161 tokens for checkpoints, on a thread of its own (none without EBOX_TSA_URL)."""
        self.witnessing = Witnessing.from_env(ledger)
        """Witness cosignatures, a thread per witness (none without EBOX_WITNESS_POLICY)."""
        self.due = DueWork(ledger, {EXPIRE: expire, SHRED: expire, **self.notifier.handlers()})
        self._stop = threading.Event()
        self.alarm = Alarm(ledger, self._stop)
        followers: list[Follower] = [
            self.delivery,
            *(self.views.follower(name) for name in PROJECTION_NAMES),
            self.lifecycle,
            self.notifier_schedule,
            self.sealer,
        ]
        self.loops = {
            f.name: FollowerLoop(
                f,
                self.policy,
                self._stop,
                self.alarm.event(),
                on_idle=self.sealer.checkpoint_now if f is self.sealer else None,
            )
            for f in followers
        }

    def run_once(self) -> int:
        """One supervised batch of every follower; how many moved."""
        return sum(loop.step() for loop in self.loops.values())

    def run_until_idle(self, clock: Clock | None = None) -> list[str]:
        """Every follower until idle or parked, and with `clock` everything due as of its time
        (then the followers again, for what the due work recorded); the parked ones' names."""
        for loop in self.loops.values():
            loop.resume_parked()
        failed = 0
        while True:
            while sum(loop.run_until_idle() for loop in self.loops.values()):
                pass
            if clock is None:
                break
            run = self.due.run(clock)
            failed += run.failed
            if not run.done:
                break
        if not self.loops[self.sealer.name].parked:
            self.loops[self.sealer.name]._idle()
        if self.timestamper is not None and self.timestamper.due():
            self.timestamper.step()
        if self.witnessing is not None:
            self.witnessing.step()
        return self.parked() + (["due work (see lifecycle_due.last_error)"] if failed else [])

    def parked(self) -> list[str]:
        return [name for name, loop in self.loops.items() if loop.parked]

    def lag_reporters(self) -> dict[str, Callable[[], int]]:
        return {name: loop.follower.lag for name, loop in self.loops.items()}

    def start(self, interval: float = 0.2, clock: Clock | None = None) -> None:
        self.alarm.start(interval)
        for loop in self.loops.values():
            loop.start(interval)
        if clock is not None:
            threading.Thread(
                target=self._due_loop, args=(clock,), name="ebox-due-work", daemon=True
            ).start()
        if self.timestamper is not None:
            threading.Thread(
                target=self.timestamper.run, args=(self._stop,), name="ebox-tsa", daemon=True
            ).start()
        if self.witnessing is not None:
            self.witnessing.start(self._stop)

    def _due_loop(self, clock: Clock, every: float = 5.0) -> None:
        """Due work on the real clock, every few seconds, until stopped."""
        while not self._stop.wait(every):
            try:
                self.due.run(clock)
            except Exception as error:  # the database is down: try again next round
                log.warning("due work could not run (%s)", type(error).__name__)

    def run_forever(self, interval: float = 0.2, clock: Clock | None = None) -> None:
        """Until `stop` (or Ctrl-C / SIGTERM in the CLI); due work on `clock` when given."""
        self.start(interval, clock)
        try:
            while not self._stop.wait(0.5):
                pass
        finally:
            self.stop()

    def stop_soon(self) -> None:
        """Ask every loop to stop after its batch (safe in a signal handler)."""
        self._stop.set()

    def stop(self) -> None:
        self._stop.set()
        for loop in self.loops.values():
            loop.wake.set()
            loop.join(timeout=30)
        self.alarm.join(timeout=5)
