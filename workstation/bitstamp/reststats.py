"""What the REST calls of one session came to, in the figures a trader reads on the status
bar: every answer that said "too many requests" (and every 5xx, for the health view), and the
latency of market data and trading calls apart.

One ``RestStats`` per transport, updated by every attempt (retries included) at the one
place all callers share, so no caller's 429s go uncounted. Plain numbers, read by widgets.
"""

from __future__ import annotations

from collections import deque

import msgspec

__all__ = ["LatencyWindow", "RestStats"]


class LatencyWindow:
    """The last ``size`` durations, with percentiles on demand."""

    def __init__(self, size: int = 200) -> None:
        self._samples: deque[float] = deque(maxlen=size)

    def add(self, seconds: float) -> None:
        self._samples.append(seconds)

    def __len__(self) -> int:
        return len(self._samples)

    def clear(self) -> None:
        self._samples.clear()

    def percentile(self, p: float) -> float | None:
        """Nearest-rank percentile in seconds (``p`` in 0..100), None before any sample."""
        if not self._samples:
            return None
        ordered = sorted(self._samples)
        rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
        return ordered[rank]


class RestStats(msgspec.Struct):
    """Counted by the transport on every attempt of every caller."""

    rate_limited: int = 0
    """Answers that said "too many requests" (HTTP 429, 400.002, "blocked for N seconds")."""
    server_errors: int = 0
    """Answers with a 5xx status: the exchange's JSON errors and the HTML pages of a CDN in
    front of it."""
    market_data: LatencyWindow = msgspec.field(default_factory=LatencyWindow)
    """Seconds per answered public read (book, trades, ticker, markets)."""
    trading: LatencyWindow = msgspec.field(default_factory=LatencyWindow)
    """Seconds per answered signed call (orders, cancels, balances, order status, token)."""

    def record(
        self, *, signed: bool, seconds: float | None, rate_limited: bool, server_error: bool = False
    ) -> None:
        """One attempt; ``seconds`` None when no answer came back (no latency to count)."""
        if rate_limited:
            self.rate_limited += 1
        if server_error:
            self.server_errors += 1
        if seconds is not None:
            (self.trading if signed else self.market_data).add(seconds)
