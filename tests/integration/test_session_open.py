"""A session's market hub opens its WebSocket while the markets are asked (a cold start's
path to the first book), and an open that ends early leaves no stream behind."""

from __future__ import annotations

import asyncio

from workstation.bitstamp.stream import ConnectionState
from workstation.services.feed import FeedState
from workstation.services.session import Session
from workstation.services.venue import Venue
from workstation.sim.exchange import SimExchange
from workstation.sim.server import SimServer

from .market_support import until
from .test_unreachable import free_port

SLOW_REST_MS = 400
"""Every REST reply of the simulator waits this long (its WebSocket does not)."""


def stream_tasks() -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks() if t.get_name() == "bitstamp-stream" and not t.done()]


async def test_the_stream_is_open_by_the_time_the_markets_are_in(sim: SimServer) -> None:
    sim.faults.delay_responses(SLOW_REST_MS)
    async with Session(Venue("sim", sim.rest_url, sim.ws_url)) as session:
        hub = await session.open_market_hub(lambda change: None)
        assert hub.stream.state is ConnectionState.CONNECTED  # opened during the wait
        sim.faults.delay_responses(0)
        feed = await hub.watch("btcusd")
        await until(lambda: feed.state is FeedState.LIVE, what="a live book")
        assert feed.book.best_bid() is not None
    assert stream_tasks() == []


async def test_an_open_cancelled_while_the_markets_are_asked_closes_its_stream(
    sim: SimServer,
) -> None:
    sim.faults.delay_responses(30_000)
    async with Session(Venue("sim", sim.rest_url, sim.ws_url)) as session:
        opening = asyncio.create_task(session.open_market_hub(lambda change: None))
        # "GET /" is the WebSocket's upgrade: the stream is opening, the markets not in
        await until(lambda: sim.requests.get("GET /", 0) > 0, what="the WebSocket's upgrade")
        assert stream_tasks()
        opening.cancel()
        await asyncio.wait({opening})
        assert opening.cancelled()
        assert stream_tasks() == []
        assert session.hub is None


async def test_while_the_venue_cannot_be_reached_no_stream_retries_beside_the_markets() -> None:
    """Nothing listens at the venue's address: the markets are asked again and again (the
    reachability's pauses); the stream opened with the first ask is closed when it fails, so
    no connection loop piles up failures for the hub to replay. Once the venue is up, the
    markets come in and the hub's stream opens."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    async with Session(Venue("sim", url, f"ws://127.0.0.1:{port}/")) as session:
        opening = asyncio.create_task(session.open_market_hub(lambda change: None))
        await until(lambda: session.reach.down, what="the venue said down")
        await asyncio.sleep(0.5)
        assert stream_tasks() == []
        async with SimServer(SimExchange(seed=7, speed=0), port=port):
            async with asyncio.timeout(30):
                hub = await opening
            assert "btcusd" in hub.markets
            await until(
                lambda: hub.stream.state is ConnectionState.CONNECTED, what="the hub's stream"
            )
            assert len(stream_tasks()) == 1
            await session.close_streams()
    assert stream_tasks() == []
