"""Until a feed's book is synced (a start, a resync) the venue's own top 100 is the book
shown: each ``order_book_{pair}`` frame replaces it, stale, until the snapshot and the diffs
after it take over. On a start that frame comes with the subscription, a round trip before
the REST snapshot: the trader sees prices sooner, never marked live."""

from __future__ import annotations

from decimal import Decimal

from workstation.domain.common import Side
from workstation.domain.market_data import BookSnapshot
from workstation.services.feed import FeedState, MarketFeed
from workstation.sim.catalog import DEFAULT_MARKETS

D = Decimal
BTCUSD = next(m for m in DEFAULT_MARKETS if m.symbol == "btcusd")
TOP_BIDS = [("99.00", "1.00000000"), ("98.50", "0.25000000")]
TOP_ASKS = [("100.00", "2.00000000")]


def syncing_feed() -> MarketFeed:
    feed = MarketFeed(BTCUSD)
    feed.connection_changed(True, 0)
    feed.subscribed()
    assert feed.state is FeedState.SYNCING
    return feed


def test_a_top_frame_before_the_snapshot_is_the_book_shown_and_stale() -> None:
    feed = syncing_feed()
    version = feed.version
    assert feed.on_top(TOP_BIDS, TOP_ASKS, 500)
    assert feed.version > version  # the pane redraws
    assert feed.book.levels(Side.BUY) == [(D("99.00"), D(1)), (D("98.50"), D("0.25"))]
    assert feed.book.levels(Side.SELL) == [(D("100.00"), D(2))]
    assert feed.stale
    assert feed.stale_reason == "syncing"
    assert feed.snapshot_wanted  # the sync goes on
    # the next top frame replaces it
    assert feed.on_top([("99.10", "3.00000000")], TOP_ASKS, 600)
    assert feed.book.levels(Side.BUY) == [(D("99.10"), D(3))]


def test_the_snapshot_and_its_diffs_replace_the_venues_top() -> None:
    feed = syncing_feed()
    feed.on_top(TOP_BIDS, TOP_ASKS, 500)
    snapshot = BookSnapshot("btcusd", 400, ((D("97.00"), D(1)),), ((D("101.00"), D(1)),))
    assert feed.on_snapshot(snapshot, feed.generation)
    assert feed.state is FeedState.LIVE
    assert not feed.stale
    assert feed.book.levels(Side.BUY) == [(D("97.00"), D(1))]  # the top's rows are gone
    assert feed.book.levels(Side.SELL) == [(D("101.00"), D(1))]
    # once live, a top frame is the cross-check again: it changes nothing shown
    version = feed.version
    assert not feed.on_top(TOP_BIDS, TOP_ASKS, 900)
    assert feed.version == version
    assert feed.book.levels(Side.BUY) == [(D("97.00"), D(1))]


def test_a_top_frame_that_does_not_fit_the_market_changes_nothing_shown() -> None:
    feed = syncing_feed()
    feed.on_top(TOP_BIDS, TOP_ASKS, 500)
    version = feed.version
    assert not feed.on_top([("99.001", "1.00000000")], TOP_ASKS, 600)  # 3 decimals
    assert feed.version == version
    assert feed.book.levels(Side.BUY)[0] == (D("99.00"), D(1))
    assert feed.snapshot_wanted


def test_a_resync_shows_the_venues_top_instead_of_the_book_in_doubt() -> None:
    feed = syncing_feed()
    snapshot = BookSnapshot("btcusd", 400, ((D("97.00"), D(1)),), ((D("101.00"), D(1)),))
    assert feed.on_snapshot(snapshot, feed.generation)
    feed.resync("bad diff: test")
    assert feed.on_top(TOP_BIDS, TOP_ASKS, 800)
    assert feed.book.levels(Side.BUY)[0] == (D("99.00"), D(1))
    assert feed.stale_reason == "resyncing: bad diff: test"


def test_no_top_frame_is_shown_while_disconnected() -> None:
    feed = syncing_feed()
    feed.connection_changed(False, 1)
    assert not feed.on_top(TOP_BIDS, TOP_ASKS, 500)
    assert feed.book.depth(Side.BUY) == 0
