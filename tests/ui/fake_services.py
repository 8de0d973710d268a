"""A fake services facade built from domain values: no simulator, no socket, no clock.

``FakeServices`` implements :class:`workstation.services.facade.Services` over plain models a
test fills in: per pair an ``OrderBook`` loaded from a ``BookSnapshot`` and a ``TradeTape``;
balances, fees, prices and ``TrackedOrder`` values for the account; a ``HealthView``. Commands
are recorded (``calls``) and answer what the test set. ``build_app(fake, options)`` runs
the real app on it, so a pane test sees what the trader would, in well under a second.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from workstation.domain.account import Balance
from workstation.domain.common import Side
from workstation.domain.guards import DEFAULT_LIMITS, Guard, GuardLimits
from workstation.domain.market_data import BookSnapshot, Ticker, Trade
from workstation.domain.markets import Market
from workstation.domain.order_request import OrderRequest
from workstation.domain.order_vocabulary import TrackState
from workstation.domain.orderbook import OrderBook
from workstation.domain.tracked_order import CancelReport, TrackedOrder
from workstation.services.events import MarketsOpened, OrderChanged, ServiceEvent
from workstation.services.tape import TradeTape
from workstation.services.views import AccountView, HealthView, MarketView, StreamState
from workstation.sim.catalog import DEFAULT_MARKETS

D = Decimal
MARKETS = {m.symbol: m for m in DEFAULT_MARKETS}
FROZEN = dt.datetime(2026, 5, 28, 20, 26, 40, tzinfo=dt.UTC)


@dataclass
class FakeMarket:
    """One pair's models and what its view says about them."""

    market: Market
    book: OrderBook
    tape: TradeTape = field(default_factory=TradeTape)
    ticker: Ticker | None = None
    stale_reason: str = ""
    """Non-empty: the book is stale for this reason."""
    tape_stale: bool = False
    version: int = 1


