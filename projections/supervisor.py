"""Supervising one follower: retries with exponential backoff, narrowing, parking.

A follower that fails on a batch retries it after a pause that doubles at each
attempt; after `attempts` failures it retries one notification at a time, so
the notifications before the culprit go through and the culprit is named, and
when that one fails too it stops alone ("parked"), recording where and why in
`follower_faults`. A restart retries a parked follower once, so a fixed bug
heals by redeploying; the parked loop also resumes as soon as any process (or
a rebuild) clears the fault.

Logs name the follower, the notifications, the error class and the line of
code; never the error's text, which for a database error quotes the letter's
data (PostgreSQL's DETAIL shows the failing row even with hidden parameters).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ebox.domain.redaction import code_location
from ebox.projections.faults import Fault, clear_fault, error_class, fault_of, record_fault
from ebox.projections.follower import Batch, Follower
from ebox.projections.metrics import record_batch, record_failure

log = logging.getLogger("ebox.workers")


@dataclass(frozen=True)
class RetryPolicy:
    """How a follower paces its batches and retries before it parks (EBOX_FOLLOWER_*)."""

    attempts: int = 5
    """Failed attempts of one batch before narrowing it down and parking."""
    backoff: float = 0.5
    """Seconds before the first retry; doubled at each further one."""
    max_backoff: float = 30.0
    parked_poll: float = 5.0
    """How often a parked follower looks whether its fault was cleared."""
    gather: float = 0.1
    """Seconds a follower that has caught up waits before its next batch.

    Without it, under a steady stream of letters every follower ran one batch
    per commit, one or two letters each, and the fixed cost of a batch (its
    transaction, the tracking row, the newest id, the claim) came to most of
    the server's CPU per letter (py-spy on bench/http_publish.py). Waiting a
    moment lets the letters of that moment go in one batch; it adds at most
    this to the lag of each follower."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RetryPolicy:
        env = os.environ if env is None else env
        default = cls()
        return cls(
            attempts=max(1, int(env.get("EBOX_FOLLOWER_ATTEMPTS", default.attempts))),
            backoff=float(env.get("EBOX_FOLLOWER_BACKOFF", default.backoff)),
            max_backoff=float(env.get("EBOX_FOLLOWER_BACKOFF_MAX", default.max_backoff)),
            parked_poll=float(env.get("EBOX_FOLLOWER_PARKED_POLL", default.parked_poll)),
            gather=max(0.0, float(env.get("EBOX_FOLLOWER_GATHER", default.gather))),
        )

    def delay(self, attempt: int) -> float:
        """The pause after failed attempt number `attempt` (1-based)."""
        return float(min(self.max_backoff, self.backoff * 2 ** (attempt - 1)))


