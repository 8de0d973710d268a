"""How healthy a feed is, in the figures a trader reads on the status bar.

Connected or not, age of the last message, reconnects, resyncs, REST latency (p50/p95 of
the recent calls) and how many 429s the venue answered. Plain numbers, updated by the hub
and the feeds, read by widgets.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

__all__ = ["FeedHealth", "LatencyWindow"]


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


@dataclass
class FeedHealth:
    """One feed's health; the hub shares ``rest_latency`` and ``rate_limited`` across feeds."""

    connected: bool = False
    last_message_at: float | None = None
    """``time.monotonic()`` of the last frame on any of the feed's channels."""
    reconnects: int = 0
    resyncs: int = 0
    last_resync_reason: str = ""
    rest_latency: LatencyWindow = field(default_factory=LatencyWindow)
    rate_limited: int = 0

    def message_age(self, now: float | None = None) -> float | None:
        if self.last_message_at is None:
            return None
        return (time.monotonic() if now is None else now) - self.last_message_at
