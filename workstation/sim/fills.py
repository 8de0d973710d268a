"""What a fill does once the engine has matched it: money moves, the tape grows, the orders
of tracked accounts record it (and their owners hear of it on the private channels).

Kept apart from the exchange facade because every path that trades (a trader's order, a
synthetic taker, a follow-up ``limit_price`` order) must book fills the same way.
"""

from __future__ import annotations

from decimal import Decimal

from ..domain.market_data import Trade
from ..domain.markets import Market
from .accounts import Accounts
from .ledger import Ledger
from .marketdata import MarketData
from .orderlog import OrderLog, SimOrder
from .orders import Execution, Fill

__all__ = ["FillBooker"]


class FillBooker:
    """Settles executions into the ledger, the public tape and the order log."""

    def __init__(
        self, ledger: Ledger, accounts: Accounts, data: MarketData, orders: OrderLog
    ) -> None:
        self.ledger = ledger
        self.accounts = accounts
        self.data = data
        self.orders = orders

    def book(self, execution: Execution, market: Market) -> list[SimOrder]:
        """Book every fill; returns the orders that just completed with a ``limit_price``
        (their opposite order is the caller's to place, after this execution is done)."""
        follow_ups: list[SimOrder] = []
        for fill in execution.fills:
            follow_ups.extend(self._settle(fill, market))
        return follow_ups

    def _settle(self, fill: Fill, market: Market) -> list[SimOrder]:
        maker = self.accounts.by_owner(fill.maker_owner)
        taker = self.accounts.by_owner(fill.taker_owner)
        settlement = self.ledger.settle(
            fill,
            market,
            maker_fee_percent=maker.maker_percent if maker else Decimal(0),
            taker_fee_percent=taker.taker_percent if taker else Decimal(0),
        )
        self.data.record_trade(
            Trade(
                market=market.symbol,
                id=fill.trade_id,
                price=fill.price,
                amount=fill.amount,
                side=fill.taker_side,
                timestamp_us=fill.timestamp_us // 1000 * 1000,  # whole ms (reference 2)
                buy_order_id=fill.buy_order_id,
                sell_order_id=fill.sell_order_id,
            )
        )
        completed = []
        for order_id, fee in (
            (fill.maker_order_id, settlement.maker_fee),
            (fill.taker_order_id, settlement.taker_fee),
        ):
            record = self.orders.get(order_id)
            if record is not None:
                self.orders.book_fill(record, fill, market, fee, settlement.value)
                if record.limit_price is not None and record.remaining == 0:
                    completed.append(record)
        return completed
