"""The kill switch and the submits already on their way when it fires, against the simulator
over loopback: a submit the exchange receives late (after the cancel-all) is awaited and its
order cancelled too; one the exchange placed but answers slowly is reported as ours, not as
an order placed elsewhere; and while the kill runs, new submits and amends are refused,
nothing journaled or sent, until it ends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest

from workstation.bitstamp.rest import RestClient
from workstation.domain.common import Side
from workstation.domain.order_request import OrderRequest
from workstation.domain.order_vocabulary import OrderKind, TrackState
from workstation.domain.tracked_order import CancelReport
from workstation.services.journal import Journal
from workstation.services.refusals import KILL_REASON, SubmitsBlocked
from workstation.services.trading import TradingService
from workstation.sim.faults import HttpFault, HttpFaultKind
from workstation.sim.server import SimServer

from .trading_support import Changes, below_bid, trading_service, until

D = Decimal
BUY_PATH = "POST /api/v2/buy/btcusd/"


@pytest.fixture
async def service(
    sim: SimServer, rest: RestClient, journal: Journal, changes: Changes
) -> AsyncIterator[TradingService]:
    async with trading_service(sim, rest, journal, changes) as service:
        assert service.submits_allowed
        yield service


def limit(price: D, amount: str = "0.01", **kw: Any) -> OrderRequest:
    return OrderRequest("btcusd", Side.BUY, OrderKind.LIMIT, D(amount), price, **kw)


def sim_open(sim: SimServer) -> list[Any]:
    return sim.exchange.open_orders("demo", None)


CANCEL_ALLS: dict[str, Callable[[TradingService], Awaitable[CancelReport]]] = {
    "kill": lambda service: service.kill(),
    "pair": lambda service: service.cancel_all("btcusd"),
}
"""The kill switch, and the orders pane's cancel-all of one pair (`k`): both await the submits
on their way (on that pair) and cancel each that lands, so none is left open behind an "all
cancelled" (the pair's once left one: docs/decisions.md, "A pair's cancel-all waits")."""


@pytest.mark.parametrize("cancel_all", CANCEL_ALLS.values(), ids=CANCEL_ALLS.keys())
async def test_a_submit_the_exchange_receives_after_the_cancel_all_is_awaited_and_cancelled(
    sim: SimServer,
    service: TradingService,
    cancel_all: Callable[[TradingService], Awaitable[CancelReport]],
) -> None:
    resting = await service.submit(limit(below_bid(sim, "btcusd", 100)))
    # The next order reaches the matching engine only after a delay: the
    # cancel_all_orders is carried out first, then the order lands, open.
    sim.faults.fail_next("/api/v2/buy/", HttpFault(HttpFaultKind.DELAY, seconds=1.0))
    late = asyncio.create_task(service.submit(limit(below_bid(sim, "btcusd", 200))))
    await until(lambda: sim.requests[BUY_PATH] == 2, "the second submit in flight")

    report = await cancel_all(service)

    assert late.done()  # awaited by the cancel-all, never sent again
    late_cid = (await late).client_order_id
    assert sim.requests[BUY_PATH] == 2
    assert sim_open(sim) == []
    assert report.failed == {}
    assert {o.client_order_id: o.state for o in report.orders} == {
        resting.client_order_id: TrackState.CANCELLED,
        late_cid: TrackState.CANCELLED,
    }
    assert service.open_orders() == []
    assert service.submits_allowed  # the kill's block lifts when it ends; a pair's never blocks


@pytest.mark.parametrize("cancel_all", CANCEL_ALLS.values(), ids=CANCEL_ALLS.keys())
async def test_a_submit_placed_but_answered_slowly_is_ours_in_the_report_not_placed_elsewhere(
    sim: SimServer,
    service: TradingService,
    cancel_all: Callable[[TradingService], Awaitable[CancelReport]],
) -> None:
    resting = await service.submit(limit(below_bid(sim, "btcusd", 100)))
    # Placed at once, answered a second later: the cancel-all cancels it before we know its
    # exchange id, and lists it.
    sim.faults.fail_next("/api/v2/buy/", HttpFault(HttpFaultKind.HANG_AFTER_ACCEPT, seconds=1.0))
    slow = asyncio.create_task(service.submit(limit(below_bid(sim, "btcusd", 200))))
    await until(lambda: len(sim_open(sim)) == 2, "the second order placed, unanswered")

    report = await cancel_all(service)

    slow_cid = (await slow).client_order_id
    assert sim.requests[BUY_PATH] == 2  # never sent again
    assert sim_open(sim) == []
    assert report.failed == {}
    assert {o.client_order_id: o.state for o in report.orders} == {
        resting.client_order_id: TrackState.CANCELLED,
        slow_cid: TrackState.CANCELLED,
    }
    assert not any(o.external for o in service.recent_orders())  # no phantom adopted
    assert service.open_orders() == []


async def test_submits_and_amends_during_the_kill_are_refused_and_change_nothing(
    sim: SimServer, service: TradingService, journal: Journal, changes: Changes
) -> None:
    resting = await service.submit(limit(below_bid(sim, "btcusd", 100)))
    sim.faults.fail_next("/api/v2/cancel_all_orders/", HttpFault(HttpFaultKind.DELAY, seconds=0.5))
    kill = asyncio.create_task(service.kill())
    await until(lambda: sim.requests["POST /api/v2/cancel_all_orders/"] == 1, "the kill running")
    journaled = len(journal.raw_rows("orders"))
    sent = sum(sim.requests.values())

    assert not service.submits_allowed
    assert service.gate_reason == KILL_REASON
    with pytest.raises(SubmitsBlocked, match="kill switch"):
        await service.submit(limit(below_bid(sim, "btcusd", 300)))
    with pytest.raises(SubmitsBlocked, match="kill switch"):
        await service.amend(resting.client_order_id, price=below_bid(sim, "btcusd", 50))

    assert len(journal.raw_rows("orders")) == journaled  # nothing journaled
    assert sum(sim.requests.values()) == sent  # nothing sent
    assert service.tracker.get(resting.client_order_id).state is TrackState.OPEN
    report = await kill
    assert [o.client_order_id for o in report.cancelled] == [resting.client_order_id]
    assert changes.gates()[-2:] == [KILL_REASON, ""]

    again = await service.submit(limit(below_bid(sim, "btcusd", 100)))  # a deliberate new order
    assert again.state is TrackState.OPEN
    assert len(sim_open(sim)) == 1


async def test_a_submit_still_unanswered_when_the_wait_ends_is_reported_failed_not_cancelled(
    sim: SimServer, service: TradingService
) -> None:
    """The wait for the submits on their way is bounded: one with no outcome by then is
    tried by its client_order_id and, not found yet, reported failed with why (never
    called cancelled, never sent again)."""
    sim.faults.fail_next("/api/v2/buy/", HttpFault(HttpFaultKind.DELAY, seconds=1.0))
    late = asyncio.create_task(service.submit(limit(below_bid(sim, "btcusd", 200))))
    await until(lambda: sim.requests[BUY_PATH] == 1, "the submit in flight")

    report = await service.tracker.canceller.kill(settle_s=0.2)

    assert not late.done()
    [order] = report.orders
    assert order.state is TrackState.PENDING
    reason = report.failed[order.client_order_id]
    assert reason.startswith("sent as the cancel-all fired, no outcome yet (")
    assert reason.endswith("): it may still land")
    assert service.submits_allowed  # the kill has ended
    await late  # it lands after all: the report said it was not cancelled
    assert sim.requests[BUY_PATH] == 1
    assert [o.client_order_id for o in service.open_orders()] == [order.client_order_id]
