"""One market's order book as exact scaled integers, built for the diff stream's pace.

Prices are kept as integer ticks and amounts as integer lots (``"3805.44"`` with 2 price
decimals is 380544): exact like Decimal, and several times cheaper to hash, compare and sort,
which matters when every ``diff_order_book`` frame is applied as it arrives. Each side is a
dict (price -> amount) plus an ascending list of its prices (the best bid is the last one,
the best ask the first). Decimals appear only on the way out, for the few levels a reader
asks for.

``apply_rows`` takes the wire's text pairs directly (absolute amounts, zero deletes: reference
7.4) and checks every number strictly before it returns (:mod:`.book_rows`); a bad one raises
``NumberFormatError`` and the feed resyncs, because after a half-applied frame the book is
unknown.

A frame side of ``STAGE_FROM`` rows or more is checked in one pass (:mod:`.book_rows`) and
*staged*: applied when the book is next read. Every reading method and property applies
staged sides first, so no reader sees a book without an earlier diff. Because each row
carries its level's new absolute total, only a price's last row between two reads matters,
so several staged sides are applied once per distinct price (keyed by its canonical wire
text) rather than once per row. Smaller sides (most real frames: 1 to 3 rows) are parsed
row by row and applied at once, which is cheaper for them. A feed that reads after every
frame (its crossed-book check) thus applies every frame as it comes, as before; a book read
after a burst (a backlog, a replay) parses and updates each changed level once.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable, Sequence
from decimal import Decimal
from itertools import islice

from .book_rows import POW10, SEP, RowRules, parse_units
from .common import Side
from .numbers import MAX_NUMBER_LENGTH, NumberFormatError, from_units, to_units

__all__ = ["COALESCE_FROM", "STAGED_LIMIT", "STAGE_FROM", "OrderBook"]

STAGED_LIMIT = 512
"""Staged frame sides that force an apply: bounds memory and the next read's latency when
nothing reads the book for a long time."""
COALESCE_FROM = 3
"""Staged frame sides from which keeping only each price's last row pays for its pass."""
STAGE_FROM = 8
"""Rows from which a frame side is checked in one pass and staged; fewer are parsed row by
row and applied at once. The one-pass check has a fixed cost of about 2 µs on the bench
machine and saves about 0.25 µs a row, so it pays from about 8 rows even when every frame is
read at once."""


def _units(value: Decimal, places: int) -> int:
    scaled = value.scaleb(places)
    units = int(scaled)
    if units != scaled or units < 0:
        raise NumberFormatError(f"{value} is not a non-negative multiple of 1e-{places}")
    return units


class _BookSide:
    """Levels of one side: ``levels`` (price ticks -> lots) and ``keys``, its prices in
    ascending order; plus checked frame sides not applied yet (``staged`` texts, whose
    amounts are all multiplied by ``scale``)."""

    __slots__ = ("keys", "levels", "scale", "staged")

    def __init__(self, levels: dict[int, int]) -> None:
        self.levels = levels
        self.keys = sorted(levels)
        self.staged: list[str] = []
        self.scale = 1

    def stage(self, text: str, scale: int) -> None:
        staged = self.staged
        if staged and (scale != self.scale or len(staged) >= STAGED_LIMIT):
            self.apply_staged()
        staged.append(text)
        self.scale = scale

    def apply_rows(self, rows: Sequence[tuple[str, str]], pp: int, ap: int) -> None:
        """Wire rows parsed and applied one by one, after anything staged before them: the
        cheaper way for the few rows most frames carry. Digits with a dot and at most the
        book's decimals take two ``partition``s and an ``int``; anything else goes through
        :func:`to_units`, which raises ``NumberFormatError`` on a bad number (the rows
        before it are applied by then)."""
        if self.staged:
            self.apply_staged()
        levels, keys = self.levels, self.keys
        for price_text, amount_text in rows:
            # The same test twice, unrolled: this loop is per row. ``0 <= short < places``
            # is 1 to ``places`` decimals after a dot (a dot without decimals is refused).
            whole, _, frac = price_text.partition(".")
            digits = whole + frac
            short = pp - len(frac)
            if (
                0 <= short < pp
                and whole
                and digits.isdigit()
                and digits.isascii()
                and len(price_text) <= MAX_NUMBER_LENGTH
            ):
                key = int(digits) * POW10[short]
            else:
                key = to_units(price_text, pp)
            whole, _, frac = amount_text.partition(".")
            digits = whole + frac
            short = ap - len(frac)
            if (
                0 <= short < ap
                and whole
                and digits.isdigit()
                and digits.isascii()
                and len(amount_text) <= MAX_NUMBER_LENGTH
            ):
                amount = int(digits) * POW10[short]
            else:
                amount = to_units(amount_text, ap)
            if amount:
                if key not in levels:
                    insort(keys, key)
                levels[key] = amount
            elif key in levels:
                del levels[key]
                del keys[bisect_left(keys, key)]

    def apply_staged(self) -> None:
        staged, scale = self.staged, self.scale
        if len(staged) < COALESCE_FROM:
            units = parse_units(staged[0] if len(staged) == 1 else SEP.join(staged))
            if scale != 1:
                units[1::2] = [a * scale for a in units[1::2]]
            pairs = iter(units)
            self.apply(pairs, pairs)
        else:
            # Each price's last row only (a dict keeps a key's first place and its last
            # value). Exact: amounts are absolute totals, a checked price has one text, and
            # rows for different prices commute.
            texts = SEP.join(staged).split(SEP)
            last = dict(zip(texts[0::2], texts[1::2], strict=True))
            amounts: Iterable[int] = parse_units(SEP.join(last.values()))
            if scale != 1:
                amounts = [a * scale for a in amounts]
            self.apply(parse_units(SEP.join(last)), amounts)
        staged.clear()

    def apply(self, prices: Iterable[int], amounts: Iterable[int]) -> None:
        """The hot loop: one dict update per row, a sorted insert or delete when a level
        appears or goes. In order: a price's last row wins."""
        levels, keys = self.levels, self.keys
        for key, amount in zip(prices, amounts, strict=False):  # strict: a pairwise iterator
            if amount:
                if key not in levels:
                    insort(keys, key)
                levels[key] = amount
            elif key in levels:
                del levels[key]
                del keys[bisect_left(keys, key)]


