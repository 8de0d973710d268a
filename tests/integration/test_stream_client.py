"""The WebSocket client against the simulator over real loopback sockets: typed events,
reconnects with resubscription, heartbeats and idle timeouts, request_reconnect, errors."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable
from decimal import Decimal

import msgspec
import pytest

from workstation.bitstamp.rest import RestClient
from workstation.bitstamp.stream import (
    Backoff,
    ClientEvent,
    ConnectionState,
    ConnectionStateChanged,
    FrameRejected,
    StreamClient,
)
from workstation.bitstamp.stream_frames import (
    OrderEventFrame,
    ReconnectRequested,
    StreamErrorEvent,
    SubscriptionSucceeded,
    TradeEvent,
)
from workstation.domain.common import Side
from workstation.domain.orders import OrderEventKind
from workstation.sim.server import SimServer

D = Decimal
FAST = Backoff(base_s=0.02, cap_s=0.1, stable_after_s=60)


@pytest.fixture
async def stream(sim: SimServer, rest: RestClient) -> AsyncIterator[StreamClient]:
    client = StreamClient(
        sim.ws_url,
        token_provider=rest.websockets_token,
        heartbeat_s=0.1,
        idle_timeout_s=1.5,  # generous: CI machines are shared and slow
        backoff=FAST,
    )
    client.start()
    yield client
    await client.close()


async def wait_for(
    client: StreamClient, predicate: Callable[[ClientEvent], bool], within: float = 5.0
) -> list[ClientEvent]:
    """Read events until one matches; returns every event read, the match last."""
    seen: list[ClientEvent] = []
    async with asyncio.timeout(within):
        while True:
            event = await client.next_event()
            seen.append(event)
            if predicate(event):
                return seen


def acked(channel: str) -> Callable[[ClientEvent], bool]:
    return lambda e: isinstance(e, SubscriptionSucceeded) and e.channel == channel


def state(wanted: ConnectionState) -> Callable[[ClientEvent], bool]:
    return lambda e: isinstance(e, ConnectionStateChanged) and e.state is wanted


async def take_liquidity(rest: RestClient, sim: SimServer, tag: str) -> None:
    best_ask = sim.exchange.engines["btcusd"].best_ask()
    assert best_ask is not None
    await rest.place_limit(
        Side.BUY, "btcusd", amount=D("0.002"), price=best_ask, client_order_id=tag
    )


async def test_trades_arrive_as_typed_events(
    sim: SimServer, rest: RestClient, stream: StreamClient
) -> None:
    await stream.subscribe("live_trades_btcusd")
    await wait_for(stream, acked("live_trades_btcusd"))
    await take_liquidity(rest, sim, "t-1")
    [*_, event] = await wait_for(stream, lambda e: isinstance(e, TradeEvent))
    assert isinstance(event, TradeEvent)
    assert event.trade.market == "btcusd"
    assert event.trade.side is Side.BUY


async def test_reconnects_and_resubscribes_after_a_drop(
    sim: SimServer, rest: RestClient, stream: StreamClient
) -> None:
    await stream.subscribe("live_trades_btcusd")
    await wait_for(stream, acked("live_trades_btcusd"))
    await sim.hub.drop_all()
    events = await wait_for(stream, acked("live_trades_btcusd"))
    states = [e.state for e in events if isinstance(e, ConnectionStateChanged)]
    assert states[:3] == [
        ConnectionState.DISCONNECTED,
        ConnectionState.CONNECTING,
        ConnectionState.CONNECTED,
    ]
    assert stream.reconnects == 1
    await take_liquidity(rest, sim, "t-2")
    await wait_for(stream, lambda e: isinstance(e, TradeEvent))


async def test_heartbeats_keep_a_quiet_connection_open(
    sim: SimServer, stream: StreamClient
) -> None:
    await stream.subscribe("live_trades_ethbtc")  # nothing trades there
    await wait_for(stream, acked("live_trades_ethbtc"))
    await asyncio.sleep(3.2)  # over twice the idle timeout; heartbeat replies keep it alive
    assert stream.reconnects == 0
    assert stream.state is ConnectionState.CONNECTED


async def test_a_silent_server_trips_the_idle_timeout(sim: SimServer, stream: StreamClient) -> None:
    await stream.subscribe("live_trades_btcusd")
    await wait_for(stream, acked("live_trades_btcusd"))
    sim.faults.ws_silent = True
    [*_, dropped] = await wait_for(stream, state(ConnectionState.DISCONNECTED))
    assert isinstance(dropped, ConnectionStateChanged)
    assert "no message" in dropped.reason
    sim.faults.ws_silent = False
    await wait_for(stream, acked("live_trades_btcusd"))


async def test_request_reconnect_is_obeyed_at_once(sim: SimServer, stream: StreamClient) -> None:
    await stream.subscribe("diff_order_book_btcusd")
    await wait_for(stream, acked("diff_order_book_btcusd"))
    sim.hub.request_reconnect()
    events = await wait_for(stream, acked("diff_order_book_btcusd"), within=2.0)
    assert any(isinstance(e, ReconnectRequested) for e in events)
    assert stream.reconnects == 1


async def test_errors_and_malformed_frames_are_surfaced(
    sim: SimServer, stream: StreamClient
) -> None:
    await stream.subscribe("live_trades_nosuch")
    [*_, error] = await wait_for(stream, lambda e: isinstance(e, StreamErrorEvent))
    assert isinstance(error, StreamErrorEvent)
    assert "nosuch" in error.message
    sim.hub.send_raw('{"event": "trade", "channel": "live_trades_btcusd", "data": {"id": "x"}}')
    await wait_for(stream, lambda e: isinstance(e, FrameRejected))


async def test_private_orders_use_a_fresh_token_after_each_reconnect(
    sim: SimServer, rest: RestClient
) -> None:
    tokens: list[str] = []

    async def token_provider():
        token = await rest.websockets_token()
        tokens.append(token.token)
        return token

    client = StreamClient(
        sim.ws_url,
        token_provider=token_provider,
        heartbeat_s=0.05,
        idle_timeout_s=1.0,
        backoff=FAST,
    )
    client.start()
    try:
        uid = sim.exchange.demo.user_id
        channel = f"private-my_orders_btcusd-{uid}"
        await client.subscribe_private("private-my_orders_btcusd")
        await wait_for(client, acked(channel))
        await sim.hub.drop_all()
        await wait_for(client, acked(channel))
        # One fresh token per connection (a slow machine may add an idle-timeout reconnect).
        assert len(tokens) == client.reconnects + 1 >= 2
        assert len(set(tokens)) == len(tokens)
        await rest.place_limit(
            Side.SELL, "btcusd", amount=D("0.01"), price=D("70000"), client_order_id="p-1"
        )
        [*_, created] = await wait_for(client, lambda e: isinstance(e, OrderEventFrame))
        assert isinstance(created, OrderEventFrame)
        event = created.order_event
        assert event.kind is OrderEventKind.CREATED
        assert event.client_order_id == "p-1"
        assert (event.side, event.price, event.amount) == (Side.SELL, D("70000"), D("0.01"))
    finally:
        await client.close()


async def test_a_bad_token_is_refused_with_4009(sim: SimServer) -> None:
    from workstation.domain.account import WebsocketToken

    async def forged() -> WebsocketToken:
        return WebsocketToken(token="f" * 32, valid_sec=60, user_id=sim.exchange.demo.user_id)

    client = StreamClient(sim.ws_url, token_provider=forged, backoff=FAST)
    client.start()
    try:
        await client.subscribe_private("private-my_trades_btcusd")
        [*_, error] = await wait_for(client, lambda e: isinstance(e, StreamErrorEvent))
        assert isinstance(error, StreamErrorEvent)
        assert error.code == 4009
    finally:
        await client.close()


class _FailsOnce(Backoff, frozen=True):
    """A backoff whose first delay raises: a stand-in for any bug in the connect loop."""

    calls: list[int] = msgspec.field(default_factory=list)

    def delay(self, failures: int, rng: random.Random) -> float:
        self.calls.append(failures)
        if len(self.calls) == 1:
            raise RuntimeError("a bug in the connect loop")
        return super().delay(failures, rng)


async def test_a_failure_of_the_connect_loop_is_told_and_the_stream_comes_back(
    sim: SimServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Before, an exception outside a connection's own try (the backoff overflowing after
    1,025 short-lived connections) ended the stream's task: no reconnect ever again, and
    nothing said until the app quit."""
    backoff = _FailsOnce(base_s=0.02, cap_s=0.1, stable_after_s=60)
    client = StreamClient(sim.ws_url, heartbeat_s=0.1, idle_timeout_s=1.5, backoff=backoff)
    client.start()
    await client.subscribe("live_trades_btcusd")
    try:
        await wait_for(client, acked("live_trades_btcusd"))
        await sim.hub.drop_all()
        seen = await wait_for(client, state(ConnectionState.CONNECTED))
        told = [
            e.reason
            for e in seen
            if isinstance(e, ConnectionStateChanged) and e.state is ConnectionState.DISCONNECTED
        ]
        assert any(
            "connect loop failed (RuntimeError: a bug in the connect loop)" in r for r in told
        )
        assert "the connect loop failed" in caplog.text
        await wait_for(client, acked("live_trades_btcusd"))  # subscribed again
    finally:
        await client.close()
