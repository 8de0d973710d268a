"""A cancel that fails says so: its reason and the order's true state (asked of the exchange),
never a silent "still open". A cancel refused by a 429 is sent again after the pause (a
repeated cancel is harmless); cancel-all reports what it really cancelled and what failed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from workstation.bitstamp.rest import RestClient
from workstation.domain.order_vocabulary import TrackState
from workstation.services.journal import Journal
from workstation.services.refusals import CancelFailed
from workstation.services.trading import TradingService
from workstation.sim.faults import HttpFault, HttpFaultKind
from workstation.sim.server import SimServer

from .trading_support import Changes, below_bid, limit_at, trading_service

CANCEL = "POST /api/v2/cancel_order/"
CANCEL_ALL = "POST /api/v2/cancel_all_orders/"
REFUSALS = {
    "500": HttpFault(HttpFaultKind.SERVER_ERROR, status=500),
    "502-html": HttpFault(HttpFaultKind.HTML_ERROR, status=502),
}


@pytest.fixture
async def service(
    sim: SimServer, rest: RestClient, journal: Journal, changes: Changes
) -> AsyncIterator[TradingService]:
    async with trading_service(sim, rest, journal, changes) as service:
        yield service


def sim_ids(sim: SimServer) -> set[int]:
    return {o.order_id for o in sim.exchange.open_orders("demo", None)}


async def test_a_failed_cancel_says_why_and_the_true_state_and_a_429_is_sent_again(
    sim: SimServer, service: TradingService, journal: Journal
) -> None:
    order = await service.submit(limit_at(below_bid(sim, "btcusd", 100)))
    cid = order.client_order_id
    for refusal in REFUSALS.values():
        sim.faults.fail_next("/api/v2/cancel_order/", refusal)
        with pytest.raises(CancelFailed) as failed:
            await service.cancel(cid)
        assert failed.value.order.state is TrackState.OPEN  # asked of the exchange afterwards
        assert failed.value.confirmed
        assert failed.value.reason
        assert "still open" in str(failed.value)
        assert failed.value.reason in str(failed.value)
        assert sim_ids(sim) == {order.order_id}
    phases = [e.detail["phase"] for e in journal.events(cid) if e.kind == "cancel"]
    assert phases == ["request", "failed"] * len(REFUSALS)

    # A 429: sent again once the pause is over, and it goes through.
    sent = sim.requests[CANCEL]
    sim.faults.fail_next(
        "/api/v2/cancel_order/", HttpFault(HttpFaultKind.RATE_LIMIT, retry_after=0.2)
    )
    done = await service.cancel(cid)
    assert done.state is TrackState.CANCELLED
    assert sim.requests[CANCEL] - sent == 2
    assert sim_ids(sim) == set()


async def test_cancel_all_reports_what_it_really_cancelled_and_each_failure(
    sim: SimServer, service: TradingService
) -> None:
    orders = [await service.submit(limit_at(below_bid(sim, "btcusd", n))) for n in (100, 200)]
    sim.faults.fail_next("/api/v2/cancel_all_orders/", REFUSALS["500"])
    report = await service.cancel_all()
    assert report.cancelled == []
    assert set(report.failed) == {o.client_order_id for o in orders}
    assert all(reason for reason in report.failed.values())
    assert {o.state for o in report.orders} == {TrackState.OPEN}
    assert sim_ids(sim) == {o.order_id for o in orders}

    # Refused by a 429: sent again after the pause.
    sim.faults.fail_next(
        "/api/v2/cancel_all_orders/", HttpFault(HttpFaultKind.RATE_LIMIT, retry_after=0.2)
    )
    report = await service.cancel_all()
    assert sorted(o.client_order_id for o in report.cancelled) == sorted(
        o.client_order_id for o in orders
    )
    assert report.failed == {}
    assert sim.requests[CANCEL_ALL] == 3
    assert sim_ids(sim) == set()


async def test_with_429_500_and_502_mixed_in_every_cancel_ends_cancelled_or_says_why(
    sim: SimServer, service: TradingService
) -> None:
    orders = [await service.submit(limit_at(below_bid(sim, "btcusd", 50 + n))) for n in range(7)]
    # Every 2nd request a 429, every 3rd a JSON 500, every 5th an HTML 502: cancels and the
    # order_status reads after them all meet some (the first cancel surely: a 502 page).
    sim.faults.answer_429_every(2, retry_after_s=0.05)
    sim.faults.answer_5xx_every(3)
    sim.faults.answer_html_every(5)
    sim.faults.fail_next("/api/v2/cancel_order/", REFUSALS["502-html"])
    failures: list[CancelFailed] = []
    for order in orders:
        try:
            done = await service.cancel(order.client_order_id)
        except CancelFailed as failed:
            failures.append(failed)
        else:
            assert done.state is TrackState.CANCELLED
            assert order.order_id not in sim_ids(sim)
    assert failures
    for failed in failures:
        assert failed.reason
        if failed.confirmed:  # what it says the order is, the exchange says too
            assert failed.order.state is TrackState.OPEN
            assert failed.order.order_id in sim_ids(sim)
        else:
            assert "not confirmed" in str(failed)
    # Calm again: cancel-all finds exactly the orders whose cancel failed still live.
    sim.faults.answer_429_every(0)
    sim.faults.answer_5xx_every(0)
    sim.faults.answer_html_every(0)
    live = sim_ids(sim)
    assert live == {f.order.order_id for f in failures if f.order.order_id in live}
    report = await service.cancel_all()
    assert report.failed == {}
    assert {o.order_id for o in report.cancelled} == live
    assert sim_ids(sim) == set()
