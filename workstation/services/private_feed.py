"""The private order and trade channels of one environment, read for the order tracker.

``private-my_orders_{market}`` and ``private-my_trades_{market}`` (reference 7.5) tell us
*that* one of our orders changed; what changed is then asked by REST
(:meth:`OrderTracker.confirm`, coalesced per order), because ``order_status`` lists every
fill with its ``tid`` and fee while the meaning of the stream's ``amount_traded`` is not
settled (7.5). Fills are therefore counted once however many events announce them.

A stream that drops loses events with no way to replay them (there are no sequence
numbers), so (architecture, "After any private-stream reconnect, reconcile before allowing
new submits"):

- on a reconnect (not the first connect) the tracker is marked stale at once: submits wait,
  cancels stay allowed. Once the private channels are subscribed again (acknowledged, or
  after ``subscribe_wait_s``), ``reconcile_open`` runs in the background and is retried
  until no order is left undecided; then submits are allowed again.
- while the stream is down, submits are still allowed (each is confirmed by REST on its
  own); the trader sees the stream is down (``connected``), and the reconnect reconciles.

An event about an order the tracker does not know is an order of the account placed
elsewhere: the tracker lists that market's open orders and adopts it
(:meth:`OrderTracker.discover`), unless the event says it is already gone. Every connect
also reloads the balances (``on_activity``), and so does the end of every resync: what
happened while the stream was down, or on a venue that restarted, is shown as it is now.

The first connect is part of :meth:`PrivateFeed.resync` at start: the service asks for it
before the stream connects, and it waits for the subscriptions before reconciling, so an
order that changes between the reconcile and the subscription is not missed either.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from ..bitstamp.stream import (
    ClientEvent,
    ConnectionState,
    ConnectionStateChanged,
    FrameRejected,
    StreamClient,
)
from ..bitstamp.stream_frames import (
    MyTradeFrame,
    OrderEventFrame,
    StreamErrorEvent,
    SubscriptionSucceeded,
    UnknownEvent,
)
from ..domain.orders import OrderEventKind
from .order_tracker import OrderTracker

__all__ = ["PrivateFeed"]

_log = logging.getLogger("workstation.services.private_feed")

ORDERS = "private-my_orders_"
TRADES = "private-my_trades_"
RECONNECTED = "private stream reconnected: reconciling open orders"
CONNECTED_LATE = "private stream connected late: reconciling open orders"


def _base(channel: str) -> str:
    """``private-my_orders_btcusd-4123456`` -> ``private-my_orders_btcusd``."""
    return channel.rpartition("-")[0] if channel.startswith("private-") else channel


def _market(channel: str) -> str | None:
    base = _base(channel)
    for prefix in (ORDERS, TRADES):
        if base.startswith(prefix):
            return base[len(prefix) :]
    return None


class PrivateFeed:
    """Consumes one :class:`StreamClient`'s private channels for one :class:`OrderTracker`.

    Args:
        stream: a stream client with a token provider; the feed starts and closes it.
        tracker: the environment's order tracker.
        on_activity: called on every private event (ours or not): balances may have moved.
        on_state: called with each connection state change.
        on_error: called with a short, secret-free text when something went wrong.
        subscribe_wait_s: how long a resync waits for the subscriptions to be acknowledged.
        retry_s: first delay between reconcile attempts that left orders undecided.
        sleep: injected by tests.
    """

    def __init__(
        self,
        stream: StreamClient,
        tracker: OrderTracker,
        *,
        on_activity: Callable[[], None] | None = None,
        on_state: Callable[[ConnectionStateChanged], None] | None = None,
        on_error: Callable[[str], None] | None = None,
        subscribe_wait_s: float = 5.0,
        retry_s: float = 1.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.stream = stream
        self.tracker = tracker
        self._on_activity = on_activity
        self._on_state = on_state
        self._on_error = on_error
        self.subscribe_wait_s = subscribe_wait_s
        self.retry_s = retry_s
        self._sleep = sleep
        self.connected = False
        self.connects = 0
        self._wanted: set[str] = set()
        self._acked: set[str] = set()
        self._ready = asyncio.Event()
        self._markets: set[str] = set()
        self._consumer: asyncio.Task[None] | None = None
        self._resync: asyncio.Task[None] | None = None
        self._resync_waiting = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False

    @property
    def markets(self) -> set[str]:
        """The markets whose private channels are subscribed (a copy)."""
        return set(self._markets)

    @property
    def resync_task(self) -> asyncio.Task[None] | None:
        """The reconcile running after a (re)connect, if any."""
        return self._resync

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Start the stream and the consumer (subscriptions may come before or after)."""
        if self._consumer is None and not self._closed:
            self.stream.start()
            self._consumer = asyncio.create_task(self._consume(), name="private-feed")

    async def watch(self, market: str) -> None:
        """Subscribe the market's order and trade channels (now and after every reconnect).

        While connected, waits (at most ``subscribe_wait_s``) for the subscriptions to be
        acknowledged, so the events of an order placed right after are not missed.
        """
        if market in self._markets:
            return
        self._markets.add(market)
        for prefix in (ORDERS, TRADES):
            base = prefix + market
            self._wanted.add(base)
            if base not in self._acked:
                self._ready.clear()
            await self.stream.subscribe_private(base)
        if self.connected:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.subscribe_wait_s):
                    await self._ready.wait()

    def resync(self) -> asyncio.Task[None]:
        """Reconcile open orders once the private channels are subscribed (or the wait ran
        out), retrying until none is left undecided; replaces a resync in progress."""
        if self._resync is not None:
            self._resync.cancel()
        self._resync_waiting = True
        self._resync = self._spawn(self._resync_run(), "private-resync")
        return self._resync

    async def close(self) -> None:
        """Stop the stream, the consumer and every confirm in progress; idempotent."""
        self._closed = True
        tasks = [t for t in (self._consumer, self._resync, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        await self.stream.close()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._consumer = self._resync = None
        self._tasks.clear()
        self.connected = False

    # -- events -------------------------------------------------------------------------------

    async def _consume(self) -> None:
        async for event in self.stream:
            try:
                self._handle(event)
            except Exception as exc:  # noqa: BLE001 - one bad event must not stop the feed
                _log.exception("private event %r", type(event).__name__)
                self._error(f"private stream: {type(exc).__name__}: {exc}")

    def _handle(self, event: ClientEvent) -> None:
        if isinstance(event, ConnectionStateChanged):
            self._on_connection(event)
        elif isinstance(event, SubscriptionSucceeded):
            if event.channel.startswith("private-"):
                self._acked.add(_base(event.channel))
                if self.connected and self._wanted <= self._acked:
                    self._ready.set()
        elif isinstance(event, OrderEventFrame):
            ev = event.order_event
            gone = ev.kind is OrderEventKind.DELETED
            self._order_activity(ev.client_order_id, ev.order_id, ev.market, gone=gone)
        elif isinstance(event, MyTradeFrame):
            trade = event.trade
            self._order_activity(trade.client_order_id, trade.order_id, trade.market)
        elif isinstance(event, StreamErrorEvent):
            self._error(f"private stream refused a request ({event.code}): {event.message}")
        elif isinstance(event, FrameRejected | UnknownEvent):
            channel = event.channel
            if channel is None or channel.startswith("private-"):
                # An event we could not read: what it said is lost, so ask about every
                # live order it may have been about.
                if isinstance(event, FrameRejected):
                    self._error(f"private stream: unreadable frame ({event.error})")
                self._confirm_live(_market(channel) if channel else None)

    def _on_connection(self, event: ConnectionStateChanged) -> None:
        if event.state is ConnectionState.CONNECTED:
            self.connected = True
            self._acked.clear()
            self._ready.clear()
            if not self._wanted:
                self._ready.set()
            first = self.connects == 0
            self.connects += 1
            if not first and self._on_activity is not None:
                self._on_activity()  # what the account holds now, whatever was missed
            if not self._resync_waiting and not self._closed:
                # A reconnect (or a first connect that came after the start's reconcile
                # stopped waiting for it): events may have been lost in between.
                self.tracker.mark_stale(RECONNECTED if not first else CONNECTED_LATE)
                self.resync()
        elif event.state in (ConnectionState.DISCONNECTED, ConnectionState.CLOSED):
            self.connected = False
            self._ready.clear()
        if self._on_state is not None:
            self._on_state(event)

    def _order_activity(
        self, client_order_id: str | None, order_id: int | None, market: str, *, gone: bool = False
    ) -> None:
        if self._on_activity is not None:
            self._on_activity()
        cid = self.tracker.find(client_order_id=client_order_id, order_id=order_id)
        if cid is not None:
            self._spawn(self.tracker.confirm(cid), "private-confirm")
        elif not gone:  # placed elsewhere: list the market's open orders to adopt it
            self._spawn(self.tracker.discover(market), "private-discover")

    def _confirm_live(self, market: str | None) -> None:
        for order in self.tracker.orders.values():
            if not order.state.is_final and (market is None or order.market == market):
                self._spawn(self.tracker.confirm(order.client_order_id), "private-confirm")

    # -- resync -------------------------------------------------------------------------------

    async def _resync_run(self) -> None:
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.subscribe_wait_s):
                    await self._ready.wait()
        finally:
            if self._resync is asyncio.current_task():  # not replaced by a newer resync
                self._resync_waiting = False
        await self.tracker.reconcile_until_allowed(
            first_retry_s=self.retry_s,
            sleep=self._sleep,
            on_error=self._error,
            after="a private stream (re)connect",
        )
        if self._on_activity is not None:
            self._on_activity()

    # -- helpers ------------------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            _log.error("%s failed", task.get_name(), exc_info=exc)
            self._error(f"{task.get_name()}: {type(exc).__name__}: {exc}")

    def _error(self, text: str) -> None:
        if self._on_error is not None:
            self._on_error(text)
