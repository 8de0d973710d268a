"""Stalled channels (the server still answers heartbeats) against the market data service
over real sockets: a silent book is never shown live, it is resynced and says so, and the
tape misses no trade the venue made, whichever channel stalled.

The market moves all along (a background task steps the simulator's manual clock), and the
silence limits are short (8 usual gaps, at least 1 s) so each case takes a few seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import pytest

from workstation.domain.common import Side
from workstation.services.cadence import SilencePolicy
from workstation.services.events import FeedStateChanged, MarketEvent
from workstation.services.feed import FeedState, MarketFeed
from workstation.services.hub import MarketHub
from workstation.sim.server import SimServer

from .market_support import SYMBOL, manual_sim, running_hub, until

QUICK = SilencePolicy(floor_s=1.0, ceiling_s=5.0, multiple=8)


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    async with manual_sim(history_s=120) as server:
        yield server


@pytest.fixture
async def hub(sim: SimServer) -> AsyncIterator[tuple[MarketHub, list[MarketEvent]]]:
    async with running_hub(sim, book_silence=QUICK, trade_silence=QUICK) as running:
        yield running


@contextlib.asynccontextmanager
async def moving(sim: SimServer) -> AsyncIterator[None]:
    """The market moves (0.1 s of model time every 0.1 s) until the block ends."""

    async def run() -> None:
        while True:
            sim.exchange.advance(0.1)
            await asyncio.sleep(0.1)

    task = asyncio.create_task(run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def stale_throughout(feed: MarketFeed, seconds: float) -> None:
    """The book says STALE at every look for ``seconds`` (it may not flash live)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert feed.stale, "a stalled book was shown live"
        await asyncio.sleep(0.02)


def same_as_engine(sim: SimServer, feed: MarketFeed) -> bool:
    engine = sim.exchange.engines[SYMBOL]
    return feed.state is FeedState.LIVE and (
        feed.book.levels(Side.BUY) == engine.levels(Side.BUY)
        and feed.book.levels(Side.SELL) == engine.levels(Side.SELL)
    )


def missing_trades(sim: SimServer, feed: MarketFeed) -> set[int]:
    """The venue's trades since the tape's oldest that the tape does not hold."""
    oldest = min(t.timestamp_us for t in feed.tape)
    venue = {t.id for t in sim.exchange.transactions(SYMBOL, 3600) if t.timestamp_us >= oldest}
    return venue - {t.id for t in feed.tape}


async def live_feed(sim: SimServer, service: MarketHub) -> MarketFeed:
    feed = await service.watch(SYMBOL)
    await until(lambda: feed.state is FeedState.LIVE and len(feed.tape) > 0, what="first sync")
    await asyncio.sleep(1.0)  # the feed learns the channels' rhythm (10 frames a second)
    assert feed.diffs.usual_s is not None
    assert feed.diffs.usual_s < 0.5
    return feed


async def end_at_rest(sim: SimServer, feed: MarketFeed) -> None:
    """Stop the market; the book must come to equal the engine's, with no trade missing."""
    await asyncio.sleep(0.3)
    await until(lambda: same_as_engine(sim, feed), what="the book to equal the engine's")
    await until(lambda: not missing_trades(sim, feed), what="every trade on the tape")
    assert not feed.stale


async def test_every_channel_stalled_shows_stale_resyncs_and_loses_no_trade(
    sim: SimServer, hub: tuple[MarketHub, list[MarketEvent]]
) -> None:
    service, changes = hub
    async with moving(sim):
        feed = await live_feed(sim, service)
        resyncs = feed.health.resyncs
        sim.faults.stall("*")
        await until(lambda: feed.stale, within=3.0, what="STALE")
        assert "no book frame" in feed.stale_reason or "resyncing" in feed.stale_reason
        await stale_throughout(feed, 1.5)
        assert feed.health.resyncs > resyncs, "the moved book was resynced while stalled"
        assert any(isinstance(c, FeedStateChanged) and "no book frame" in c.detail for c in changes)
        await until(lambda: feed.tape_stale, within=3.0, what="the tape to be STALE")
        sim.faults.unstall()
        await until(lambda: not feed.stale, what="live again")
    await end_at_rest(sim, feed)


async def test_the_diff_channel_stalled_alone_shows_stale(
    sim: SimServer, hub: tuple[MarketHub, list[MarketEvent]]
) -> None:
    service, _ = hub
    async with moving(sim):
        feed = await live_feed(sim, service)
        sim.faults.stall(f"diff_order_book_{SYMBOL}")
        await until(lambda: feed.stale, within=3.0, what="STALE")
        await stale_throughout(feed, 2.0)
        sim.faults.unstall()
        await until(lambda: not feed.stale, what="live again")
    await end_at_rest(sim, feed)


async def test_the_trade_channel_stalled_alone_is_backfilled(
    sim: SimServer, hub: tuple[MarketHub, list[MarketEvent]]
) -> None:
    service, _ = hub
    async with moving(sim):
        feed = await live_feed(sim, service)
        before = len(sim.exchange.transactions(SYMBOL, 3600))
        sim.faults.stall(f"live_trades_{SYMBOL}")
        await until(lambda: feed.tape_stale, within=3.0, what="the tape to be STALE")
        assert not feed.stale  # the book's channels are fine
        await until(lambda: len(sim.exchange.transactions(SYMBOL, 3600)) > before + 5)
        sim.faults.unstall()
        await until(lambda: not feed.tape_stale, what="the tape live again")
    await end_at_rest(sim, feed)


async def test_the_top_100_channel_stalled_alone_leaves_the_book_live(
    sim: SimServer, hub: tuple[MarketHub, list[MarketEvent]]
) -> None:
    """Diffs still come: the book is the venue's, so it is not called stale; the
    cross-check resumes when the channel does."""
    service, _ = hub
    async with moving(sim):
        feed = await live_feed(sim, service)
        sim.faults.stall(f"order_book_{SYMBOL}")
        await until(lambda: feed.tops.silent_for(time.monotonic()) is not None, what="silence")
        assert not feed.stale
        sim.faults.unstall()
        await until(lambda: feed.tops.silent_for(time.monotonic()) is None, what="top frames")
    await end_at_rest(sim, feed)
    assert feed.health.resyncs == 0
