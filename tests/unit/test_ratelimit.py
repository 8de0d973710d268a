"""The shared request budget, on a fake clock (no wall time)."""

from __future__ import annotations

import asyncio

from workstation.bitstamp.ratelimit import RateBudget


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def test_per_second_limit_makes_the_next_caller_wait() -> None:
    t = FakeTime()
    budget = RateBudget(per_second=3, per_window=100, clock=t.clock, sleep=t.sleep)
    for _ in range(3):
        await budget.acquire()
    assert t.slept == []
    await budget.acquire()
    assert t.slept == [1.0]


async def test_long_window_limit() -> None:
    t = FakeTime()
    budget = RateBudget(per_second=100, per_window=5, window_s=600, clock=t.clock, sleep=t.sleep)
    for _ in range(5):
        await budget.acquire()
        t.now += 1.0
    await budget.acquire()
    assert t.slept == [595.0]  # the first request leaves the window 600 s after it was made
    assert budget.used_in_window == 5


async def test_pause_holds_every_caller() -> None:
    t = FakeTime()
    budget = RateBudget(clock=t.clock, sleep=t.sleep)
    budget.pause(2.5)
    await asyncio.gather(budget.acquire(), budget.acquire())
    assert sum(t.slept) == 2.5
