"""WebSocket faults seen by real clients over loopback sockets, and normal service once a
fault is cleared: dropped diff frames, stalls, silence, malformed frames, and the periodic
connection drops and reconnect requests; the same armed from ``workstation sim --fault-*``
flags. HTTP faults: test_sim_faults.py and test_sim_fault_flags.py."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from decimal import Decimal

import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from workstation.bitstamp.stream import (
    Backoff,
    ClientEvent,
    ConnectionState,
    FrameRejected,
    StreamClient,
)
from workstation.bitstamp.stream_frames import (
    ReconnectRequested,
    SubscriptionSucceeded,
    TradeEvent,
)
from workstation.cli_sim import parse_sim_args
from workstation.domain.common import Side
from workstation.sim.faults import MalformedFrame
from workstation.sim.orderform import OrderForm
from workstation.sim.server import SimServer

D = Decimal
FAST = Backoff(base_s=0.02, cap_s=0.1, stable_after_s=60)
HEARTBEAT_REPLY = {"event": "bts:heartbeat", "channel": "", "data": {"status": "success"}}


@pytest.fixture
async def ws(sim: SimServer) -> AsyncIterator[ClientConnection]:
    async with websockets.connect(sim.ws_url, open_timeout=15) as conn:
        yield conn


async def subscribe(conn: ClientConnection, *channels: str) -> None:
    for channel in channels:
        await conn.send(json.dumps({"event": "bts:subscribe", "data": {"channel": channel}}))
        ack = await next_frame(conn)
        assert ack == {"event": "bts:subscription_succeeded", "channel": channel, "data": {}}


async def next_frame(conn: ClientConnection, within: float = 15.0) -> dict:
    async with asyncio.timeout(within):
        return json.loads(await conn.recv())


async def frames_until(
    conn: ClientConnection, predicate: Callable[[dict], bool], within: float = 15.0
) -> list[dict]:
    """Frames read until one matches (the match last)."""
    seen = []
    async with asyncio.timeout(within):
        while True:
            frame = json.loads(await conn.recv())
            seen.append(frame)
            if predicate(frame):
                return seen


async def heartbeat_fence(conn: ClientConnection) -> list[dict]:
    """Everything queued for us before now: the heartbeat reply comes after it all."""
    await conn.send(json.dumps({"event": "bts:heartbeat"}))
    return await frames_until(conn, lambda f: f["event"] == "bts:heartbeat")


async def events_until(
    client: StreamClient, predicate: Callable[[ClientEvent], bool], within: float = 15.0
) -> list[ClientEvent]:
    seen: list[ClientEvent] = []
    async with asyncio.timeout(within):
        while True:
            seen.append(await client.next_event())
            if predicate(seen[-1]):
                return seen


def place(sim: SimServer, kind: str, side: Side, **fields: str) -> str:
    """An order for the demo account, placed synchronously (no await between arming a fault
    and the book change it should hit)."""
    ack = sim.exchange.place("demo", OrderForm(kind, side, "btcusd", fields))
    return str(ack.order_id)  # as live_orders' id_str


def levels(frame: dict) -> set[Decimal]:
    data = frame["data"]
    return {D(price) for price, _ in [*data["bids"], *data["asks"]]}


def is_diff(frame: dict) -> bool:
    return frame["event"] == "data" and frame["channel"].startswith("diff_order_book_")


async def until(condition: Callable[[], bool], within: float = 15.0) -> None:
    async with asyncio.timeout(within):
        while True:
            if condition():
                return
            await asyncio.sleep(0.01)


# -- WebSocket faults ----------------------------------------------------------------------------


@pytest.mark.parametrize("channel", [None, "diff_order_book_btcusd"])
async def test_diff_frames_dropped_without_a_trace(
    sim: SimServer, ws: ClientConnection, channel: str | None
) -> None:
    await subscribe(ws, "diff_order_book_btcusd")
    best_bid = sim.exchange.engines["btcusd"].best_bid()
    assert best_bid is not None
    lost, kept = best_bid - D("313.13"), best_bid - D("317.17")
    sim.faults.drop_diff_frames(1, channel=channel)
    place(sim, "limit", Side.BUY, amount="0.01", price=str(lost))
    await until(lambda: sim.hub.diff_frames_dropped == 1)
    place(sim, "limit", Side.BUY, amount="0.01", price=str(kept))
    frames = await frames_until(ws, lambda f: is_diff(f) and kept in levels(f))
    assert all(lost not in levels(f) for f in frames if is_diff(f))
    assert sim.faults.dropped_diff_frames == 0
    assert sim.faults.dropped_diff_by_channel == {}


async def test_a_diff_drop_for_another_channel_leaves_this_one_alone(
    sim: SimServer, ws: ClientConnection
) -> None:
    await subscribe(ws, "diff_order_book_btcusd", "diff_order_book_ethusd")
    sim.faults.drop_diff_frames(1, channel="diff_order_book_ethusd")
    best_bid = sim.exchange.engines["btcusd"].best_bid()
    assert best_bid is not None
    price = best_bid - D("211.11")
    place(sim, "limit", Side.BUY, amount="0.01", price=str(price))
    await frames_until(ws, lambda f: is_diff(f) and price in levels(f))
    assert sim.faults.dropped_diff_by_channel == {"diff_order_book_ethusd": 1}
    assert sim.hub.diff_frames_dropped == 0


@pytest.mark.parametrize("stalled", ["live_trades_btcusd", "*"])
async def test_a_stalled_channel_loses_frames_until_unstalled(
    sim: SimServer, ws: ClientConnection, stalled: str
) -> None:
    await subscribe(ws, "live_trades_btcusd", "live_orders_btcusd")
    sim.faults.stall(stalled)
    first = place(sim, "market", Side.BUY, amount="0.002")
    seen = await heartbeat_fence(ws)
    assert not [f for f in seen if f["event"] == "trade"]
    if stalled == "*":
        assert seen == [HEARTBEAT_REPLY]
    else:
        assert {f["data"]["id_str"] for f in seen if f["event"] == "order_deleted"} >= {first}
    sim.faults.unstall()
    second = place(sim, "market", Side.BUY, amount="0.002")
    takers = {
        str(f["data"]["buy_order_id"]) for f in await heartbeat_fence(ws) if f["event"] == "trade"
    }
    assert second in takers
    assert first not in takers  # withheld frames are lost, not sent late


async def test_silence_withholds_even_heartbeat_replies(
    sim: SimServer, ws: ClientConnection
) -> None:
    await subscribe(ws, "live_trades_btcusd")
    sim.faults.silence()
    await ws.send(json.dumps({"event": "bts:heartbeat"}))
    place(sim, "market", Side.BUY, amount="0.002")
    with pytest.raises(TimeoutError):
        await next_frame(ws, within=0.4)
    sim.faults.silence(False)
    assert await heartbeat_fence(ws) == [HEARTBEAT_REPLY]  # the trade frame is lost


@pytest.fixture
async def stream(sim: SimServer) -> AsyncIterator[StreamClient]:
    client = StreamClient(sim.ws_url, heartbeat_s=0.05, idle_timeout_s=2.0, backoff=FAST)
    client.start()
    yield client
    await client.close()


def acked(channel: str) -> Callable[[ClientEvent], bool]:
    return lambda e: isinstance(e, SubscriptionSucceeded) and e.channel == channel


@pytest.mark.parametrize(
    "corruption", [MalformedFrame.TRUNCATED, MalformedFrame.WRONG_SHAPE, '{"event": 7}']
)
async def test_a_malformed_frame_is_rejected_and_the_next_one_parses(
    sim: SimServer, stream: StreamClient, corruption: MalformedFrame | str
) -> None:
    await stream.subscribe("live_trades_btcusd")
    await events_until(stream, acked("live_trades_btcusd"))
    sim.faults.malform_next("live_trades_btcusd", corruption)
    place(sim, "market", Side.BUY, amount="0.002")
    seen = await events_until(stream, lambda e: isinstance(e, FrameRejected | TradeEvent))
    assert isinstance(seen[-1], FrameRejected)
    assert sim.hub.frames_malformed == 1
    order_id = int(place(sim, "market", Side.BUY, amount="0.002"))
    seen = await events_until(
        stream, lambda e: isinstance(e, TradeEvent) and e.trade.buy_order_id == order_id
    )
    assert not [e for e in seen if isinstance(e, FrameRejected)]


async def test_ws_connections_dropped_periodically(sim: SimServer, stream: StreamClient) -> None:
    await stream.subscribe("live_trades_btcusd")
    await events_until(stream, acked("live_trades_btcusd"))
    sim.drop_ws_every(0.3)
    for _ in range(2):
        await events_until(stream, acked("live_trades_btcusd"))
    assert stream.reconnects >= 2
    assert sim.periodic_runs["drop-ws"] >= 2
    sim.drop_ws_every(None)
    runs = sim.periodic_runs["drop-ws"]
    await asyncio.sleep(0.3)  # a reconnect under way when the schedule ended may finish
    settled = stream.reconnects
    await asyncio.sleep(0.9)
    assert stream.reconnects == settled
    assert stream.state is ConnectionState.CONNECTED
    assert sim.periodic_runs["drop-ws"] == runs
    assert sim.periodic_faults == {}


async def test_reconnect_requested_periodically(sim: SimServer, stream: StreamClient) -> None:
    await stream.subscribe("live_trades_btcusd")
    await events_until(stream, acked("live_trades_btcusd"))
    sim.request_reconnect_every(0.3)
    requests = 0

    def second_request(event: ClientEvent) -> bool:
        nonlocal requests
        requests += isinstance(event, ReconnectRequested)
        return requests == 2

    await events_until(stream, second_request)
    await events_until(stream, acked("live_trades_btcusd"))  # obeyed: back and resubscribed
    assert stream.reconnects >= 2
    sim.clear_faults()
    runs = sim.periodic_runs["request-reconnect"]
    assert runs >= 2
    await asyncio.sleep(0.3)  # a request sent just before the clear may still be in flight
    settled = stream.reconnects
    await asyncio.sleep(0.9)
    assert stream.reconnects == settled
    assert sim.periodic_runs["request-reconnect"] == runs


# -- the same from the command line --------------------------------------------------------------


def arm(sim: SimServer, *argv: str) -> None:
    """Arm what ``workstation sim ARGV`` would arm."""
    sim.arm(parse_sim_args(list(argv)).faults)


async def test_a_channel_stalled_from_the_command_line(
    sim: SimServer, ws: ClientConnection
) -> None:
    arm(sim, "--fault-stall", "live_trades_btcusd")
    await subscribe(ws, "live_trades_btcusd", "live_orders_btcusd")
    first = place(sim, "market", Side.BUY, amount="0.002")
    seen = await heartbeat_fence(ws)
    assert not [f for f in seen if f["event"] == "trade"]
    assert {f["data"]["id_str"] for f in seen if f["event"] == "order_deleted"} >= {first}
    sim.clear_faults()
    second = place(sim, "market", Side.BUY, amount="0.002")
    takers = {
        str(f["data"]["buy_order_id"]) for f in await heartbeat_fence(ws) if f["event"] == "trade"
    }
    assert takers == {second}


async def test_an_intermittent_stall_from_the_command_line(
    sim: SimServer, ws: ClientConnection
) -> None:
    arm(sim, "--fault-stall", "live_trades_btcusd", "--fault-stall-period", "0.3")
    assert sim.periodic_faults == {"stall": 0.3}
    assert not sim.faults.withholds("live_trades_btcusd")  # it starts flowing
    await subscribe(ws, "live_trades_btcusd")
    for _ in range(2):
        await until(lambda: sim.faults.withholds("live_trades_btcusd"))
        withheld = place(sim, "market", Side.BUY, amount="0.002")
        assert not [f for f in await heartbeat_fence(ws) if f["event"] == "trade"]
        await until(lambda: not sim.faults.withholds("live_trades_btcusd"))
        sent = place(sim, "market", Side.BUY, amount="0.002")
        takers = {
            str(f["data"]["buy_order_id"])
            for f in await heartbeat_fence(ws)
            if f["event"] == "trade"
        }
        assert takers == {sent}
        assert withheld not in takers
    assert sim.periodic_runs["stall"] >= 4
    assert not sim.faults.withholds("live_orders_btcusd")  # only the named channel
    sim.clear_faults()
    assert sim.periodic_faults == {}
    assert not sim.faults.withholds("live_trades_btcusd")


async def test_frames_malformed_periodically_from_the_command_line(
    sim: SimServer, ws: ClientConnection
) -> None:
    arm(sim, "--fault-malformed-every", "0.1")
    assert sim.faults.malformed_pending("live_trades_btcusd") == 0  # nobody subscribed yet
    await subscribe(ws, "live_trades_btcusd")
    await until(lambda: sim.faults.malformed_pending("live_trades_btcusd") == 1)
    runs = sim.periodic_runs["malformed"]
    await until(lambda: sim.periodic_runs["malformed"] >= runs + 3)
    assert sim.faults.malformed_pending("live_trades_btcusd") == 1  # no pile-up while quiet
    for expect_json in (False, True):  # cut in half, then wrong-shaped, in turn
        await until(lambda: sim.faults.malformed_pending("live_trades_btcusd") == 1)
        order_id = int(place(sim, "market", Side.BUY, amount="0.002"))
        async with asyncio.timeout(15):
            text = await ws.recv()
        if expect_json:
            wire = json.loads(text)
            assert (wire["event"], wire["channel"]) == ("trade", "live_trades_btcusd")
            assert not isinstance(wire["data"], dict)
        else:
            with pytest.raises(ValueError, match="Expecting|Unterminated"):
                json.loads(text)
        rest = await heartbeat_fence(ws)  # any further trade of that order is intact
        assert all(f["data"]["buy_order_id"] == order_id for f in rest if f["event"] == "trade")
    assert sim.hub.frames_malformed == 2
    sim.clear_faults()
    assert sim.faults.malformed_pending("live_trades_btcusd") == 0
    order_id = int(place(sim, "market", Side.BUY, amount="0.002"))
    seen = await heartbeat_fence(ws)
    assert [f["data"]["buy_order_id"] for f in seen if f["event"] == "trade"][:1] == [order_id]


async def test_every_nth_diff_frame_dropped_from_the_command_line(
    sim: SimServer, ws: ClientConnection
) -> None:
    arm(sim, "--fault-drop-diffs-every", "2")
    await subscribe(ws, "diff_order_book_btcusd")
    best_bid = sim.exchange.engines["btcusd"].best_bid()
    assert best_bid is not None
    prices = [best_bid - D("300") - D(n) for n in range(1, 6)]
    seen: list[dict] = []
    for n, price in enumerate(prices, start=1):
        place(sim, "limit", Side.BUY, amount="0.01", price=str(price))
        if n % 2:  # the 1st, 3rd and 5th frames arrive
            seen += await frames_until(ws, lambda f, p=price: is_diff(f) and p in levels(f))
        else:  # the 2nd and 4th are dropped without a trace
            await until(lambda n=n: sim.hub.diff_frames_dropped == n // 2)
    diffs = [levels(f) for f in seen if is_diff(f)]
    assert set().union(*diffs) & set(prices) == {prices[0], prices[2], prices[4]}
    assert sim.hub.diff_frames_dropped == 2
