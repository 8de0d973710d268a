"""The market data service against the simulator over real sockets: the synced book equals
the engine's, and it recovers from every way a stream goes wrong.

The simulator runs on a manual clock (it moves only when a test steps it), so "at rest" is
a moment the test chooses: stop stepping, let the last frames arrive, compare.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest

from workstation.bitstamp.rest import RestClient
from workstation.bitstamp.stream import Backoff, StreamClient
from workstation.domain.common import Side
from workstation.services.feed import FeedState, MarketFeed
from workstation.services.hub import FeedChange, MarketHub
from workstation.sim.clock import SimClock
from workstation.sim.exchange import SimExchange
from workstation.sim.server import SimServer

SYMBOL = "btcusd"


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    clock = SimClock(manual_start_us=time.time_ns() // 1000)
    server = SimServer(SimExchange(seed=5, speed=5, clock=clock, history_s=900))
    async with server:
        yield server


@pytest.fixture
async def hub(sim: SimServer) -> AsyncIterator[tuple[MarketHub, list[FeedChange]]]:
    rest = RestClient.for_url(sim.rest_url, timeout_s=5.0)
    stream = StreamClient(
        sim.ws_url, heartbeat_s=0.5, idle_timeout_s=5.0, backoff=Backoff(base_s=0.05, cap_s=0.2)
    )
    changes: list[FeedChange] = []
    markets = {m.symbol: m for m in await rest.markets()}
    service = MarketHub(rest, stream, markets, listener=changes.append, ticker_every_s=0.5)
    await service.start()
    try:
        yield service, changes
    finally:
        await service.close()
        await rest.aclose()


async def until(condition: Callable[[], bool], within: float = 10.0, what: str = "") -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await asyncio.sleep(0.02)


async def move_market(sim: SimServer, steps: int = 10) -> None:
    """Step the market and give the publisher (every 100 ms) time to send each change."""
    for _ in range(steps):
        sim.exchange.advance(0.3)
        await asyncio.sleep(0.12)


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
    sim: SimServer, hub: tuple[MarketHub, list[FeedChange]]
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
    assert feed.health.rest_latency.percentile(50) is not None
    assert any(c.kind == "state" and c.symbol == SYMBOL and c.detail == "live" for c in changes)
