"""Bitstamp's own REST request budget, enforced by the simulator: 400 requests per second and
10,000 per 10 minutes per API key (per IP for public calls), reference section 6. No fault: the
real exchange does this, answered with the same 429 as the ``RATE_LIMIT`` fault.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["RateLimiter", "RateLimits"]


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Bitstamp's REST budget per API key (or per IP for public calls), reference section 6:
    400 requests per second and 10,000 per 10 minutes. The window lengths can be shortened so
    a test can cross a limit and see it lift within milliseconds."""

    per_second: int = 400
    per_10min: int = 10_000
    second_s: float = 1.0
    """Length of the short window."""
    ten_min_s: float = 600.0
    """Length of the long window."""

    def __post_init__(self) -> None:
        if self.per_second < 1 or self.per_10min < 1 or self.second_s <= 0 or self.ten_min_s <= 0:
            raise ValueError("rate limits and windows must be positive")


class RateLimiter:
    """Sliding-window request counting per caller identity, as the exchange does it.

    Only admitted requests count: a client that keeps calling while refused is not pushed
    further out, so its budget comes back once the window has passed. Time is monotonic
    seconds, not the exchange clock: the budget limits real request rates, while the
    exchange clock may be frozen (snapshot tests) or skewed by a fault.
    """

    def __init__(self, limits: RateLimits, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._short: dict[str, deque[float]] = {}
        self._long: dict[str, deque[float]] = {}
        self.refused = 0
        """Requests answered 429 so far (a figure for tests and the banner)."""

    def admit(self, identity: str) -> float | None:
        """Count a request from ``identity``; None when admitted, else seconds until the
        budget allows one more (for Retry-After)."""
        now = self._clock()
        limits = self.limits
        short = self._prune(self._short, identity, now - limits.second_s)
        long = self._prune(self._long, identity, now - limits.ten_min_s)
        waits = []
        if len(short) >= limits.per_second:
            waits.append(short[-limits.per_second] + limits.second_s - now)
        if len(long) >= limits.per_10min:
            waits.append(long[-limits.per_10min] + limits.ten_min_s - now)
        if waits:
            self.refused += 1
            return max(0.001, math.ceil(max(waits) * 1000) / 1000)
        short.append(now)
        long.append(now)
        return None

    @staticmethod
    def _prune(windows: dict[str, deque[float]], identity: str, horizon: float) -> deque[float]:
        stamps = windows.setdefault(identity, deque())
        while stamps and stamps[0] <= horizon:
            stamps.popleft()
        return stamps
