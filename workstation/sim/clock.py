"""The simulator's clock: wall time, or a manual clock that moves only when a test says so."""

from __future__ import annotations

import time

__all__ = ["SimClock"]


class SimClock:
    """Microseconds since the Unix epoch.

    ``SimClock()`` follows the wall clock. ``SimClock(manual_start_us=...)`` is frozen at that
    instant and moves only through ``advance``: snapshot tests and deterministic runs use it.
    """

    def __init__(self, manual_start_us: int | None = None) -> None:
        self._manual_us = manual_start_us
        self._last_us = 0

    @property
    def manual(self) -> bool:
        return self._manual_us is not None

    def now_us(self) -> int:
        """Now; strictly increasing between calls, so event timestamps never tie or go back."""
        now = self._manual_us if self._manual_us is not None else time.time_ns() // 1000
        self._last_us = max(now, self._last_us + 1)
        return self._last_us

    def peek_us(self) -> int:
        """Now, without claiming a fresh microsecond."""
        now = self._manual_us if self._manual_us is not None else time.time_ns() // 1000
        return max(now, self._last_us)

    def now_ms(self) -> int:
        return self.peek_us() // 1000

    def advance(self, seconds: float) -> None:
        if self._manual_us is None:
            raise RuntimeError("only a manual clock can be advanced")
        self._manual_us += int(seconds * 1_000_000)
