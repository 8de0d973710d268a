"""Public market data of the simulator: trade history, tickers, candles and book frames.

The matching engines hold the books; this module remembers trades, answers the public REST
reads, and paces the book channels the way Bitstamp does: ``diff_order_book`` frames no closer
than ~100 ms per pair carrying the absolute new amount of every changed level (zero deletes),
``order_book`` frames with the top 100 per side (reference 7.4, 7.7).
"""

from __future__ import annotations

import asyncio
from bisect import bisect_left
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

from ..domain.common import Side
from ..domain.market_data import BookDiff, BookSnapshot, Candle, Ticker, Trade
from ..domain.markets import Market
from .clock import SimClock
from .engine import MatchingEngine
from .tape import DAY_US, TradeRows, TradeTape
from .transactions_body import TransactionsBody
from .wire.stream_frames import encode_book_frame, encode_diff_frame, encode_trade_frame

__all__ = ["DIFF_INTERVAL_S", "MarketData", "NoPublisher", "Publisher"]

DIFF_INTERVAL_S = 0.1
"""Spacing of book frames per pair (Bitstamp: 111-120 ms observed)."""
TOP = 100
HISTORY_SLICE = 150
"""History trades appended to a tape per turn of the event loop (under a millisecond)."""


class Publisher(Protocol):
    """Where frames go: the server's StreamHub."""

    def publish(self, channel: str, frame: str) -> None: ...
    def has_subscribers(self, channel: str) -> bool: ...


class NoPublisher:
    """Used until a server attaches its hub: nobody listens."""

    def publish(self, channel: str, frame: str) -> None:
        return None

    def has_subscribers(self, channel: str) -> bool:
        return False


class _PendingHistory:
    """A market's history while it is being made: chunks so far, then rows to append."""

    __slots__ = ("chunks", "made", "newest_price", "appending", "live", "quote_decimals")

    def __init__(self, chunks: Iterator[TradeRows], market: Market) -> None:
        self.chunks: Iterator[TradeRows] | None = chunks
        self.made: list[TradeRows] = []
        """Chunks made so far as rows, each newest first, the newest chunk first."""
        self.appending = 0
        """Once every chunk is made: how many rows of ``made[-1]`` are in the tape."""
        self.live: list[Trade] = []
        """Live trades made meanwhile: appended after the history."""
        self.newest_price: Decimal | None = None
        self.quote_decimals = market.quote_decimals
        self.add(next(chunks, TradeRows()))

    def add(self, rows: TradeRows) -> None:
        if len(rows):
            self.made.append(rows)
            if self.newest_price is None:
                self.newest_price = Decimal(rows.prices[0]).scaleb(-self.quote_decimals)


