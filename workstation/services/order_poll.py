"""Our orders followed over REST, where no private stream can be had.

Bitstamp names no sandbox WebSocket, and live's stream must never see a sandbox token
(issue 14), so a sandbox without ``--sandbox-ws-url`` has no private channels. What the
private stream would have prompted (:mod:`.private_feed`) is asked on a steady cadence
instead:

- every ``interval_s``, one ``order_status`` per order of ours that can still trade
  (:meth:`OrderTracker.confirm`: fills journaled once each by ``tid``, the state moved);
  ``order_status`` is not cached, while production caches ``open_orders`` for 10 seconds
  (reference 4.4), so a fill shows within one interval;
- every ``discover_every`` rounds, the account's open orders, to adopt those placed
  elsewhere.

At start, :meth:`OrderPoll.resync` reconciles the journal's open orders (the submit gate
opens when none is left undecided), as the private feed does once subscribed. Orders of
unknown outcome are left to their own chase. A round that fails is told once (``on_error``)
and tried again on the next tick; the next success is logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from ..domain.order_vocabulary import TrackState
from .order_tracker import OrderTracker

__all__ = ["POLL_EVERY_S", "OrderPoll"]

_log = logging.getLogger("workstation.services.order_poll")

POLL_EVERY_S = 2.0
"""How often our open orders are asked for by REST: one ``order_status`` each, a few per
second at most for a trader's handful of orders, well inside Bitstamp's 10,000 per 10 minutes."""

_UNDECIDED = (TrackState.PENDING, TrackState.UNKNOWN)


class OrderPoll:
    """Follows one :class:`OrderTracker`'s orders over REST; the private feed's stand-in
    (same surface: ``start``, ``watch``, ``resync``, ``close``, ``connected``, ``markets``).

    Args:
        tracker: the environment's order tracker (its REST client is used).
        on_error: called with a short, secret-free text when a round failed.
        interval_s: the cadence of rounds.
        discover_every: a round in this many also lists the account's open orders.
        retry_s: first delay between reconcile attempts that left orders undecided.
        sleep: injected by tests.
    """

    connected = False
    """There is no private stream: the status bar says orders are followed by REST."""

    def __init__(
        self,
        tracker: OrderTracker,
        *,
        on_error: Callable[[str], None] | None = None,
        interval_s: float = POLL_EVERY_S,
        discover_every: int = 5,
        retry_s: float = 1.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.tracker = tracker
        self._on_error = on_error
        self.interval_s = interval_s
        self.discover_every = max(1, discover_every)
        self.retry_s = retry_s
        self._sleep = sleep
        self.rounds = 0
        """Rounds done (for tests and the log)."""
        self._markets: set[str] = set()
        self._loop: asyncio.Task[None] | None = None
        self._resync: asyncio.Task[None] | None = None
        self._failing = False
        self._closed = False

    @property
    def markets(self) -> set[str]:
        """The markets asked to be followed (a copy; every market is polled alike)."""
        return set(self._markets)

    def start(self) -> None:
        if self._loop is None and not self._closed:
            self._loop = asyncio.create_task(self._run(), name="order-poll")

    async def watch(self, market: str) -> None:
        """Nothing to subscribe: every order of ours is polled, whatever its market."""
        self._markets.add(market)

    def resync(self) -> asyncio.Task[None]:
        """Reconcile the open orders now, retrying until none is left undecided; replaces a
        resync in progress."""
        if self._resync is not None:
            self._resync.cancel()
        self._resync = asyncio.create_task(self._resync_run(), name="order-poll-resync")
        return self._resync

    async def close(self) -> None:
        self._closed = True
        tasks = [t for t in (self._loop, self._resync) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._loop = self._resync = None

    # -- rounds -------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            await self._sleep(self.interval_s)
            try:
                await self.poll_once()
            except Exception as exc:  # noqa: BLE001 - told once, tried again next tick
                if not self._failing:
                    _log.warning("following orders over REST failed: %r", exc)
                    self._error(f"following orders over REST: {type(exc).__name__}: {exc}")
                self._failing = True
            else:
                if self._failing:
                    _log.info("following orders over REST again")
                self._failing = False

    async def poll_once(self) -> None:
        """One round: ``order_status`` for each order of ours that can still trade (and
        every ``discover_every`` rounds, adopt the account's orders placed elsewhere)."""
        tracker = self.tracker
        if self.rounds % self.discover_every == 0:
            for seen in await tracker.rest.open_orders():
                if (adopted := tracker.adopt(seen, "open_orders")) is not None:
                    await tracker.refresh(adopted.client_order_id)
        self.rounds += 1
        in_flight = tracker.gate.in_flight
        for order in tracker.orders.values():
            if order.state.is_final or order.state in _UNDECIDED:
                continue  # undecided ones are chased by their submit or the reconcile
            if order.client_order_id in in_flight or order.order_id is None:
                continue
            await tracker.confirm(order.client_order_id)

    async def _resync_run(self) -> None:
        await self.tracker.reconcile_until_allowed(
            first_retry_s=self.retry_s,
            sleep=self._sleep,
            on_error=self._error,
            after="a start with no private stream",
        )

    def _error(self, text: str) -> None:
        if self._on_error is not None:
            self._on_error(text)
