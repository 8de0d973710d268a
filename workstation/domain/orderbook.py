"""One market's order book, exact, built for the diff stream's pace.

Prices are kept as integer ticks (``"3805.44"`` with 2 price decimals is 380544): exact like
Decimal, and several times cheaper to hash, compare and sort, which matters when frames come
fast. Amounts are kept as text with exactly the book's decimals (``b"0.50000000"``) and made
integer lots only when read: most levels change or go before anyone looks at them. Each side
is a dict (price -> amount) plus an ascending list of its prices (the best bid is the last
one, the best ask the first). Decimals appear only on the way out, for the few levels a
reader asks for.

Diff frames come in one of two forms, both with absolute amounts where zero deletes
(reference 7.4):

* :meth:`OrderBook.apply_packed` takes each side as the frame's own text
  (:mod:`.book_rows`), checks it in one pass and *stages* it: it is applied when the book is
  next read. Every reading method and property applies staged sides first, so no reader sees
  a book without an earlier diff. Because each row carries its level's new absolute total,
  only a price's last row between two reads matters: several staged sides are merged by
  price text (canonical, so one text per price) and each changed level is parsed and
  updated once. A book read after every frame applies every frame as it comes; a book read
  at a screen's pace, or after a backlog, does a fraction of the work. A side the check does
  not take is refused with nothing changed, and the caller gives its rows to:
* :meth:`OrderBook.apply_rows`, the wire's text pairs parsed strictly row by row; a bad
  number raises ``NumberFormatError`` and the feed resyncs, because after a half-applied
  frame the book is unknown.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable, Sequence
from decimal import Decimal
from itertools import islice

from .book_rows import DROP_PUNCTUATION, PackedRules
from .common import Side
from .numbers import NumberFormatError, from_units, to_units, units_text

__all__ = ["COALESCE_FROM", "STAGED_LIMIT", "OrderBook"]

STAGED_LIMIT = 512
"""Staged frame sides that force an apply: bounds memory and the next read's latency when
nothing reads the book for a long time."""
COALESCE_FROM = 3
"""Staged frame sides from which keeping only each price's last row pays for its pass."""


def _units(value: Decimal, places: int) -> int:
    scaled = value.scaleb(places)
    units = int(scaled)
    if units != scaled or units < 0:
        raise NumberFormatError(f"{value} is not a non-negative multiple of 1e-{places}")
    return units


def _integers(texts: Iterable[bytes]) -> Iterable[int]:
    """Checked number texts (exact decimals) as integers in the book's units."""
    return map(int, b",".join(texts).replace(b".", b"").split(b","))


def _lots_text(lots: int, places: int) -> bytes:
    """An amount in lots as the book keeps it: text with exactly ``places`` decimals."""
    if not places:
        return b"%d" % lots
    whole, frac = divmod(lots, 10**places)
    return b"%d.%0*d" % (whole, places, frac)


