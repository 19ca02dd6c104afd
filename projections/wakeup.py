"""Waking followers up when events are recorded: NOTIFY on PostgreSQL, polling elsewhere."""

from __future__ import annotations

import threading
import time
from select import select as wait_readable
from typing import Any

from ebox.adapters.runtime import Ledger


class Waker:
    """Sleeps until the next poll; on PostgreSQL (psycopg2) a NOTIFY ends the sleep early."""

    def __init__(self, connection: Any = None) -> None:
        self.connection = connection

    @classmethod
    def for_ledger(cls, ledger: Ledger) -> Waker:
        engine = ledger.app.factory.datastore.engine  # type: ignore[attr-defined]
        if engine.dialect.name != "postgresql" or engine.dialect.driver != "psycopg2":
            return cls()
        connection = engine.raw_connection()
        raw = connection.driver_connection
        raw.autocommit = True
        with raw.cursor() as cursor:
            cursor.execute(f"LISTEN {ledger.app.recorder.channel_name}")  # type: ignore[attr-defined]
        return cls(connection)

    def wait(self, timeout: float, stop: threading.Event) -> bool:
        """Until a NOTIFY, `stop` or `timeout`, whichever comes first; True on a NOTIFY."""
        if self.connection is None:
            stop.wait(timeout)
            return False
        raw = self.connection.driver_connection
        deadline = time.monotonic() + timeout
        while not stop.is_set() and (left := deadline - time.monotonic()) > 0:
            if wait_readable([raw], [], [], min(left, 0.1))[0]:
                raw.poll()
                if raw.notifies:
                    raw.notifies.clear()
                    return True
        return False

    def close(self) -> None:
        if self.connection is not None:
            raw = self.connection.driver_connection
            with raw.cursor() as cursor:
                cursor.execute("UNLISTEN *")
            raw.autocommit = False
            self.connection.close()
            self.connection = None


class Alarm:
    """One Waker for many followers: each waits on its own event, a NOTIFY sets them all.

    One LISTEN connection per process instead of one per follower thread.
    """

    def __init__(self, ledger: Ledger, stop: threading.Event) -> None:
        self.ledger = ledger
        self.stop = stop
        self.events: list[threading.Event] = []
        self._thread: threading.Thread | None = None

    def event(self) -> threading.Event:
        wake = threading.Event()
        self.events.append(wake)
        return wake

    def start(self, interval: float) -> None:
        waker = Waker.for_ledger(self.ledger)
        if waker.connection is None:
            return  # polling only: each follower waits out its own interval
        self._thread = threading.Thread(
            target=self._listen, args=(waker, interval), name="ebox-wakeup", daemon=True
        )
        self._thread.start()

    def _listen(self, waker: Waker, interval: float) -> None:
        try:
            while not self.stop.is_set():
                if waker.wait(max(interval, 1.0), self.stop):
                    for wake in self.events:
                        wake.set()
        finally:
            waker.close()

    def join(self, timeout: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout)