class FollowerLoop:
    """One follower, supervised: its batches, its retries with backoff, its parking."""

    def __init__(
        self,
        follower: Follower,
        policy: RetryPolicy,
        stop: threading.Event,
        wake: threading.Event | None = None,
        on_idle: Callable[[], object] | None = None,
    ) -> None:
        self.follower = follower
        self.name = follower.name
        self.policy = policy
        self.stop = stop
        self.wake = wake or threading.Event()
        self.on_idle = on_idle
        self.attempts = 0
        self.parked = False
        self.faulty = False  # a fault row may exist: clear it on the next success
        self.narrow_until: int | None = None
        self.caught_up = False  # the last batch was not full: the log's end was reached
        self._next_fault_check = 0.0
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ one step

    def step(self) -> bool:
        """One supervised batch; True when the position moved. Never raises."""
        if self.parked:
            return False
        limit = 1 if self.narrow_until is not None else None
        try:
            batch = self.follower.step(limit)
        except Exception as error:
            self._failed(error)
            return False
        if batch is not None:
            record_batch(self.name, batch.handled)
        self._succeeded(batch)
        self.caught_up = batch is not None and batch.handled < (limit or self.follower.batch_size)
        return batch is not None

    def resume_parked(self) -> None:
        """At start: a parked follower gets one retry of its failing notification."""
        try:
            fault = fault_of(self.follower.ledger, self.name)
        except Exception as error:
            log.warning(
                "follower %s: its fault could not be read (%s)", self.name, type(error).__name__
            )
            return
        if fault is None:
            return
        self.faulty = True
        if not fault.parked:
            return
        log.warning(
            "follower %s is parked at position %d on notification %s (%s): retrying once",
            self.name,
            fault.position,
            fault.notification_id,
            fault.error_class,
        )
        try:
            batch = self.follower.step(1)
        except Exception as error:
            attempted = self.follower.attempted
            self._park(error, attempted, fault.attempts + 1, fallback=fault)
            return
        self._succeeded(batch)

    def _succeeded(self, batch: Batch | None) -> None:
        if self.narrow_until is not None and (batch is None or batch.end >= self.narrow_until):
            self.narrow_until = None
        if self.narrow_until is None:  # while narrowing, the failed attempts still count
            self.attempts = 0
        if self.faulty and self.narrow_until is None:
            try:
                clear_fault(self.follower.ledger, self.name)
                self.faulty = False
                log.info("follower %s recovered", self.name)
            except Exception as error:
                log.warning(
                    "follower %s: clearing its fault failed (%s)", self.name, error_class(error)
                )

    def _failed(self, error: Exception) -> None:
        record_failure(self.name)
        self.attempts += 1
        batch = self.follower.attempted
        if batch is None or not batch.notification_ids:
            # Nothing was handled (the database itself failed): not this follower's
            # fault and nothing to narrow down; keep retrying, never park for it.
            delay = self.policy.delay(min(self.attempts, 32))
            log.warning(
                "follower %s could not start a batch (%s at %s); retrying in %.1f s",
                self.name,
                error_class(error),
                code_location(error),
                delay,
            )
            self.stop.wait(delay)
            return
        if len(batch.notification_ids) == 1 and (
            self.narrow_until is not None or self.attempts >= self.policy.attempts
        ):
            self._park(error, batch, self.attempts)
            return
        if self.attempts >= self.policy.attempts:
            # The batch keeps failing: retry it one notification at a time, so the
            # ones before the culprit go through and the culprit is named.
            self.narrow_until = batch.end
            self._record(error, batch, parked=False)
            log.warning(
                "follower %s failed %d times on notifications %d..%d (%s at %s); "
                "narrowing down to one notification",
                self.name,
                self.attempts,
                batch.notification_ids[0],
                batch.notification_ids[-1],
                error_class(error),
                code_location(error),
            )
            return
        delay = self.policy.delay(self.attempts)
        self._record(error, batch, parked=False)
        log.warning(
            "follower %s failed on notifications %d..%d at position %d (%s at %s); "
            "attempt %d of %d, retrying in %.1f s",
            self.name,
            batch.notification_ids[0],
            batch.notification_ids[-1],
            batch.start,
            error_class(error),
            code_location(error),
            self.attempts,
            self.policy.attempts,
            delay,
        )
        self.stop.wait(delay)

    def _park(
        self, error: Exception, batch: Batch | None, attempts: int, fallback: Fault | None = None
    ) -> None:
        self.narrow_until = None
        if batch is not None and batch.notification_ids:
            position, notification = batch.start, batch.notification_ids[0]
        elif fallback is not None:  # the retry failed before its batch: keep what was known
            position, notification = fallback.position, fallback.notification_id
        else:
            position, notification = (batch.start if batch else -1), None
        try:
            record_fault(
                self.follower.ledger,
                self.name,
                position=position,
                notification_id=notification,
                error=error,
                attempts=attempts,
                parked=True,
            )
            self.faulty = True
        except Exception as failure:
            log.warning(
                "follower %s: recording its fault failed (%s)", self.name, error_class(failure)
            )
        # Parked only once the fault is on record: a `retry` that clears it from then on is
        # seen by `_wait_while_parked`; one that came before the record would be lost.
        self.parked = True
        log.error(
            "follower %s parked at position %d on notification %s after %d attempts (%s at %s); "
            "the other followers go on; restart the workers to retry it",
            self.name,
            position,
            notification,
            attempts,
            error_class(error),
            code_location(error),
        )

    def _record(self, error: Exception, batch: Batch, *, parked: bool) -> None:
        try:
            record_fault(
                self.follower.ledger,
                self.name,
                position=batch.start,
                notification_id=batch.notification_ids[0] if batch.notification_ids else None,
                error=error,
                attempts=self.attempts,
                parked=parked,
            )
            self.faulty = True
        except Exception as failure:
            log.warning(
                "follower %s: recording its fault failed (%s)", self.name, error_class(failure)
            )

    # ------------------------------------------------------------------ loops

    def run_until_idle(self) -> int:
        """Batches until idle or parked; how many moved the position."""
        moved = 0
        while not self.stop.is_set() and not self.parked:
            if self.step():
                moved += 1
            elif self.attempts == 0 and self.narrow_until is None:
                break
        return moved

    def run_forever(self, interval: float) -> None:
        """Until `stop`; a bug in the supervision itself is logged and outlived, never fatal."""
        self.resume_parked()
        while not self.stop.is_set():
            try:
                self._turn(interval)
            except Exception as error:
                log.error(
                    "follower %s: supervision failed (%s at %s)",
                    self.name,
                    error_class(error),
                    code_location(error),
                )
                self.stop.wait(self.policy.max_backoff)

    def _turn(self, interval: float) -> None:
        if self.parked:
            self._wait_while_parked()
            return
        if self.step():
            if self.caught_up and self.narrow_until is None and self.policy.gather > 0:
                self.stop.wait(self.policy.gather)  # let the next letters gather
            return
        if self.attempts == 0:
            self._idle()
            self._notice_others_faults()
            self.wake.wait(interval)
            self.wake.clear()

    def _notice_others_faults(self) -> None:
        """Another process may have recorded a fault and died: a success here clears it.

        Looked at every `parked_poll` seconds while idle, so that /health does not
        report forever a failure that this process has long moved past.
        """
        if self.faulty or time.monotonic() < self._next_fault_check:
            return
        self._next_fault_check = time.monotonic() + self.policy.parked_poll
        try:
            self.faulty = fault_of(self.follower.ledger, self.name) is not None
        except Exception as error:
            log.warning(
                "follower %s: its fault could not be read (%s)", self.name, error_class(error)
            )

    def _idle(self) -> None:
        if self.on_idle is None:
            return
        try:
            self.on_idle()
        except Exception as error:
            log.warning("follower %s: idle work failed (%s)", self.name, error_class(error))

    def _wait_while_parked(self) -> None:
        """Until the fault is cleared elsewhere (a restart's retry, a rebuild) or `stop`."""
        self.stop.wait(self.policy.parked_poll)
        try:
            fault = fault_of(self.follower.ledger, self.name)
        except Exception:
            return
        if fault is None or not fault.parked:
            log.info("follower %s: its fault was cleared; resuming", self.name)
            self.parked, self.attempts, self.faulty = False, 0, fault is not None
            self.follower.forget()

    def start(self, interval: float) -> None:
        self._thread = threading.Thread(
            target=self.run_forever, args=(interval,), name=f"ebox-{self.name}", daemon=True
        )
        self._thread.start()

    def join(self, timeout: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout)
