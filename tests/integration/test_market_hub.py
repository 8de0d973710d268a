"""The market data service against the simulator over real sockets: the synced book equals
the engine's, and it recovers from every way a stream goes wrong.

The simulator runs on a manual clock (it moves only when a test steps it), so "at rest" is
a moment the test chooses: stop stepping, let the last frames arrive, compare.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import AsyncIterator, Callable
from decimal import Decimal

import pytest

from workstation.domain.common import Side
from workstation.services.events import (
    ConnectionChanged,
    FeedStateChanged,
    MarketDataError,
    MarketEvent,
)
from workstation.services.feed import FeedState, MarketFeed
from workstation.services.hub import MarketHub
from workstation.sim.faults import HttpFault, HttpFaultKind
from workstation.sim.orderform import OrderForm
from workstation.sim.server import SimServer

from .market_support import SYMBOL, manual_sim, running_hub, until


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    async with manual_sim(history_s=900) as server:
        yield server


@pytest.fixture
async def hub(sim: SimServer) -> AsyncIterator[tuple[MarketHub, list[MarketEvent]]]:
    async with running_hub(sim, ticker_every_s=0.5) as running:
        yield running


async def move_market(sim: SimServer, steps: int = 10) -> None:
    """Step the market and give the publisher (every 100 ms) time to send each change."""
    for _ in range(steps):
        sim.exchange.advance(0.3)
        await asyncio.sleep(0.12)


async def move_until(
    sim: SimServer, condition: Callable[[], bool], what: str, within: float = 15.0
) -> None:
    """Keep the market moving until ``condition`` holds (the cross-check runs once a second
    per pair, and only on frames the moving market sends)."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await move_market(sim, 1)


async def at_rest(sim: SimServer, feed: MarketFeed) -> None:
    """Stop moving, then wait until the feed is live and shows the engine's book."""
    engine = sim.exchange.engines[SYMBOL]

    def same() -> bool:
        return feed.state is FeedState.LIVE and (
            feed.book.levels(Side.BUY) == engine.levels(Side.BUY)
            and feed.book.levels(Side.SELL) == engine.levels(Side.SELL)
        )

    await until(same, what="the feed's book to equal the engine's")


async def test_synced_book_equals_the_engine_and_trades_and_ticker_arrive(
    sim: SimServer, hub: tuple[MarketHub, list[MarketEvent]]
) -> None:
    service, changes = hub
    feed = await service.watch(SYMBOL)
    assert feed.stale
    await until(lambda: feed.state is FeedState.LIVE, what="first sync")
    await move_market(sim, 15)
    await at_rest(sim, feed)
    assert not feed.stale
    assert feed.book.depth(Side.BUY) > 300
    assert feed.health.resyncs == 0
    await until(lambda: len(feed.tape) > 0 and feed.ticker is not None, what="tape and ticker")
    engine_trades = {t.id for t in sim.exchange.transactions(SYMBOL, 3600)}
    tape_ids = [t.id for t in feed.tape]
    assert set(tape_ids) <= engine_trades
    assert len(set(tape_ids)) == len(tape_ids)
    assert service.rest.transport.stats.market_data.percentile(50) is not None
    assert any(
        isinstance(c, FeedStateChanged) and c.symbol == SYMBOL and c.detail == "live"
        for c in changes
    )


async def synced(sim: SimServer, service: MarketHub) -> MarketFeed:
    feed = await service.watch(SYMBOL)
    await until(lambda: feed.state is FeedState.LIVE, what="first sync")
    await move_market(sim, 5)
    await at_rest(sim, feed)
    return feed


@pytest.mark.parametrize("how", ["drop", "request_reconnect"])
async def test_book_recovers_after_a_lost_connection(
    sim: SimServer, hub: tuple[MarketHub, list[MarketEvent]], how: str
) -> None:
    service, changes = hub
    feed = await synced(sim, service)
    if how == "drop":
        await sim.hub.drop_all()
    else:
        sim.hub.request_reconnect()
    await until(lambda: feed.health.reconnects == 1, what="a reconnect")
    await move_market(sim, 10)
    await at_rest(sim, feed)
    assert feed.health.resyncs == 1
    assert feed.health.last_resync_reason == "reconnected"
    assert any(
        isinstance(c, ConnectionChanged) and c.detail.startswith("disconnected") for c in changes
    )


