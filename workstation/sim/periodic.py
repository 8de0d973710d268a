"""Faults that repeat on a timer: each one a named task of the server while it runs.

The server says what each fault does (drop every WebSocket, send ``bts:request_reconnect``,
toggle a stall, corrupt frames); this module only keeps the schedule: one task per name,
started with the server, replaced when the period changes, cancelled when it stops.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import Counter
from collections.abc import Awaitable, Callable

__all__ = ["MIN_PERIOD_S", "Action", "Periodic"]

_log = logging.getLogger("workstation.sim")

MIN_PERIOD_S = 0.01
"""The shortest period a periodic fault may have: it bounds how hard the task can spin."""

Action = Callable[[], Awaitable[None] | None]


class Periodic:
    """The schedule of the periodic faults of one server."""

    def __init__(self) -> None:
        self.runs: Counter[str] = Counter()
        """How often each fault fired."""
        self._intervals: dict[str, float] = {}
        self._actions: dict[str, Action] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._retired: set[asyncio.Task[None]] = set()
        self._running = False

    @property
    def intervals(self) -> dict[str, float]:
        """The faults scheduled, by name, with their period in seconds."""
        return dict(self._intervals)

    def schedule(self, name: str, seconds: float | None, action: Action) -> None:
        """Run ``action`` every ``seconds`` (None: stop) while the server runs. Replaces any
        earlier schedule of ``name``.

        Raises:
            ValueError: a period shorter than :data:`MIN_PERIOD_S` (or not a number).
        """
        if seconds is not None and not seconds >= MIN_PERIOD_S:
            raise ValueError(f"a period must be at least {MIN_PERIOD_S} s, got {seconds!r}")
        old = self._tasks.pop(name, None)
        if old is not None:
            old.cancel()
            self._retired.add(old)
            old.add_done_callback(self._retired.discard)
        if seconds is None:
            self._intervals.pop(name, None)
            self._actions.pop(name, None)
            return
        self._intervals[name] = seconds
        self._actions[name] = action
        if self._running:  # else start() spawns it
            self._tasks[name] = self._spawn(name)

    def start(self) -> None:
        self._running = True
        for name in self._intervals:
            self._tasks[name] = self._spawn(name)

    async def stop(self) -> None:
        self._running = False
        tasks = [*self._tasks.values(), *self._retired]
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _spawn(self, name: str) -> asyncio.Task[None]:
        return asyncio.create_task(
            self._repeat(name, self._intervals[name], self._actions[name]),
            name=f"sim-fault-{name}",
        )

    async def _repeat(self, name: str, seconds: float, action: Action) -> None:
        """Fire one periodic fault until cancelled."""
        while True:
            await asyncio.sleep(seconds)
            _log.info("fault: %s", name)
            try:
                result = action()
                if inspect.isawaitable(result):
                    await result
            except Exception:  # noqa: BLE001 - one failed round must not end the schedule
                _log.exception("periodic fault %s failed", name)
            self.runs[name] += 1
