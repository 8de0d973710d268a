"""One market's public trades, kept compact: columns of integers over a day, older ones dropped.

A ``Trade`` object with its two Decimals costs about 400 bytes; a busy market at ``--speed
100`` makes hundreds a second, so a tape of objects grew the process by half a megabyte a
second and gave the garbage collector hundreds of thousands of objects to walk. Here a trade
is one row of ``array('q')`` columns (prices and amounts as integers of the market's smallest
step; about 50 bytes a trade), rows older than a day or past :data:`TRADE_HISTORY` are dropped
from the front, and the ticker's day figures (volume, value, high, low) are kept up to date
as rows come and go, so a ticker costs the same whatever the day held.

Rows are numbered by a sequence that never goes back (``first_seq`` .. ``end_seq``): the
encoded ``transactions`` bodies are cached by it (:mod:`workstation.sim.transactions_body`).
Trades must come oldest first; the simulator's clock never goes back, so they do.
"""

from __future__ import annotations

import operator
from array import array
from bisect import bisect_left
from collections import deque
from dataclasses import dataclass
from decimal import Decimal

from ..domain.common import Side
from ..domain.market_data import Trade

__all__ = ["DAY_US", "TRADE_HISTORY", "DayFigures", "TradeRows", "TradeTape", "units"]

DAY_US = 86_400 * 1_000_000
TRADE_HISTORY = 50_000
"""Trades kept per market at most (a day of a busy market at Bitstamp-like rates)."""
_COMPACT_AT = 4_096
"""Dropped rows are removed from the columns once there are this many (and half of them)."""
_SIDES = {Side.BUY.code: Side.BUY, Side.SELL.code: Side.SELL}


@dataclass(frozen=True, slots=True)
class DayFigures:
    """The ticker's figures over the trades kept, prices and amounts as Decimals."""

    first: Decimal
    last: Decimal
    high: Decimal
    low: Decimal
    volume: Decimal
    value: Decimal
    """Sum of price times amount, exact."""
    last_side: Side


def units(value: Decimal, scale: int) -> int:
    """``value`` as a whole count of ``1/scale`` (ticks, lots); refuses a finer value."""
    scaled = value * scale
    whole = int(scaled)
    if whole != scaled:
        raise ValueError(f"{value} is not a multiple of 1/{scale}")
    return whole


class TradeRows:
    """Trades as integer columns, without bounds or figures (a :class:`TradeTape` adds them):
    the boot history is made newest first into these, so a day waiting to be appended is not
    35,000 objects (which the garbage collector walked for tens of milliseconds at a time)."""

    __slots__ = ("times", "ids", "prices", "amounts", "sides", "buy_order_ids", "sell_order_ids")

    def __init__(self) -> None:
        self.times = array("q")
        """Microtimestamps (whole milliseconds, as Bitstamp sends)."""
        self.ids = array("q")
        self.prices = array("q")
        """Prices in units of the market's tick."""
        self.amounts = array("q")
        """Amounts in units of the market's lot."""
        self.sides = bytearray()
        """The taker's side code (0 buy, 1 sell)."""
        self.buy_order_ids = array("q")
        self.sell_order_ids = array("q")

    def columns(self) -> tuple[array[int] | bytearray, ...]:
        """Every column, in one order (a row is the same index in each)."""
        return (
            self.times,
            self.ids,
            self.prices,
            self.amounts,
            self.sides,
            self.buy_order_ids,
            self.sell_order_ids,
        )

    def add(
        self,
        time_us: int,
        trade_id: int,
        price: int,
        amount: int,
        side_code: int,
        buy_order_id: int,
        sell_order_id: int,
    ) -> None:
        """One more row at the end of the columns, price and amount in ticks and lots."""
        self.times.append(time_us)
        self.ids.append(trade_id)
        self.prices.append(price)
        self.amounts.append(amount)
        self.sides.append(side_code)
        self.buy_order_ids.append(buy_order_id)
        self.sell_order_ids.append(sell_order_id)

    def __len__(self) -> int:
        return len(self.times)