class MarketData:
    """Trades and book publication for every market of one exchange."""

    def __init__(
        self,
        markets: dict[str, Market],
        engines: dict[str, MatchingEngine],
        clock: SimClock,
    ) -> None:
        self.markets = markets
        self.engines = engines
        self.clock = clock
        self.publisher: Publisher = NoPublisher()
        self._tapes = {s: TradeTape(m.base_decimals, m.quote_decimals) for s, m in markets.items()}
        self._bodies = {s: TransactionsBody(tape, clock) for s, tape in self._tapes.items()}
        self._reference: dict[str, Decimal] = {}
        self._published_us: dict[str, int] = {}
        """Microtimestamp of each market's last diff frame (sent or not: nobody listening)."""
        self._pending: dict[str, _PendingHistory] = {}
        self._waited: dict[str, asyncio.Event] = {}
        """Markets a request waits for, set once their history is made."""
        self._making = False

    # -- history -----------------------------------------------------------------------------

    def set_history(self, symbol: str, chunks: Iterator[TradeRows]) -> None:
        """Trades from before the start, as chunks going back in time (newest first each).

        The newest chunk is made now (the last price must be known before anything trades);
        the rest by :meth:`make_history` or the first read that needs the market."""
        self._pending[symbol] = _PendingHistory(chunks, self.markets[symbol])

    async def make_history(self) -> None:
        """Make pending history a slice at a time, yielding to requests in between; a market
        a request waits for goes first. The only task that makes history: a slice per turn
        of the event loop, however many requests wait."""
        self._making = True
        try:
            while self._pending:
                symbol = next((s for s in self._waited if s in self._pending), None)
                self._history_step(symbol or next(iter(self._pending)))
                await asyncio.sleep(0)
        finally:
            self._making = False

    async def ready(self, symbol: str) -> None:
        """Return once the market's history is made (a request that reads trades awaits this
        first). The event loop runs meanwhile."""
        if symbol not in self._pending:
            return
        if not self._making:  # no server started: make it here, still in slices
            while symbol in self._pending:
                self._history_step(symbol)
                await asyncio.sleep(0)
            return
        made = self._waited.get(symbol)
        if made is None:
            made = self._waited[symbol] = asyncio.Event()
        await made.wait()

    def _history_step(self, symbol: str) -> None:
        """A few milliseconds of history: make one chunk, or append a slice of what is made
        (oldest first, so the tape's running figures and sequence stay in time order)."""
        pending = self._pending[symbol]
        if pending.chunks is not None:
            chunk = next(pending.chunks, None)
            if chunk is not None:
                pending.add(chunk)
                return
            pending.chunks = None
        tape = self._tapes[symbol]
        if pending.made:
            rows = pending.made[-1]  # the oldest chunk
            end = len(rows) - pending.appending
            start = max(0, end - HISTORY_SLICE)
            tape.append_reversed(rows, start, end)
            pending.appending += end - start
            if start == 0:
                pending.made.pop()
                pending.appending = 0
            if pending.made:
                return
        for trade in pending.live:  # the history is in: live trades so far come after
            tape.append(trade)
        del self._pending[symbol]
        made = self._waited.pop(symbol, None)
        if made is not None:
            made.set()

    def _tape(self, symbol: str) -> TradeTape:
        """The market's trades, oldest first; finishes its history first if still pending."""
        while symbol in self._pending:
            self._history_step(symbol)
        return self._tapes[symbol]

    # -- prices ------------------------------------------------------------------------------

    def set_reference(self, symbol: str, price: Decimal) -> None:
        self._reference[symbol] = price

    def reference_price(self, symbol: str) -> Decimal | None:
        """The market price for the 20 % band: last trade, else mid, else the seed price.

        Never waits for history: while it is being made, the last trade is the last live one
        or else the newest of the history."""
        pending = self._pending.get(symbol)
        if pending is not None:
            last = pending.live[-1].price if pending.live else pending.newest_price
        else:
            last = self._tapes[symbol].last_price()
        if last is not None:
            return last
        engine = self.engines[symbol]
        bid, ask = engine.best_bid(), engine.best_ask()
        if bid is not None and ask is not None:
            return (bid + ask) / 2
        return self._reference.get(symbol)

    # -- trades ------------------------------------------------------------------------------

    def record_trade(self, trade: Trade) -> None:
        pending = self._pending.get(trade.market)
        if pending is not None:
            pending.live.append(trade)  # after the history, once it is made
        else:
            self._tapes[trade.market].append(trade)
        channel = f"live_trades_{trade.market}"
        if self.publisher.has_subscribers(channel):
            m = self.markets[trade.market]
            self.publisher.publish(
                channel, encode_trade_frame(trade, m.base_decimals, m.quote_decimals)
            )

    def trades_since(self, symbol: str, since_us: int) -> list[Trade]:
        """Trades at or after ``since_us``, newest first (as ``transactions`` returns them)."""
        tape = self._tape(symbol)
        first = tape.index(tape.seq_since(since_us))
        end = tape.index(tape.end_seq)
        return [tape.trade(i, symbol) for i in range(end - 1, first - 1, -1)]

    async def transactions_body(self, symbol: str, window_s: int) -> bytes:
        """The REST ``transactions`` JSON of the last ``window_s`` seconds, newest first."""
        await self.ready(symbol)
        return await self._bodies[symbol].body(window_s * 1_000_000)

    def stored_trades(self) -> int:
        """Trades held in every tape (what the memory bound is about)."""
        return sum(len(t) for t in self._tapes.values())

    def stored_bytes(self) -> int:
        return sum(t.stored_bytes() for t in self._tapes.values())

    def ticker(self, symbol: str) -> Ticker:
        m = self.markets[symbol]
        now = self.clock.peek_us()
        tape = self._tape(symbol)
        tape.forget_before(now - DAY_US)
        day = tape.figures()
        reference = self.reference_price(symbol) or Decimal(0)
        engine = self.engines[symbol]
        bid = engine.best_bid() or reference
        ask = engine.best_ask() or reference
        if day is not None:
            volume = day.volume
            vwap = (day.value / volume).quantize(m.tick, ROUND_HALF_UP) if volume else reference
            last, high, low, first = day.last, day.high, day.low, day.first
        else:
            volume = Decimal(0)
            last = high = low = first = vwap = reference.quantize(m.tick, ROUND_HALF_UP)
        change = ((last - first) / first * 100).quantize(Decimal("0.01")) if first else None
        return Ticker(
            market=symbol,
            timestamp=now // 1_000_000,
            last=last,
            high=high,
            low=low,
            vwap=vwap,
            volume=volume,
            bid=bid,
            ask=ask,
            open=first,
            open_24=first,
            percent_change_24=change,
            side=day.last_side if day is not None else None,
        )

    def candles(
        self, symbol: str, *, step: int, limit: int, start: int | None, end: int | None
    ) -> list[Candle]:
        """OHLC buckets of ``step`` seconds; empty buckets repeat the last close with volume 0."""
        now_s = self.clock.peek_us() // 1_000_000
        if end is None:
            end = now_s if start is None else min(now_s, start + step * (limit - 1))
        last_bucket = end - end % step
        first_bucket = last_bucket - step * (limit - 1)
        if start is not None and end is None:
            first_bucket = start - start % step
        first_bucket = max(first_bucket, 0)  # no candle before the epoch (an early ``end``)
        tape = self._tape(symbol)
        times, prices, amounts = tape.times, tape.prices, tape.amounts
        i = tape.index(tape.seq_since(first_bucket * 1_000_000))
        n = len(times)
        reference = self.reference_price(symbol) or Decimal(0)
        close = tape.price(i) if i < n else reference
        out: list[Candle] = []
        for bucket in range(first_bucket, last_bucket + 1, step):
            j = bisect_left(times, (bucket + step) * 1_000_000, i) if i < n else n
            if j > i:
                in_bucket = prices[i:j]
                candle = Candle(
                    bucket,
                    tape.price(i),
                    self._price(tape, max(in_bucket)),
                    self._price(tape, min(in_bucket)),
                    tape.price(j - 1),
                    Decimal(sum(amounts[i:j])).scaleb(-tape.base_decimals),
                )
                close = candle.close
            else:
                candle = Candle(bucket, close, close, close, close, Decimal(0))
            out.append(candle)
            i = j
        return out

    @staticmethod
    def _price(tape: TradeTape, units: int) -> Decimal:
        return Decimal(units).scaleb(-tape.quote_decimals)

    # -- books -----------------------------------------------------------------------------------

    def book(
        self, symbol: str, *, with_orders: bool = False, depth: int | None = None
    ) -> BookSnapshot:
        """The book now, stamped with the microtimestamp of the last diff frame it includes.

        Changes made since that frame are in the snapshot too; the next frame repeats them as
        absolute amounts, so a client that drops diffs at or before the stamp (reference 7.6)
        ends right, and so does ccxt.pro, which waits for the diff with exactly this stamp.
        """
        engine = self.engines[symbol]
        now = self._published_us.get(symbol) or self.clock.now_us()
        if not with_orders:
            return BookSnapshot(
                market=symbol,
                timestamp_us=now,
                bids=tuple(engine.levels(Side.BUY, depth)),
                asks=tuple(engine.levels(Side.SELL, depth)),
            )
        bids = engine.orders(Side.BUY)
        asks = engine.orders(Side.SELL)
        return BookSnapshot(
            market=symbol,
            timestamp_us=now,
            bids=tuple((o.price, o.remaining) for o in bids),
            asks=tuple((o.price, o.remaining) for o in asks),
            bid_order_ids=tuple(o.order_id for o in bids),
            ask_order_ids=tuple(o.order_id for o in asks),
        )

    def on_first_subscriber(self, channel: str) -> None:
        if channel.startswith("order_book_"):
            self._publish_top(channel[len("order_book_") :])

    def _publish_top(self, symbol: str) -> None:
        m = self.markets[symbol]
        frame = encode_book_frame(self.book(symbol, depth=TOP), m.base_decimals, m.quote_decimals)
        self.publisher.publish(f"order_book_{symbol}", frame)

    def publish_book_changes(self) -> int:
        """Send one diff (and one top-100) frame per market whose book changed; returns count."""
        return sum(self._publish_changes(symbol) for symbol in self.engines)

    def _publish_changes(self, symbol: str) -> bool:
        """One market's frames, if its book changed; whether a diff frame went out."""
        bids, asks = self.engines[symbol].pop_changes()
        if not bids and not asks:
            return False
        stamp = self._published_us[symbol] = self.clock.now_us()
        m = self.markets[symbol]
        sent = False
        diff_channel = f"diff_order_book_{symbol}"
        if self.publisher.has_subscribers(diff_channel):
            diff = BookDiff(
                market=symbol,
                timestamp_us=stamp,
                bids=tuple(sorted(bids.items(), reverse=True)),
                asks=tuple(sorted(asks.items())),
            )
            self.publisher.publish(
                diff_channel, encode_diff_frame(diff, m.base_decimals, m.quote_decimals)
            )
            sent = True
        if self.publisher.has_subscribers(f"order_book_{symbol}"):
            self._publish_top(symbol)
        return sent

    async def run_publisher(self, interval_s: float = DIFF_INTERVAL_S) -> None:
        """Book frames every ``interval_s``, one market per turn of the event loop."""
        while True:
            await asyncio.sleep(interval_s)
            for symbol in self.engines:
                self._publish_changes(symbol)
                await asyncio.sleep(0)