async def test_a_crossed_book_forces_a_resync(
    sim: SimServer, hub: tuple[MarketHub, list[MarketEvent]]
) -> None:
    service, _ = hub
    feed = await synced(sim, service)
    far_future = (time.time_ns() // 1000) + 3_600_000_000
    crossed = json.dumps(
        {
            "data": {
                "timestamp": str(far_future // 1_000_000),
                "microtimestamp": str(far_future),
                "bids": [["99999.00", "1.00000000"]],
                "asks": [],
            },
            "channel": "diff_order_book_btcusd",
            "event": "data",
        }
    )
    sim.faults.malform_next("diff_order_book_btcusd", crossed)
    await move_market(sim, 3)
    await until(lambda: feed.health.resyncs >= 1, what="a resync")
    assert feed.health.last_resync_reason == "crossed book"
    await move_market(sim, 5)
    await at_rest(sim, feed)


async def test_a_diff_side_that_is_not_text_rows_forces_a_resync(
    sim: SimServer, hub: tuple[MarketHub, list[MarketEvent]]
) -> None:
    """Valid JSON, so the frame parses; its side is numbers, not Bitstamp's text pairs: the
    book's one-pass check refuses it, the row decode names it, and the feed resyncs."""
    service, _ = hub
    feed = await synced(sim, service)
    far_future = (time.time_ns() // 1000) + 3_600_000_000
    data = {"timestamp": str(far_future // 10**6), "microtimestamp": str(far_future)}
    odd = json.dumps(
        {
            "data": {**data, "bids": [[1.5, 2]], "asks": []},
            "channel": "diff_order_book_btcusd",
            "event": "data",
        }
    )
    sim.faults.malform_next("diff_order_book_btcusd", odd)
    await move_market(sim, 3)
    await until(lambda: feed.health.resyncs >= 1, what="a resync")
    assert feed.health.last_resync_reason.startswith("bad diff")
    await move_market(sim, 5)
    await at_rest(sim, feed)


async def test_an_unreadable_frame_forces_a_resync(
    sim: SimServer, hub: tuple[MarketHub, list[MarketEvent]]
) -> None:
    service, _ = hub
    feed = await synced(sim, service)
    sim.faults.malform_next("diff_order_book_btcusd")  # truncated: not JSON at all
    await move_market(sim, 3)
    await until(lambda: feed.health.resyncs >= 1, what="a resync")
    assert feed.health.last_resync_reason.startswith("unreadable frame")
    await move_market(sim, 5)
    await at_rest(sim, feed)


async def test_a_silently_dropped_diff_is_caught_by_the_top_100(
    sim: SimServer, hub: tuple[MarketHub, list[MarketEvent]]
) -> None:
    service, _ = hub
    feed = await synced(sim, service)
    sim.faults.drop_diff_frames(1, "diff_order_book_btcusd")
    # The lost frame adds a level 40 deep: inside the top 100, out of the takers' way.
    engine = sim.exchange.engines[SYMBOL]
    prices = [p for p, _ in engine.levels(Side.BUY, 100)]
    bid = next(p + engine.market.tick for p in prices[40:] if p + engine.market.tick not in prices)
    form = OrderForm("limit", Side.BUY, SYMBOL, {"amount": "0.01", "price": f"{bid}"})
    sim.exchange.place("demo", form)
    await move_until(sim, lambda: feed.health.resyncs >= 1, "the gap to be noticed")
    # The top 100 disagrees from the next frame on; a crossed book may be seen first.
    reason = feed.health.last_resync_reason
    assert reason.startswith("top 100 disagreed") or reason == "crossed book"
    await at_rest(sim, feed)
    assert (bid, Decimal("0.01")) in feed.book.levels(Side.BUY)


async def test_a_stalled_channel_is_noticed_and_recovered(
    sim: SimServer, hub: tuple[MarketHub, list[MarketEvent]]
) -> None:
    service, _ = hub
    feed = await synced(sim, service)
    sim.faults.stall("diff_order_book_btcusd")
    await move_until(sim, lambda: feed.health.resyncs >= 1, "the stall to be noticed")
    sim.faults.unstall()
    await move_market(sim, 8)
    await at_rest(sim, feed)


async def test_the_tape_never_holds_a_trade_twice_across_reconnects(
    sim: SimServer, hub: tuple[MarketHub, list[MarketEvent]]
) -> None:
    service, _ = hub
    feed = await synced(sim, service)
    for round_ in range(1, 3):
        await move_market(sim, 8)
        await sim.hub.drop_all()
        await move_market(sim, 8)  # trades while disconnected: the REST backfill finds them
        await until(lambda r=round_: feed.health.reconnects == r, what="a reconnect")
    await until(lambda: not feed.stale, what="live again")
    await asyncio.sleep(0.5)
    ids = [t.id for t in feed.tape]
    assert len(ids) == len(set(ids))
    oldest = min(t.timestamp_us for t in feed.tape)
    engine_ids = {
        t.id
        for t in sim.exchange.transactions(SYMBOL, 3600)
        if t.timestamp_us >= oldest and t.timestamp_us >= feed.tape.newest_first()[-1].timestamp_us
    }
    assert engine_ids <= set(ids), "no trade missed across the reconnects"


async def test_a_malformed_snapshot_reply_is_retried_with_backoff_not_per_frame(
    sim: SimServer, hub: tuple[MarketHub, list[MarketEvent]]
) -> None:
    """A snapshot endpoint answering valid JSON of the wrong shape: the hub asks again after a
    growing pause (1, 2, 4 s...), not on every diff frame, says so, and syncs once the
    venue answers properly again."""
    service, changes = hub
    path = f"GET /api/v2/order_book/{SYMBOL}/"
    sim.faults.fail_next(
        f"/api/v2/order_book/{SYMBOL}/", HttpFault(HttpFaultKind.WRONG_SHAPE), times=1000
    )
    feed = await service.watch(SYMBOL)
    await until(lambda: sim.requests[path] >= 1, what="the first snapshot request")
    first_at = time.monotonic()
    await move_market(sim, 20)  # ~2.4 s of diff frames, ten a second (longer on a loaded host)
    elapsed = time.monotonic() - first_at
    assert feed.stale
    # Pauses of 1, 2, 4 s... fit 1 + floor(log2(elapsed + 1)) requests; one more for margin.
    # Asking on every diff frame would be about twenty.
    allowed = 2 + math.floor(math.log2(elapsed + 1))
    assert sim.requests[path] <= allowed, (
        f"{sim.requests[path]} snapshot requests in {elapsed:.1f} s (at most {allowed})"
    )
    assert any(isinstance(c, MarketDataError) and SYMBOL in c.detail for c in changes)
    sim.faults.clear()
    await move_until(sim, lambda: feed.state is FeedState.LIVE, "the book after the fault")
    await at_rest(sim, feed)


async def test_until_the_snapshot_comes_the_book_shown_is_the_venues_top_100(
    sim: SimServer, hub: tuple[MarketHub, list[MarketEvent]]
) -> None:
    """A start whose snapshot is slow (here: refused for good): the pane has a book to
    draw from the ``order_book`` channel, the venue's own top 100, stale and never live,
    and the UI is woken for it; once the snapshot comes, the full synced book replaces it."""
    service, _ = hub
    moved: list[str] = []
    service.moved = moved.append
    sim.faults.fail_next(
        f"/api/v2/order_book/{SYMBOL}/", HttpFault(HttpFaultKind.WRONG_SHAPE), times=1000
    )
    feed = await service.watch(SYMBOL)
    engine = sim.exchange.engines[SYMBOL]

    def shows_the_venues_top() -> bool:
        return all(
            feed.book.levels(side) == engine.levels(side)[:100] for side in (Side.BUY, Side.SELL)
        )

    await move_until(sim, lambda: feed.book.depth(Side.BUY) > 0, "a book to show")
    await until(shows_the_venues_top, what="the venue's top 100 on the pane's book")
    assert feed.book.depth(Side.BUY) == 100 < len(engine.levels(Side.BUY))
    assert feed.state is FeedState.SYNCING
    assert feed.stale
    assert SYMBOL in moved
    sim.faults.clear()
    await move_until(sim, lambda: feed.state is FeedState.LIVE, "the synced book")
    await at_rest(sim, feed)
    assert feed.book.depth(Side.BUY) > 100


async def test_each_frame_that_moves_a_pair_tells_moved_its_symbol(
    sim: SimServer, hub: tuple[MarketHub, list[MarketEvent]]
) -> None:
    """The UI's per-frame wake-up (``MarketHub.moved``): the pair's frames reach it as they
    are applied, with the pair's symbol."""
    service, _ = hub
    moved: list[str] = []
    service.moved = moved.append
    feed = await service.watch(SYMBOL)
    await until(lambda: feed.state is FeedState.LIVE, what="first sync")
    version = feed.version
    moved.clear()
    await move_market(sim, 15)
    await at_rest(sim, feed)
    assert feed.version != version
    assert moved
    assert set(moved) == {SYMBOL}


async def test_a_top_100_frame_that_leaves_the_book_as_it_was_wakes_no_pane(
    sim: SimServer, hub: tuple[MarketHub, list[MarketEvent]]
) -> None:
    """The venue's top 100 (``order_book_*``) is read for the cross-check only: the UI is
    woken (``moved``) for the frames that change the book or the tape, and for state
    changes, not for each top frame (40 % of a pair's frames, each a redraw for nothing)."""
    service, events = hub
    feed = await service.watch(SYMBOL)
    await until(lambda: feed.state is FeedState.LIVE, what="first sync")
    counts = {"diff": 0, "trade": 0, "top": 0}

    def counted(kind: str, handler: Callable[..., object]) -> Callable[..., object]:
        def count(*args: object) -> object:
            counts[kind] += 1
            return handler(*args)

        return count

    feed.on_diff = counted("diff", feed.on_diff)  # type: ignore[method-assign,assignment]
    feed.on_trade = counted("trade", feed.on_trade)  # type: ignore[method-assign,assignment]
    feed.on_top = counted("top", feed.on_top)  # type: ignore[method-assign,assignment]
    moved: list[str] = []
    service.moved = moved.append
    events.clear()
    await move_market(sim, 15)
    await at_rest(sim, feed)
    await asyncio.sleep(0.3)  # the last frames of the last step
    states = sum(isinstance(e, FeedStateChanged) for e in events)
    assert counts["top"] > 0
    assert counts["diff"] > 0
    assert len(moved) == counts["diff"] + counts["trade"] + states
