"""One pair's live market: the order book kept in sync, the tape, the ticker, the health.

The book follows Bitstamp's documented procedure (reference 7.6): subscribe to
``diff_order_book_{pair}``, buffer its frames, take a REST snapshot, drop buffered diffs with a
microtimestamp at or before the snapshot's, apply the rest, then apply each new diff as it
comes. The diff stream has no sequence numbers, so a lost frame cannot be seen in it. The feed
therefore resyncs (and shows the book as stale until the new snapshot is in):

* after every reconnect (frames were certainly lost),
* on a crossed book (best bid >= best ask cannot be true at rest), checked when the book is
  settled: by :attr:`MarketFeed.book` before any reader sees it, and by the hub 20 times a
  second (see :meth:`MarketFeed.settle`),
* on any frame that fails to parse or apply,
* when the local top 100 keeps disagreeing with the ``order_book_{pair}`` channel, which
  sends the venue's own top 100: ``MISMATCHES_TO_RESYNC`` disagreements in a row (one can be
  a frame still in flight; several cannot) are a silent gap.

This class is synchronous state; :class:`~workstation.services.hub.MarketHub` does the I/O and
calls it. That keeps every rule above testable without a socket.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from ..bitstamp.errors import ProtocolError
from ..domain.common import Side
from ..domain.market_data import BookSnapshot, Ticker, Trade
from ..domain.markets import Market
from ..domain.numbers import NumberFormatError
from ..domain.orderbook import OrderBook
from .health import FeedHealth
from .tape import TradeTape

__all__ = ["BUFFER_LIMIT", "MISMATCHES_TO_RESYNC", "FeedState", "MarketFeed"]

MISMATCHES_TO_RESYNC = 3
BUFFER_LIMIT = 5_000
"""Diff frames held while a snapshot is on its way; more means the snapshot is hopeless."""
WIRE_AMOUNT_DECIMALS = 8
"""Most Bitstamp amounts come with 8 decimals (USDT pairs' with 5): the book keeps 8 or the
market's base decimals if more, and reads fewer exactly."""
CHECK_EVERY_S = 1.0
"""The top-100 cross-check runs at most this often per pair: a silent gap is still caught
within a few seconds, and a busy pair's ten frames a second cost nothing to skip."""

Rows = Sequence[tuple[str, str]]


class FeedState(enum.Enum):
    WAITING = "waiting"
    """Subscribed (or about to be) but not yet acknowledged on this connection."""
    SYNCING = "syncing"
    """Buffering diffs; a REST snapshot is wanted or on its way."""
    LIVE = "live"


class PackedDiff(Protocol):
    """One ``diff_order_book`` frame as the codec hands it (``BookDiffEvent``): its stamp,
    and how to apply it to a book (raising ValueError when it does not parse)."""

    @property
    def timestamp_us(self) -> int: ...
    def apply_to(self, book: OrderBook) -> None: ...


class MarketFeed:
    """Book, tape, ticker and health of one market. See the module docstring."""

    def __init__(self, market: Market, *, on_state: Callable[[MarketFeed], None] | None = None):
        self.market = market
        self.symbol = market.symbol
        self._book = OrderBook(
            market.symbol, market.quote_decimals, max(WIRE_AMOUNT_DECIMALS, market.base_decimals)
        )
        self.tape = TradeTape()
        self.ticker: Ticker | None = None
        self.health = FeedHealth()
        self.state = FeedState.WAITING
        self.generation = 0
        """Bumped on every resync, so a snapshot requested earlier is recognised as old."""
        self.snapshot_wanted = False
        self.version = 0
        """Bumped on every book change: renderers redraw only when it moved."""
        self._buffer: list[PackedDiff] = []
        self.unsettled = False
        """Diffs applied since the last crossed-book check."""
        self._mismatches = 0
        self._synced_before = False
        self._checked_at = 0.0
        self._on_state = on_state

    # -- state ------------------------------------------------------------------------------

    @property
    def book(self) -> OrderBook:
        """The book with every diff so far applied and checked: settled first, so a reader
        never sees a crossed book (it sees a resync instead)."""
        if self.unsettled:
            self.settle()
        return self._book

    def settle(self) -> None:
        """Apply what the book has staged and check it is not crossed. Per read and on the
        hub's timer rather than per frame: frames staged between two checks are merged,
        which is most of the book's speed when frames come fast (``domain/orderbook.py``)."""
        self.unsettled = False
        if self.state is FeedState.LIVE and self._book.crossed:
            self.resync("crossed book")

    @property
    def stale(self) -> bool:
        """True while the book on screen may not be the venue's book."""
        return self.state is not FeedState.LIVE or not self.health.connected

    def _set_state(self, state: FeedState) -> None:
        if state is not self.state:
            self.state = state
            if self._on_state is not None:
                self._on_state(self)

    def resync(self, reason: str) -> None:
        """Forget the book's trustworthiness; take a new snapshot once subscribed."""
        self.generation += 1
        self.health.resyncs += 1
        self.health.last_resync_reason = reason
        self._buffer.clear()
        self._mismatches = 0
        if self.state is FeedState.WAITING:
            return
        self.snapshot_wanted = True
        self._set_state(FeedState.SYNCING)

    def subscribed(self) -> None:
        """The diff channel was acknowledged on the current connection: start a sync (a
        resync when the book was synced before: frames were lost while disconnected)."""
        if self._synced_before:
            self.health.resyncs += 1
            self.health.last_resync_reason = "reconnected"
        self.generation += 1
        self._buffer.clear()
        self._mismatches = 0
        self.snapshot_wanted = True
        self._set_state(FeedState.SYNCING)

    def connection_changed(self, connected: bool, reconnects: int) -> None:
        self.health.connected = connected
        self.health.reconnects = reconnects
        if not connected:
            self.snapshot_wanted = False
            self._buffer.clear()
            self._set_state(FeedState.WAITING)
        elif self._on_state is not None:
            self._on_state(self)

    # -- frames -----------------------------------------------------------------------------

    def touch(self) -> float:
        now = self.health.last_message_at = time.monotonic()
        return now

    def on_diff(self, diff: PackedDiff) -> None:
        self.touch()
        if self.state is FeedState.SYNCING:
            if len(self._buffer) >= BUFFER_LIMIT:
                self.resync("too many diffs while waiting for the snapshot")
                return
            self._buffer.append(diff)
            return
        if self.state is not FeedState.LIVE or diff.timestamp_us <= self._book.timestamp_us:
            return  # before the sync point, or a repeat
        self._apply(diff)

    def on_snapshot(self, snapshot: BookSnapshot, generation: int) -> bool:
        """A REST snapshot arrived; False if it was requested before a later resync, or if
        the buffered diffs on top of it made a bad book (a new resync is then under way)."""
        if generation != self.generation or self.state is not FeedState.SYNCING:
            return False
        try:
            self._book.load(snapshot.bids, snapshot.asks, snapshot.timestamp_us)
        except NumberFormatError as exc:
            self.resync(f"snapshot does not fit the market: {exc}")
            return False
        buffered, self._buffer = self._buffer, []
        self.snapshot_wanted = False
        self._synced_before = True
        self._set_state(FeedState.LIVE)
        for diff in buffered:
            if diff.timestamp_us > snapshot.timestamp_us and self.state is FeedState.LIVE:
                self._apply(diff)
        self.version += 1
        self.settle()
        return self.state is FeedState.LIVE

    def _apply(self, diff: PackedDiff) -> None:
        try:
            diff.apply_to(self._book)
        except (ValueError, ProtocolError) as exc:  # a bad number, or a side not rows
            self.resync(f"bad diff: {exc}")
            return
        self.version += 1
        self.unsettled = True

    def on_top(self, bids: Rows, asks: Rows) -> None:
        """Cross-check against the venue's own top 100 (``order_book_{pair}``), wire rows."""
        now = self.touch()
        if self.state is not FeedState.LIVE or now - self._checked_at < CHECK_EVERY_S:
            return
        self._checked_at = now
        book = self.book
        if self.state is not FeedState.LIVE:
            return  # settling it found the book crossed: a resync is under way
        try:
            same = book.top_units(Side.BUY, len(bids)) == book.rows_units(bids) and book.top_units(
                Side.SELL, len(asks)
            ) == book.rows_units(asks)
        except NumberFormatError:
            same = False
        if same:
            self._mismatches = 0
            return
        self._mismatches += 1
        if self._mismatches >= MISMATCHES_TO_RESYNC:
            self.resync(f"top 100 disagreed {self._mismatches} times in a row")

    def on_frame_error(self, error: str) -> None:
        self.touch()
        self.resync(f"unreadable frame: {error}")

    def on_trade(self, trade: Trade) -> None:
        self.touch()
        self.tape.add(trade)

    def on_trades(self, trades: Sequence[Trade]) -> int:
        return self.tape.merge(trades)
