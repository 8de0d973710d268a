"""A taker's walk through one side of a book, and what the exchange books for each fill.

Two pure pieces the order ticket's cost preview (``preview.py``) is built from:

* ``walk_amount`` / ``walk_quote``: which resting orders a taker would meet, best price first,
  with the matching engine's arithmetic. A base-sized order takes ``min(wanted, size)`` from
  each order in turn. A quote-sized order (an instant buy, an instant sell with
  ``amount_in_counter``) asks at each price level for the largest multiple of the lot whose
  value fits in the quote still unspent, takes that from the level's orders in turn, and
  stops at the first level it does not empty (reference 4.3; the simulator's
  ``MatchingEngine._affordable`` and ``_match``, ``workstation/sim/engine.py`` lines 345-411).
* ``charge``: what the exchange books for those fills. Bitstamp settles every fill on its
  own: each transaction carries its quote value and its fee (reference 4.5, the order_status
  ``transactions``; 4.7, one user transaction per trade; 7.5, one ``trade`` event per fill).
  The value ``price * amount`` is rounded half-up to the quote currency's booking decimals,
  then the fee ``value * percent / 100`` is rounded half-up to the same decimals, per fill.
  Recorded numbers agree: 0.005 ETH at 2468.04 with a 0.4 % fee was charged ``0.04936``
  (exact 0.0493608, reference 7.5); 0.005 BTC at 4451.25 booked ``22.25625`` with fee
  ``0.11128`` (exact 0.11128125, reference 4.5); an XRP sale worth 256.1619755 EUR was
  booked ``256.16198`` (reference 4.7, georlav), so values are not truncated. No recorded
  fee tells half-up from truncation (both examples round down). The simulator does this in
  ``workstation/sim/ledger.py`` (``Ledger._settle``: the value at line 273, the buyer's fee
  at 274, the seller's at 283, ``_rate`` at 391).

Fills happen per maker order, so the booked value and fee of a level that holds several
orders can differ, by up to half a unit of the last booked decimal per order, from one
rounding of the level's total. Rows may therefore be per order (``order_book?group=0|2``,
prices repeating in time priority) or per level (the aggregated book): a walk over per-level
rows assumes one fill per level. The exact value, the amount and the prices never depend on
the split.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal

from .numbers import quantum

__all__ = [
    "BOOKED_TO_FIVE_DECIMALS",
    "EXACT",
    "Walk",
    "average_price",
    "booking_places",
    "charge",
    "fee_rate",
    "walk_amount",
    "walk_quote",
]

ZERO = Decimal(0)
_HUNDRED = Decimal(100)

#: Products of prices and amounts and their sums stay exact far beyond 28 digits.
EXACT = Context(prec=80)
#: Averages are quotients: 40 significant digits, rounded half-even, one definition for all.
_RATIO = Context(prec=40)

#: Currencies Bitstamp books to 5 decimals in trade values and fees (fiat and stablecoins:
#: ``"usd": "22.25625000"``, ``"fee": "0.11128"`` in reference 4.5; ``"eur": "-250.00000"``
#: in 4.7). Every other currency is booked to 8. The simulator's table is the same
#: (``_FIVE_DECIMALS`` in ``workstation/sim/exchange.py``).
BOOKED_TO_FIVE_DECIMALS = frozenset({"USD", "EUR", "GBP", "USDC", "USDT"})

Row = tuple[Decimal, Decimal]


def booking_places(currency: str) -> int:
    """Decimals ``currency`` is booked to in trade values and fees: 5 or 8."""
    return 5 if currency.upper() in BOOKED_TO_FIVE_DECIMALS else 8


def average_price(value: Decimal, amount: Decimal) -> Decimal | None:
    """``value / amount`` to 40 significant digits; ``None`` for nothing traded.

    The one definition of an average fill price, so a preview and the fills reported later
    compare exactly.
    """
    return _RATIO.divide(value, amount) if amount else None


@dataclass(frozen=True, slots=True)
class Walk:
    """What a taker would meet on one side of a book.

    Attributes:
        fills: ``(price, amount)`` per resting order met, in execution order (per level when
            the rows were aggregated).
        levels: ``(price, amount taken)`` per price level, best first.
        filled: base amount taken.
        value: ``sum(price * amount)`` over the fills, exact.
        left: what the order could not use: base (``walk_amount``) or quote (``walk_quote``).
        covered: the rows held enough for the whole order (a quote walk is covered when it
            stopped because the quote ran out, not the book).
    """

    fills: tuple[Row, ...]
    levels: tuple[Row, ...]
    filled: Decimal
    value: Decimal
    left: Decimal
    covered: bool

    @property
    def worst_price(self) -> Decimal | None:
        return self.levels[-1][0] if self.levels else None


def _crosses(buy: bool, limit: Decimal | None, price: Decimal) -> bool:
    """Whether a taker with ``limit`` (``None``: any price) trades at ``price``."""
    return limit is None or (price <= limit if buy else price >= limit)


def _levels(rows: Iterable[Row]) -> Iterator[tuple[Decimal, list[Decimal]]]:
    """Best-first rows grouped by price: ``(price, [order sizes in priority order])``."""
    for price, group in itertools.groupby(rows, key=lambda row: row[0]):
        yield price, [size for _, size in group]


def walk_amount(
    rows: Iterable[Row], amount: Decimal, *, buy: bool, limit: Decimal | None = None
) -> Walk:
    """Take a base ``amount`` from best-first ``rows``, at prices up to ``limit`` if given.

    ``buy`` says which way ``limit`` bounds the price (a buy takes asks at or below it).
    """
    fills: list[Row] = []
    levels: list[Row] = []
    want = amount
    value = ZERO
    for price, sizes in _levels(rows):
        if not want or not _crosses(buy, limit, price):
            break
        taken = ZERO
        for size in sizes:
            take = min(want, size)
            if take:
                fills.append((price, take))
                want -= take
                taken += take
        levels.append((price, taken))
        value = EXACT.fma(price, taken, value)
        if taken < sum(sizes):
            break  # the level outlasted the order
    return Walk(tuple(fills), tuple(levels), amount - want, value, want, not want)


def walk_quote(rows: Iterable[Row], quote: Decimal, *, lot: Decimal) -> Walk:
    """Spend (or, selling, receive) up to ``quote`` against best-first ``rows``.

    At each price the taker takes the largest multiple of ``lot`` whose value fits in the
    quote left (``MatchingEngine._affordable``: an exact floor), split over the level's
    orders in priority order; it stops at the first level it does not empty.
    """
    fills: list[Row] = []
    levels: list[Row] = []
    left = quote
    filled = value = ZERO
    stopped_inside = False
    for price, sizes in _levels(rows):
        total = sum(sizes)
        taken = min(_affordable(left, price, lot), total)
        if not taken:
            stopped_inside = True
            break
        budget = taken
        for size in sizes:
            take = min(budget, size)
            if take:
                fills.append((price, take))
                budget -= take
        traded = EXACT.multiply(price, taken)
        levels.append((price, taken))
        filled += taken
        value += traded
        left = EXACT.subtract(left, traded)
        if taken < total:
            stopped_inside = True
            break
    covered = stopped_inside or not left
    return Walk(tuple(fills), tuple(levels), filled, value, left, covered)


def _affordable(quote: Decimal, price: Decimal, lot: Decimal) -> Decimal:
    """Largest multiple of ``lot`` whose value at ``price`` is at most ``quote``."""
    if quote <= 0 or price <= 0:
        return ZERO
    lots = EXACT.divide_int(quote, EXACT.multiply(price, lot))
    return EXACT.multiply(lots, lot)


def fee_rate(fee_percent: Decimal) -> Decimal:
    """A fee in percent, as ``fees/trading`` gives it (``0.40``), as a fraction (``0.004``).

    Raises:
        ValueError: not a percentage in ``[0, 100)`` (the simulator's ``ledger._rate`` rule).
    """
    if not fee_percent.is_finite() or not ZERO <= fee_percent < _HUNDRED:
        raise ValueError(f"fee must be a percentage in [0, 100), got {fee_percent}")
    return EXACT.divide(fee_percent, _HUNDRED)


def charge(fills: Sequence[Row], fee_percent: Decimal, places: int) -> tuple[Decimal, Decimal]:
    """``(booked value, fee)`` summed over ``fills``, each fill rounded on its own.

    Per fill: ``value = round_half_up(price * amount, places)`` and
    ``fee = round_half_up(value * fee_percent / 100, places)`` (see the module docstring).

    Raises:
        ValueError: ``fee_percent`` is not a percentage in ``[0, 100)``.
    """
    rate = fee_rate(fee_percent)
    step = quantum(places)
    booked = fees = ZERO
    for price, amount in fills:
        value = EXACT.multiply(price, amount).quantize(step, ROUND_HALF_UP, EXACT)
        fee = EXACT.multiply(value, rate).quantize(step, ROUND_HALF_UP, EXACT)
        booked = EXACT.add(booked, value)
        fees = EXACT.add(fees, fee)
    return booked, fees
