"""The private stream through the trading service: fills learned without anyone asking,
reconnects that block submits until reconciled, fills counted once whatever the stream did.

The market is the simulator's synthetic flow on a manual clock (as in
test_sim_market_flow.py): it trades only when the test steps it, so every fill here comes
from ``exchange.advance`` and is deterministic for the seed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from workstation.bitstamp.rest import RestClient
from workstation.domain.common import Side
from workstation.domain.order_request import OrderRequest
from workstation.domain.order_vocabulary import OrderKind, TrackState
from workstation.services.events import PrivateStreamChanged
from workstation.services.journal import Journal
from workstation.services.private_feed import RECONNECTED
from workstation.services.refusals import SubmitsBlocked
from workstation.services.trading import TradingService
from workstation.sim.faults import HttpFault, HttpFaultKind
from workstation.sim.orderform import OrderForm
from workstation.sim.server import SimServer

from .trading_support import (
    Changes,
    above_bid,
    below_bid,
    fills_as_trades,
    sim_trades,
    trading_service,
    until,
)

D = Decimal
STEP_S = 0.05
MAX_STEPS = 400  # 20 s of market time at most


@pytest.fixture
async def service(
    live_sim: SimServer, live_rest: RestClient, journal: Journal, changes: Changes
) -> AsyncIterator[TradingService]:
    async with trading_service(live_sim, live_rest, journal, changes) as service:
        await service.watch("btcusd")
        yield service


def traded(sim: SimServer, order_id: int | None) -> D:
    assert order_id is not None
    record = sim.exchange.orders.get(order_id)
    assert record is not None
    return record.traded


def step_until_traded(sim: SimServer, order_id: int | None) -> D:
    """Step the market until the order has traded something; what it has traded then."""
    for _ in range(MAX_STEPS):
        sim.exchange.advance(STEP_S)
        if (done := traded(sim, order_id)) > 0:
            return done
    raise AssertionError("the synthetic sellers never reached the bid")


async def test_a_fill_by_the_market_is_learned_from_the_private_stream(
    live_sim: SimServer, service: TradingService, journal: Journal, changes: Changes
) -> None:
    bid = above_bid(live_sim)
    amount = D("1")
    order = await service.submit(OrderRequest("btcusd", Side.BUY, OrderKind.LIMIT, amount, bid))
    cid = order.client_order_id
    assert order.state is TrackState.OPEN
    status_path = "POST /api/v2/order_status/"
    asked_before = live_sim.requests[status_path]

    done = step_until_traded(live_sim, order.order_id)
    assert 0 < done < amount, "filled in part, not in one go"
    # Nobody calls refresh: the private stream's events make the tracker ask.
    await until(lambda: service.tracker.get(cid).filled == done, "the fill learned")
    assert live_sim.requests[status_path] > asked_before
    learned = service.tracker.get(cid)
    assert learned.state is TrackState.PARTIALLY_FILLED
    assert learned.avg_price is not None
    assert learned.avg_price.quantize(bid) == bid  # quote amounts are booked to 5 places
    assert [o.client_order_id for o in service.open_orders()] == [cid]
    assert changes.states(cid) == [
        TrackState.PENDING,
        TrackState.OPEN,
        TrackState.PARTIALLY_FILLED,
    ]

    cancelled = await service.cancel(cid)
    assert (cancelled.state, cancelled.filled) == (TrackState.CANCELLED, done)
    assert cancelled.remaining == amount - done
    assert live_sim.exchange.open_orders("demo", None) == []
    await asyncio.sleep(0.3)  # the stream's events about the cancel add nothing
    assert fills_as_trades(journal, cid) == sim_trades(live_sim, order.order_id)
    await until(
        lambda: service.balances["USD"].reserved == 0, "the reserve released in the balances"
    )


async def test_an_order_placed_elsewhere_is_adopted_from_its_event_once(
    live_sim: SimServer, service: TradingService, journal: Journal
) -> None:
    status_path = "POST /api/v2/order_status/"
    listed_path = "POST /api/v2/open_orders/btcusd/"
    asked, listed = live_sim.requests[status_path], live_sim.requests[listed_path]
    balances_before = service.account.requests
    form = OrderForm(
        "limit",
        Side.BUY,
        "btcusd",
        {
            "amount": "0.01",
            "price": str(below_bid(live_sim, "btcusd", 50)),
            "client_order_id": "bot",
        },
    )
    ack = live_sim.exchange.place("demo", form)  # another client of the same account
    await until(lambda: service.account.requests > balances_before, "the balances refreshed")
    await until(lambda: len(service.open_orders()) == 1, "the order placed elsewhere listed")
    [adopted] = service.open_orders()
    assert (adopted.external, adopted.order_id, adopted.state) == (
        True,
        ack.order_id,
        TrackState.OPEN,
    )
    assert adopted.client_order_id == f"ext-{ack.order_id}"  # "bot" may be anyone's
    assert journal.events(adopted.client_order_id)[0].detail["exchange_client_order_id"] == "bot"
    await asyncio.sleep(0.3)
    # One listing of the market and one order_status for its fills so far: nothing more.
    assert live_sim.requests[listed_path] - listed == 1
    assert live_sim.requests[status_path] - asked == 1


async def test_a_dropped_private_stream_blocks_submits_until_reconciled_and_loses_no_fill(
    live_sim: SimServer, service: TradingService, journal: Journal, changes: Changes
) -> None:
    bid = above_bid(live_sim)
    amount = D("1")
    order = await service.submit(OrderRequest("btcusd", Side.BUY, OrderKind.LIMIT, amount, bid))
    other = await service.submit(
        OrderRequest(
            "btcusd", Side.BUY, OrderKind.LIMIT, D("0.01"), below_bid(live_sim, "btcusd", 500)
        )
    )
    cid = order.client_order_id
    first = step_until_traded(live_sim, order.order_id)
    await until(lambda: service.tracker.get(cid).filled == first, "the first fill learned")

    # The reconcile after the reconnect takes a while: long enough to watch the gate.
    live_sim.faults.fail_next("/api/v2/open_orders/", HttpFault(HttpFaultKind.DELAY, seconds=1.5))
    await live_sim.hub.drop_all()
    for _ in range(MAX_STEPS):  # the market fills more while nobody listens
        live_sim.exchange.advance(STEP_S)
        if traded(live_sim, order.order_id) > first:
            break
    missed = traded(live_sim, order.order_id)
    assert missed > first
    assert service.tracker.get(cid).filled == first  # the events are gone

    await until(lambda: not service.submits_allowed, "the gate closed on the reconnect")
    assert service.gate_reason == RECONNECTED
    with pytest.raises(SubmitsBlocked):
        await service.submit(OrderRequest("btcusd", Side.BUY, OrderKind.MARKET, D("0.01")))
    cancelled = await service.cancel(other.client_order_id)  # cancels stay allowed
    assert cancelled.state is TrackState.CANCELLED

    await until(lambda: service.submits_allowed, "the reconcile done")
    assert service.private_connected
    assert changes.gates()[-2:] == [RECONNECTED, ""]
    assert service.tracker.get(cid).filled == missed
    # Every fill once: the journal holds exactly what the exchange booked for the order.
    await asyncio.sleep(0.3)
    assert fills_as_trades(journal, cid) == sim_trades(live_sim, order.order_id)
    assert sum(a for a, _ in fills_as_trades(journal, cid)) == missed
    assert any(c.detail.startswith("disconnected") for c in changes.of(PrivateStreamChanged))
    # And trading goes on.
    after = await service.submit(OrderRequest("btcusd", Side.BUY, OrderKind.MARKET, D("0.01")))
    assert after.state is TrackState.FILLED
