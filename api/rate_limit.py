"""Token buckets that keep one caller from flooding an endpoint (POST /oauth/token).

Each key (a client id, a peer address) has a bucket of `burst` tokens that
refills at `per_minute` tokens a minute; a request spends one token, and a
request that finds the bucket empty is refused with the seconds until the next
token (the answer's ``Retry-After``).

The buckets live in the process: each API replica limits on its own, so N
replicas let through up to N times the configured rate. That bounds what one
caller costs each replica (signature checks, database writes), which is the
point; a limit shared exactly across replicas belongs in the gateway in front
of them. At most `max_keys` buckets are kept (least recently used first out):
a flood of new addresses costs bounded memory, and a key that falls out starts
again with a full bucket, which gives its caller nothing it could not get
from another new address.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_MAX_KEYS = 10_000


@dataclass(frozen=True)
class RateLimit:
    """`burst` requests at once, then `per_minute` a minute; a burst of 0 means no limit."""

    burst: int
    per_minute: float

    def __post_init__(self) -> None:
        if self.burst < 0 or self.per_minute < 0:
            raise ValueError("a rate limit's burst and rate are zero or more")
        if self.burst > 0 and self.per_minute == 0:
            raise ValueError("a rate limit with a burst needs a refill rate above zero")

    @property
    def unlimited(self) -> bool:
        return self.burst == 0


class RateLimited(Exception):
    """A key's bucket is empty: retry after `retry_after` seconds (a whole number, >= 1)."""

    def __init__(self, key_kind: str, retry_after: int) -> None:
        super().__init__(f"rate limited per {key_kind}: retry after {retry_after} s")
        self.key_kind = key_kind
        self.retry_after = retry_after


class RateLimiter:
    """Token buckets keyed by a string, thread-safe (the token endpoint checks from threads)."""

    def __init__(
        self,
        limit: RateLimit,
        key_kind: str,
        *,
        max_keys: int = DEFAULT_MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.key_kind = key_kind
        self._max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # tokens, when
        self._lock = threading.Lock()

    def spend(self, key: str) -> None:
        """Spend one token of `key`'s bucket, or raise RateLimited."""
        if self.limit.unlimited:
            return
        rate = self.limit.per_minute / 60.0
        with self._lock:
            now = self._clock()
            tokens, then = self._buckets.pop(key, (float(self.limit.burst), now))
            tokens = min(float(self.limit.burst), tokens + (now - then) * rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                raise RateLimited(self.key_kind, max(1, math.ceil((1.0 - tokens) / rate)))
            self._buckets[key] = (tokens - 1.0, now)
            while len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)

    def __len__(self) -> int:
        return len(self._buckets)


__all__ = ["RateLimit", "RateLimited", "RateLimiter"]