class TradeTape(TradeRows):
    """Trades of one market, oldest first, as integer columns with running day figures."""

    def __init__(
        self,
        base_decimals: int,
        quote_decimals: int,
        *,
        keep_us: int = DAY_US,
        keep: int = TRADE_HISTORY,
    ) -> None:
        self.base_decimals = base_decimals
        self.quote_decimals = quote_decimals
        self.keep_us = keep_us
        self.keep = keep
        self._price_scale = 10**quote_decimals
        self._amount_scale = 10**base_decimals
        super().__init__()
        self._head = 0
        """Index of the oldest row kept; rows before it are dropped, not yet removed."""
        self._base_seq = 0
        """Sequence number of index 0 of the columns."""
        self._volume = 0
        self._value = 0
        self._highs: deque[tuple[int, int]] = deque()
        """(price, seq) with falling prices: the front is the highest price kept."""
        self._lows: deque[tuple[int, int]] = deque()

    # -- size and sequence -----------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.times) - self._head

    @property
    def first_seq(self) -> int:
        """Sequence number of the oldest trade kept."""
        return self._base_seq + self._head

    @property
    def end_seq(self) -> int:
        """Sequence number the next trade will get."""
        return self._base_seq + len(self.times)

    def index(self, seq: int) -> int:
        """Column index of a kept trade's sequence number."""
        return seq - self._base_seq

    def stored_bytes(self) -> int:
        """Bytes the columns hold (what the memory bound is about)."""
        return sum(len(c) * (c.itemsize if isinstance(c, array) else 1) for c in self.columns())

    # -- writing ------------------------------------------------------------------------------

    def append(self, trade: Trade) -> None:
        """Add the newest trade; drops those past the count bound and older than a day."""
        self.append_row(
            trade.timestamp_us,
            trade.id,
            units(trade.price, self._price_scale),
            units(trade.amount, self._amount_scale),
            trade.side.code,
            trade.buy_order_id or 0,
            trade.sell_order_id or 0,
        )

    def append_reversed(self, rows: TradeRows, start: int, end: int) -> None:
        """Add rows ``end - 1`` down to ``start`` of ``rows`` (made newest first), as
        :meth:`append_row` would one by one: the columns grow by whole slices, the day's
        running figures by sums, and older rows are dropped once, after the last."""
        if end <= start:
            return
        backwards = slice(end - 1, start - 1 if start else None, -1)
        prices, amounts = rows.prices[backwards], rows.amounts[backwards]
        seq = self.end_seq
        for column, made in zip(self.columns(), rows.columns(), strict=True):
            column.extend(made[backwards])
        self._volume += sum(amounts)
        self._value += sum(map(operator.mul, prices, amounts))
        highs, lows = self._highs, self._lows
        for price in prices:
            while highs and highs[-1][0] <= price:
                highs.pop()
            highs.append((price, seq))
            while lows and lows[-1][0] >= price:
                lows.pop()
            lows.append((price, seq))
            seq += 1
        self.forget_before(self.times[-1] - self.keep_us)

    def append_row(
        self,
        time_us: int,
        trade_id: int,
        price: int,
        amount: int,
        side_code: int,
        buy_order_id: int,
        sell_order_id: int,
    ) -> None:
        """Add the newest trade as integers (price and amount in ticks and lots)."""
        seq = self.end_seq
        self.add(time_us, trade_id, price, amount, side_code, buy_order_id, sell_order_id)
        self._volume += amount
        self._value += price * amount
        highs, lows = self._highs, self._lows
        while highs and highs[-1][0] <= price:
            highs.pop()
        highs.append((price, seq))
        while lows and lows[-1][0] >= price:
            lows.pop()
        lows.append((price, seq))
        self.forget_before(time_us - self.keep_us)

    def forget_before(self, since_us: int) -> None:
        """Drop trades older than ``since_us``, and the oldest past the count bound."""
        times, head = self.times, self._head
        end = len(times)
        while head < end and (times[head] < since_us or end - head > self.keep):
            self._drop(head)
            head += 1
        self._head = head
        if head >= _COMPACT_AT and head * 2 >= end:
            for column in self.columns():
                del column[:head]
            self._base_seq += head
            self._head = 0

    def _drop(self, index: int) -> None:
        price, amount = self.prices[index], self.amounts[index]
        seq = self._base_seq + index
        self._volume -= amount
        self._value -= price * amount
        if self._highs and self._highs[0][1] == seq:
            self._highs.popleft()
        if self._lows and self._lows[0][1] == seq:
            self._lows.popleft()

    # -- reading ------------------------------------------------------------------------------

    def seq_since(self, since_us: int) -> int:
        """Sequence number of the oldest kept trade at or after ``since_us``."""
        index = bisect_left(self.times, since_us, self._head)
        return self._base_seq + index

    def price(self, index: int) -> Decimal:
        return Decimal(self.prices[index]).scaleb(-self.quote_decimals)

    def amount(self, index: int) -> Decimal:
        return Decimal(self.amounts[index]).scaleb(-self.base_decimals)

    def last_price(self) -> Decimal | None:
        return self.price(len(self.times) - 1) if len(self) else None

    def trade(self, index: int, market: str) -> Trade:
        return Trade(
            market=market,
            id=self.ids[index],
            price=self.price(index),
            amount=self.amount(index),
            side=_SIDES[self.sides[index]],
            timestamp_us=self.times[index],
            buy_order_id=self.buy_order_ids[index] or None,
            sell_order_id=self.sell_order_ids[index] or None,
        )

    def figures(self) -> DayFigures | None:
        """The day figures of every trade kept (call ``forget_before`` first); None if none."""
        if not len(self):
            return None
        last = len(self.times) - 1
        q, b = self.quote_decimals, self.base_decimals
        return DayFigures(
            first=self.price(self._head),
            last=self.price(last),
            high=Decimal(self._highs[0][0]).scaleb(-q),
            low=Decimal(self._lows[0][0]).scaleb(-q),
            volume=Decimal(self._volume).scaleb(-b),
            value=Decimal(self._value).scaleb(-q - b),
            last_side=_SIDES[self.sides[last]],
        )
