"""What the exchange holds for an order, and the largest order whose hold fits a budget.

The ticket checks funds and resolves ``max`` and ``25%`` with the same rule the exchange
admits orders by (reference 4.3, 6; the simulator's ``sim/admission.py`` and
``Ledger.limit_buy_cost``):

* a buy holds ``ceil(value) + ceil(value * fee%)`` in the quote currency, each rounded up to
  the quote's booking decimals (``walk.booking_places``), where the value is
  ``amount * price`` for a limit buy, the exact value of the walk through the asks for a
  market buy, and the amount itself (quote) for an instant buy;
* a sell holds the base it sells; an instant sell sized in the quote currency holds the base
  the walk through the bids needs for that quote.

Sizing inverts it: the largest lot (or quote decimal) step worth at most
``v = budget / (1 + fee%)``, walked through the book for market orders. When the roundings
up push its hold past the budget, the answer lies between that and the amount for
``(budget - 2 units) / (1 + fee%)`` (the two roundings add at most two units), and a
bisection finds it. Walking matters: a market buy of ``max`` priced at the best ask alone
holds more than the balance as soon as it reaches a second level.

Market and instant buys must also fit what the walk charges, fill by fill (``walk.charge``,
the preview's total): each fill's value and fee are rounded half-up on their own, so over
a hundred levels the charge can pass a hold that fits by a few units. ``max`` never shows a
total above the balance.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_DOWN, ROUND_UP, Decimal

from .common import Side
from .markets import Market, amount_in_quote_currency
from .numbers import quantum, round_to
from .order_vocabulary import OrderKind
from .walk import EXACT, Row, booking_places, charge, fee_rate, walk_amount, walk_quote

__all__ = ["buy_hold", "largest_order"]

ZERO = Decimal(0)
_MAX_HALVINGS = 300
"""log2(10**80): more halvings than EXACT's 80 digits can ever need."""


def buy_hold(market: Market, value: Decimal, fee_percent: Decimal) -> Decimal:
    """What a buy worth ``value`` (quote) holds: value and taker fee, each rounded up."""
    places = booking_places(market.quote)
    fee = EXACT.multiply(value, fee_rate(fee_percent))
    return EXACT.add(
        round_to(value, places, rounding=ROUND_UP), round_to(fee, places, rounding=ROUND_UP)
    )


def largest_order(
    market: Market,
    side: Side,
    kind: OrderKind,
    budget: Decimal,
    *,
    fee_percent: Decimal,
    price: Decimal | None = None,
    rows: Iterable[Row] | None = None,
    amount_in_quote: bool = False,
) -> Decimal | None:
    """The largest amount of this order whose hold fits ``budget``; None without what it
    needs (a limit buy's ``price``; the book ``rows`` a taker meets, best first, for market
    buys and instant sells sized in quote).

    ``budget`` is in the currency the order spends from: quote for buys, base for sells. The
    amount is in the order's own currency (``markets.amount_in_quote_currency``), a multiple
    of its step; it may be zero (too little for one step).
    """
    if budget <= 0:
        return ZERO
    in_quote = amount_in_quote_currency(kind, side, amount_in_quote)
    if side is Side.SELL:
        base = round_to(budget, market.base_decimals, rounding=ROUND_DOWN)
        if not in_quote:
            return base
        if rows is None:
            return None
        # the quote the walk of the whole budget brings, floored: walking that quote back
        # takes lot multiples worth at most it, so never more base than the budget
        brings = walk_amount(rows, base, buy=False).value
        return round_to(brings, market.instant_quote_decimals, rounding=ROUND_DOWN)
    taken = None if rows is None else list(rows)
    if kind is OrderKind.MARKET and taken is None:
        return None
    if kind is OrderKind.LIMIT and (price is None or price <= 0):
        return None
    step = quantum(market.instant_quote_decimals) if in_quote else market.lot

    def worth(amount: Decimal) -> Decimal:
        if kind is OrderKind.INSTANT:
            return amount
        if kind is OrderKind.MARKET:
            assert taken is not None
            return walk_amount(taken, amount, buy=True).value
        assert price is not None
        return EXACT.multiply(amount, price)

    def sized(budget_left: Decimal) -> Decimal:
        """The largest step multiple worth at most ``budget_left / (1 + fee%)``."""
        value = EXACT.divide(budget_left, 1 + fee_rate(fee_percent))
        if value <= 0:
            return ZERO
        if kind is OrderKind.INSTANT:
            return round_to(value, market.instant_quote_decimals, rounding=ROUND_DOWN)
        if kind is OrderKind.MARKET:
            assert taken is not None
            return walk_quote(taken, value, lot=market.lot).filled
        assert price is not None
        return EXACT.multiply(EXACT.divide_int(value, EXACT.multiply(price, step)), step)

    def cost(amount: Decimal) -> Decimal:
        """What the walk would charge, per fill (the preview's total); 0 without rows."""
        if taken is None or kind is OrderKind.LIMIT:
            return ZERO  # a limit buy costs at most its hold
        if kind is OrderKind.INSTANT:
            walk = walk_quote(taken, amount, lot=market.lot)
        else:
            walk = walk_amount(taken, amount, buy=True)
        booked, fees = charge(walk.fills, fee_percent, booking_places(market.quote))
        return booked + fees

    def fits(amount: Decimal) -> bool:
        return buy_hold(market, worth(amount), fee_percent) <= budget and cost(amount) <= budget

    high = sized(budget)
    if fits(high):
        return high
    low = sized(EXACT.subtract(budget, 2 * quantum(booking_places(market.quote))))
    if not fits(low):
        low = ZERO  # the fills' own roundings overshoot: search from nothing
    # Exact arithmetic throughout: an absurd price typed by mistake (1e-21) makes amounts of
    # 30+ digits, which the default 28-digit context would round until the halving stood
    # still. Each halving at least halves the gap, so the bound is never reached with
    # EXACT's 80 digits; it is there so that no input can freeze the ticket.
    for _ in range(_MAX_HALVINGS):
        gap = EXACT.subtract(high, low)
        if gap <= step:
            break
        middle = EXACT.add(low, EXACT.multiply(EXACT.divide_int(gap, 2 * step), step))
        low, high = (middle, high) if fits(middle) else (low, middle)
    return low
