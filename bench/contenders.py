"""The order books being compared, each on its whole path: frame text in, applied book out.

Every contender decodes the JSON itself, the way its project does, because a book that is
fast only once the frame is decoded is not fast where it runs. ``prepare`` (untimed) loads
the same snapshot into the contender's own representation; ``replay`` (timed) applies every
frame; ``top`` reads the best levels back as Decimals for the correctness guard.

* ``ours``: :func:`parse_frame` (msgspec, book sides left as text) then
  :meth:`BookDiffEvent.apply_to` (:meth:`OrderBook.apply_packed`, scaled ints; the strict
  rows for a frame the one-pass check refuses), and every book read once at the end
  (counted): sides are staged until a read, and merged by price when several are.
* ``ours_read_each``: the same with a read after every frame: nothing is merged, every
  frame is parsed and applied on its own (the cost when frames come one at a time).
* ``ours_feed``: production: :meth:`MarketFeed.on_diff` as the hub calls it, touched feeds
  settled (staged sides applied, crossed check) as the hub's 20 Hz timer does when frames
  queue up (checked where the pump yields, every ``YIELD_EVERY`` events), and every book
  read at the end.
* ``ccxt``: ccxt.pro's book (``OrderBookSide.storeArray``, float prices) with ccxt's own JSON
  decoder (orjson when importable, as ``ccxt/async_support/base/ws/client.py`` does) and its
  nonce check; the generous core of ccxt's path, without its per-field ``safe_*`` helpers.
* ``ccxt_json``: the same with the standard library's ``json`` (no orjson).
* ``ccxt_handler``: ccxt.pro's real per-frame method, ``bitstamp.handle_book_delta``.
* ``cbook``: cryptofeed's Bitstamp path (``json.loads(parse_float=Decimal)``, ``Decimal`` keys)
  into the ``order-book`` package's C sorted dicts.
* ``naive``: ``json.loads``, Decimal, two dicts, and ``sorted()`` per frame for the top.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any, cast

from workstation.bitstamp.stream_frames import BookDiffEvent, parse_frame
from workstation.domain.common import Side
from workstation.domain.market_data import BookSnapshot
from workstation.domain.markets import Market
from workstation.domain.orderbook import OrderBook
from workstation.services.feed import FeedState, MarketFeed
from workstation.services.hub import SETTLE_EVERY_S, YIELD_EVERY

from .streams import Snapshot

__all__ = ["CONTENDERS", "Contender", "Level"]

Level = tuple[Decimal, Decimal]
WIRE_AMOUNT_PLACES = 8
"""Bitstamp writes 8 amount decimals on most pairs (USDT pairs: 5, still within 8)."""
TOP_KEEP = 10
"""Levels per side the naive reference extracts after each frame, as a ladder would."""
_PREFIX = len("diff_order_book_")


class Contender:
    """One book implementation on one path. Subclasses fill in the three steps."""

    key = ""
    label = ""
    informational = False
    """Shown for context; the goals are judged on the others."""

    def prepare(self, snapshots: dict[str, Snapshot]) -> Any:
        raise NotImplementedError

    def replay(self, state: Any, frames: list[str]) -> None:
        raise NotImplementedError

    def top(self, state: Any, market: str, depth: int) -> tuple[list[Level], list[Level]]:
        raise NotImplementedError


# -- ours ---------------------------------------------------------------------------------


class Ours(Contender):
    key = "ours"
    label = "ours: parse_frame + BookDiffEvent.apply_to"

    def prepare(self, snapshots: dict[str, Snapshot]) -> dict[str, OrderBook]:
        books = {}
        for snap in snapshots.values():
            book = OrderBook(snap.market, snap.price_places, WIRE_AMOUNT_PLACES)
            book.load(snap.bids, snap.asks, snap.timestamp_us)
            books[snap.market] = book
        return books

    read_each = False
    """Read the book after every frame (nothing left to merge) rather than once at the end."""

    def replay(self, state: dict[str, OrderBook], frames: list[str]) -> None:
        # the recorded streams are book diffs (profile_ours asserts it): no check per frame
        parse = cast(Callable[[str], BookDiffEvent], parse_frame)
        read_each = self.read_each
        for text in frames:
            event = parse(text)
            book = state[event.market]
            event.apply_to(book)
            if read_each:
                _ = book.crossed
        for book in state.values():  # a read applies what is staged: part of the work
            _ = book.crossed

    def top(self, state: dict[str, OrderBook], market: str, depth: int) -> Any:
        book = state[market]
        return book.levels(Side.BUY, depth), book.levels(Side.SELL, depth)


class OursReadEach(Ours):
    key = "ours_read_each"
    label = "ours, book read after every frame"
    informational = True
    read_each = True


def _market(snap: Snapshot) -> Market:
    return Market(
        symbol=snap.market,
        base=snap.market[:3].upper(),
        quote=snap.market[3:].upper(),
        base_decimals=WIRE_AMOUNT_PLACES,
        quote_decimals=snap.price_places,
        instant_quote_decimals=snap.price_places,
        minimum_order_value=Decimal(0),
        trading_enabled=True,
        instant_and_market_enabled=True,
        description=snap.market,
    )


class OursFeed(Contender):
    key = "ours_feed"
    label = "ours via MarketFeed.on_diff (production)"
    informational = True

    def prepare(self, snapshots: dict[str, Snapshot]) -> dict[str, MarketFeed]:
        feeds = {}
        for snap in snapshots.values():
            feed = MarketFeed(_market(snap))
            feed.connection_changed(True, 0)
            feed.subscribed()
            book = BookSnapshot(snap.market, snap.timestamp_us, snap.bids, snap.asks)
            if not feed.on_snapshot(book, feed.generation):
                raise RuntimeError(f"{snap.market}: the feed refused its snapshot")
            feeds[snap.market] = feed
        return feeds

    def replay(self, state: dict[str, MarketFeed], frames: list[str]) -> None:
        parse, clock = parse_frame, time.perf_counter
        touched: set[MarketFeed] = set()
        settled_at = clock()
        for count, text in enumerate(frames, start=1):
            event = parse(text)
            if isinstance(event, BookDiffEvent):
                feed = state[event.market]
                feed.on_diff(event)
                touched.add(feed)
            # The pump lets the loop run every YIELD_EVERY events: the hub's settle timer
            # fires there once SETTLE_EVERY_S has passed (a flood: frames queue up).
            if count % YIELD_EVERY == 0 and clock() - settled_at >= SETTLE_EVERY_S:
                for feed in touched:
                    feed.settle()
                touched.clear()
                settled_at = clock()
        for feed in state.values():  # the hub's timer: settles what is left
            if feed.unsettled:
                feed.settle()

    def top(self, state: dict[str, MarketFeed], market: str, depth: int) -> Any:
        feed = state[market]
        if feed.state is not FeedState.LIVE:
            reason = feed.health.last_resync_reason
            raise RuntimeError(f"{market}: the feed left LIVE ({reason})")
        return feed.book.levels(Side.BUY, depth), feed.book.levels(Side.SELL, depth)


# -- ccxt -----------------------------------------------------------------------------------


def _ccxt_books(snapshots: dict[str, Snapshot]) -> dict[str, Any]:
    from ccxt.async_support.base.ws.order_book import OrderBook as CcxtBook

    books = {}
    for snap in snapshots.values():
        book = CcxtBook()
        # ccxt's fetch_order_book parses the REST levels to floats the same way.
        for price, amount in snap.bids:
            book["bids"].store(float(price), float(amount))
        for price, amount in snap.asks:
            book["asks"].store(float(price), float(amount))
        book["nonce"] = snap.timestamp_us
        books[snap.market] = book
    return books


def _float_top(book: Any, depth: int) -> tuple[list[Level], list[Level]]:
    def side(rows: list[list[float]]) -> list[Level]:
        return [(Decimal(str(p)), Decimal(str(a))) for p, a, *_ in rows[:depth]]

    return side(book["bids"]), side(book["asks"])


class Ccxt(Contender):
    key = "ccxt"
    label = "ccxt.pro OrderBook (float), ccxt's JSON decoder"

    def __init__(self, loads: Callable[[str], Any] | None = None) -> None:
        if loads is None:
            from ccxt.async_support.base.ws.client import json_parser

            loads = json_parser.loads
        self.loads = loads

    def prepare(self, snapshots: dict[str, Snapshot]) -> dict[str, Any]:
        return _ccxt_books(snapshots)

    def replay(self, state: dict[str, Any], frames: list[str]) -> None:
        loads = self.loads
        for text in frames:
            message = loads(text)
            data = message["data"]
            book = state[message["channel"][_PREFIX:]]
            nonce = int(data["microtimestamp"])
            if book["nonce"] >= nonce:  # ccxt.pro drops deltas at or before its nonce
                continue
            book["nonce"] = nonce
            store = book["bids"].storeArray
            for price, amount in data["bids"]:
                store([float(price), float(amount)])
            store = book["asks"].storeArray
            for price, amount in data["asks"]:
                store([float(price), float(amount)])

    def top(self, state: dict[str, Any], market: str, depth: int) -> Any:
        return _float_top(state[market], depth)


class CcxtJson(Ccxt):
    key = "ccxt_json"
    label = "ccxt.pro OrderBook (float), stdlib json"
    informational = True

    def __init__(self) -> None:
        super().__init__(json.loads)


class CcxtHandler(Contender):
    key = "ccxt_handler"
    label = "ccxt.pro bitstamp.handle_book_delta (full)"
    informational = True

    def __init__(self) -> None:
        import ccxt.pro
        from ccxt.async_support.base.ws.client import json_parser

        self.exchange = ccxt.pro.bitstamp()
        self.loads = json_parser.loads

    def prepare(self, snapshots: dict[str, Snapshot]) -> dict[str, Any]:
        return _ccxt_books(snapshots)

    def replay(self, state: dict[str, Any], frames: list[str]) -> None:
        loads, handle = self.loads, self.exchange.handle_book_delta
        for text in frames:
            message = loads(text)
            data = message["data"]
            book = state[message["channel"].split("_")[3]]
            if book["nonce"] >= int(data["microtimestamp"]):
                continue
            handle(book, data)

    def top(self, state: dict[str, Any], market: str, depth: int) -> Any:
        return _float_top(state[market], depth)


# -- cryptofeed's C book --------------------------------------------------------------------


class CBook(Contender):
    key = "cbook"
    label = "order-book C book (Decimal keys), cryptofeed path"

    def prepare(self, snapshots: dict[str, Snapshot]) -> dict[str, Any]:
        from order_book import OrderBook as COrderBook

        books = {}
        for snap in snapshots.values():
            book = COrderBook()
            for price, amount in snap.bids:
                book.bids[price] = amount
            for price, amount in snap.asks:
                book.asks[price] = amount
            books[snap.market] = book
        return books

    def replay(self, state: dict[str, Any], frames: list[str]) -> None:
        loads, dec = json.loads, Decimal
        for text in frames:
            message = loads(text, parse_float=dec)
            data = message["data"]
            book = state[message["channel"].split("_")[-1]]
            for side, rows in ((book.bids, data["bids"]), (book.asks, data["asks"])):
                for price_text, amount_text in rows:
                    price = dec(price_text)
                    amount = dec(amount_text)
                    if amount == 0:
                        if price in side:
                            del side[price]
                    else:
                        side[price] = amount

    def top(self, state: dict[str, Any], market: str, depth: int) -> Any:
        book = state[market]
        bids = [book.bids.index(i) for i in range(min(depth, len(book.bids)))]
        asks = [book.asks.index(i) for i in range(min(depth, len(book.asks)))]
        return bids, asks


# -- the naive reference --------------------------------------------------------------------


class _NaiveBook:
    __slots__ = ("asks", "best_asks", "best_bids", "bids")

    def __init__(self, snap: Snapshot) -> None:
        self.bids: dict[Decimal, Decimal] = dict(snap.bids)
        self.asks: dict[Decimal, Decimal] = dict(snap.asks)
        self.best_bids: list[Decimal] = []
        self.best_asks: list[Decimal] = []


class Naive(Contender):
    key = "naive"
    label = "naive: json + Decimal + dict, sorted() per frame"

    def prepare(self, snapshots: dict[str, Snapshot]) -> dict[str, _NaiveBook]:
        return {snap.market: _NaiveBook(snap) for snap in snapshots.values()}

    def replay(self, state: dict[str, _NaiveBook], frames: list[str]) -> None:
        for text in frames:
            message = json.loads(text)
            data = message["data"]
            book = state[message["channel"].replace("diff_order_book_", "")]
            for price, amount in data["bids"]:
                if Decimal(amount) == 0:
                    book.bids.pop(Decimal(price), None)
                else:
                    book.bids[Decimal(price)] = Decimal(amount)
            for price, amount in data["asks"]:
                if Decimal(amount) == 0:
                    book.asks.pop(Decimal(price), None)
                else:
                    book.asks[Decimal(price)] = Decimal(amount)
            book.best_bids = sorted(book.bids, reverse=True)[:TOP_KEEP]
            book.best_asks = sorted(book.asks)[:TOP_KEEP]

    def top(self, state: dict[str, _NaiveBook], market: str, depth: int) -> Any:
        book = state[market]
        bids = sorted(book.bids.items(), reverse=True)[:depth]
        return bids, sorted(book.asks.items())[:depth]


CONTENDERS: tuple[Callable[[], Contender], ...] = (
    Ours,
    OursReadEach,
    OursFeed,
    Ccxt,
    CcxtJson,
    CcxtHandler,
    CBook,
    Naive,
)