class OrderBook:
    """Bids and asks of one market. Not thread-safe; owned by one feed.

    Args:
        market: the pair's symbol, e.g. ``btcusd``.
        price_places: decimals of a price (the market's quote decimals).
        amount_places: decimals of an amount (the market's base decimals; Bitstamp's wire
            always writes 8, which is never fewer).
    """

    __slots__ = (
        "_asks",
        "_bids",
        "_rules",
        "_staged",
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
        self._bids = _BookSide({})
        self._asks = _BookSide({})
        self._staged = False
        self._rules = RowRules(price_places, amount_places)

    # -- writing ---------------------------------------------------------------------------

    def clear(self) -> None:
        self._bids = _BookSide({})
        self._asks = _BookSide({})
        self._staged = False
        self.timestamp_us = 0

    def load(
        self,
        bids: Iterable[tuple[Decimal, Decimal]],
        asks: Iterable[tuple[Decimal, Decimal]],
        timestamp_us: int,
    ) -> None:
        """Replace the book with a snapshot (typed levels, e.g. from the REST order book);
        frames staged before it go with the old book."""
        pp, ap = self.price_places, self.amount_places
        bid_map = {_units(p, pp): _units(a, ap) for p, a in bids}
        ask_map = {_units(p, pp): _units(a, ap) for p, a in asks}
        self._bids = _BookSide({p: a for p, a in bid_map.items() if a})
        self._asks = _BookSide({p: a for p, a in ask_map.items() if a})
        self._staged = False
        self.timestamp_us = timestamp_us

    def apply_rows(
        self,
        bids: Sequence[tuple[str, str]],
        asks: Sequence[tuple[str, str]],
        timestamp_us: int,
    ) -> None:
        """Apply one diff frame's rows as the wire sent them: ``[["3805.44", "0.5"], ...]``.

        Raises:
            NumberFormatError: a number is malformed or finer than the book's decimals; rows
                before it may be applied, so the book is unknown and must be resynced.
        """
        # Large sides are checked in one pass and staged; small ones (most frames) parsed
        # and applied row by row, which costs less below STAGE_FROM rows.
        if bids:
            checked = self._rules.check(bids) if len(bids) >= STAGE_FROM else None
            if checked is None:
                self._bids.apply_rows(bids, self.price_places, self.amount_places)
            else:
                self._bids.stage(*checked)
                self._staged = True
        if asks:
            checked = self._rules.check(asks) if len(asks) >= STAGE_FROM else None
            if checked is None:
                self._asks.apply_rows(asks, self.price_places, self.amount_places)
            else:
                self._asks.stage(*checked)
                self._staged = True
        self.timestamp_us = timestamp_us

    def _apply_staged(self) -> None:
        if self._bids.staged:
            self._bids.apply_staged()
        if self._asks.staged:
            self._asks.apply_staged()
        self._staged = False

    # -- reading (each applies staged frames first) ----------------------------------------

    @property
    def crossed(self) -> bool:
        """Best bid at or above best ask: impossible at rest, so the copy is wrong."""
        if self._staged:
            self._apply_staged()
        bids, asks = self._bids.keys, self._asks.keys
        return bool(bids and asks) and bids[-1] >= asks[0]

    def best_bid(self) -> Decimal | None:
        if self._staged:
            self._apply_staged()
        keys = self._bids.keys
        return from_units(keys[-1], self.price_places) if keys else None

    def best_ask(self) -> Decimal | None:
        if self._staged:
            self._apply_staged()
        keys = self._asks.keys
        return from_units(keys[0], self.price_places) if keys else None

    def depth(self, side: Side) -> int:
        """Number of price levels on ``side``."""
        if self._staged:
            self._apply_staged()
        return len((self._bids if side is Side.BUY else self._asks).levels)

    def top_units(self, side: Side, depth: int | None = None) -> list[tuple[int, int]]:
        """Best-first ``(price ticks, amount lots)`` pairs: the fast read for renderers."""
        if self._staged:
            self._apply_staged()
        if side is Side.BUY:
            levels = self._bids.levels
            return [(k, levels[k]) for k in islice(reversed(self._bids.keys), depth)]
        levels = self._asks.levels
        return [(k, levels[k]) for k in islice(self._asks.keys, depth)]

    def rows_units(self, rows: Iterable[tuple[str, str]]) -> list[tuple[int, int]]:
        """Wire rows in this book's units (to compare with ``top_units``); strict."""
        pp, ap = self.price_places, self.amount_places
        return [(to_units(p, pp), to_units(a, ap)) for p, a in rows]

    def levels(self, side: Side, depth: int | None = None) -> list[tuple[Decimal, Decimal]]:
        """Best-first ``(price, amount)`` as exact Decimals."""
        pp, ap = self.price_places, self.amount_places
        return [(from_units(p, pp), from_units(a, ap)) for p, a in self.top_units(side, depth)]