class _BookSide:
    """Levels of one side: ``levels`` (price ticks -> amount text with exactly the book's
    decimals, ``b"0.50000000"``) and ``keys``, its prices in ascending order; plus checked
    packed sides not applied yet (``staged``, whose amounts all need ``pad`` appended).

    Amounts stay text because a level's amount is only read when it is shown: most levels
    change several times, or go, before anyone looks, and their amounts never need an
    ``int()``. Prices are integers: they are sorted and searched on every change."""

    __slots__ = ("keys", "levels", "pad", "staged", "zero")

    def __init__(self, levels: dict[int, bytes], zero: bytes) -> None:
        self.levels = levels
        self.keys = sorted(levels)
        self.staged: list[bytes] = []  # bytes-like: the codec's msgspec.Raw too
        self.pad = b""
        self.zero = zero

    def stage(self, packed: bytes, pad: bytes) -> None:
        staged = self.staged
        if pad == self.pad and len(staged) < STAGED_LIMIT:
            staged.append(packed)
            return
        if staged:
            self.apply_staged()
        staged.append(packed)
        self.pad = pad

    def apply_rows(self, rows: Sequence[tuple[str, str]], pp: int, ap: int) -> None:
        """Wire rows parsed strictly, then applied one by one after anything staged before
        them. :func:`to_units` raises ``NumberFormatError`` on a bad number, before this
        side changes."""
        if self.staged:
            self.apply_staged()
        prices = [to_units(p, pp) for p, _ in rows]
        self.apply(prices, [_lots_text(to_units(a, ap), ap) for _, a in rows])

    def apply_staged(self) -> None:
        staged, pad = self.staged, self.pad
        texts = b",".join(staged).translate(None, DROP_PUNCTUATION).split(b",")
        prices: Iterable[bytes] = texts[0::2]
        amounts: Iterable[bytes] = texts[1::2]
        if len(staged) >= COALESCE_FROM:
            # Each price's last row only (a dict keeps a key's first place and its last
            # value). Exact: amounts are absolute totals, a checked price has one text, and
            # rows for different prices commute.
            last = dict(zip(prices, amounts, strict=True))
            prices, amounts = last.keys(), last.values()
        if pad:
            amounts = [amount + pad for amount in amounts]
        self.apply(_integers(prices), amounts)
        staged.clear()

    def apply(self, prices: Iterable[int], amounts: Iterable[bytes]) -> None:
        """The hot loop: one dict update per row, a sorted insert or delete when a level
        appears or goes. In order: a price's last row wins. (Set and dict operations in C
        instead were tried, and lost: most rows add or remove a level, which needs its
        sorted insert or delete either way.)"""
        levels, keys, zero = self.levels, self.keys, self.zero
        for key, amount in zip(prices, amounts, strict=True):
            if amount != zero:
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
        "_zero",
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
        self._zero = _lots_text(0, amount_places)
        self._bids = _BookSide({}, self._zero)
        self._asks = _BookSide({}, self._zero)
        self._staged = False
        self._rules = PackedRules(price_places, amount_places)

    # -- writing ---------------------------------------------------------------------------

    def clear(self) -> None:
        self._bids = _BookSide({}, self._zero)
        self._asks = _BookSide({}, self._zero)
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
        self._replace(bid_map, ask_map, timestamp_us)

    def load_rows(
        self,
        bids: Iterable[tuple[str, str]],
        asks: Iterable[tuple[str, str]],
        timestamp_us: int,
    ) -> None:
        """Replace the book with wire rows (the venue's top 100 from ``order_book_{pair}``,
        shown while a snapshot is on its way), parsed strictly in the book's units.

        Raises:
            NumberFormatError: a row that is not a number of the book's decimals; the book
                is then unchanged.
        """
        bid_map = dict(self.rows_units(bids))
        ask_map = dict(self.rows_units(asks))
        self._replace(bid_map, ask_map, timestamp_us)

    def _replace(self, bid_map: dict[int, int], ask_map: dict[int, int], timestamp_us: int) -> None:
        ap = self.amount_places
        self._bids = _BookSide({p: _lots_text(a, ap) for p, a in bid_map.items() if a}, self._zero)
        self._asks = _BookSide({p: _lots_text(a, ap) for p, a in ask_map.items() if a}, self._zero)
        self._staged = False
        self.timestamp_us = timestamp_us

    def apply_packed(self, bids: bytes, asks: bytes, timestamp_us: int) -> bool:
        """Stage one diff frame's sides as the frame carried them (``[["3805.44",
        "0.50000000"], ...]``, any bytes-like object); ``[]`` is an empty side.

        Returns ``False``, with nothing changed, when a side is not in the form the
        one-pass check takes (:mod:`.book_rows`): give the same rows to :meth:`apply_rows`.
        """
        # The common case inlined (this runs per frame): the pattern for the amount
        # decimals seen last, then PackedRules.check for anything else.
        rules = self._rules
        bid_pad: bytes | None = None
        ask_pad: bytes | None = None
        if len(bids) > 2:
            bid_pad = rules.pad if rules.match(bids) is not None else rules.check(bids)
            if bid_pad is None:
                return False
        if len(asks) > 2:
            ask_pad = rules.pad if rules.match(asks) is not None else rules.check(asks)
            if ask_pad is None:
                return False
        if bid_pad is not None:
            self._bids.stage(bids, bid_pad)
            self._staged = True
        if ask_pad is not None:
            self._asks.stage(asks, ask_pad)
            self._staged = True
        self.timestamp_us = timestamp_us
        return True

    def apply_rows(
        self,
        bids: Sequence[tuple[str, str]],
        asks: Sequence[tuple[str, str]],
        timestamp_us: int,
    ) -> None:
        """Apply one diff frame's rows as the wire's text pairs: ``[("3805.44", "0.5")]``.

        Raises:
            NumberFormatError: a number is malformed or finer than the book's decimals; rows
                before it may be applied, so the book is unknown and must be resynced.
        """
        pp, ap = self.price_places, self.amount_places
        if bids:
            self._bids.apply_rows(bids, pp, ap)
        if asks:
            self._asks.apply_rows(asks, pp, ap)
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
            keys: Iterable[int] = islice(reversed(self._bids.keys), depth)
        else:
            levels = self._asks.levels
            keys = islice(self._asks.keys, depth)
        return [(k, int(levels[k].replace(b".", b""))) for k in keys]

    def top_matches(self, side: Side, rows: Sequence[tuple[str, str]]) -> bool:
        """Whether ``side``'s best ``len(rows)`` levels are exactly ``rows`` (wire text, best
        first): the venue's own top levels against ours, as the feed's cross-check asks once
        a second per pair. Rows in the book's own text (the venue's usual form: the market's
        decimals) match as text, without parsing; any other text of the same numbers
        (``"1.5"`` for ``"1.50"``) is parsed strictly and compared in units.

        Raises:
            NumberFormatError: a row that is not a number of the book's decimals.
        """
        if self._staged:
            self._apply_staged()
        if side is Side.BUY:
            levels = self._bids.levels
            keys: Iterable[int] = islice(reversed(self._bids.keys), len(rows))
        else:
            levels = self._asks.levels
            keys = islice(self._asks.keys, len(rows))
        ours = [(k, levels[k]) for k in keys]
        if len(ours) == len(rows):
            places = self.price_places
            for (price, amount), (price_text, amount_text) in zip(ours, rows, strict=True):
                if amount != amount_text.encode() or units_text(price, places) != price_text:
                    break
            else:
                return True
        return [(k, int(v.replace(b".", b""))) for k, v in ours] == self.rows_units(rows)

    def rows_units(self, rows: Iterable[tuple[str, str]]) -> list[tuple[int, int]]:
        """Wire rows in this book's units (to compare with ``top_units``); strict."""
        pp, ap = self.price_places, self.amount_places
        return [(to_units(p, pp), to_units(a, ap)) for p, a in rows]

    def levels(self, side: Side, depth: int | None = None) -> list[tuple[Decimal, Decimal]]:
        """Best-first ``(price, amount)`` as exact Decimals."""
        pp, ap = self.price_places, self.amount_places
        return [(from_units(p, pp), from_units(a, ap)) for p, a in self.top_units(side, depth)]
