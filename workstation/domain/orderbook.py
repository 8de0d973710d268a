"""One market's order book as exact scaled integers, built for the diff stream's pace.

Prices are kept as integer ticks and amounts as integer lots (``"3805.44"`` with 2 price
decimals is 380544): exact like Decimal, and several times cheaper to hash, compare and sort,
which matters when every ``diff_order_book`` frame is applied as it arrives. Each side is a
dict (price -> amount) plus a sorted list of prices (bids stored negated so both lists are
ascending from the touch). Decimals appear only on the way out, for the few levels a reader
asks for.

``apply_rows`` takes the wire's text pairs directly (absolute amounts, zero deletes: reference
7.4) and checks every number strictly; a bad one raises ``NumberFormatError`` and the feed
resyncs, because after a half-applied frame the book is unknown.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable, Sequence
from decimal import Decimal
from itertools import islice

from .common import Side
from .numbers import NumberFormatError, from_units, to_units

__all__ = ["OrderBook"]

_POW10 = tuple(10**n for n in range(40))


def _units(value: Decimal, places: int) -> int:
    scaled = value.scaleb(places)
    units = int(scaled)
    if units != scaled or units < 0:
        raise NumberFormatError(f"{value} is not a non-negative multiple of 1e-{places}")
    return units


class OrderBook:
    """Bids and asks of one market. Not thread-safe; owned by one feed.

    Args:
        market: the pair's symbol, e.g. ``btcusd``.
        price_places: decimals of a price (the market's quote decimals).
        amount_places: decimals of an amount (the market's base decimals; Bitstamp's wire
            always writes 8, which is never fewer).
    """

    __slots__ = (
        "_ask_prices",
        "_asks",
        "_bid_prices",
        "_bids",
        "amount_places",
        "market",
        "price_places",
        "timestamp_us",
    )

    def __init__(self, market: str, price_places: int, amount_places: int) -> None:
        self.market = market
        self.price_places = price_places
        self.amount_places = amount_places
        self.timestamp_us = 0
        self._bids: dict[int, int] = {}
        self._asks: dict[int, int] = {}
        self._bid_prices: list[int] = []  # negated: ascending from the best bid
        self._ask_prices: list[int] = []

    # -- writing ---------------------------------------------------------------------------

    def clear(self) -> None:
        self._bids.clear()
        self._asks.clear()
        self._bid_prices.clear()
        self._ask_prices.clear()
        self.timestamp_us = 0

    def load(
        self,
        bids: Iterable[tuple[Decimal, Decimal]],
        asks: Iterable[tuple[Decimal, Decimal]],
        timestamp_us: int,
    ) -> None:
        """Replace the book with a snapshot (typed levels, e.g. from the REST order book)."""
        pp, ap = self.price_places, self.amount_places
        bid_map = {_units(p, pp): _units(a, ap) for p, a in bids}
        ask_map = {_units(p, pp): _units(a, ap) for p, a in asks}
        self._bids = {p: a for p, a in bid_map.items() if a}
        self._asks = {p: a for p, a in ask_map.items() if a}
        self._bid_prices = sorted(-p for p in self._bids)
        self._ask_prices = sorted(self._asks)
        self.timestamp_us = timestamp_us

    def apply_rows(
        self,
        bids: Sequence[tuple[str, str]],
        asks: Sequence[tuple[str, str]],
        timestamp_us: int,
    ) -> None:
        """Apply one diff frame's rows as the wire sent them: ``[["3805.44", "0.5"], ...]``."""
        if bids:
            _apply(self._bids, self._bid_prices, bids, -1, self.price_places, self.amount_places)
        if asks:
            _apply(self._asks, self._ask_prices, asks, 1, self.price_places, self.amount_places)
        self.timestamp_us = timestamp_us

    # -- reading ---------------------------------------------------------------------------

    @property
    def crossed(self) -> bool:
        """Best bid at or above best ask: impossible at rest, so the copy is wrong."""
        return bool(self._bid_prices and self._ask_prices) and (
            -self._bid_prices[0] >= self._ask_prices[0]
        )

    def best_bid(self) -> Decimal | None:
        return from_units(-self._bid_prices[0], self.price_places) if self._bid_prices else None

    def best_ask(self) -> Decimal | None:
        return from_units(self._ask_prices[0], self.price_places) if self._ask_prices else None

    def depth(self, side: Side) -> int:
        """Number of price levels on ``side``."""
        return len(self._bids if side is Side.BUY else self._asks)

    def top_units(self, side: Side, depth: int | None = None) -> list[tuple[int, int]]:
        """Best-first ``(price ticks, amount lots)`` pairs: the fast read for renderers."""
        if side is Side.BUY:
            book = self._bids
            return [(-p, book[-p]) for p in islice(self._bid_prices, depth)]
        book = self._asks
        return [(p, book[p]) for p in islice(self._ask_prices, depth)]

    def rows_units(self, rows: Iterable[tuple[str, str]]) -> list[tuple[int, int]]:
        """Wire rows in this book's units (to compare with ``top_units``); strict."""
        pp, ap = self.price_places, self.amount_places
        return [(to_units(p, pp), to_units(a, ap)) for p, a in rows]

    def levels(self, side: Side, depth: int | None = None) -> list[tuple[Decimal, Decimal]]:
        """Best-first ``(price, amount)`` as exact Decimals."""
        pp, ap = self.price_places, self.amount_places
        return [(from_units(p, pp), from_units(a, ap)) for p, a in self.top_units(side, depth)]


def _apply(
    book: dict[int, int],
    prices: list[int],
    rows: Sequence[tuple[str, str]],
    sign: int,
    pp: int,
    ap: int,
) -> None:
    """The hot loop. The common case (digits only, at most the book's decimals: USDT pairs'
    amounts come with 5, most with 8) is two partitions and two ``int``s per row; anything
    else goes through the strict parser, which names the problem."""
    for price_text, amount_text in rows:
        whole, _, frac = price_text.partition(".")
        digits = whole + frac
        short = pp - len(frac)
        if short >= 0 and whole and digits.isdigit() and digits.isascii():
            price = int(digits) * _POW10[short]
        else:
            price = to_units(price_text, pp)
        whole, _, frac = amount_text.partition(".")
        digits = whole + frac
        short = ap - len(frac)
        if short >= 0 and whole and digits.isdigit() and digits.isascii():
            amount = int(digits) * _POW10[short]
        else:
            amount = to_units(amount_text, ap)
        if amount:
            if price not in book:
                insort(prices, sign * price)
            book[price] = amount
        elif book.pop(price, None) is not None:
            del prices[bisect_left(prices, sign * price)]