class FakeServices:
    """The ``Services`` of a test (see the module docstring)."""

    def __init__(self, *, env: str = "sim", trading: bool = True) -> None:
        self._env = env
        self._markets: dict[str, Market] = dict(MARKETS)
        self.pairs: dict[str, FakeMarket] = {}
        self.balances: dict[str, Balance] = {}
        self.taker_fees: dict[str, Decimal] = {}
        self.prices: dict[str, Decimal] = {}
        self.orders: list[TrackedOrder] = []
        self.health_view = HealthView(
            env=env,
            note="",
            connection=StreamState.CONNECTED,
            reach_down=False,
            reach_text="",
            reach_reason=None,
            rate_limited=0,
            rest_market=None,
            rest_trading=None,
            trading=trading,
            private_connected=trading,
            gate_reason=None,
        )
        self.calls: list[tuple[str, Any]] = []
        """Every command, in order: ``("submit", request)``, ``("cancel", cid)``..."""
        self.quote = "USD"
        self._listener: Any = None
        self.moved: Any = None
        """What the app asked to be called with a symbol whose market moved (normal mode)."""

    # -- what a test sets up ----------------------------------------------------------------

    def add_pair(
        self,
        symbol: str,
        snapshot: BookSnapshot,
        *,
        trades: Sequence[Trade] = (),
        ticker: Ticker | None = None,
    ) -> FakeMarket:
        """Watchable ``symbol`` with a book loaded from ``snapshot`` and ``trades`` on its tape."""
        market = self._markets[symbol]
        book = OrderBook(symbol, market.quote_decimals, max(8, market.base_decimals))
        book.load(snapshot.bids, snapshot.asks, snapshot.timestamp_us)
        tape = TradeTape()
        tape.merge(trades)
        self.pairs[symbol] = FakeMarket(market, book, tape, ticker)
        return self.pairs[symbol]

    def move(self, symbol: str) -> None:
        """Say ``symbol``'s market moved (after changing its book or tape), as a frame would."""
        if self.moved is not None:
            self.moved(symbol)

    def tell(self, event: ServiceEvent) -> None:
        """Tell the app something, as the real services would."""
        if self._listener is not None:
            self._listener(event)

    # -- Services ---------------------------------------------------------------------------

    @property
    def env(self) -> str:
        return self._env

    @property
    def markets(self) -> Mapping[str, Market]:
        return self._markets

    @property
    def guards(self) -> GuardLimits:
        return DEFAULT_LIMITS[self._env]

    def listen(self, listener: Any) -> None:
        self._listener = listener

    def on_market_moved(self, moved: Any) -> None:
        self.moved = moved

    def book_shown(self) -> None:
        self.calls.append(("book_shown", None))

    async def open(self, pairs: Sequence[str]) -> None:
        self.calls.append(("open", tuple(pairs)))
        self.tell(MarketsOpened(tuple(p for p in pairs if p in self.pairs)))

    async def close(self) -> None:
        self.calls.append(("close", None))

    async def watch(self, symbol: str) -> bool:
        self.calls.append(("watch", symbol))
        return symbol in self.pairs

    async def unwatch(self, symbol: str) -> None:
        self.calls.append(("unwatch", symbol))

    def value_in(self, quote: str) -> None:
        self.quote = quote

    async def submit(
        self,
        request: OrderRequest,
        *,
        preview: dict[str, Any] | None = None,
        accepted: frozenset[Guard] = frozenset(),
    ) -> TrackedOrder:
        self.calls.append(("submit", request))
        order = TrackedOrder(
            client_order_id=f"{len(self.calls):032x}",
            env=self._env,
            market=request.market,
            side=request.side,
            kind=request.kind.value,
            amount=request.amount,
            price=request.price,
            state=TrackState.OPEN,
            created_at=FROZEN,
        )
        self.orders.insert(0, order)
        self.tell(OrderChanged(order))
        return order

    async def amend(
        self,
        client_order_id: str,
        *,
        price: Decimal | None,
        amount: Decimal | None,
        accepted: frozenset[Guard] = frozenset(),
    ) -> TrackedOrder:
        self.calls.append(("amend", (client_order_id, price, amount)))
        return next(o for o in self.orders if o.client_order_id == client_order_id)

    async def cancel(self, client_order_id: str) -> TrackedOrder:
        self.calls.append(("cancel", client_order_id))
        order = next(o for o in self.orders if o.client_order_id == client_order_id)
        done = replace(order, state=TrackState.CANCELLED)
        self.orders.remove(order)
        self.tell(OrderChanged(done))
        return done

    async def cancel_all(self, market: str | None) -> CancelReport:
        self.calls.append(("cancel_all", market))
        raise NotImplementedError

    async def kill(self) -> CancelReport:
        self.calls.append(("kill", None))
        raise NotImplementedError

    async def book_by_order(self, symbol: str) -> BookSnapshot | None:
        return None

    def market(self, symbol: str) -> MarketView | None:
        pair = self.pairs.get(symbol)
        if pair is None:
            return None
        return MarketView(
            market=pair.market,
            book=pair.book,
            version=pair.version,
            tape=pair.tape,
            tape_version=pair.tape.version,
            ticker=pair.ticker,
            live=True,
            stale=bool(pair.stale_reason),
            stale_reason=pair.stale_reason,
            tape_stale=pair.tape_stale,
            last_message_at=0.0,
            reconnects=0,
            resyncs=0,
        )

    def health(self) -> HealthView:
        return self.health_view

    def account(self, quote: str) -> AccountView | None:
        if not self.health_view.trading:
            return None
        return AccountView(
            open_orders=tuple(self.orders),
            balances=dict(self.balances),
            taker_fees=dict(self.taker_fees),
            quote=quote,
            prices=dict(self.prices),
            prices_polled=True,
        )


def snapshot(
    symbol: str, bids: Sequence[tuple[str, str]], asks: Sequence[tuple[str, str]]
) -> BookSnapshot:
    """A book from ``(price, amount)`` texts, best first."""
    return BookSnapshot(
        symbol,
        1_780_000_000_000_000,
        tuple((D(p), D(a)) for p, a in bids),
        tuple((D(p), D(a)) for p, a in asks),
    )


def trade(n: int, price: str, amount: str, side: Side, *, symbol: str = "btcusd") -> Trade:
    """The ``n``-th trade of the tape, one second after the one before."""
    return Trade(symbol, n, D(price), D(amount), side, 1_780_000_000_000_000 + n * 1_000_000)


def balance(currency: str, total: str, reserved: str = "0") -> Balance:
    return Balance(currency, D(total), D(total) - D(reserved), D(reserved))


def order(
    cid: str, side: Side, amount: str, price: str, *, state: TrackState = TrackState.OPEN
) -> TrackedOrder:
    """One of our BTC/USD limit orders, journaled at :data:`FROZEN`."""
    return TrackedOrder(
        client_order_id=cid,
        env="sim",
        market="btcusd",
        side=side,
        kind="limit",
        amount=D(amount),
        price=D(price),
        state=state,
        created_at=FROZEN,
    )
