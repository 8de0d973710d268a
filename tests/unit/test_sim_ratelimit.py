"""The simulator's request budget forgets idle callers (issue 17, item 2): its table holds
the callers seen within the longest window, not every caller since the start."""

from __future__ import annotations

from workstation.sim.ratelimit import RateLimiter, RateLimits


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_idle_callers_are_forgotten_after_the_longest_window() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimits(), clock=clock)
    for n in range(1000):
        assert limiter.admit(f"key forged-{n}") is None
    assert len(limiter) == 1000
    clock.now += 599.0  # still inside the 10-minute window: every one is remembered
    assert limiter.admit("ip 127.0.0.1") is None
    assert len(limiter) == 1001
    clock.now += 1.0  # the first thousand have now spent nothing within any window
    assert limiter.admit("ip 127.0.0.1") is None
    assert len(limiter) == 1


def test_a_caller_with_requests_in_the_window_is_kept() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimits(per_second=100, per_10min=2), clock=clock)
    assert limiter.admit("key k") is None
    clock.now += 300.0
    assert limiter.admit("key k") is None
    clock.now += 301.0  # the first request has left the window, the second has not
    assert limiter.admit("ip other") is None
    assert len(limiter) == 2
    assert limiter.admit("key k") is None
    assert limiter.admit("key k") is not None  # its second request still counts


def test_the_table_stays_bounded_under_20000_distinct_callers() -> None:
    """One new caller every 0.1 s for 2,000 s: at most the last 600 s of them are held."""
    clock = FakeClock()
    limiter = RateLimiter(RateLimits(), clock=clock)
    largest = 0
    for n in range(20_000):
        assert limiter.admit(f"key forged-{n}") is None
        largest = max(largest, len(limiter))
        clock.now += 0.1
    assert largest <= 6001
    assert len(limiter) <= 6001
