"""How long the event loop is held, measured in the CPU time of its thread.

A probe task sleeps a millisecond over and over; between going to sleep and waking up, the
loop's thread runs whatever else was ready (a request handler, a market tick). The thread CPU
time that passed is how long the probe, and every other client, was kept waiting. CPU time
and not wall time: on a shared two-core machine the process is descheduled for tens of
milliseconds at random, which wall time counts as lag and thread CPU time does not, so a
bound of a few milliseconds holds on a busy machine and still fails code that really holds
the loop (a 190 ms body is 190 ms of CPU wherever it runs).
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from collections.abc import AsyncIterator

__all__ = ["LoopHolds", "holding_probe"]

SLEEP_S = 0.001


class LoopHolds:
    """The holds seen by one probe, in milliseconds of thread CPU time."""

    def __init__(self) -> None:
        self.ms: list[float] = []

    async def run(self) -> None:
        while True:
            before = time.thread_time()
            await asyncio.sleep(SLEEP_S)
            self.ms.append((time.thread_time() - before) * 1000)

    def p99(self) -> float:
        return statistics.quantiles(self.ms, n=100, method="inclusive")[98]

    def longest(self) -> float:
        return max(self.ms)

    def over(self, ms: float) -> int:
        return sum(1 for hold in self.ms if hold > ms)

    def describe(self) -> str:
        ordered = sorted(self.ms)
        return (
            f"{len(ordered)} samples, p50 {statistics.median(ordered):.2f} ms, "
            f"p99 {self.p99():.2f} ms, longest {ordered[-5:]}"
        )


@contextlib.asynccontextmanager
async def holding_probe() -> AsyncIterator[LoopHolds]:
    """Probe the running loop for the duration of the block."""
    holds = LoopHolds()
    task = asyncio.create_task(holds.run())
    try:
        yield holds
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
