"""A start from the markets the last start saw (``services/markets_cache.py``): the pair
subscribes at once and its first book is the venue's top 100, with no REST on the way; the
market data's REST and the venue's markets follow the first drawn book (or a cap), and the
venue's answer replaces the cache (a pair whose rules changed is subscribed afresh)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest

from workstation.domain.common import Side
from workstation.services import hub as hub_module
from workstation.services.feed import FeedState
from workstation.services.hub import REST_HOLD_CAP_S
from workstation.services.markets_cache import MarketsCache
from workstation.services.session import Session
from workstation.services.venue import Venue
from workstation.sim.server import SimServer

from .market_support import until

MARKETS = "GET /api/v2/markets/"


def rest_calls(sim: SimServer) -> int:
    return sum(n for what, n in sim.requests.items() if what.startswith("GET /api/"))


@pytest.fixture
async def saved(sim: SimServer, tmp_path: Path) -> tuple[Venue, MarketsCache]:
    """The simulator as a venue, and the markets a first start of it saved."""
    venue = Venue("sim", sim.rest_url, sim.ws_url)
    cache = MarketsCache(tmp_path / "markets.json")
    async with Session(venue, markets_cache=cache) as first:
        await first.open_market_hub(lambda change: None, ["btcusd"])  # a miss: asks, saves
        assert first.markets_known.is_set()
    assert cache.read("sim") is not None
    return venue, cache


async def test_the_second_start_shows_a_book_before_any_rest_then_syncs(
    sim: SimServer, saved: tuple[Venue, MarketsCache]
) -> None:
    venue, cache = saved
    before, markets_asked = rest_calls(sim), sim.requests[MARKETS]
    async with Session(venue, markets_cache=cache) as session:
        hub = await session.open_market_hub(lambda change: None, ["btcusd"])
        feed = await hub.watch("btcusd")
        await until(lambda: feed.book.depth(Side.BUY) > 0, what="the venue's top 100")
        engine = sim.exchange.engines["btcusd"]
        assert feed.book.levels(Side.SELL) == engine.levels(Side.SELL)[:100]
        assert feed.stale
        await asyncio.sleep(0.1)  # well inside the cap: REST is still held
        assert rest_calls(sim) == before  # no markets, snapshot, ticker nor tape yet
        assert not session.markets_known.is_set()
        hub.release_rest()  # the screen drew the book
        await until(lambda: feed.state is FeedState.LIVE, what="the synced book")
        await session.venue_markets()
        assert sim.requests[MARKETS] == markets_asked + 1
        assert hub.feeds["btcusd"] is feed  # same rules: the same feed goes on
        assert feed.book.levels(Side.BUY) == engine.levels(Side.BUY)


async def test_with_no_screen_to_say_so_the_rest_goes_after_the_cap(
    sim: SimServer, saved: tuple[Venue, MarketsCache]
) -> None:
    venue, cache = saved
    async with Session(venue, markets_cache=cache) as session:
        hub = await session.open_market_hub(lambda change: None, ["btcusd"])
        opened_at = asyncio.get_running_loop().time()
        feed = await hub.watch("btcusd")
        await until(lambda: feed.state is FeedState.LIVE, what="the synced book")
        assert asyncio.get_running_loop().time() - opened_at >= REST_HOLD_CAP_S * 0.9
        await asyncio.wait_for(session.venue_markets(), 5)


async def test_a_quiet_pair_with_no_top_frame_gets_its_snapshot_at_once(
    sim: SimServer, saved: tuple[Venue, MarketsCache], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The venue sends an ``order_book`` frame when the book changes: a still market has
    none to send (here: another client subscribed first, so the simulator sent its one
    frame to it). Nothing to draw, so the REST is not held for the screen: the snapshot is
    asked a moment after the subscription (the cap pushed out of the test's way)."""
    monkeypatch.setattr(hub_module, "REST_HOLD_CAP_S", 60.0)
    venue, cache = saved
    async with Session(venue) as other:  # the channel's first subscriber
        first = await (await other.open_market_hub(lambda change: None)).watch("btcusd")
        await until(lambda: first.state is FeedState.LIVE, what="the other client's book")
        async with Session(venue, markets_cache=cache) as session:
            hub = await session.open_market_hub(lambda change: None, ["btcusd"])
            feed = await hub.watch("btcusd")
            await until(lambda: feed.state is FeedState.LIVE, what="the synced book")
            assert not feed.top_shown
            await asyncio.wait_for(session.venue_markets(), 5)


async def test_a_pair_whose_rules_changed_is_subscribed_again_with_the_venues(
    sim: SimServer, saved: tuple[Venue, MarketsCache]
) -> None:
    """The cache says btcusd prices have 1 decimal (the venue: 2). Its top 100 does not fit
    those rules and is not shown; once the venue's markets are in, the pair gets a new feed
    with the venue's rules, which syncs."""
    venue, cache = saved
    venues = cache.read("sim")
    assert venues is not None
    changed = [replace(m, quote_decimals=1) if m.symbol == "btcusd" else m for m in venues]
    cache.save("sim", changed)
    async with Session(venue, markets_cache=cache) as session:
        hub = await session.open_market_hub(lambda change: None, ["btcusd"])
        old = await hub.watch("btcusd")
        assert old.market.quote_decimals == 1
        hub.release_rest()
        await session.venue_markets()  # returns once the feeds follow the venue's rules
        feed = hub.feeds["btcusd"]
        assert feed is not old
        assert feed.market.quote_decimals == 2
        assert session.markets["btcusd"].quote_decimals == 2
        await until(lambda: feed.state is FeedState.LIVE, what="the new feed's synced book")
    assert cache.read("sim") == venues  # the venue's answer saved again


async def test_a_pair_the_cache_does_not_have_waits_for_the_venues_markets(
    sim: SimServer, saved: tuple[Venue, MarketsCache]
) -> None:
    venue, cache = saved
    venues = cache.read("sim")
    assert venues is not None
    cache.save("sim", [m for m in venues if m.symbol != "ethusd"])
    asked = sim.requests[MARKETS]
    async with Session(venue, markets_cache=cache) as session:
        await session.open_market_hub(lambda change: None, ["btcusd", "ethusd"])
        assert sim.requests[MARKETS] == asked + 1  # asked before the hub was built
        assert session.markets_known.is_set()
        assert "ethusd" in session.markets
