"""The market data service of one environment: one stream, one REST client, many feeds.

``MarketHub`` owns a :class:`MarketFeed` per watched pair and does their I/O: it subscribes
the pair's channels on the shared WebSocket, routes every event to its feed, fetches REST
snapshots when a feed asks for one (never two at once for a feed; a snapshot that arrives
after a newer resync is thrown away; a failed one is asked again after a growing pause),
backfills the tape after each subscription and across any silence of the trade channel,
checks on a timer every channel that has gone silent past its rhythm (``cadence``), polls
tickers, and tells the session's :class:`Reachability` whether the venue answers. The
services facade reads the feeds into views; discrete changes (connection, stale/fresh,
errors) reach ``listener`` as typed events (:data:`~.events.MarketEvent`), which the facade
passes on as they are.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from ..bitstamp.errors import BitstampError, RateLimited, TransportError
from ..bitstamp.rest import RestClient
from ..bitstamp.stream import (
    ConnectionState,
    ConnectionStateChanged,
    FrameRejected,
    StreamClient,
)
from ..bitstamp.stream_frames import (
    BookDiffEvent,
    BookTopEvent,
    StreamErrorEvent,
    SubscriptionSucceeded,
    TradeEvent,
)
from ..domain.markets import Market
from .cadence import BOOK_SILENCE, TRADE_SILENCE, SilencePolicy, TradesWindow, window_for
from .events import ConnectionChanged, FeedStateChanged, MarketDataError, MarketEvent
from .feed import MarketFeed
from .reachability import Reachability

__all__ = ["MarketHub", "snapshot_retry_s"]

_log = logging.getLogger("workstation.services.hub")
T = TypeVar("T")

TICKER_EVERY_S = 10.0
SNAPSHOT_RETRY_S = 1.0
"""First pause after a snapshot request that failed (an error, a reply that does not parse,
or a book that does not fit); it doubles on each failure in a row, up to
``SNAPSHOT_RETRY_CAP_S``, so a venue answering garbage is asked once a minute at most, not on
every diff frame."""
SNAPSHOT_RETRY_CAP_S = 30.0
YIELD_EVERY = 32
SILENCE_EVERY_S = 0.25
"""How often every feed's channels are checked for a silence past their rhythm (and a top-100
frame that waited for its cross-check is checked): whether or not any frame arrives."""
REST_HOLD_CAP_S = 0.5
"""A hub that holds its REST until the first book is drawn (a start from the cached markets:
:meth:`MarketHub.release_rest`) releases it this long after it started whatever happens: a
screen that never says it drew a book (a layout without one, no screen at all) still syncs."""
TOP_FIRST_S = 0.1
"""How long after the ``order_book`` subscription a held hub waits for that channel's first
frame before it lets its REST go (the snapshot is then the first book)."""
SETTLE_EVERY_S = 0.05
"""How often books that took diffs are checked (``MarketFeed.settle``): the book pane's
redraw pace (20 Hz). Only this timer settles (reading a book never does): frames staged in
between are merged before they are parsed, so a flood costs less per frame, and a crossed
book is resynced within 50 ms; until then it reads as stale, so nobody acts on it."""


def snapshot_retry_s(failures: int) -> float:
    """The wait after the ``failures``-th failed snapshot in a row: doubling from
    ``SNAPSHOT_RETRY_S``, capped. The exponent stops at the cap, so a venue down all night
    (a thousand failures and more) never overflows a float and ends the resync: before,
    the 1,025th failure in a row raised OverflowError and the book stayed stale for good."""
    doublings = min(max(failures - 1, 0), 16)  # 2 ** 16 s is 18 hours: past any cap
    return min(SNAPSHOT_RETRY_CAP_S, SNAPSHOT_RETRY_S * 2**doublings)


class MarketHub:
    """Feeds of one environment. ``await hub.start()``, ``await hub.watch("btcusd")``."""

    def __init__(
        self,
        rest: RestClient,
        stream: StreamClient,
        markets: dict[str, Market],
        *,
        listener: Callable[[MarketEvent], object] | None = None,
        ticker_every_s: float = TICKER_EVERY_S,
        book_silence: SilencePolicy = BOOK_SILENCE,
        trade_silence: SilencePolicy = TRADE_SILENCE,
        reach: Reachability | None = None,
        hold_rest: bool = False,
    ) -> None:
        self.rest = rest
        self.stream = stream
        self.markets = markets
        self.feeds: dict[str, MarketFeed] = {}
        self.connection = ConnectionState.DISCONNECTED
        self._listener = listener
        self._ticker_every_s = ticker_every_s
        self._silences = (book_silence, trade_silence)
        self.reach = reach
        """Told what every REST call of the hub met; asked again while the host is down."""
        self._probing = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._fetching: set[MarketFeed] = set()
        """Feeds with a snapshot loop running (a feed, not a symbol: a pair watched again
        gets a new feed, whose sync must not wait for the old one's loop to notice)."""
        self._pump: asyncio.Task[None] | None = None
        self._closed = False
        self._rest_free = asyncio.Event()
        """Clear while the hub holds its REST: a start's CPU goes to the first book (the HTTP
        client's imports alone are ~0.1 s), the snapshot and the rest follow it."""
        if not hold_rest:
            self._rest_free.set()
        self.moved: Callable[[str], object] | None = None
        """Told the symbol each time a frame changed a pair's book or tape, or its state: a
        per-frame wake-up for the UI's redraws (it caps them), cheaper than an event."""

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        self.stream.start()
        self._pump = asyncio.create_task(self._run(), name="market-hub")
        self._spawn(self._poll_tickers(), "tickers")
        self._spawn(self._settle_books(), "settle")
        self._spawn(self._watch_silences(), "silences")
        if not self._rest_free.is_set():
            self._spawn(self._release_rest_later(), "rest-hold")

    def release_rest(self) -> None:
        """The first book is drawn (or it is time): the hub's REST may go (the snapshot that
        syncs the book, the tape's hour, the ticker)."""
        self._rest_free.set()

    async def rest_released(self) -> None:
        """Return once the hub's REST may go (at once unless it holds it)."""
        await self._rest_free.wait()

    async def _release_rest_later(self) -> None:
        await asyncio.sleep(REST_HOLD_CAP_S)
        self.release_rest()

    async def _release_unless_top(self, feed: MarketFeed) -> None:
        """A quiet pair's ``order_book`` channel may send nothing for a while after the
        subscription (the venue sends a frame when the book changes): without a top 100 to
        draw, the first book is the snapshot's, so the REST goes at once."""
        await asyncio.sleep(TOP_FIRST_S)
        if not feed.top_shown:
            self.release_rest()

    async def close(self) -> None:
        self._closed = True
        tasks = [t for t in (self._pump, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        await self.stream.close()

    async def watch(self, symbol: str) -> MarketFeed:
        """Start (or keep) following ``symbol``; returns its feed at once (stale until synced)."""
        feed = self.feeds.get(symbol)
        if feed is not None:
            return feed
        book_silence, trade_silence = self._silences
        feed = MarketFeed(
            self.markets[symbol],
            on_state=self._feed_state,
            book_silence=book_silence,
            trade_silence=trade_silence,
        )
        feed.connection_changed(self.connection is ConnectionState.CONNECTED, 0)
        self.feeds[symbol] = feed
        for prefix in ("diff_order_book_", "order_book_", "live_trades_"):
            await self.stream.subscribe(prefix + symbol)
        self._spawn(self._fetch_ticker(feed), f"ticker-{symbol}")
        return feed

    async def unwatch(self, symbol: str) -> None:
        if self.feeds.pop(symbol, None) is None:
            return
        for prefix in ("diff_order_book_", "order_book_", "live_trades_"):
            await self.stream.unsubscribe(prefix + symbol)

    # -- events ---------------------------------------------------------------------------------

    async def _run(self) -> None:
        handled = 0
        async for event in self.stream:
            try:
                self._route(event)
            except Exception:  # noqa: BLE001 - a bug in one handler must not stop every feed
                _log.exception("market hub: handling %r failed", type(event).__name__)
            handled += 1
            if handled % YIELD_EVERY == 0:
                # A queue with items never suspends its reader: without this, a burst of
                # frames would hold the UI's event loop until the queue is empty.
                await asyncio.sleep(0)

    def _route(self, event: object) -> None:
        if isinstance(event, BookDiffEvent):
            feed = self.feeds.get(event.market)
            if feed is not None:
                feed.on_diff(event)
                self._want_snapshot(feed)
                self._moved(feed.symbol)
        elif isinstance(event, TradeEvent):
            feed = self.feeds.get(event.trade.market)
            if feed is not None:
                gap = feed.on_trade(event.trade)
                if gap is not None:  # the channel was silent: fill the tape across the gap
                    self._spawn(self._backfill(feed, window_for(gap)), f"backfill-{feed.symbol}")
                self._moved(feed.symbol)
        elif isinstance(event, BookTopEvent):
            feed = self.feeds.get(event.market)
            if feed is not None:
                shown = feed.on_top(event.bid_rows, event.ask_rows, event.timestamp_us)
                self._want_snapshot(feed)
                if shown:  # not synced yet: the venue's top 100 is the book shown
                    self._moved(feed.symbol)
                # Otherwise no _moved: a synced book's top 100 is read for the cross-check and
                # changes neither the book nor the tape (these frames were 40 % of a pair's,
                # each a redraw that found nothing). A check that finds the book wrong changes
                # the feed's state, which _feed_state tells and draws.
        elif isinstance(event, SubscriptionSucceeded):
            self._subscribed(event.channel)
        elif isinstance(event, ConnectionStateChanged):
            self._connection(event)
        elif isinstance(event, FrameRejected):
            self._rejected(event)
        elif isinstance(event, StreamErrorEvent):
            self._notify(MarketDataError(f"stream error: {event.message}"))

    def _subscribed(self, channel: str) -> None:
        if channel.startswith("diff_order_book_"):
            feed = self.feeds.get(channel[16:])
            if feed is not None:
                feed.subscribed()
                self._want_snapshot(feed)
        elif channel.startswith("order_book_"):
            feed = self.feeds.get(channel[11:])
            if feed is not None and not self._rest_free.is_set():
                self._spawn(self._release_unless_top(feed), f"rest-hold-{feed.symbol}")
        elif channel.startswith("live_trades_"):
            feed = self.feeds.get(channel[12:])
            if feed is not None:
                now = time.monotonic()
                window = feed.backfill_window(now)
                feed.trades.restart(now)
                self._spawn(self._backfill(feed, window), f"backfill-{feed.symbol}")

    def _connection(self, event: ConnectionStateChanged) -> None:
        self.connection = event.state
        connected = event.state is ConnectionState.CONNECTED
        for feed in self.feeds.values():
            feed.connection_changed(connected, event.reconnects)
        if event.state is ConnectionState.DISCONNECTED:
            self._check_reach()  # the venue may be gone: find out now, not at the next poll
        self._notify(ConnectionChanged(f"{event.state.value}: {event.reason}"))

    def _rejected(self, event: FrameRejected) -> None:
        channel = event.channel or ""
        for prefix in ("diff_order_book_", "order_book_", "live_trades_"):
            if channel.startswith(prefix):
                feed = self.feeds.get(channel[len(prefix) :])
                if feed is not None:
                    feed.on_frame_error(event.error)
                    self._want_snapshot(feed)
                return
        for feed in self.feeds.values():  # channel unknown: every book is in doubt
            feed.on_frame_error(event.error)
            self._want_snapshot(feed)

    def _feed_state(self, feed: MarketFeed) -> None:
        detail = f"stale: {feed.stale_reason}" if feed.stale else "live"
        _log.info("market %s: %s", feed.symbol, detail)
        self._notify(FeedStateChanged(feed.symbol, detail))
        self._want_snapshot(feed)  # a resync may start inside the feed (a settle, a check)
        self._moved(feed.symbol)

    def _moved(self, symbol: str) -> None:
        if self.moved is not None:
            self.moved(symbol)

    def _notify(self, change: MarketEvent) -> None:
        if self._listener is not None:
            self._listener(change)

    def tell(self, change: MarketEvent) -> None:
        """Pass ``change`` to the hub's listener (the session's findings about the market)."""
        self._notify(change)

    # -- REST work ------------------------------------------------------------------------------

    def _want_snapshot(self, feed: MarketFeed) -> None:
        if feed.snapshot_wanted and feed not in self._fetching and not self._closed:
            self._fetching.add(feed)
            self._spawn(self._snapshot(feed), f"snapshot-{feed.symbol}")

    async def _snapshot(self, feed: MarketFeed) -> None:
        """Fetch snapshots until the feed is synced. One loop per feed at a time; a failed
        attempt waits (``SNAPSHOT_RETRY_S``, doubling); a snapshot overtaken by a newer resync
        is simply asked again."""
        failures = 0
        try:
            while feed.snapshot_wanted and self.feeds.get(feed.symbol) is feed:
                generation = feed.generation
                snapshot = await self._timed(
                    self.rest.order_book(feed.symbol), f"snapshot of {feed.symbol}"
                )
                if snapshot is not None and feed.on_snapshot(snapshot, generation):
                    self._moved(feed.symbol)
                    return
                if snapshot is not None and generation != feed.generation and failures == 0:
                    continue  # a resync came while it was on its way: ask again at once
                failures += 1
                await asyncio.sleep(snapshot_retry_s(failures))
        finally:
            self._fetching.discard(feed)

    async def _backfill(self, feed: MarketFeed, window: TradesWindow) -> None:
        """Fill the tape from REST: the last hour when it is empty (a full pane from the
        start), else a window that covers what the stream missed (a reconnect, a stall)."""
        trades = await self._timed(
            self.rest.transactions(feed.symbol, window), f"trades of {feed.symbol}"
        )
        if trades:
            feed.on_trades(trades)

    async def _watch_silences(self) -> None:
        """Check every feed's channels on a timer, since a stalled channel sends nothing that
        could trigger a check: a silent diff channel's book and a silent trade channel's tape
        are compared with REST (``MarketFeed.silence``)."""
        while True:
            await asyncio.sleep(SILENCE_EVERY_S)
            now = time.monotonic()
            for feed in list(self.feeds.values()):
                try:
                    feed.check_pending_top(now)
                    book, tape = feed.silence(now)
                except Exception:  # noqa: BLE001 - a bug in one feed must not stop every check
                    _log.exception("market hub: checking %s's channels failed", feed.symbol)
                    continue
                if book:
                    self._spawn(self._check_book(feed), f"check-book-{feed.symbol}")
                if tape:
                    self._spawn(self._check_tape(feed), f"check-tape-{feed.symbol}")

    async def _check_book(self, feed: MarketFeed) -> None:
        asked_at = time.monotonic()
        snapshot = await self._timed(
            self.rest.order_book(feed.symbol), f"book check of {feed.symbol}"
        )
        if self.feeds.get(feed.symbol) is feed:
            feed.check_silence(snapshot, asked_at)

    async def _check_tape(self, feed: MarketFeed) -> None:
        window = feed.backfill_window(time.monotonic())
        trades = await self._timed(
            self.rest.transactions(feed.symbol, window), f"trades check of {feed.symbol}"
        )
        feed.check_tape(None if trades is None else feed.on_trades(trades))

    async def _fetch_ticker(self, feed: MarketFeed) -> None:
        ticker = await self._timed(self.rest.ticker(feed.symbol))
        if ticker is not None:
            feed.ticker = ticker

    async def _settle_books(self) -> None:
        while True:
            await asyncio.sleep(SETTLE_EVERY_S)
            for feed in list(self.feeds.values()):
                if feed.unsettled:
                    try:
                        feed.settle()
                    except Exception:  # noqa: BLE001 - a bug in one book must not stop every check
                        _log.exception("market hub: settling %s failed", feed.symbol)

    async def _poll_tickers(self) -> None:
        while True:
            await asyncio.sleep(self._ticker_every_s)
            for feed in list(self.feeds.values()):
                await self._fetch_ticker(feed)

    async def _timed(self, call: Awaitable[T], what: str = "") -> T | None:
        """Await a REST call; failures are reported, not raised: the venue's errors and
        replies that do not parse. Its latency and any 429 are counted by the transport's
        ``RestStats`` (one count per session, every caller). While the hub holds its REST
        the call waits (``call`` is a coroutine not yet started: nothing was sent)."""
        try:
            if not self._rest_free.is_set():
                try:
                    await self._rest_free.wait()
                except BaseException:  # closed meanwhile: the call never starts
                    close = getattr(call, "close", None)
                    if close is not None:
                        close()
                    raise
            result = await call
        except RateLimited as exc:  # counted by the session's RestStats, every caller at once
            self._notify(MarketDataError(f"rate limited: {exc}"))
            return None
        except TransportError as exc:  # said on the status bar by the reachability
            _log.warning("market data: %s failed: %s", what or "a request", exc)
            if self.reach is not None:
                if not self.reach.down:  # while down, the probe alone paces the retries
                    self.reach.failed_on(exc)
                self._check_reach()
            else:
                self._notify(MarketDataError(f"{what}: {exc}" if what else str(exc)))
            return None
        except BitstampError as exc:  # every parse failure is one too (ProtocolError)
            _log.warning("market data: %s failed: %s", what or "a request", exc)
            self._notify(MarketDataError(f"{what}: {exc}" if what else str(exc)))
            return None
        if self.reach is not None and self.reach.down:
            self.reach.reached()
        return result

    def _check_reach(self) -> None:
        if self.reach is not None and not self._probing and not self._closed:
            self._probing = True
            self._spawn(self._probe(self.reach), "reachability")

    async def _probe(self, reach: Reachability) -> None:
        """Ask the venue (its markets: one small public read) when the reachability says
        (at once if it is not known down yet), again after each of its pauses, until it
        answers."""
        try:
            await reach.retry(self.rest.markets)  # cancelled when the hub closes
        finally:
            self._probing = False

    def _spawn(self, coro: Awaitable[None], name: str) -> None:
        task = asyncio.ensure_future(coro)
        task.set_name(f"hub-{name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
