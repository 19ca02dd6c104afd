"""The timestamper: at most once an interval, an RFC 3161 token for the latest checkpoint.

It runs in the workers' process beside the followers, on a thread of its own
(``ebox.projections.workers``), and never inside the sealer: a TSA that is slow,
down or answering badly delays no checkpoint and no other follower. Each round
stamps the latest checkpoint not yet stamped (one a minute by default,
EBOX_TSA_INTERVAL), so every checkpoint is at most an interval and a sealing
away from one that is. A failed round is logged (the error's class and our own
one-line reason, never the URL or a credential), recorded as the fault of "tsa"
in `follower_faults`, which `/health` reports from any process, and tried again
next interval; a successful round clears it.

Several worker processes may stamp the same checkpoint: the second token is
ignored on insert.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping

from ebox.adapters.runtime import Ledger
from ebox.adapters.timestamps import latest_unstamped, record_timestamp
from ebox.adapters.tsa import (
    DEFAULT_INTERVAL,
    StampedCheckpoint,
    TsaClient,
    TsaReplyRejected,
    TsaUnavailable,
)
from ebox.projections.faults import clear_fault, fault_of, record_fault

NAME = "tsa"
"""The timestamper's name in `follower_faults` and in /health."""

log = logging.getLogger("ebox.timestamper")


class Timestamper:
    def __init__(self, ledger: Ledger, client: TsaClient, interval: float = DEFAULT_INTERVAL):
        self.ledger = ledger
        self.client = client
        self.interval = interval
        self.last_round: float | None = None
        self.failures = 0

    @classmethod
    def from_env(cls, ledger: Ledger, env: Mapping[str, str] | None = None) -> Timestamper | None:
        """The timestamper EBOX_TSA_* describe; None when EBOX_TSA_URL is unset."""
        env = os.environ if env is None else env
        client = TsaClient.from_env(env)
        if client is None:
            return None
        return cls(ledger, client, float(env.get("EBOX_TSA_INTERVAL") or DEFAULT_INTERVAL))

    def due(self) -> bool:
        return self.last_round is None or time.monotonic() - self.last_round >= self.interval

    def step(self) -> StampedCheckpoint | None:
        """Stamp the latest unstamped checkpoint; the token kept, or None (nothing to do or
        the TSA failed: logged and recorded, never raised)."""
        self.last_round = time.monotonic()
        try:
            latest = latest_unstamped(self.ledger)
            if latest is None:
                return None
            size, note = latest
            stamped = self.client.stamp(size, note)
            record_timestamp(self.ledger, stamped)
        except Exception as error:  # a TSA or database failure: next interval, never a crash
            self.failures += 1
            log.warning("time-stamping failed (%s), next try in %ss", _reason(error), self.interval)
            try:
                record_fault(
                    self.ledger,
                    NAME,
                    position=latest[0] if latest else 0,
                    notification_id=None,
                    error=error,
                    attempts=self.failures,
                    parked=False,
                )
            except Exception as storing:  # the database is down too: the log says it
                log.warning("time-stamping fault not recorded (%s)", type(storing).__name__)
            return None
        self.failures = 0
        if fault_of(self.ledger, NAME) is not None:
            clear_fault(self.ledger, NAME)
        log.info("checkpoint %s time-stamped at %s by %s", size, stamped.gen_time, stamped.tsa)
        return stamped

    def run(self, stop: threading.Event) -> None:
        """A round now, then one every interval, until `stop` is set."""
        while not stop.is_set():
            self.step()
            stop.wait(self.interval)


def _reason(error: BaseException) -> str:
    """The class, and our own one-line reason after it; another error's text may hold a URL."""
    if isinstance(error, TsaUnavailable | TsaReplyRejected):
        return f"{type(error).__name__}: {error}"
    return type(error).__name__
