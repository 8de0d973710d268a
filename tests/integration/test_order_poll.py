"""Trading without a private stream (a sandbox without a WebSocket of its own): the service
asks for no stream token, opens submits after reconciling, and follows its orders over REST
on a steady cadence: fills, a cancel made elsewhere, an order placed elsewhere, and a round
that fails told once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from workstation.bitstamp.rest import RestClient
from workstation.domain.common import Side
from workstation.domain.order_request import OrderRequest
from workstation.domain.order_vocabulary import OrderKind, TrackState
from workstation.services.events import TradingError
from workstation.services.journal import Journal
from workstation.services.order_poll import OrderPoll
from workstation.services.trading import TradingService
from workstation.sim.faults import HttpFault, HttpFaultKind
from workstation.sim.orderform import OrderForm
from workstation.sim.server import SimServer

from .trading_support import FAST, Changes, above_bid, below_bid, until

D = Decimal
TOKEN = "POST /api/v2/websockets_token/"
OPEN_ORDERS = "POST /api/v2/open_orders/all/"


@pytest.fixture
async def polled(
    sim: SimServer, rest: RestClient, journal: Journal, changes: Changes
) -> AsyncIterator[TradingService]:
    service = TradingService(
        rest, None, journal, "sim", dict(sim.exchange.markets), listener=changes, policy=FAST
    )
    assert isinstance(service.feed, OrderPoll)
    service.feed.interval_s = 0.1
    try:
        await service.start()
        yield service
    finally:
        await service.close()


def state(service: TradingService, cid: str) -> TrackState:
    return service.tracker.get(cid).state


async def test_no_stream_token_and_orders_followed_over_rest(
    sim: SimServer, polled: TradingService, changes: Changes
) -> None:
    assert polled.submits_allowed  # the start's reconcile opened the gate
    assert polled.orders_polled
    assert not polled.private_connected
    price = above_bid(sim)
    order = await polled.submit(OrderRequest("btcusd", Side.BUY, OrderKind.LIMIT, D("0.02"), price))
    assert order.state is TrackState.OPEN

    sim.exchange.synthetic_take("btcusd", "~taker", Side.SELL, D("0.005"), price)
    await until(lambda: polled.tracker.get(order.client_order_id).filled == D("0.005"), "a fill")
    assert state(polled, order.client_order_id) is TrackState.PARTIALLY_FILLED

    sim.exchange.synthetic_take("btcusd", "~taker", Side.SELL, D("0.015"), price)
    await until(lambda: state(polled, order.client_order_id) is TrackState.FILLED, "the fill")
    assert changes.states(order.client_order_id)[-2:] == [
        TrackState.PARTIALLY_FILLED,
        TrackState.FILLED,
    ]
    rounds = polled.feed.rounds if isinstance(polled.feed, OrderPoll) else 0
    assert rounds >= 2
    assert sim.requests[TOKEN] == 0
    assert sim.hub.private_asked == 0
    assert sim.hub.connection_count == 0


async def test_a_cancel_and_an_order_made_elsewhere_are_found_by_polling(
    sim: SimServer, polled: TradingService
) -> None:
    price = below_bid(sim, "btcusd", 5)
    ours = await polled.submit(OrderRequest("btcusd", Side.BUY, OrderKind.LIMIT, D("0.01"), price))
    assert ours.order_id is not None
    sim.exchange.cancel("demo", order_id=str(ours.order_id), client_order_id=None)  # on the web
    await until(lambda: state(polled, ours.client_order_id) is TrackState.CANCELLED, "cancel")

    form = OrderForm("limit", Side.BUY, "btcusd", {"amount": "0.01", "price": str(price)})
    placed = sim.exchange.place("demo", form)
    await until(
        lambda: any(o.order_id == placed.order_id for o in polled.open_orders()),
        "the order placed elsewhere",
    )
    (adopted,) = [o for o in polled.open_orders() if o.order_id == placed.order_id]
    assert adopted.external


async def test_a_round_that_fails_is_told_once_and_the_next_one_recovers(
    sim: SimServer, polled: TradingService, changes: Changes
) -> None:
    poll = polled.feed
    assert isinstance(poll, OrderPoll)
    poll.discover_every = 1  # every round lists the open orders: the request made to fail
    price = above_bid(sim)
    order = await polled.submit(OrderRequest("btcusd", Side.BUY, OrderKind.LIMIT, D("0.02"), price))
    before = sim.requests[OPEN_ORDERS]
    sim.faults.fail_next(
        "/api/v2/open_orders/", HttpFault(HttpFaultKind.HTML_ERROR, status=502), 12
    )
    await until(lambda: sim.requests[OPEN_ORDERS] >= before + 12, "the failing rounds")
    sim.exchange.synthetic_take("btcusd", "~taker", Side.SELL, D("0.02"), price)
    await until(lambda: state(polled, order.client_order_id) is TrackState.FILLED, "recovery")
    told = [e.detail for e in changes.of(TradingError) if "over REST" in e.detail]
    assert len(told) == 1, told  # told once, not every tick
    assert "HTTP 502" in told[0]
