"""Pre-trade checks of the simulated exchange: price band, minimum order, and funds.

Run before an order reaches the engine, in Bitstamp's order (reference 4.3, 6): the 20 %
band around the market price (400.021), the minimum order value (400.020), then the funds
reservation ("You need ... to open that order", 400.009). A refused order changes nothing.
"""

from __future__ import annotations

from decimal import Decimal

from ..domain.common import Side
from ..domain.markets import PRICE_BAND, Market
from .engine import MatchingEngine
from .holdings import InsufficientFunds
from .ledger import Ledger
from .orderform import ParsedOrder, SimRejection

__all__ = ["check_band_and_minimum", "reserve_funds"]


def check_band_and_minimum(order: ParsedOrder, market: Market, reference: Decimal | None) -> None:
    """Raise Bitstamp's rejection for a limit price outside the band or a too small order."""
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


def reserve_funds(
    ledger: Ledger,
    engine: MatchingEngine,
    order_id: int,
    owner: str,
    order: ParsedOrder,
    fee_percent: Decimal,
) -> None:
    """Hold what the order can spend: a limit's full cost (fee included), a market order's
    cost walked from the book now. Raises Bitstamp's 400.009 body when funds are short."""
    market = engine.market
    try:
        if order.kind == "limit":
            assert order.price is not None
            ledger.reserve_limit(
                order_id,
                owner,
                market,
                order.side,
                order.amount,
                order.price,
                fee_percent=fee_percent,
            )
        elif order.side is Side.SELL and not order.amount_in_quote:
            ledger.reserve(owner, market.base, order.amount, order_id=order_id, style="have")
        elif order.side is Side.SELL:
            walk = engine.walk(Side.SELL, quote_amount=order.amount)
            base_needed = walk.amount if walk.amount else order.amount
            ledger.reserve(owner, market.base, base_needed, order_id=order_id, style="have")
        else:
            if order.amount_in_quote:
                value = order.amount
            else:
                value = engine.walk(Side.BUY, amount=order.amount).value
            cost = ledger.limit_buy_cost(market.quote, Decimal(1), value, fee_percent)
            ledger.reserve(owner, market.quote, cost, order_id=order_id)
    except InsufficientFunds as exc:
        raise SimRejection.general(exc.message, "400.009") from None
