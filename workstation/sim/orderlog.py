"""What the simulated exchange remembers about the orders of tracked accounts.

The matching engine forgets an order once it leaves the book; Bitstamp does not: order_status
answers for finished and cancelled orders with their transactions, user_transactions lists
every fill, and the private channels report each change. This module keeps those records
and publishes the order events (reference 4.5, 4.7, 7.5). Synthetic participants (owners
named ``~...``) are not recorded: nobody can ask about their orders.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from decimal import Decimal

from ..domain import order_vocabulary
from ..domain.account import UserTransaction
from ..domain.common import Side
from ..domain.markets import Market
from ..domain.orders import MyTrade, OrderEvent, OrderEventKind, OrderState, OrderStatus
from .accounts import Accounts
from .digits import read_digits
from .marketdata import NoPublisher, Publisher
from .orderform import SimRejection
from .orders import Fill
from .wire.order_frames import encode_my_trade_frame, encode_order_event_frame

__all__ = ["OrderLog", "SimOrder", "utc"]

#: Bitstamp's transaction type for a market trade (user_transactions ``type``, reference 4.7).
TRADE_TYPE = 2


@dataclass(eq=False)
class SimOrder:
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
    transactions: list[order_vocabulary.Fill] = field(default_factory=list)
    limit_price: Decimal | None = None
    """Price of the opposite order placed once this one has executed (reference 4.3)."""
    traded: Decimal = Decimal(0)
    """Base amount filled so far: every order event's ``amount_traded``."""


def utc(us: int) -> dt.datetime:
    """Microseconds since the epoch as an aware UTC datetime, exact to the microsecond."""
    return dt.datetime.fromtimestamp(us // 1_000_000, tz=dt.UTC).replace(microsecond=us % 1_000_000)


def not_found(reason: str = "Order not found") -> SimRejection:
    """Bitstamp's 404.002 body; order_status says "Order not found." with a full stop."""
    return SimRejection({"status": "error", "reason": reason, "response_code": "404.002"})


class OrderLog:
    """Order records, fills and user transactions of every tracked account."""

    def __init__(self, markets: dict[str, Market], accounts: Accounts) -> None:
        self.markets = markets
        self.accounts = accounts
        self.publisher: Publisher = NoPublisher()
        self._orders: dict[int, SimOrder] = {}
        self._user_tx: dict[str, list[UserTransaction]] = {}
        self._tx_ids = itertools.count(300_000_000)

    def add(self, record: SimOrder) -> None:
        self._orders[record.order_id] = record
        self.emit(record, OrderEventKind.CREATED, record.created_us)

    def get(self, order_id: int) -> SimOrder | None:
        return self._orders.get(order_id)

    def find(self, owner: str, order_id: str | None, client_order_id: str | None) -> SimOrder:
        """The owner's order by id or client_order_id; Bitstamp's errors when there is none."""
        if order_id is None and client_order_id is None:
            raise SimRejection.general("Missing id POST param", "400.001")
        if order_id is not None:
            number = read_digits(order_id)
            if number is None:
                raise SimRejection.general("Invalid order id", "400.001")
            order = self._orders.get(number)
        else:
            # Uniqueness is not enforced (reference 4.3): the newest order with the id wins.
            matches = [
                o
                for o in self._orders.values()
                if o.owner == owner and o.client_order_id == client_order_id
            ]
            order = matches[-1] if matches else None
        if order is None or order.owner != owner:
            raise not_found("Order not found.")
        return order

    def status(self, record: SimOrder, *, omit_transactions: bool) -> OrderStatus:
        return OrderStatus(
            order_id=record.order_id,
            datetime=utc(record.created_us),
            side=record.side,
            state=record.state,
            market=record.market,
            amount_remaining=record.remaining,
            client_order_id=record.client_order_id,
            transactions=() if omit_transactions else tuple(record.transactions),
        )

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

    def book_fill(
        self, record: SimOrder, fill: Fill, market: Market, fee: Decimal, value: Decimal
    ) -> None:
        """Record one fill of ``record``: its transaction, a user transaction, the frames."""
        buyer = record.side is Side.BUY
        when = utc(fill.timestamp_us)
        record.transactions.append(
            order_vocabulary.Fill(
                tid=fill.trade_id,
                price=fill.price,
                base_amount=fill.amount,
                quote_amount=value,
                fee=fee,
                datetime=when,
            )
        )
        record.remaining -= fill.amount
        record.traded += fill.amount
        is_maker = record.order_id == fill.maker_order_id
        if is_maker and fill.maker_remaining_after == 0:
            record.state = OrderState.FINISHED
        sign = 1 if buyer else -1
        self._user_tx.setdefault(record.owner, []).append(
            UserTransaction(
                id=next(self._tx_ids),
                datetime=when,
                type_code=TRADE_TYPE,
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
        self._publish_my_trade(record, fill, market, fee)
        # Makers and takers alike get an event per fill (the 2023 recording shows a market
        # order's fill as order_changed); a maker's last fill deletes it. A taker's deletion
        # follows when its execution is over (the exchange sends it).
        finished = is_maker and record.state is OrderState.FINISHED
        kind = OrderEventKind.DELETED if finished else OrderEventKind.CHANGED
        self.emit(record, kind, fill.timestamp_us)

    def _publish_my_trade(self, record: SimOrder, fill: Fill, market: Market, fee: Decimal) -> None:
        account = self.accounts.by_owner(record.owner)
        if account is None:
            return
        channel = f"private-my_trades_{market.symbol}-{account.user_id}"
        if not self.publisher.has_subscribers(channel):
            return
        my_trade = MyTrade(
            trade_id=fill.trade_id,
            order_id=record.order_id,
            market=market.symbol,
            side=record.side,
            price=fill.price,
            amount=fill.amount,
            fee=fee,
            timestamp_us=fill.timestamp_us // 1000 * 1000,  # whole ms, as Bitstamp sends
            client_order_id=record.client_order_id,
        )
        frame = encode_my_trade_frame(
            channel, my_trade, market.base_decimals, market.quote_decimals
        )
        self.publisher.publish(channel, frame)

    def emit(self, record: SimOrder, kind: OrderEventKind, now_us: int) -> None:
        """Publish an order event on the owner's private channel and on live_orders_.

        ``amount_traded`` is cumulative (filled so far), as ccxt reads it and as its 2026
        samples show: an order deleted after a full fill carries its whole amount. The
        reference leaves per-event vs cumulative open (7.5); docs/decisions.md records why.
        """
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
            amount_traded=record.traded,
            amount_at_create=record.amount,
            client_order_id=record.client_order_id,
            order_subtype=record.subtype,
        )
        for channel in (
            f"private-my_orders_{record.market}-{account.user_id}",
            f"live_orders_{record.market}",
        ):
            if self.publisher.has_subscribers(channel):
                frame = encode_order_event_frame(
                    kind, channel, event, market.base_decimals, market.quote_decimals
                )
                self.publisher.publish(channel, frame)
