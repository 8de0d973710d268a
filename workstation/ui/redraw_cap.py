"""Redraw on change, capped: a pane paints a frame at once, not at its timer's next tick.

A free-running redraw timer makes every frame wait for the next tick (half a period on
average, a whole one at worst: p99 about 100 ms at 10 Hz). Instead a pane is *nudged* when
the market it shows moves, and redraws at once after a quiet spell (the leading edge), or,
under a stream, once ``1 / hz`` after its last redraw (the trailing edge: the last state is
always drawn, and the terminal gets at most ``hz`` redraws a second). Nudges in between fold
into the one redraw already scheduled.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable

__all__ = ["RedrawCap"]


class RedrawCap:
    """Schedules ``redraw`` for a nudge: at once, or at the last redraw + ``1 / hz``."""

    def __init__(
        self, redraw: Callable[[], None], hz: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._redraw = redraw
        self.gap = 1 / hz
        """The shortest time between two redraws, in seconds."""
        self._clock = clock
        self._last = -math.inf  # float-ok: a clock reading; never drawn yet
        self._pending: asyncio.Handle | None = None
        self.delay: float | None = None
        """How long the scheduled redraw waits (0: the leading edge); None: none scheduled."""

    def nudge(self) -> None:
        """The market moved: redraw at once after a quiet spell, else at the cap's pace."""
        if self._pending is not None:
            return  # the redraw on its way will draw this change too
        loop = asyncio.get_running_loop()
        wait = self._last + self.gap - self._clock()
        if wait <= 0:
            self.delay = 0.0
            self._pending = loop.call_soon(self._run)
        else:
            self.delay = wait
            self._pending = loop.call_later(wait, self._run)

    def drew(self) -> None:
        """A redraw happened (whoever asked for it): the next waits ``gap`` from now."""
        self._last = self._clock()

    def due(self) -> bool:
        """At least ``gap`` since the last redraw (a fallback timer's tick may redraw)."""
        return self._clock() - self._last >= self.gap

    def cancel(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
            self.delay = None

    def _run(self) -> None:
        self._pending = None
        self.delay = None
        self._redraw()
