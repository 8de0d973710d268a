"""Trading for one environment: what the order ticket, the open orders pane and the balances
pane use. It ties together the order tracker (journal-first submits, never resent), the
private stream that prompts confirmations and reconciles after reconnects, and the
account's balances and fees.

Everything the UI needs to redraw reaches ``listener`` as a typed event
(:data:`~.events.TradingEvent`), called on the event loop (the facade passes it on):

- :class:`OrderChanged`: a new snapshot of one of our orders;
- :class:`BalancesChanged`: the balances (or fees) changed, read ``service.balances``;
- :class:`SubmitGateChanged`: submits were blocked (``reason`` says why) or allowed again;
- :class:`PrivateStreamChanged`: the private stream's connection changed (state and reason);
- :class:`TradingError`: something in the background failed (a short text without secrets).

Background failures are told as a :class:`TradingError`; they never crash the caller.
Calls the trader makes (submit, cancel, amend) raise (:mod:`.refusals`):
:class:`SubmitsBlocked` while orders are being reconciled or the kill switch runs,
:class:`AmendRefused` for an
amend that cannot be sent, :class:`CancelFailed` for a cancel the exchange did not carry out
(with the reason and the order's true state); ValueError for a market the environment does
not have, KeyError for an order it never journaled.

The orders listed are every open order of the account: those placed elsewhere (the web, a
bot) are adopted from ``open_orders`` at start, on every reconcile and when the private
stream shows one, and marked ``external``. Balances and open orders are reloaded after
every reconnect of the private stream. A venue with no private stream (``ws_url`` None: a
sandbox without a WebSocket of its own) asks for no stream token; its orders are followed
over REST instead (:mod:`.order_poll`). With a private stream they are asked for by REST too,
slowly (:data:`SWEEP_EVERY_S`): a channel can go quiet while its socket lives.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ..bitstamp.rest import RestClient
from ..bitstamp.stream import ConnectionStateChanged, StreamClient
from ..domain.account import Balance
from ..domain.markets import Market
from ..domain.order_request import OrderRequest
from ..domain.order_vocabulary import TrackState
from ..domain.tracked_order import CancelReport, TrackedOrder
from .balances import AccountBook
from .events import (
    BalancesChanged,
    OrderChanged,
    PrivateStreamChanged,
    SubmitGateChanged,
    TradingError,
    TradingEvent,
)
from .journal import Journal
from .order_poll import OrderPoll
from .order_tracker import OrderTracker
from .private_feed import PrivateFeed
from .reconciler import ReconcilePolicy
from .refusals import AmendRefused, SubmitsBlocked

__all__ = ["SWEEP_EVERY_S", "TradingService"]

SWEEP_EVERY_S = 10.0
"""How often, beside the private stream, our orders that can still trade are asked for by
REST (one ``order_status`` each; the account's open orders every fifth round). A private
channel can go quiet while its socket lives (heartbeats answered, its frames lost: the chaos
minute's stall), and nothing on the stream tells: without this, a fill then stayed unknown
until the next reconnect. Fills are journaled once each by ``tid``, so asking again is safe."""

_log = logging.getLogger("workstation.services.trading")
_EPOCH = dt.datetime.min.replace(tzinfo=dt.UTC)
_NO_MONEY_MOVED = (TrackState.PENDING, TrackState.UNKNOWN)


class TradingService:
    """Orders, private stream and balances of one environment.

    ``await service.start()`` once, ``await service.close()`` on exit (the REST client is the
    caller's and stays open).

    Args:
        rest: the environment's REST client (with credentials).
        ws_url: the environment's WebSocket URL; the service opens its own private stream.
            None: the venue has no private stream (a sandbox without a WebSocket of its
            own): no stream token is asked for, and orders are followed over REST
            (:class:`~.order_poll.OrderPoll`).
        journal: the order journal.
        env: ``"sim"``, ``"sandbox"`` or ``"live"``: the journal rows this service owns.
        markets: the environment's markets by symbol.
        listener: told about every change (see the module docstring).
        policy: how orders of unknown outcome are chased.
        balances_interval_s: the balances throttle (one request per this many seconds).
        start_wait_s: how long ``start`` waits for the first reconcile before returning (it
            goes on in the background; submits stay blocked until it is done).
        subscribe_wait_s: how long a reconcile waits for the private subscriptions.
        sweep_every_s: with a private stream, how often our orders are asked for by REST
            anyway (:data:`SWEEP_EVERY_S`).
        recent_limit: how many journaled orders ``start`` loads for ``recent_orders``.
        stream: a stream client to use instead of a new one (tests tune its backoff).
    """

    def __init__(
        self,
        rest: RestClient,
        ws_url: str | None,
        journal: Journal,
        env: str,
        markets: dict[str, Market],
        *,
        listener: Callable[[TradingEvent], object],
        policy: ReconcilePolicy | None = None,
        balances_interval_s: float = 1.0,
        start_wait_s: float = 10.0,
        subscribe_wait_s: float = 5.0,
        sweep_every_s: float = SWEEP_EVERY_S,
        recent_limit: int = 200,
        stream: StreamClient | None = None,
    ) -> None:
        self.rest = rest
        self.journal = journal
        self.env = env
        self.markets = markets
        self._listener = listener
        self.start_wait_s = start_wait_s
        self.recent_limit = recent_limit
        self.tracker = OrderTracker(
            rest,
            journal,
            env,
            policy=policy,
            on_change=self._order_changed,
            on_gate=self._gate_changed,
        )
        self.account = AccountBook(
            rest,
            on_change=lambda: self._emit(BalancesChanged()),
            on_error=self._error,
            min_interval_s=balances_interval_s,
        )
        if stream is None and ws_url is not None:
            stream = StreamClient(ws_url, token_provider=rest.websockets_token)
        self.feed: PrivateFeed | OrderPoll
        if stream is None:
            self.feed = OrderPoll(self.tracker, on_error=self._error)
        else:
            self.feed = PrivateFeed(
                stream,
                self.tracker,
                on_activity=self.account.request_refresh,
                on_state=self._private_changed,
                on_error=self._error,
                subscribe_wait_s=subscribe_wait_s,
            )
        self._sweep: OrderPoll | None = None
        """The slow REST round beside the private stream (None: the feed is the REST poll)."""
        if isinstance(self.feed, PrivateFeed):
            self._sweep = OrderPoll(self.tracker, on_error=self._error, interval_s=sweep_every_s)
        self._watching: set[asyncio.Task[None]] = set()
        self._started = False
        self._closed = False

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Subscribe the private channels of every market with open orders, load fees and
        balances, and reconcile the journal's open orders once the stream is subscribed
        (waiting at most ``start_wait_s`` for that; it then finishes in the background)."""
        if self._started or self._closed:
            return
        self._started = True
        self.tracker.load_recent(self.recent_limit)
        for market in sorted({row.market for row in self.journal.open_orders(self.env)}):
            await self.watch(market)  # registered now, subscribed when the stream connects
        self.feed.start()
        if self._sweep is not None:
            self._sweep.start()
        resync = self.feed.resync()
        await asyncio.gather(self.account.load_fees(), self.account.refresh())
        await asyncio.wait({resync}, timeout=self.start_wait_s)

    async def close(self) -> None:
        """Close the private stream and every background task; idempotent. The REST client
        and the journal stay open (they are the caller's)."""
        if self._closed:
            return
        self._closed = True
        for task in list(self._watching):
            task.cancel()
        await self.feed.close()
        if self._sweep is not None:
            await self._sweep.close()
        await self.account.close()

    async def reconcile(self) -> None:
        """Reconcile the open orders now (e.g. after the trader asked to retry); returns when
        it is done, or when a newer reconcile (a reconnect's) took over."""
        await asyncio.wait({self.feed.resync()})

    # -- what the panes read --------------------------------------------------------------------

    @property
    def balances(self) -> dict[str, Balance]:
        """Balances by upper-case currency (a snapshot: replaced, never mutated)."""
        return self.account.balances

    def fee_percent(self, market: str, *, maker: bool = False) -> Decimal | None:
        return self.account.fee_percent(market, maker=maker)

    @property
    def submits_allowed(self) -> bool:
        return self.tracker.submits_allowed

    @property
    def gate_reason(self) -> str | None:
        """Why new orders are refused right now (orders being reconciled), or None."""
        return self.tracker.gate_reason

    @property
    def private_connected(self) -> bool:
        return self.feed.connected

    @property
    def orders_polled(self) -> bool:
        """Our orders are followed over REST: the venue has no private stream."""
        return isinstance(self.feed, OrderPoll)

    def open_orders(self, market: str | None = None) -> list[TrackedOrder]:
        """Our orders that can still trade (PENDING and UNKNOWN too), newest first."""
        return [
            o
            for o in self._newest_first()
            if not o.state.is_final and (market is None or o.market == market)
        ]

    def recent_orders(self, limit: int = 50) -> list[TrackedOrder]:
        """Our latest orders, final ones included, newest first."""
        return self._newest_first()[:limit]

    def _newest_first(self) -> list[TrackedOrder]:
        orders = self.tracker.orders.values()
        return sorted(orders, key=lambda o: (o.created_at or _EPOCH, o.client_order_id))[::-1]

    # -- what the trader does -------------------------------------------------------------------

    async def watch(self, market: str) -> None:
        """Follow our orders on ``market`` over the private stream (now and after reconnects)."""
        try:
            await self.feed.watch(market)
        except Exception as exc:  # noqa: BLE001 - retried on the next reconnect; reported now
            self._error(f"private channels of {market}: {type(exc).__name__}: {exc}")

    async def submit(
        self, request: OrderRequest, *, preview: dict[str, Any] | None = None
    ) -> TrackedOrder:
        """Send one order (journaled first, never resent); returns it in its known state."""
        if request.market not in self.markets:
            raise ValueError(f"{self.env} has no market {request.market!r}")
        if not self.tracker.submits_allowed:
            raise SubmitsBlocked(self.tracker.gate_reason)
        await self.watch(request.market)
        return await self.tracker.submit(request, preview=preview)

    async def cancel(self, client_order_id: str) -> TrackedOrder:
        """Cancel one order; returns its true state (FILLED if a fill got there first).
        Raises :class:`CancelFailed` (reason, true state) when the order is still live."""
        return await self.tracker.cancel(client_order_id)

    async def cancel_all(self, market: str | None = None) -> CancelReport:
        """Cancel every open order of the account on ``market`` (None: everywhere): what
        was really cancelled, and why the others were not."""
        return await self.tracker.cancel_all(market)

    async def kill(self) -> CancelReport:
        """The kill switch: cancel every open order of the account on every market, and the
        submits on their way once they land; new submits and amends are refused until it
        has ended (:class:`SubmitsBlocked`). What was cancelled, and why the others were not."""
        return await self.tracker.kill()

    async def amend(
        self,
        client_order_id: str,
        *,
        price: Decimal | None = None,
        amount: Decimal | None = None,
    ) -> TrackedOrder:
        """Replace a resting limit order with a new price and/or amount (the new order's
        whole amount; by default what the old one has left). Returns the new order; a
        refused amend returns it REJECTED with the reason and leaves the old one as it was."""
        old = self.tracker.get(client_order_id)
        new_price = price if price is not None else old.price
        if new_price is None:
            raise AmendRefused(f"only a limit order can be amended, not a {old.kind} order")
        new_amount = amount if amount is not None else old.remaining
        await self.watch(old.market)
        return await self.tracker.replace(client_order_id, price=new_price, amount=new_amount)

    # -- changes --------------------------------------------------------------------------------

    def _order_changed(self, order: TrackedOrder) -> None:
        if order.state not in _NO_MONEY_MOVED:
            self.account.request_refresh()
        if order.external and not order.state.is_final and order.market not in self.feed.markets:
            self._watch_later(order.market)  # its events, like ours, prompt confirmations
        self._emit(OrderChanged(order))

    def _gate_changed(self, reason: str | None) -> None:
        self._emit(SubmitGateChanged(reason))

    def _private_changed(self, event: ConnectionStateChanged) -> None:
        self._emit(PrivateStreamChanged(f"{event.state.value}: {event.reason}"))

    def _error(self, text: str) -> None:
        self._emit(TradingError(text))

    def _watch_later(self, market: str) -> None:
        if self._closed or market not in self.markets:
            return
        task = asyncio.create_task(self.watch(market), name=f"watch-{market}")
        self._watching.add(task)
        task.add_done_callback(self._watched)

    def _watched(self, task: asyncio.Task[None]) -> None:
        """A watch started for an order placed elsewhere ended: a failure is told, not lost."""
        self._watching.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            _log.warning("following %s failed: %s", task.get_name(), error)
            self._error(f"cannot follow the orders of {task.get_name()[6:]}: {error}")

    def _emit(self, event: TradingEvent) -> None:
        if self._closed and not isinstance(event, OrderChanged):
            return
        try:
            self._listener(event)
        except Exception:  # noqa: BLE001 - a listener bug must not break trading
            _log.exception("trading listener failed on %s", type(event).__name__)
