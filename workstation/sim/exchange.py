"""The simulated exchange: markets, matching, accounts and the events they produce.

This facade turns requests (already parsed by :mod:`orderform`) into engine submissions and
ledger movements, and publishes what happened on the WebSocket channels through a publisher
(the server's :class:`StreamHub`). Order records live in :mod:`orderlog`, public market data
in :mod:`marketdata`, the synthetic participants in :mod:`participants`.

Time: with a wall clock, ``start()`` runs the market (participants, GTD and daily expiry) in a
loop; with a manual clock nothing moves until a test calls ``advance(seconds)``. ``speed``
multiplies market activity; ``speed=0`` is a market that never moves by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
from collections.abc import Mapping
from decimal import Decimal

from ..domain.account import Balance, TradingFee, UserTransaction, WebsocketToken
from ..domain.common import Side
from ..domain.market_data import BookSnapshot, Candle, Ticker, Trade
from ..domain.markets import Market
from ..domain.numbers import plain
from ..domain.orders import (
    CancelAllResult,
    CancelResult,
    OpenOrder,
    OrderAck,
    OrderEventKind,
    OrderState,
    OrderStatus,
    ReplaceResult,
)
from .accounts import DEMO_FUNDS, Accounts
from .activity import MarketActivity
from .admission import check_band_and_minimum, reserve_funds
from .amend import replace_order
from .catalog import DEFAULT_MARKETS
from .clock import SimClock
from .engine import MatchingEngine
from .fills import FillBooker
from .ledger import Ledger
from .marketdata import MarketData, Publisher
from .orderform import OrderForm, SimRejection, parse_order_form
from .orderlog import OrderLog, SimOrder, not_found, utc
from .orders import Execution, RestingOrder
from .wire.auth import NonceStore

__all__ = ["SimExchange"]

#: Currencies booked to 5 decimals (Bitstamp books fiat and stablecoins so); others to 8.
_FIVE_DECIMALS = ("USD", "EUR", "GBP", "USDC", "USDT")
#: Our own order subtype codes (ccxt: 0 limit, 2 market, 4 IOC, 6 FOK, 8 GTD).
_SUBTYPE = {"gtc": 0, "market": 2, "ioc": 4, "fok": 6, "gtd": 8, "moc": 0}
_DAY_US = 86_400 * 1_000_000


class SimExchange:
    """A Bitstamp-like exchange held in memory. Synchronous: the server calls it per request.

    Args:
        seed: replays the same market (prices, sizes, ids, history) for the same seed.
        speed: market activity multiplier; 1 is Bitstamp-like, 100 a stress test, 0 still.
        clock: ``SimClock(manual_start_us=...)`` for a market that moves only by ``advance``.
        history_s: seconds of trade history made on boot (default a day; 0 for none).
    """

    def __init__(
        self,
        markets: tuple[Market, ...] = DEFAULT_MARKETS,
        *,
        seed: int = 0,
        speed: float = 1.0,
        clock: SimClock | None = None,
        api_key: str | None = None,
        api_secret: str | None = None,
        history_s: int = 86_400,
    ) -> None:
        self.markets: dict[str, Market] = {m.symbol: m for m in markets}
        self.names = {m.symbol: m.name for m in markets}
        self.clock = clock or SimClock()
        self.rng = random.Random(seed)
        self.nonces = NonceStore()
        self.accounts = Accounts(self.clock)
        self.demo = self.accounts.add(
            "demo",
            user_id=4_000_000 + self.rng.randrange(1_000_000),
            api_key=api_key,
            secret=api_secret,
        )
        self.ledger = Ledger(decimals=dict.fromkeys(_FIVE_DECIMALS, 5))
        for currency, amount in DEMO_FUNDS.items():
            self.ledger.deposit("demo", currency.upper(), amount)
        first_live_trade = 600_000_000 + self.rng.randrange(1_000_000)
        trade_ids = itertools.count(first_live_trade).__next__
        self.engines = {s: MatchingEngine(m, trade_ids=trade_ids) for s, m in self.markets.items()}
        self._order_ids = itertools.count(1_900_000_000_000_000 + self.rng.randrange(10**12))
        self.data = MarketData(self.markets, self.engines, self.clock)
        self.orders = OrderLog(self.markets, self.accounts)
        self.fills = FillBooker(self.ledger, self.accounts, self.data, self.orders)
        self._tasks: list[asyncio.Task[None]] = []
        self._follow_ups: list[SimOrder] = []
        self._day = self.clock.peek_us() // _DAY_US
        self.activity = MarketActivity(
            self, seed=seed, speed=speed, history_s=history_s, first_trade=first_live_trade
        )

    # -- wiring -----------------------------------------------------------------------------

    def attach_publisher(self, publisher: Publisher) -> None:
        self.data.publisher = publisher
        self.orders.publisher = publisher

    def on_first_subscriber(self, channel: str) -> None:
        self.data.on_first_subscriber(channel)

    async def start(self) -> None:
        """Publish book frames; with a wall clock, also run the market."""
        self._tasks.append(asyncio.create_task(self.data.run_publisher(), name="sim-book-frames"))
        self._tasks.append(asyncio.create_task(self.data.make_history(), name="sim-history"))
        if not self.clock.manual:
            self._tasks.append(asyncio.create_task(self.activity.run(), name="sim-market"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    # -- market time --------------------------------------------------------------------------

    def advance(self, seconds: float) -> None:
        """Move a manual clock forward by ``seconds``, running the market step by step."""
        self.activity.advance(seconds)

    def expire_orders(self, now_us: int) -> None:
        """End GTD orders past their time and, at 00:00 UTC, daily and GTD orders."""
        day = now_us // _DAY_US
        for symbol, engine in self.engines.items():
            gone = engine.expire(now_us)
            if day != self._day:
                gone += engine.expire_daily()  # 00:00 UTC (reference 4.3)
            for resting in gone:
                record = self.orders.get(resting.order_id)
                if record is not None:
                    self.ledger.release_order(record.order_id)
                    record.state = OrderState.EXPIRED
                    record.remaining = resting.remaining
                    self.orders.emit(record, OrderEventKind.DELETED, now_us)
            del symbol
        self._day = day

    def synthetic_take(
        self, symbol: str, owner: str, side: Side, amount: Decimal, limit: Decimal | None
    ) -> None:
        """A synthetic participant's market order (``limit=None``) or IOC limit order."""
        engine = self.engines[symbol]
        now = self.clock.now_us()
        if limit is None:
            execution = engine.submit_market(
                self.next_order_id(), owner, side, now_us=now, amount=amount
            )
        else:
            execution = engine.submit_limit(
                self.next_order_id(), owner, side, amount, limit, now_us=now, tif="ioc"
            )
        self._apply(execution, self.markets[symbol])
        self._place_follow_ups()

    def next_order_id(self) -> int:
        return next(self._order_ids)

    # -- keys and tokens ----------------------------------------------------------------------

    def secret_for_key(self, api_key: str) -> str | None:
        account = self.accounts.by_key(api_key)
        return account.secret if account is not None else None

    def user_for_key(self, api_key: str) -> str:
        account = self.accounts.by_key(api_key)
        assert account is not None  # the auth middleware verified the key
        return account.owner

    def issue_ws_token(self, owner: str) -> WebsocketToken:
        return self.accounts.issue_token(owner)

    def check_ws_token(self, token: str, user_id: int) -> bool:
        return self.accounts.check_token(token, user_id)

    # -- public reads --------------------------------------------------------------------------

    def ticker(self, symbol: str) -> Ticker:
        return self.data.ticker(symbol)

    async def history_ready(self, symbol: str) -> None:
        """Return once the market's boot history is made (the event loop runs meanwhile)."""
        await self.data.ready(symbol)

    async def transactions_body(self, symbol: str, window_s: int) -> bytes:
        """The REST ``transactions`` body, written from the cached items of the tape."""
        return await self.data.transactions_body(symbol, window_s)

    def book(self, symbol: str, *, with_orders: bool = False) -> BookSnapshot:
        return self.data.book(symbol, with_orders=with_orders)

    def transactions(self, symbol: str, window_s: int) -> list[Trade]:
        return self.data.trades_since(symbol, self.clock.peek_us() - window_s * 1_000_000)

    def candles(
        self, symbol: str, *, step: int, limit: int, start: int | None, end: int | None
    ) -> list[Candle]:
        return self.data.candles(symbol, step=step, limit=limit, start=start, end=end)

    # -- private reads ---------------------------------------------------------------------------

    def balances(self, owner: str) -> list[Balance]:
        rows = []
        for currency, b in self.ledger.balances(owner).items():
            rows.append(Balance(currency.lower(), b.total, b.available, b.reserved))
        return rows

    def fees(self, owner: str, symbol: str | None) -> list[TradingFee]:
        account = self.accounts.by_owner(owner)
        assert account is not None
        symbols = [symbol] if symbol is not None else list(self.markets)
        return [TradingFee(s, account.maker_percent, account.taker_percent) for s in symbols]

    def user_transactions(
        self,
        owner: str,
        symbol: str | None,
        *,
        offset: int,
        limit: int,
        descending: bool,
        since_id: int | None,
        since_timestamp: int | None,
    ) -> list[UserTransaction]:
        return self.orders.user_transactions(
            owner,
            symbol,
            offset=offset,
            limit=limit,
            descending=descending,
            since_id=since_id,
            since_timestamp=since_timestamp,
        )

    def open_orders(self, owner: str, symbol: str | None) -> list[OpenOrder]:
        engines = [self.engines[symbol]] if symbol else list(self.engines.values())
        rows = []
        for engine in engines:
            for o in engine.open_orders(owner):
                rows.append(
                    OpenOrder(
                        order_id=o.order_id,
                        datetime=utc(o.created_us),
                        side=o.side,
                        price=o.price,
                        amount=o.remaining,
                        market=engine.market.symbol,
                        amount_at_create=o.amount_at_create,
                        client_order_id=o.client_order_id,
                    )
                )
        return rows

    def order_status(
        self,
        owner: str,
        *,
        order_id: str | None,
        client_order_id: str | None,
        omit_transactions: bool = False,
    ) -> OrderStatus:
        record = self.orders.find(owner, order_id, client_order_id)
        return self.orders.status(record, omit_transactions=omit_transactions)

    # -- orders -----------------------------------------------------------------------------------

    def place(self, owner: str, form: OrderForm) -> OrderAck:
        """Place an order for ``owner``; raises SimRejection with Bitstamp's body."""
        market = self.markets[form.market]
        order = parse_order_form(form, market, now_ms=self.clock.now_ms())
        check_band_and_minimum(order, market, self.data.reference_price(market.symbol))
        engine = self.engines[market.symbol]
        account = self.accounts.by_owner(owner)
        assert account is not None
        order_id = self.next_order_id()
        now = self.clock.now_us()
        reserve_funds(self.ledger, engine, order_id, owner, order, account.taker_percent)
        subtype = _SUBTYPE["gtd" if order.expire_ms else order.tif]
        if order.kind == "limit":
            assert order.price is not None
            execution = engine.submit_limit(
                order_id,
                owner,
                order.side,
                order.amount,
                order.price,
                now_us=now,
                tif=order.tif,
                client_order_id=order.client_order_id,
                expire_us=order.expire_ms * 1000 if order.expire_ms else None,
                daily=order.daily,
            )
        else:
            subtype = _SUBTYPE["market"]
            execution = engine.submit_market(
                order_id,
                owner,
                order.side,
                now_us=now,
                amount=None if order.amount_in_quote else order.amount,
                quote_amount=order.amount if order.amount_in_quote else None,
            )
        if execution.rejected is not None:
            self.ledger.release_order(order_id)
            raise SimRejection.general(execution.rejected)
        record = SimOrder(
            order_id=order_id,
            owner=owner,
            market=market.symbol,
            side=order.side,
            kind=order.kind,
            price=order.price or Decimal(0),
            amount=order.amount,
            client_order_id=order.client_order_id,
            created_us=now,
            subtype=subtype,
            remaining=order.amount,
            limit_price=order.limit_price,
        )
        self.orders.add(record)
        self._apply(execution, market)
        if execution.rested is None:
            self.ledger.release_order(order_id)
            record.remaining = Decimal(0) if order.kind != "limit" else execution.cancelled
            record.state = OrderState.FINISHED if not execution.cancelled else OrderState.CANCELED
            if execution.fills or record.state is OrderState.CANCELED:
                self.orders.emit(record, OrderEventKind.DELETED, self.clock.now_us())
        self._place_follow_ups()
        price = order.price if order.price is not None else execution.average_price or Decimal(0)
        return OrderAck(
            order_id=order_id,
            market=market.symbol,
            datetime=utc(now),
            side=order.side,
            price=price.quantize(market.tick) if order.kind != "limit" else price,
            amount=order.amount,
            client_order_id=order.client_order_id,
        )

    def _apply(self, execution: Execution, market: Market) -> None:
        self._follow_ups.extend(self.fills.book(execution, market))

    def _place_follow_ups(self) -> None:
        """Place the opposite order of every executed order that carried a ``limit_price``.
        Refused follow-ups (funds, band) are dropped, as the original already executed."""
        while self._follow_ups:
            record = self._follow_ups.pop(0)
            price, record.limit_price = record.limit_price, None
            assert price is not None
            fields = {"amount": plain(record.amount), "price": plain(price)}
            form = OrderForm("limit", record.side.opposite, record.market, fields)
            with contextlib.suppress(SimRejection):
                self.place(record.owner, form)

    def cancel(
        self, owner: str, *, order_id: str | None, client_order_id: str | None
    ) -> CancelResult:
        record = self.orders.find(owner, order_id, client_order_id)
        engine = self.engines[record.market]
        resting = engine.cancel(record.order_id) if record.state is OrderState.OPEN else None
        if resting is None:
            raise not_found()
        return self.cancelled(record, resting)

    def cancelled(self, record: SimOrder, resting: RestingOrder) -> CancelResult:
        self.ledger.release_order(record.order_id)
        record.state = OrderState.CANCELED
        record.remaining = resting.remaining
        self.orders.emit(record, OrderEventKind.DELETED, self.clock.now_us())
        return CancelResult(
            order_id=record.order_id,
            amount=resting.remaining,
            price=record.price,
            side=record.side,
            market=record.market,
            status="Canceled",
        )

    def cancel_all(self, owner: str, symbol: str | None) -> CancelAllResult:
        engines = [self.engines[symbol]] if symbol else list(self.engines.values())
        results = []
        for engine in engines:
            for resting in engine.cancel_where(lambda o: o.owner == owner):
                record = self.orders.get(resting.order_id)
                assert record is not None
                results.append(self.cancelled(record, resting))
        return CancelAllResult(canceled=tuple(results), success=True)

    def replace(self, owner: str, fields: Mapping[str, str]) -> ReplaceResult:
        """replace_order: see :func:`workstation.sim.amend.replace_order`."""
        return replace_order(self, owner, fields)
