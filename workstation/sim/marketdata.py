"""Public market data of the simulator: trade history, tickers, candles and book frames.

The matching engines hold the books; this module remembers trades, answers the public REST
reads, and paces the book channels the way Bitstamp does: ``diff_order_book`` frames no closer
than ~100 ms per pair carrying the absolute new amount of every changed level (zero deletes),
``order_book`` frames with the top 100 per side (reference 7.4, 7.7).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

from ..domain.common import Side
from ..domain.market_data import BookDiff, BookSnapshot, Candle, Ticker, Trade
from ..domain.markets import Market
from .clock import SimClock
from .engine import MatchingEngine
from .wire.stream_frames import encode_book_frame, encode_diff_frame, encode_trade_frame

__all__ = ["DIFF_INTERVAL_S", "MarketData", "NoPublisher", "Publisher"]

DIFF_INTERVAL_S = 0.1
"""Spacing of book frames per pair (Bitstamp: 111-120 ms observed)."""
TRADE_HISTORY = 50_000
"""Trades kept per market (a day of activity at Bitstamp-like rates)."""
TOP = 100
_DAY_US = 86_400 * 1_000_000


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
        self._trades: dict[str, deque[Trade]] = {s: deque(maxlen=TRADE_HISTORY) for s in markets}
        self._reference: dict[str, Decimal] = {}
        self._published_us: dict[str, int] = {}
        """Microtimestamp of each market's last diff frame (sent or not: nobody listening)."""
        self._pending: dict[str, Iterator[list[Trade]]] = {}
        self._older: dict[str, list[list[Trade]]] = {}

    # -- history -----------------------------------------------------------------------------

    def set_history(self, symbol: str, chunks: Iterator[list[Trade]]) -> None:
        """Trades from before the start, as chunks going back in time (newest first each)."""
        self._pending[symbol] = chunks
        self._older[symbol] = []

    async def make_history(self) -> None:
        """Make pending history one chunk at a time, yielding to requests in between."""
        for symbol in list(self._pending):
            while symbol in self._pending:
                self._history_step(symbol)
                await asyncio.sleep(0)

    def _history_step(self, symbol: str) -> None:
        chunks = self._pending[symbol]
        chunk = next(chunks, None)
        if chunk is not None:
            self._older[symbol].append(chunk)
            return
        del self._pending[symbol]
        older = [t for c in reversed(self._older.pop(symbol)) for t in reversed(c)]
        tape = deque(older, maxlen=TRADE_HISTORY)
        tape.extend(self._trades[symbol])  # live trades so far come after
        self._trades[symbol] = tape

    def _tape(self, symbol: str) -> deque[Trade]:
        """The market's trades, oldest first; finishes its history first if still pending."""
        while symbol in self._pending:
            self._history_step(symbol)
        return self._trades[symbol]

    # -- prices ------------------------------------------------------------------------------

    def set_reference(self, symbol: str, price: Decimal) -> None:
        self._reference[symbol] = price

    def reference_price(self, symbol: str) -> Decimal | None:
        """The market price for the 20 % band: last trade, else mid, else the seed price."""
        trades = self._tape(symbol)
        if trades:
            return trades[-1].price
        engine = self.engines[symbol]
        bid, ask = engine.best_bid(), engine.best_ask()
        if bid is not None and ask is not None:
            return (bid + ask) / 2
        return self._reference.get(symbol)

    # -- trades ------------------------------------------------------------------------------

    def record_trade(self, trade: Trade) -> None:
        self._trades[trade.market].append(trade)  # history, if not made yet, goes before
        channel = f"live_trades_{trade.market}"
        if self.publisher.has_subscribers(channel):
            m = self.markets[trade.market]
            self.publisher.publish(
                channel, encode_trade_frame(trade, m.base_decimals, m.quote_decimals)
            )

    def trades_since(self, symbol: str, since_us: int) -> list[Trade]:
        """Trades at or after ``since_us``, newest first (as ``transactions`` returns them)."""
        out = []
        for trade in reversed(self._tape(symbol)):
            if trade.timestamp_us < since_us:
                break
            out.append(trade)
        return out

    def ticker(self, symbol: str) -> Ticker:
        m = self.markets[symbol]
        now = self.clock.peek_us()
        day = self.trades_since(symbol, now - _DAY_US)
        reference = self.reference_price(symbol) or Decimal(0)
        engine = self.engines[symbol]
        bid = engine.best_bid() or reference
        ask = engine.best_ask() or reference
        if day:
            prices = [t.price for t in day]
            volume = sum((t.amount for t in day), Decimal(0))
            value = sum((t.price * t.amount for t in day), Decimal(0))
            vwap = (value / volume).quantize(m.tick, ROUND_HALF_UP) if volume else reference
            last, high, low, first = day[0].price, max(prices), min(prices), day[-1].price
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
            side=day[0].side if day else None,
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
        trades = list(reversed(self.trades_since(symbol, first_bucket * 1_000_000)))
        reference = self.reference_price(symbol) or Decimal(0)
        close = trades[0].price if trades else reference
        out: list[Candle] = []
        i = 0
        for bucket in range(first_bucket, last_bucket + 1, step):
            in_bucket = []
            while i < len(trades) and trades[i].timestamp_us < (bucket + step) * 1_000_000:
                in_bucket.append(trades[i])
                i += 1
            if in_bucket:
                prices = [t.price for t in in_bucket]
                volume = sum((t.amount for t in in_bucket), Decimal(0))
                candle = Candle(bucket, prices[0], max(prices), min(prices), prices[-1], volume)
                close = prices[-1]
            else:
                candle = Candle(bucket, close, close, close, close, Decimal(0))
            out.append(candle)
        return out

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
        sent = 0
        for symbol, engine in self.engines.items():
            bids, asks = engine.pop_changes()
            if not bids and not asks:
                continue
            stamp = self._published_us[symbol] = self.clock.now_us()
            m = self.markets[symbol]
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
                sent += 1
            if self.publisher.has_subscribers(f"order_book_{symbol}"):
                self._publish_top(symbol)
        return sent

    async def run_publisher(self, interval_s: float = DIFF_INTERVAL_S) -> None:
        while True:
            await asyncio.sleep(interval_s)
            self.publish_book_changes()
