"""One pair's live market: the order book kept in sync, the tape, the ticker, the health.

The book follows Bitstamp's documented procedure (reference 7.6): subscribe to
``diff_order_book_{pair}``, buffer its frames, take a REST snapshot, drop buffered diffs with a
microtimestamp at or before the snapshot's, apply the rest, then apply each new diff as it
comes. The diff stream has no sequence numbers, so a lost frame cannot be seen in it. The feed
therefore resyncs (and shows the book as stale until the new snapshot is in):

* after every reconnect (frames were certainly lost),
* on a crossed book (best bid >= best ask cannot be true at rest), checked when the hub
  settles the book, 20 times a second (see :meth:`MarketFeed.settle`); meanwhile a crossed
  book reads as stale (:attr:`MarketFeed.stale`), so no reader trusts it,
* on any frame that fails to parse or apply,
* when the local top 100 keeps disagreeing with the ``order_book_{pair}`` channel, which
  sends the venue's own top 100: ``MISMATCHES_TO_RESYNC`` disagreements in a row (one can be
  a frame still in flight; several cannot) are a silent gap. A top frame that arrives while
  the check waits its turn is checked by the hub's timer (:meth:`MarketFeed.check_pending_top`)
  if the book has not moved since, so the last frame before a stall is not skipped;
* when the diff channel was silent past its usual rhythm (:mod:`.cadence`) and the venue's
  book moved meanwhile (the hub checks it against a REST snapshot: :meth:`MarketFeed.silence`
  and :meth:`MarketFeed.check_silence`); the book stays STALE until the channel speaks again,
  and when it does after such a silence, frames may have been lost: it resyncs once more.

The tape is checked the same way: a trade channel silent past its rhythm is compared with
REST ``transactions`` (any trade it missed is merged, and the tape is STALE until the channel
speaks), and a channel that comes back after such a silence is backfilled across the gap.

This class is synchronous state; :class:`~workstation.services.hub.MarketHub` does the I/O and
calls it. That keeps every rule above testable without a socket.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from ..bitstamp.errors import ProtocolError
from ..domain.common import Side
from ..domain.market_data import BookSnapshot, Ticker, Trade
from ..domain.markets import Market
from ..domain.numbers import NumberFormatError
from ..domain.orderbook import OrderBook
from .cadence import (
    BOOK_SILENCE,
    TRADE_SILENCE,
    Cadence,
    SilencePolicy,
    TradesWindow,
    window_for,
)
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
SILENCE_CHECK_DEPTH = 100
"""Levels per side compared with a REST snapshot when the diff channel was silent: the same
depth as the ``order_book`` cross-check."""

Rows = Sequence[tuple[str, str]]
_log = logging.getLogger("workstation.services.feed")


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

    def __init__(
        self,
        market: Market,
        *,
        on_state: Callable[[MarketFeed], None] | None = None,
        book_silence: SilencePolicy = BOOK_SILENCE,
        trade_silence: SilencePolicy = TRADE_SILENCE,
    ):
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
        self._pending_top: tuple[Rows, Rows, int] | None = None
        """A top-100 frame that came while the cross-check waited its turn, with the book
        version it arrived at."""
        self.diffs = Cadence(book_silence)
        self.tops = Cadence(book_silence)
        self.trades = Cadence(trade_silence)
        self.checking_book = False
        """A REST check of a silent diff channel is on its way (the book is STALE meanwhile)."""
        self.checking_tape = False
        self.top_shown = False
        """A frame of the venue's top 100 has been the book shown (before a sync)."""
        self._on_state = on_state

    # -- state ------------------------------------------------------------------------------

    @property
    def book(self) -> OrderBook:
        """The book with every diff so far applied. Reading it changes nothing: a book that
        diffs crossed since the last :meth:`settle` is :attr:`stale` until the hub's timer
        settles it (and resyncs), so a reader never trusts a crossed book."""
        return self._book

    def settle(self) -> None:
        """Apply what the book has staged and check it is not crossed. On the hub's timer
        rather than per frame: frames staged between two checks are merged, which is most
        of the book's speed when frames come fast (``domain/orderbook.py``)."""
        self.unsettled = False
        if self.state is FeedState.LIVE and self._book.crossed:
            self.resync("crossed book")

    def _settled_book(self) -> OrderBook:
        if self.unsettled:
            self.settle()
        return self._book

    @property
    def crossed_unsettled(self) -> bool:
        """Diffs crossed the live book since the last check: the next settle resyncs it."""
        return self.unsettled and self.state is FeedState.LIVE and self._book.crossed

    @property
    def stale(self) -> bool:
        """True while the book on screen may not be the venue's book."""
        return (
            self.state is not FeedState.LIVE
            or not self.health.connected
            or self.diffs.missing
            or self.checking_book
            or self.crossed_unsettled
        )

    @property
    def stale_reason(self) -> str:
        """Why :attr:`stale`, in a few words for the status bar ("" when live)."""
        if not self.health.connected:
            return "disconnected"
        if self.state is FeedState.WAITING:
            return "subscribing"
        if self.state is FeedState.SYNCING:
            reason = self.health.last_resync_reason
            return f"resyncing: {reason}" if reason else "syncing"
        if self.crossed_unsettled:
            return "resyncing: crossed book"
        if self.diffs.missing or self.checking_book:
            return f"no book frame {self.diffs.silence_text(time.monotonic())}"
        return ""

    @property
    def tape_stale(self) -> bool:
        """True while trades are known to have been missed by the stream (they were merged
        from REST; more may follow until the channel speaks again)."""
        return self.trades.missing or not self.health.connected

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
        now = time.monotonic()
        self.diffs.restart(now)
        self.tops.restart(now)
        self.checking_book = False
        self._pending_top = None
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
        now = self.touch()
        gap = self.diffs.frame(now)
        if gap is not None and self.state is FeedState.LIVE:
            self.resync(f"book frames resumed after {gap:.1f} s: some may be lost")
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

    def on_top(self, bids: Rows, asks: Rows, timestamp_us: int = 0) -> bool:
        """The venue's own top 100 (``order_book_{pair}``), wire rows. While the book is
        synced it is the cross-check. Until then (a start, a resync) it is the best book there
        is: the book shown becomes these rows, still stale (never traded on), until the
        snapshot and the diffs after it replace it. On a start this channel's first frame
        comes with the subscription, a round trip before the snapshot. Returns True when the
        frame became the book shown."""
        now = self.touch()
        self.tops.frame(now)
        if self.state is not FeedState.LIVE:
            return self._show_top(bids, asks, timestamp_us)
        if now - self._checked_at < CHECK_EVERY_S:
            self._pending_top = (bids, asks, self.version)
            return False
        self._cross_check(bids, asks, now)
        return False

    def _show_top(self, bids: Rows, asks: Rows, timestamp_us: int) -> bool:
        if not self.health.connected:
            return False
        try:
            self._book.load_rows(bids, asks, timestamp_us)
        except NumberFormatError as exc:  # the sync takes the snapshot whatever this says
            _log.warning("market %s: top 100 not shown: %s", self.symbol, exc)
            return False
        self.version += 1
        self.top_shown = True
        return True

    def check_pending_top(self, now: float) -> None:
        """The hub's timer: check a top frame that came while the check waited its turn, if
        the book has not moved since (then both still describe the same moment)."""
        pending = self._pending_top
        if pending is None or now - self._checked_at < CHECK_EVERY_S:
            return
        self._pending_top = None
        bids, asks, version = pending
        if self.state is FeedState.LIVE and version == self.version and not self.unsettled:
            self._cross_check(bids, asks, now)

    def _cross_check(self, bids: Rows, asks: Rows, now: float) -> None:
        self._checked_at = now
        self._pending_top = None
        book = self._settled_book()
        if self.state is not FeedState.LIVE:
            return  # settling it found the book crossed: a resync is under way
        try:
            same = book.top_matches(Side.BUY, bids) and book.top_matches(Side.SELL, asks)
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

    def on_trade(self, trade: Trade) -> float | None:
        """A live trade; returns the silence it ends when trades may have been lost in it
        (the hub then backfills the tape across it), else None."""
        now = self.touch()
        self.tape.add(trade)
        return self.trades.frame(now)

    def on_trades(self, trades: Sequence[Trade]) -> int:
        return self.tape.merge(trades)

    # -- silences ---------------------------------------------------------------------------

    def silence(self, now: float) -> tuple[bool, bool]:
        """Which channels the hub should check against REST now: (book, tape). A silent diff
        channel makes the book STALE until the check says the venue's book did not move."""
        book = (
            self.state is FeedState.LIVE
            and not self.checking_book
            and self.diffs.silent_for(now) is not None
        )
        if book:
            self.checking_book = True
            self._notify()
        tape = (
            self.health.connected
            and not self.checking_tape
            and self.trades.silent_for(now) is not None
        )
        self.checking_tape = self.checking_tape or tape
        return book, tape

    def check_silence(self, snapshot: BookSnapshot | None, asked_at: float) -> None:
        """The REST snapshot taken for a silent diff channel (None: it failed; checked again
        after another silence). Unchanged: the market was quiet. Moved: frames were lost;
        resync onto this snapshot, and stay STALE until the channel speaks again."""
        self.checking_book = False
        last = self.diffs.last_frame_at
        if self.state is not FeedState.LIVE or (last or 0) > asked_at:
            self._notify()  # a frame came meanwhile (it recovers by itself), or a resync did
            return
        if snapshot is None:  # not verified: stale until the channel speaks, checked again
            self.diffs.checked(time.monotonic(), missed=True)
            self._notify()
            return
        venue = OrderBook(self.symbol, self._book.price_places, self._book.amount_places)
        try:
            venue.load(snapshot.bids, snapshot.asks, snapshot.timestamp_us)
        except NumberFormatError as exc:
            self.resync(f"snapshot does not fit the market: {exc}")
            return
        book = self._settled_book()
        same = all(
            book.top_units(side, SILENCE_CHECK_DEPTH) == venue.top_units(side, SILENCE_CHECK_DEPTH)
            for side in (Side.BUY, Side.SELL)
        )
        silent = self.diffs.silence_text(time.monotonic())
        self.diffs.checked(time.monotonic(), missed=not same)
        if same:
            self._notify()
            return
        self.resync(f"no book frame for {silent} and the venue's book moved")
        self.on_snapshot(snapshot, self.generation)

    def check_tape(self, new_trades: int | None) -> None:
        """The REST trades fetched for a silent trade channel: any it did not deliver means
        it lost them (they are merged now); None: the request failed."""
        self.checking_tape = False
        now = time.monotonic()
        if new_trades is None:
            self.trades.heard_at = now
            return
        self.trades.checked(now, missed=new_trades > 0)

    def backfill_window(self, now: float) -> TradesWindow:
        """The REST ``transactions`` window that covers the time since the last live trade
        (the last hour when there was none: a full tape from the start)."""
        last = self.trades.last_frame_at
        return "hour" if last is None else window_for(now - last)

    def _notify(self) -> None:
        if self._on_state is not None:
            self._on_state(self)
