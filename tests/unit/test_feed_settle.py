"""The feed applies diff frames as the codec hands them (sides packed) and checks the book
when the hub settles it: a reader never trusts a crossed book (it reads stale until then),
and frames between two settles are merged. Synchronous: the feed is state, the hub does its I/O."""

from __future__ import annotations

import time
from decimal import Decimal

from workstation.bitstamp.stream_frames import BookDiffEvent, parse_frame
from workstation.domain.common import Side
from workstation.domain.market_data import BookDiff, BookSnapshot
from workstation.services.feed import FeedState, MarketFeed
from workstation.sim.catalog import DEFAULT_MARKETS
from workstation.sim.wire.stream_frames import encode_diff_frame

D = Decimal
BTCUSD = next(m for m in DEFAULT_MARKETS if m.symbol == "btcusd")
SNAPSHOT = BookSnapshot("btcusd", 100, ((D(99), D(1)), (D(98), D(2))), ((D(101), D(1)),))


def diff(stamp: int, bids: tuple = (), asks: tuple = ()) -> BookDiffEvent:
    event = parse_frame(encode_diff_frame(BookDiff("btcusd", stamp, bids, asks), 8, 2))
    assert isinstance(event, BookDiffEvent)
    return event


def raw_diff(stamp: int, bids: str, asks: str = "[]") -> BookDiffEvent:
    """A frame as another venue might write it (the encoder only writes canonical text)."""
    frame = (
        f'{{"data":{{"timestamp":"1","microtimestamp":"{stamp}","bids":{bids},"asks":{asks}}},'
        '"channel":"diff_order_book_btcusd","event":"data"}'
    )
    event = parse_frame(frame)
    assert isinstance(event, BookDiffEvent)
    return event


def live_feed(states: list[FeedState] | None = None) -> MarketFeed:
    feed = MarketFeed(
        BTCUSD, on_state=None if states is None else (lambda f: states.append(f.state))
    )
    feed.connection_changed(True, 0)
    feed.subscribed()
    assert feed.on_snapshot(SNAPSHOT, feed.generation)
    return feed


def test_a_crossed_book_reads_stale_and_the_settle_resyncs_it() -> None:
    states: list[FeedState] = []
    feed = live_feed(states)
    feed.on_diff(diff(101, bids=((D(102), D(1)),)))
    assert feed.unsettled
    assert feed.state is FeedState.LIVE  # not checked yet: the hub's timer has not run
    book = feed.book
    assert feed.state is FeedState.LIVE  # reading changes nothing and asks for nothing
    assert not feed.snapshot_wanted
    assert feed.stale  # yet no reader trusts it
    assert feed.stale_reason == "resyncing: crossed book"
    feed.settle()  # the hub's timer
    assert feed.state is FeedState.SYNCING
    assert feed.snapshot_wanted
    assert feed.health.last_resync_reason == "crossed book"
    assert feed.stale
    assert states[-1] is FeedState.SYNCING
    assert book.best_bid() == D(102)  # what the stale book holds; the screen says STALE


def test_settle_checks_without_a_reader_and_merges_a_burst() -> None:
    feed = live_feed()
    for stamp in range(101, 111):
        feed.on_diff(diff(stamp, bids=((D(97), D(stamp - 100)),)))
    assert len(feed._book._bids.staged) == 10  # staged, not parsed
    feed.settle()
    assert not feed.unsettled
    assert feed.state is FeedState.LIVE
    assert feed.book.levels(Side.BUY) == [(D(99), D(1)), (D(98), D(2)), (D(97), D(10))]
    assert feed.version == 1 + 10


def test_a_side_the_one_pass_check_refuses_is_read_row_by_row() -> None:
    feed = live_feed()
    feed.on_diff(raw_diff(101, '[["97.5", "3"]]', '[["0101.00","0.00000000"]]'))
    assert feed.book.levels(Side.BUY, 3) == [(D(99), D(1)), (D(98), D(2)), (D("97.5"), D(3))]
    assert feed.book.levels(Side.SELL) == []
    assert feed.state is FeedState.LIVE


def test_a_side_that_is_not_text_rows_resyncs_with_its_reason() -> None:
    feed = live_feed()
    feed.on_diff(raw_diff(101, "[[97.5,3]]"))
    assert feed.state is FeedState.SYNCING
    assert feed.health.last_resync_reason.startswith("bad diff: data on 'diff_order_book_btcusd'")
    fresh = live_feed()
    fresh.on_diff(raw_diff(101, '[["97.5x","3"]]'))
    assert fresh.health.last_resync_reason.startswith("bad diff:")


def test_buffered_diffs_that_cross_the_snapshot_refuse_it() -> None:
    feed = MarketFeed(BTCUSD)
    feed.connection_changed(True, 0)
    feed.subscribed()
    feed.on_diff(diff(90, bids=((D(200), D(1)),)))  # before the snapshot: dropped
    feed.on_diff(diff(101, asks=((D(100), D(1)),)))
    feed.on_diff(diff(102, asks=((D(99), D(1)),)))  # crosses the bid at 99
    assert not feed.on_snapshot(SNAPSHOT, feed.generation)
    assert feed.state is FeedState.SYNCING
    assert feed.health.last_resync_reason == "crossed book"
    feed.on_diff(diff(103, asks=((D(100), D(0)),)))
    assert feed.on_snapshot(SNAPSHOT, feed.generation)
    assert feed.book.levels(Side.SELL) == [(D(101), D(1))]


def test_a_top_frame_that_waited_for_its_turn_is_checked_by_the_timer() -> None:
    """The last top-100 frames before a stall came inside the once-a-second pace: the
    hub's timer checks them anyway, so three disagreements still resync."""
    feed = live_feed()
    wrong = ([("99.00", "5.00000000")], [("101.00", "1.00000000")])
    feed.on_top(*wrong)  # checked at once: the first disagreement
    start = time.monotonic()
    feed.on_top(*wrong)  # inside the second: waits for its turn
    feed.check_pending_top(start + 1.1)  # no frame since: the timer checks it
    feed.on_top(*wrong)
    assert feed.state is FeedState.LIVE
    feed.check_pending_top(start + 2.2)
    assert feed.state is FeedState.SYNCING
    assert feed.health.last_resync_reason == "top 100 disagreed 3 times in a row"


def test_a_top_frame_is_not_checked_late_against_a_book_that_moved_since() -> None:
    feed = live_feed()
    feed.on_top([("99.00", "1.00000000"), ("98.00", "2.00000000")], [("101.00", "1.00000000")])
    stale_top = ([("99.00", "1.00000000"), ("98.00", "2.00000000")], [("101.00", "1.00000000")])
    feed.on_top(*stale_top)
    feed.on_diff(diff(101, bids=((D(98), D(3)),)))  # the book moved after that frame
    feed.check_pending_top(10**9)
    assert feed.state is FeedState.LIVE
    assert feed._mismatches == 0
