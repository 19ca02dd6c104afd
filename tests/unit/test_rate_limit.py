"""Token buckets of the token endpoint (ebox.api.rate_limit), on an explicit clock."""

from __future__ import annotations

import pytest

from ebox.api.rate_limit import RateLimit, RateLimited, RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_passes_then_the_next_request_waits_for_a_token() -> None:
    clock = Clock()
    limiter = RateLimiter(RateLimit(burst=3, per_minute=6), "client", clock=clock)
    for _ in range(3):
        limiter.spend("a")
    with pytest.raises(RateLimited) as refused:
        limiter.spend("a")
    assert refused.value.retry_after == 10  # 6 a minute: one token every 10 s
    assert refused.value.key_kind == "client"
    clock.now += 4
    with pytest.raises(RateLimited) as again:
        limiter.spend("a")
    assert again.value.retry_after == 6  # a refused request does not push the refill back
    clock.now += 6
    limiter.spend("a")
    with pytest.raises(RateLimited):
        limiter.spend("a")


def test_a_bucket_refills_up_to_its_burst_only() -> None:
    clock = Clock()
    limiter = RateLimiter(RateLimit(burst=2, per_minute=60), "address", clock=clock)
    limiter.spend("a")
    clock.now += 3600
    limiter.spend("a")
    limiter.spend("a")
    with pytest.raises(RateLimited) as refused:
        limiter.spend("a")
    assert refused.value.retry_after == 1


def test_keys_have_their_own_buckets() -> None:
    limiter = RateLimiter(RateLimit(burst=1, per_minute=1), "address", clock=Clock())
    limiter.spend("a")
    limiter.spend("b")
    with pytest.raises(RateLimited):
        limiter.spend("a")


def test_memory_is_bounded_oldest_key_out() -> None:
    limiter = RateLimiter(RateLimit(burst=1, per_minute=1), "address", max_keys=3, clock=Clock())
    for key in ("a", "b", "c", "d"):
        limiter.spend(key)
    assert len(limiter) == 3
    limiter.spend("a")  # fell out first: a full bucket again
    with pytest.raises(RateLimited):
        limiter.spend("d")


def test_a_burst_of_zero_means_no_limit_and_bad_limits_are_refused() -> None:
    unlimited = RateLimiter(RateLimit(burst=0, per_minute=0), "client", clock=Clock())
    for _ in range(10_000):
        unlimited.spend("a")
    assert len(unlimited) == 0
    for burst, per_minute in ((-1, 1.0), (1, -1.0), (5, 0.0)):
        with pytest.raises(ValueError):
            RateLimit(burst, per_minute)
