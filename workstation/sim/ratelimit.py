"""Bitstamp's own REST request budget, enforced by the simulator: 400 requests per second and
10,000 per 10 minutes per API key (per IP for public calls), reference section 6. No fault: the
real exchange does this, answered with the same 429 as the ``RATE_LIMIT`` fault. Who the
caller is (a verified key or an address) is the server's to say; this module only counts.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

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

    A caller none of whose requests is inside either window has nothing left to count and is
    forgotten, so the table holds the callers of the last ten minutes, not every caller
    since the start (issue 17). The table is ordered by each caller's latest admitted
    request, so forgetting looks only at its oldest end: amortised O(1) a request.
    """

    def __init__(self, limits: RateLimits, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._callers: OrderedDict[str, _Spent] = OrderedDict()
        """Each caller's admitted requests, the least recently admitted caller first."""
        self._memory_s = max(limits.second_s, limits.ten_min_s)
        self.refused = 0
        """Requests answered 429 so far (a figure for tests and the banner)."""

    def __len__(self) -> int:
        """Callers remembered: those with a request inside a window (or not yet forgotten)."""
        return len(self._callers)

    def admit(self, identity: str) -> float | None:
        """Count a request from ``identity``; None when admitted, else seconds until the
        budget allows one more (for Retry-After)."""
        now = self._clock()
        self._forget_idle(now - self._memory_s)
        limits = self.limits
        spent = self._callers.get(identity)
        if spent is None:
            spent = self._callers[identity] = _Spent()
        short = _prune(spent.short, now - limits.second_s)
        long = _prune(spent.long, now - limits.ten_min_s)
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
        spent.latest = now
        self._callers.move_to_end(identity)
        return None

    def _forget_idle(self, horizon: float) -> None:
        """Drop the callers whose latest admitted request is at or before ``horizon``: every
        request of theirs has left both windows, so remembering them counts nothing."""
        callers = self._callers
        while callers and next(iter(callers.values())).latest <= horizon:
            callers.popitem(last=False)


@dataclass(slots=True)
class _Spent:
    """One caller's admitted requests within each window, oldest first."""

    short: deque[float] = field(default_factory=deque)
    long: deque[float] = field(default_factory=deque)
    latest: float = -math.inf
    """When the latest of them was admitted."""


def _prune(stamps: deque[float], horizon: float) -> deque[float]:
    while stamps and stamps[0] <= horizon:
        stamps.popleft()
    return stamps
