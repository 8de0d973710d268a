"""The net cut fault over real loopback sockets: while the network is cut, a new REST or
WebSocket connection is refused (ECONNREFUSED, not an HTTP error) and every open one is
aborted; afterwards the same port serves again and the exchange (books, orders, balances)
went on meanwhile. Armed by hand (``SimServer.net_cut``, ``cut_net``), by the
``--fault-net-cut`` flags, in a ``workstation sim`` child, and ridden out by the workstation's
own services."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from workstation.bitstamp.request_auth import BitstampAuth
from workstation.bitstamp.secret import Secret
from workstation.cli_sim import parse_sim_args
from workstation.domain.common import Side
from workstation.services.facade import VenueServices
from workstation.services.venue import Venue
from workstation.services.views import StreamState
from workstation.sim.exchange import SimExchange
from workstation.sim.server import SimServer

from .conftest import credentials_for, sim_process
from .market_support import manual_sim, until

TICKER = "/api/v2/ticker/btcusd/"
BOOK = "order_book_btcusd"


@pytest.fixture
async def http(sim: SimServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sim.rest_url, timeout=5.0) as client:
        yield client


@pytest.fixture
async def signed(sim: SimServer) -> AsyncIterator[httpx.AsyncClient]:
    auth = BitstampAuth(credentials_for(sim))
    async with httpx.AsyncClient(base_url=sim.rest_url, auth=auth, timeout=5.0) as client:
        yield client


async def refused(host: str, port: int) -> bool:
    """Whether a TCP connection to ``host:port`` is refused right now: ECONNREFUSED, or
    ECONNRESET when the connect was already in the kernel's accept queue as the cut closed the
    listening socket (seen on a loaded CI machine with a cut every 0.5 s)."""
    try:
        _, writer = await asyncio.open_connection(host, port)
    except (ConnectionRefusedError, ConnectionResetError):
        return True
    writer.close()
    await writer.wait_closed()
    return False


async def subscribed(url: str) -> websockets.ClientConnection:
    """A WebSocket subscribed to the btcusd book, its confirmation read."""
    conn = await websockets.connect(url, open_timeout=5)
    await conn.send(json.dumps({"event": "bts:subscribe", "data": {"channel": BOOK}}))
    async with asyncio.timeout(5):
        while json.loads(await conn.recv())["event"] != "bts:subscription_succeeded":
            pass
    return conn


async def read_until_closed(conn: websockets.ClientConnection) -> None:
    """Read frames until the connection closes (raises ``ConnectionClosed``), 5 s at most."""
    async with asyncio.timeout(5):
        while True:
            await conn.recv()


def exchange_state(sim: SimServer) -> tuple[object, ...]:
    """What must survive a cut: the book, our open orders and balances."""
    engine = sim.exchange.engines["btcusd"]
    return (
        engine.levels(Side.BUY),
        engine.levels(Side.SELL),
        sim.exchange.open_orders("demo", None),
        sim.exchange.balances("demo"),
    )


# -- by hand -----------------------------------------------------------------------------------


async def test_a_cut_refuses_connections_drops_open_ones_and_the_port_comes_back(
    sim: SimServer, http: httpx.AsyncClient, signed: httpx.AsyncClient
) -> None:
    assert (await http.get(TICKER)).status_code == 200  # a keep-alive connection now open
    form = {"amount": "0.01", "price": "60000", "client_order_id": "resting"}
    assert (await signed.post("/api/v2/buy/btcusd/", data=form)).status_code == 200
    ws = await subscribed(sim.ws_url)
    before, port = exchange_state(sim), sim.port
    assert sim.open_connections >= 3

    async with sim.net_cut():
        assert sim.net_is_cut
        with pytest.raises(ConnectionClosed):  # the open WebSocket is aborted
            await read_until_closed(ws)
        await until(lambda: sim.open_connections == 0, 5, "every connection aborted")
        assert await refused(sim.host, port)
        with pytest.raises(httpx.ConnectError):  # the pooled connection is gone, a new refused
            await http.get(TICKER)
        with pytest.raises(httpx.ConnectError):
            await signed.post("/api/v2/account_balances/")
        with pytest.raises(ConnectionRefusedError):
            await websockets.connect(sim.ws_url, open_timeout=5)

    assert not sim.net_is_cut
    assert (sim.port, sim.net_cuts_started) == (port, 1)
    assert not await refused(sim.host, port)
    assert (await http.get(TICKER)).status_code == 200
    assert (await signed.post("/api/v2/account_balances/")).status_code == 200
    again = await subscribed(sim.ws_url)
    await again.close()
    assert exchange_state(sim) == before
    [order] = sim.exchange.open_orders("demo", None)
    assert order.client_order_id == "resting"


async def test_a_timed_cut_ends_by_itself_and_cuts_may_overlap(
    sim: SimServer, http: httpx.AsyncClient
) -> None:
    started = time.monotonic()
    short = asyncio.create_task(sim.cut_net(0.3))
    await until(lambda: sim.net_is_cut, 5, "the cut")
    longer = asyncio.create_task(sim.cut_net(0.6))
    assert await refused(sim.host, sim.port)
    await short
    assert sim.net_is_cut  # the longer cut still holds
    assert await refused(sim.host, sim.port)
    await longer
    assert time.monotonic() - started >= 0.6
    assert not sim.net_is_cut
    assert sim.net_cuts_started == 1  # the overlapping one was the same outage
    assert (await http.get(TICKER)).status_code == 200
    for nonsense in (0, -1, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="positive number of seconds"):
            await sim.cut_net(nonsense)


async def test_a_stop_ends_a_cut_early_and_a_stopped_server_cannot_be_cut() -> None:
    server = SimServer(SimExchange(seed=7, speed=0))
    with pytest.raises(RuntimeError, match="not running"):
        async with server.net_cut():
            pass
    await server.start()
    port = server.port
    cut = asyncio.create_task(server.cut_net(60))
    await until(lambda: server.net_is_cut, 5, "the cut")
    await server.stop()
    async with asyncio.timeout(2):
        await cut
    assert await refused("127.0.0.1", port)  # stopped: not listening again


# -- the flags ---------------------------------------------------------------------------------


async def test_the_flags_arm_a_periodic_cut(sim: SimServer, http: httpx.AsyncClient) -> None:
    sim.arm(parse_sim_args(["--fault-net-cut", "0.4", "--fault-net-cut-every", "0.3"]).faults)
    assert sim.periodic_faults == {"net-cut": 0.3}
    await until(lambda: sim.net_is_cut, 5, "the first cut")
    assert await refused(sim.host, sim.port)
    await until(lambda: sim.periodic_runs["net-cut"] >= 1, 5, "the first cut over")
    await until(lambda: sim.net_cuts_started >= 2, 5, "a second cut")
    sim.clear_faults()
    assert sim.periodic_faults == {}
    await until(lambda: not sim.net_is_cut, 5, "the cut under way ended")
    assert (await http.get(TICKER)).status_code == 200


async def test_clearing_faults_ends_a_long_cut_under_way(
    sim: SimServer, http: httpx.AsyncClient
) -> None:
    sim.cut_net_every(0.05, 3600)
    await until(lambda: sim.net_is_cut, 5, "the cut")
    sim.clear_faults()
    await until(lambda: not sim.net_is_cut, 5, "the network back")
    assert (await http.get(TICKER)).status_code == 200
    with pytest.raises(ValueError, match="positive number of seconds"):
        sim.cut_net_every(1.0, 0)


async def test_sim_command_cuts_the_network_on_its_period() -> None:
    flags = ("--fault-net-cut", "0.5", "--fault-net-cut-every", "0.5")
    async with sim_process(*flags) as child:
        assert (
            "Fault      network cut for 0.5 s after every 0.5 s up "
            "(connections refused, open ones dropped)"
        ) in child.banner
        host, port = child.rest_base.removeprefix("http://").split(":")
        seen: list[bool] = []
        async with asyncio.timeout(10):
            while not (True in seen and seen[-1] is False):  # refused, then served again
                seen.append(await refused(host, int(port)))
                await asyncio.sleep(0.02)
        async with httpx.AsyncClient(base_url=child.rest_base, timeout=5.0) as http:
            for _ in range(50):  # between two cuts
                try:
                    reply = await http.get(TICKER)
                except httpx.TransportError:  # refused, or accepted and then cut mid-request
                    await asyncio.sleep(0.05)
                    continue
                assert reply.status_code == 200
                break
            else:
                raise AssertionError("the simulator never served again")


# -- the workstation's services ----------------------------------------------------------------


async def test_the_venue_services_ride_out_a_cut(tmp_path: Path) -> None:
    """The stream goes down (health says so), the market moves meanwhile, and once the net is
    back the book is the simulator's again, with trading allowed."""
    async with manual_sim(history_s=120) as sim:
        demo = sim.exchange.demo
        venue = Venue("sim", sim.rest_url, sim.ws_url, Secret(demo.api_key), Secret(demo.secret))
        services = VenueServices(venue, journal_path=tmp_path / "journal.sqlite3")
        engine = sim.exchange.engines["btcusd"]

        def same_book() -> bool:
            view = services.market("btcusd")
            return (
                view is not None
                and view.live
                and not view.stale
                and view.book.levels(Side.BUY) == engine.levels(Side.BUY)
                and view.book.levels(Side.SELL) == engine.levels(Side.SELL)
            )

        def connected() -> bool:
            health = services.health()
            return health.connection is StreamState.CONNECTED and health.private_connected

        await services.open(["btcusd"])
        try:
            await until(lambda: connected() and same_book(), 20, "the book live")
            view = services.market("btcusd")
            assert view is not None
            reconnects = view.reconnects
            before = engine.levels(Side.BUY), engine.levels(Side.SELL)
            async with sim.net_cut():
                await until(lambda: not connected(), 10, "health to show the stream down")
                sim.exchange.advance(10)  # the market moves while we are cut off
                assert (engine.levels(Side.BUY), engine.levels(Side.SELL)) != before
                await asyncio.sleep(1.0)
                assert not connected()
            await until(lambda: connected() and same_book(), 30, "the book resynced")
            view = services.market("btcusd")
            assert view is not None
            assert view.reconnects > reconnects
            trading = services.trading
            assert trading is not None
            await until(lambda: trading.submits_allowed, 10, "new orders allowed")
        finally:
            await services.close()
