"""The request budget every REST caller of one environment goes through.

Bitstamp allows 400 requests per second and, by default, 10,000 per 10 minutes per account
(reference section 6). One ``RateBudget`` per environment is shared by every caller, so a busy
pane cannot starve order entry into a 429 ban. When the server answers 429 anyway, ``pause``
holds every caller until the server's Retry-After has passed.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

__all__ = ["RateBudget"]


class RateBudget:
    """Sliding-window limits: ``per_second`` in any 1 s and ``per_window`` in any ``window_s``.

    Args:
        per_second: requests allowed in any one-second span (Bitstamp: 400).
        per_window: requests allowed in any ``window_s`` span (Bitstamp: 10,000 per 600 s).
        clock: monotonic seconds; injectable so tests control time.
        sleep: the coroutine used to wait; injectable with the clock.
    """

    def __init__(
        self,
        per_second: int = 400,
        per_window: int = 10_000,
        window_s: float = 600.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if per_second < 1 or per_window < 1 or window_s <= 0:
            raise ValueError("rate limits must be positive")
        self.per_second = per_second
        self.per_window = per_window
        self.window_s = window_s
        self._clock = clock
        self._sleep = sleep
        self._last_second: deque[float] = deque()
        self._last_window: deque[float] = deque()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()
        self.waited_s = 0.0
        """Total time callers spent waiting for budget (a health figure)."""

    def _forget(self, now: float) -> None:
        while self._last_second and self._last_second[0] <= now - 1.0:
            self._last_second.popleft()
        while self._last_window and self._last_window[0] <= now - self.window_s:
            self._last_window.popleft()

    def delay(self) -> float:
        """Seconds until one more request may leave (0 when it may leave now)."""
        now = self._clock()
        self._forget(now)
        wait = max(0.0, self._paused_until - now)
        if len(self._last_second) >= self.per_second:
            wait = max(wait, self._last_second[0] + 1.0 - now)
        if len(self._last_window) >= self.per_window:
            wait = max(wait, self._last_window[0] + self.window_s - now)
        return wait

    async def acquire(self) -> None:
        """Wait until a request fits in both windows, then count it. Callers go in FIFO order."""
        async with self._lock:
            while (wait := self.delay()) > 0:
                self.waited_s += wait
                await self._sleep(wait)
            now = self._clock()
            self._last_second.append(now)
            self._last_window.append(now)

    def pause(self, seconds: float) -> None:
        """Hold every caller for ``seconds`` (the server said 429 / Retry-After)."""
        self._paused_until = max(self._paused_until, self._clock() + max(0.0, seconds))

    @property
    def used_in_window(self) -> int:
        """Requests counted in the long window right now."""
        self._forget(self._clock())
        return len(self._last_window)
