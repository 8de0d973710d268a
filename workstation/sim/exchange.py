"""The simulated exchange: markets, matching, accounts and the events they produce.

This facade turns requests (already parsed by :mod:`orderform`) into engine submissions and
ledger movements, keeps every order's history for ``order_status`` and ``user_transactions``,
and publishes what happened on the WebSocket channels through a publisher (the server's
:class:`StreamHub`). Market data (trade history, tickers, candles, book frames) is kept by
:class:`workstation.sim.marketdata.MarketData`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from ..bitstamp.auth_server import NonceStore
from ..bitstamp.codec_orders import encode_my_trade_frame, encode_order_event_frame
from ..domain.account import Balance, TradingFee, UserTransaction, WebsocketToken
from ..domain.common import Side
from ..domain.market_data import BookSnapshot, Candle, Ticker, Trade
from ..domain.markets import Market
from ..domain.orders import (
    CancelAllResult,
    CancelResult,
    MyTrade,
    OpenOrder,
    OrderAck,
    OrderEvent,
    OrderEventKind,
    OrderState,
    OrderStatus,
    OrderTransaction,
    ReplaceResult,
)
from .accounts import DEMO_FUNDS, Accounts
from .catalog import DEFAULT_MARKETS, START_PRICES
from .clock import SimClock
from .engine import Execution, Fill, MatchingEngine, RestingOrder
from .ledger import InsufficientFunds, Ledger
from .marketdata import MarketData, NoPublisher, Publisher, seed_book
from .orderform import OrderForm, ParsedOrder, SimRejection, parse_order_form

__all__ = ["OrderForm", "Publisher", "SimExchange", "SimRejection"]

#: Currencies booked to 5 decimals (Bitstamp books fiat and stablecoins so); others to 8.
_FIVE_DECIMALS = ("USD", "EUR", "GBP", "USDC", "USDT")
PRICE_BAND = Decimal("0.20")
#: Our own order subtype codes (ccxt: 0 limit, 2 market, 4 IOC, 6 FOK, 8 GTD).
_SUBTYPE = {"gtc": 0, "market": 2, "ioc": 4, "fok": 6, "gtd": 8, "moc": 0}


@dataclass(eq=False)
class _Order:
    """Everything the exchange remembers about one order of a tracked account."""

    order_id: int
    owner: str
    market: str
    side: Side
    kind: str
    price: Decimal
    amount: Decimal
    client_order_id: str | None
    created_us: int
    subtype: int
    state: OrderState = OrderState.OPEN
    remaining: Decimal = Decimal(0)
    transactions: list[OrderTransaction] = field(default_factory=list)


def _utc(us: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(us / 1_000_000, tz=dt.UTC).replace(microsecond=us % 1_000_000)


class SimExchange:
    """A Bitstamp-like exchange held in memory. Synchronous: the server calls it per request."""

    def __init__(
        self,
        markets: tuple[Market, ...] = DEFAULT_MARKETS,
        *,
        seed: int = 0,
        speed: float = 1.0,
        clock: SimClock | None = None,
        api_key: str | None = None,
        api_secret: str | None = None,
    ) -> None:
        self.markets: dict[str, Market] = {m.symbol: m for m in markets}
        self.names = {m.symbol: m.name for m in markets}
        self.clock = clock or SimClock()
        self.speed = speed
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
        trade_ids = itertools.count(600_000_000 + self.rng.randrange(1_000_000)).__next__
        self.engines = {s: MatchingEngine(m, trade_ids=trade_ids) for s, m in self.markets.items()}
        self._order_ids = itertools.count(1_900_000_000_000_000 + self.rng.randrange(10**12))
        self.data = MarketData(self.markets, self.engines, self.clock)
        self._orders: dict[int, _Order] = {}
        self._user_tx: dict[str, list[UserTransaction]] = {}
        self._tx_ids = itertools.count(300_000_000)
        self._publisher: Publisher = NoPublisher()
        self._tasks: list[asyncio.Task[None]] = []
        for symbol, market in self.markets.items():
            price = START_PRICES.get(symbol, Decimal(100))
            seed_book(self.engines[symbol], market, price, self.rng, self.next_order_id, self.clock)
            self.data.set_reference(symbol, price)
        for engine in self.engines.values():
            engine.pop_changes()

    # -- wiring -----------------------------------------------------------------------------

    def attach_publisher(self, publisher: Publisher) -> None:
        self._publisher = publisher
        self.data.publisher = publisher

    def on_first_subscriber(self, channel: str) -> None:
        self.data.on_first_subscriber(channel)

    async def start(self) -> None:
        self._tasks.append(asyncio.create_task(self.data.run_publisher(), name="sim-book-frames"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

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
        rows = [
            t
            for t in self._user_tx.get(owner, [])
            if (symbol is None or t.market == symbol)
            and (since_id is None or t.id >= since_id)
            and (since_timestamp is None or t.datetime.timestamp() >= since_timestamp)
        ]
        if descending:
            rows.reverse()
        return rows[offset : offset + limit]

    def open_orders(self, owner: str, symbol: str | None) -> list[OpenOrder]:
        engines = [self.engines[symbol]] if symbol else list(self.engines.values())
        rows = []
        for engine in engines:
            for resting in engine.open_orders(owner):
                rows.append(self._open_order(engine.market.symbol, resting))
        return rows

    def _open_order(self, symbol: str, o: RestingOrder) -> OpenOrder:
        return OpenOrder(
            order_id=o.order_id,
            datetime=_utc(o.created_us),
            side=o.side,
            price=o.price,
            amount=o.remaining,
            market=symbol,
            amount_at_create=o.amount_at_create,
            client_order_id=o.client_order_id,
        )

    def _find(self, owner: str, order_id: str | None, client_order_id: str | None) -> _Order:
        if order_id is None and client_order_id is None:
            raise SimRejection.general("Missing id POST param", "400.001")
        if order_id is not None:
            if not order_id.isascii() or not order_id.isdigit():
                raise SimRejection.general("Invalid order id", "400.001")
            order = self._orders.get(int(order_id))
        else:
            # Uniqueness is not enforced (reference 4.3): the newest order with the id wins.
            matches = [
                o
                for o in self._orders.values()
                if o.owner == owner and o.client_order_id == client_order_id
            ]
            order = matches[-1] if matches else None
        if order is None or order.owner != owner:
            raise SimRejection(
                {"status": "error", "reason": "Order not found.", "response_code": "404.002"}
            )
        return order

    def order_status(
        self,
        owner: str,
        *,
        order_id: str | None,
        client_order_id: str | None,
        omit_transactions: bool = False,
    ) -> OrderStatus:
        order = self._find(owner, order_id, client_order_id)
        return OrderStatus(
            order_id=order.order_id,
            datetime=_utc(order.created_us),
            side=order.side,
            state=order.state,
            market=order.market,
            amount_remaining=order.remaining,
            client_order_id=order.client_order_id,
            transactions=() if omit_transactions else tuple(order.transactions),
        )

    # -- orders -----------------------------------------------------------------------------------

    def place(self, owner: str, form: OrderForm) -> OrderAck:
        """Place an order for ``owner``; raises SimRejection with Bitstamp's body."""
        market = self.markets[form.market]
        order = parse_order_form(form, market)
        self._check_band_and_minimum(order, market)
        engine = self.engines[market.symbol]
        account = self.accounts.by_owner(owner)
        assert account is not None
        order_id = self.next_order_id()
        now = self.clock.now_us()
        self._reserve(order_id, owner, order, market, account.taker_percent)
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
        record = _Order(
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
        )
        self._orders[order_id] = record
        self._emit_order(record, OrderEventKind.CREATED, now, Decimal(0))
        self._apply(execution, market)
        if execution.rested is None:
            self.ledger.release_order(order_id)
            record.remaining = Decimal(0) if order.kind != "limit" else execution.cancelled
            record.state = OrderState.FINISHED if not execution.cancelled else OrderState.CANCELED
            if execution.fills or record.state is OrderState.CANCELED:
                self._emit_order(record, OrderEventKind.DELETED, self.clock.now_us(), Decimal(0))
        price = order.price if order.price is not None else execution.average_price or Decimal(0)
        return OrderAck(
            order_id=order_id,
            market=market.symbol,
            datetime=_utc(now),
            side=order.side,
            price=price.quantize(market.tick) if order.kind != "limit" else price,
            amount=order.amount,
            client_order_id=order.client_order_id,
        )

    def _check_band_and_minimum(self, order: ParsedOrder, market: Market) -> None:
        reference = self.data.reference_price(market.symbol)
        if order.kind == "limit" and order.price is not None and reference:
            if order.price > reference * (1 + PRICE_BAND):
                raise SimRejection.general("Price is more than 20% above market price.", "400.021")
            if order.price < reference * (1 - PRICE_BAND):
                raise SimRejection.general("Price is more than 20% below market price.", "400.021")
        if order.amount_in_quote:
            value = order.amount
        else:
            value = order.amount * (order.price or reference or Decimal(0))
        if value < market.minimum_order_value:
            minimum = market.minimum_order_value
            text = f"{minimum:f}" if "." in f"{minimum:f}" else f"{minimum:f}.0"
            raise SimRejection.general(f"Minimum order size is {text} {market.quote}.", "400.020")

    def _reserve(
        self, order_id: int, owner: str, order: ParsedOrder, market: Market, fee: Decimal
    ) -> None:
        try:
            if order.kind == "limit":
                assert order.price is not None
                self.ledger.reserve_limit(
                    order_id, owner, market, order.side, order.amount, order.price, fee_percent=fee
                )
            elif order.side is Side.SELL and not order.amount_in_quote:
                self.ledger.reserve(
                    owner, market.base, order.amount, order_id=order_id, style="have"
                )
            elif order.side is Side.SELL:
                walk = self.engines[market.symbol].walk(Side.SELL, quote_amount=order.amount)
                base_needed = walk.amount if walk.amount else order.amount
                self.ledger.reserve(
                    owner, market.base, base_needed, order_id=order_id, style="have"
                )
            else:
                if order.amount_in_quote:
                    value = order.amount
                else:
                    walk = self.engines[market.symbol].walk(Side.BUY, amount=order.amount)
                    value = walk.value
                cost = self.ledger.limit_buy_cost(market.quote, Decimal(1), value, fee)
                self.ledger.reserve(owner, market.quote, cost, order_id=order_id)
        except InsufficientFunds as exc:
            raise SimRejection.general(exc.message, "400.009") from None

    def _apply(self, execution: Execution, market: Market) -> None:
        for fill in execution.fills:
            self._settle(fill, market)

    def _settle(self, fill: Fill, market: Market) -> None:
        maker = self.accounts.by_owner(fill.maker_owner)
        taker = self.accounts.by_owner(fill.taker_owner)
        settlement = self.ledger.settle(
            fill,
            market,
            maker_fee_percent=maker.maker_percent if maker else Decimal(0),
            taker_fee_percent=taker.taker_percent if taker else Decimal(0),
        )
        trade = Trade(
            market=market.symbol,
            id=fill.trade_id,
            price=fill.price,
            amount=fill.amount,
            side=fill.taker_side,
            timestamp_us=fill.timestamp_us,
            buy_order_id=fill.buy_order_id,
            sell_order_id=fill.sell_order_id,
        )
        self.data.record_trade(trade)
        for order_id, fee, is_buyer in (
            (fill.maker_order_id, settlement.maker_fee, fill.taker_side is Side.SELL),
            (fill.taker_order_id, settlement.taker_fee, fill.taker_side is Side.BUY),
        ):
            record = self._orders.get(order_id)
            if record is None:
                continue
            self._book_fill(record, fill, market, fee, settlement.value, is_buyer)

    def _book_fill(
        self, record: _Order, fill: Fill, market: Market, fee: Decimal, value: Decimal, buyer: bool
    ) -> None:
        when = _utc(fill.timestamp_us)
        record.transactions.append(
            OrderTransaction(
                tid=fill.trade_id,
                price=fill.price,
                base_amount=fill.amount,
                quote_amount=value,
                fee=fee,
                datetime=when,
            )
        )
        record.remaining -= fill.amount
        is_maker = record.order_id == fill.maker_order_id
        if is_maker and fill.maker_remaining_after == 0:
            record.state = OrderState.FINISHED
        sign = 1 if buyer else -1
        self._user_tx.setdefault(record.owner, []).append(
            UserTransaction(
                id=next(self._tx_ids),
                datetime=when,
                type_code=2,
                fee=fee,
                amounts={
                    market.base.lower(): sign * fill.amount,
                    market.quote.lower(): -sign * value,
                },
                rate=fill.price,
                market=market.symbol,
                order_id=record.order_id,
            )
        )
        account = self.accounts.by_owner(record.owner)
        if account is None:
            return
        my_trade = MyTrade(
            trade_id=fill.trade_id,
            order_id=record.order_id,
            market=market.symbol,
            side=record.side,
            price=fill.price,
            amount=fill.amount,
            fee=fee,
            timestamp_us=fill.timestamp_us,
            client_order_id=record.client_order_id,
        )
        channel = f"private-my_trades_{market.symbol}-{account.user_id}"
        if self._publisher.has_subscribers(channel):
            frame = encode_my_trade_frame(
                channel, my_trade, market.base_decimals, market.quote_decimals
            )
            self._publisher.publish(channel, frame)
        if is_maker:
            kind = (
                OrderEventKind.DELETED
                if record.state is OrderState.FINISHED
                else OrderEventKind.CHANGED
            )
            self._emit_order(record, kind, fill.timestamp_us, fill.amount)

    def _emit_order(
        self, record: _Order, kind: OrderEventKind, now_us: int, traded: Decimal
    ) -> None:
        account = self.accounts.by_owner(record.owner)
        if account is None:
            return
        market = self.markets[record.market]
        event = OrderEvent(
            kind=kind,
            market=record.market,
            order_id=record.order_id,
            side=record.side,
            price=record.price,
            amount=max(record.remaining, Decimal(0)),
            timestamp_us=now_us,
            amount_traded=traded,
            amount_at_create=record.amount,
            client_order_id=record.client_order_id,
            order_subtype=record.subtype,
        )
        for channel in (
            f"private-my_orders_{record.market}-{account.user_id}",
            f"live_orders_{record.market}",
        ):
            if self._publisher.has_subscribers(channel):
                frame = encode_order_event_frame(
                    kind, channel, event, market.base_decimals, market.quote_decimals
                )
                self._publisher.publish(channel, frame)

    def cancel(
        self, owner: str, *, order_id: str | None, client_order_id: str | None
    ) -> CancelResult:
        record = self._find(owner, order_id, client_order_id)
        engine = self.engines[record.market]
        resting = engine.cancel(record.order_id) if record.state is OrderState.OPEN else None
        if resting is None:
            raise SimRejection(
                {"status": "error", "reason": "Order not found", "response_code": "404.002"}
            )
        return self._cancelled(record, resting)

    def _cancelled(self, record: _Order, resting: RestingOrder) -> CancelResult:
        self.ledger.release_order(record.order_id)
        record.state = OrderState.CANCELED
        record.remaining = resting.remaining
        self._emit_order(record, OrderEventKind.DELETED, self.clock.now_us(), Decimal(0))
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
                record = self._orders[resting.order_id]
                results.append(self._cancelled(record, resting))
        return CancelAllResult(canceled=tuple(results), success=True)

    def replace(self, owner: str, fields: Mapping[str, str]) -> ReplaceResult:
        """Cancel an open order and place a new one with the new amount and price, atomically
        as far as the caller can see: if the new order is refused, the old one stays."""
        record = self._find(
            owner, fields.get("id") or None, fields.get("orig_client_order_id") or None
        )
        if record.state is not OrderState.OPEN:
            raise SimRejection(
                {"status": "error", "reason": "Order not found", "response_code": "404.002"}
            )
        engine = self.engines[record.market]
        resting = engine.cancel(record.order_id)
        if resting is None:
            raise SimRejection(
                {"status": "error", "reason": "Order not found", "response_code": "404.002"}
            )
        held = self.ledger.release_order(record.order_id)
        new_fields = {k: fields[k] for k in ("amount", "price", "client_order_id") if k in fields}
        try:
            ack = self.place(owner, OrderForm("limit", record.side, record.market, new_fields))
        except SimRejection:
            # Put the original back exactly as it was (its place in the queue is lost, as on
            # any venue that implements replace as cancel + new).
            market = self.markets[record.market]
            self.ledger.reserve_limit(
                record.order_id,
                owner,
                market,
                record.side,
                resting.remaining,
                record.price,
                fee_percent=self.accounts.by_owner(owner).taker_percent,  # type: ignore[union-attr]
            )
            del held
            engine.submit_limit(
                record.order_id,
                owner,
                record.side,
                resting.remaining,
                record.price,
                now_us=self.clock.now_us(),
                client_order_id=record.client_order_id,
            )
            raise
        self._cancelled(record, resting)
        return ReplaceResult(
            order_id=ack.order_id,
            orig_order_id=record.order_id,
            orig_client_order_id=record.client_order_id,
            market=record.market,
            side=record.side,
            amount=ack.amount,
            price=ack.price,
            datetime=ack.datetime,
            status="Open",
        )
