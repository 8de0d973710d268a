"""Every open order of the account is the trader's business, also those placed elsewhere (the
web, the phone, a bot): listed at start and when they appear, marked as placed elsewhere,
counted and cancelled by cancel-all, cancelled and amended one by one. The other client here
is a second, separately signed REST client talking straight to the simulator."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from workstation.bitstamp.rest import RestClient
from workstation.bitstamp.transport import RetryPolicy
from workstation.domain.common import Side
from workstation.domain.order_vocabulary import TrackState
from workstation.domain.tracked_order import TrackedOrder
from workstation.services.events import OrderChanged
from workstation.services.journal import Journal
from workstation.services.trading import TradingService
from workstation.sim.server import SimServer

from .conftest import credentials_for
from .trading_support import Changes, below_bid, kinds, sim_balance, trading_service, until

D = Decimal


@pytest.fixture
async def web(sim: SimServer) -> AsyncIterator[RestClient]:
    """The account's other client (the web, a bot): its own signed REST client."""
    client = RestClient.for_url(
        sim.rest_url,
        credentials=credentials_for(sim),
        retry=RetryPolicy(attempts=2, base_s=0.01, cap_s=0.05),
        timeout_s=2.0,
    )
    async with client:
        yield client


async def place_elsewhere(web: RestClient, price: D, amount: str = "0.01") -> int:
    """A signed buy/ straight to the simulator, without a client_order_id (as the web does)."""
    body = await web.transport.post_private(
        "/api/v2/buy/btcusd/", {"amount": amount, "price": str(price)}, safe=False
    )
    return int(json.loads(body)["id"])


def elsewhere(service: TradingService) -> list[TrackedOrder]:
    return [o for o in service.open_orders() if o.external]


async def test_an_order_placed_elsewhere_is_listed_at_start_and_cancel_all_counts_it(
    sim: SimServer, rest: RestClient, web: RestClient, journal: Journal, changes: Changes
) -> None:
    price = below_bid(sim, "btcusd", 100)
    order_id = await place_elsewhere(web, price)
    assert sim_balance(sim, "usd") == D(100000)  # the funds are reserved, not spent
    async with trading_service(sim, rest, journal, changes) as service:
        await until(lambda: service.submits_allowed, "the start's reconcile")
        [listed] = service.open_orders()
        assert listed.external
        assert (listed.order_id, listed.side, listed.price, listed.amount, listed.state) == (
            order_id,
            Side.BUY,
            price,
            D("0.01"),
            TrackState.OPEN,
        )
        # The journal learned it: it is listed again after a restart, and its end is recorded.
        assert [r.order_id for r in journal.open_orders("sim")] == [order_id]
        assert kinds(journal, listed.client_order_id)[0] == "intent"
        assert journal.events(listed.client_order_id)[0].detail["external"] is True

        report = await service.cancel_all()
        assert [o.order_id for o in report.cancelled] == [order_id]
        assert report.failed == {}
        assert sim.exchange.open_orders("demo", None) == []
        assert service.open_orders() == []
        ended = service.tracker.get(listed.client_order_id)
        assert ended.state is TrackState.CANCELLED
        assert journal.order(listed.client_order_id).state is TrackState.CANCELLED  # type: ignore[union-attr]


async def test_cancel_all_counts_an_order_placed_elsewhere_it_had_not_seen(
    sim: SimServer, rest: RestClient, web: RestClient, journal: Journal, changes: Changes
) -> None:
    async with trading_service(sim, rest, journal, changes) as service:
        # On a pair the service does not follow: no private event tells it about the order.
        engine = sim.exchange.engines["ethusd"]
        bid = engine.best_bid()
        assert bid is not None
        body = await web.transport.post_private(
            "/api/v2/buy/ethusd/", {"amount": "0.2", "price": str(bid - 10)}, safe=False
        )
        order_id = int(json.loads(body)["id"])
        report = await service.cancel_all()
        assert [(o.order_id, o.external, o.state) for o in report.cancelled] == [
            (order_id, True, TrackState.CANCELLED)
        ]
        assert sim.exchange.open_orders("demo", None) == []


async def test_an_order_placed_elsewhere_while_running_is_listed_cancelled_and_amended(
    sim: SimServer, rest: RestClient, web: RestClient, journal: Journal, changes: Changes
) -> None:
    async with trading_service(sim, rest, journal, changes) as service:
        await service.watch("btcusd")
        first = await place_elsewhere(web, below_bid(sim, "btcusd", 100))
        await until(lambda: len(elsewhere(service)) == 1, "the order placed elsewhere listed")
        [listed] = elsewhere(service)
        assert listed.order_id == first
        assert any(c.order == listed for c in changes.of(OrderChanged))  # the pane was told

        cancelled = await service.cancel(listed.client_order_id)
        assert cancelled.state is TrackState.CANCELLED
        assert sim.exchange.open_orders("demo", None) == []
        requests = [e.detail for e in journal.events(listed.client_order_id) if e.kind == "cancel"]
        assert requests[0] == {"phase": "request", "order_id": first}  # by its exchange id

        second = await place_elsewhere(web, below_bid(sim, "btcusd", 200))
        await until(lambda: len(elsewhere(service)) == 1, "the second order listed")
        [other] = elsewhere(service)
        assert other.order_id == second
        new_price = below_bid(sim, "btcusd", 150)
        amended = await service.amend(other.client_order_id, price=new_price)
        assert amended.state is TrackState.OPEN
        assert not amended.external  # the replacement is ours
        [resting] = sim.exchange.open_orders("demo", None)
        assert (resting.order_id, resting.price, resting.amount) == (
            amended.order_id,
            new_price,
            D("0.01"),
        )
        assert service.tracker.get(other.client_order_id).state is TrackState.CANCELLED
        assert [o.client_order_id for o in service.open_orders()] == [amended.client_order_id]
