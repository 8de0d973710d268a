"""The preflight's test order: the smallest order a market takes, post-only and priced far
from the touch, so that it rests for the second it takes to find and cancel it and never
takes liquidity. Pure: the terms from the market's rules, its book and the account's funds."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_DOWN, ROUND_UP, Decimal

import msgspec

from ..domain.common import Side
from ..domain.market_data import BookSnapshot
from ..domain.markets import Market
from ..domain.numbers import plain
from ..domain.order_request import OrderRequest
from ..domain.order_vocabulary import OrderKind, TimeInForce

__all__ = ["FEE_MARGIN", "TEST_ORDER_DISCOUNT", "ProbeOrder", "probe_order_terms"]

TEST_ORDER_DISCOUNT = Decimal("0.15")
"""The test order is priced this far from the touch on its own side (a buy below the best
bid, a sell above the best ask): inside Bitstamp's 20 % band around the market price
(400.021), and post-only, so it rests and never takes liquidity."""
FEE_MARGIN = Decimal("0.01")
"""Room for the fee on top of a buy's value when telling whether the account can pay it."""


class ProbeOrder(msgspec.Struct, frozen=True):
    """The test order: post-only, ``TEST_ORDER_DISCOUNT`` away from the ``touch`` on its
    own side (below the best bid for a buy, above the best ask for a sell)."""

    market: Market
    side: Side
    amount: Decimal
    price: Decimal
    touch: Decimal

    @property
    def value(self) -> Decimal:
        return (self.amount * self.price).quantize(self.market.tick, rounding=ROUND_UP)

    @property
    def request(self) -> OrderRequest:
        return OrderRequest(
            self.market.symbol,
            self.side,
            OrderKind.LIMIT,
            self.amount,
            self.price,
            tif=TimeInForce.MOC,
        )

    def terms(self) -> str:
        """The order in words, as the trader confirms it."""
        m = self.market
        where = "below the best bid" if self.side is Side.BUY else "above the best ask"
        return (
            f"{self.side.value} {plain(self.amount)} {m.base} at {plain(self.price)} {m.quote} "
            f"on {m.name} (value {plain(self.value)} {m.quote}; {TEST_ORDER_DISCOUNT:.0%} "
            f"{where} {plain(self.touch)}), post-only, cancelled at once"
        )


def probe_order_terms(
    market: Market, book: BookSnapshot, available: Mapping[str, Decimal] | None = None
) -> ProbeOrder | None:
    """The test order on ``book``: the smallest amount whose value reaches the market's
    minimum, priced on the tick. A buy, unless ``available`` (funds by lowercase currency)
    shows the quote currency short for it and the base currency enough for a sell; None
    when the book has neither side."""
    buy = _probe(market, Side.BUY, book.bids[0][0]) if book.bids else None
    sell = _probe(market, Side.SELL, book.asks[0][0]) if book.asks else None
    if buy is None or sell is None or available is None:
        return buy or sell
    quote = available.get(market.quote.lower(), Decimal(0))
    base = available.get(market.base.lower(), Decimal(0))
    if quote < buy.value * (1 + FEE_MARGIN) and base >= sell.amount:
        return sell
    return buy


def _probe(market: Market, side: Side, touch: Decimal) -> ProbeOrder | None:
    if side is Side.BUY:
        price = (touch * (1 - TEST_ORDER_DISCOUNT)).quantize(market.tick, rounding=ROUND_DOWN)
    else:
        price = (touch * (1 + TEST_ORDER_DISCOUNT)).quantize(market.tick, rounding=ROUND_UP)
    if price <= 0:
        return None
    amount = (market.minimum_order_value / price).quantize(market.lot, rounding=ROUND_UP)
    return ProbeOrder(market, side, max(amount, market.lot), price, touch)
