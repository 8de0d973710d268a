"""The trading service against the simulator over loopback: what the ticket, the open orders
pane and the balances pane rely on (journal first, never resent, true final states)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from workstation.bitstamp.orders import SubmitForm
from workstation.bitstamp.rest import RestClient
from workstation.domain.common import Side
from workstation.domain.order_request import OrderRequest
from workstation.domain.order_vocabulary import OrderKind, TimeInForce, TrackState
from workstation.services.journal import Journal
from workstation.services.refusals import AmendRefused, SubmitsBlocked
from workstation.services.trading import TradingService
from workstation.sim.faults import HttpFault, HttpFaultKind
from workstation.sim.server import SimServer

from .trading_support import (
    Changes,
    above_bid,
    below_bid,
    fills_as_trades,
    kinds,
    sell_into,
    sim_balance,
    sim_orders,
    sim_trades,
    trading_service,
    until,
)

D = Decimal
BUY_PATH = "POST /api/v2/buy/btcusd/"


@pytest.fixture
async def service(
    sim: SimServer, rest: RestClient, journal: Journal, changes: Changes
) -> AsyncIterator[TradingService]:
    async with trading_service(sim, rest, journal, changes) as service:
        assert service.submits_allowed
        assert service.private_connected
        yield service


def limit(price: D, amount: str = "0.01", market: str = "btcusd", **kw: Any) -> OrderRequest:
    return OrderRequest(market, Side.BUY, OrderKind.LIMIT, D(amount), price, **kw)


# -- market and instant orders ----------------------------------------------------------------

TAKERS = {
    "market-buy": (
        OrderRequest("btcusd", Side.BUY, OrderKind.MARKET, D("0.01")),
        "place",
        "POST /api/v2/buy/market/btcusd/",
    ),
    "instant-buy-usd": (
        OrderRequest("btcusd", Side.BUY, OrderKind.INSTANT, D("100")),
        "place",
        "POST /api/v2/buy/instant/btcusd/",
    ),
    "instant-sell-usd": (
        OrderRequest("btcusd", Side.SELL, OrderKind.INSTANT, D("100"), amount_in_quote=True),
        "place",
        "POST /api/v2/sell/instant/btcusd/",
    ),
}


@pytest.mark.parametrize("name", list(TAKERS))
async def test_market_and_instant_orders_fill_once_and_move_balances(
    name: str,
    sim: SimServer,
    rest: RestClient,
    service: TradingService,
    journal: Journal,
    journal_path: Path,
    changes: Changes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    request, method, path = TAKERS[name]
    btc_before = service.balances["BTC"].total
    seen_on_disk: list[Any] = []
    real = getattr(rest, method)

    async def spy(form: SubmitForm) -> Any:
        with Journal(journal_path) as other:  # a second connection sees only committed rows
            cid = form.client_order_id
            seen_on_disk.append((other.order(cid), kinds(other, cid)))
        return await real(form)

    monkeypatch.setattr(rest, method, spy)
    order = await service.submit(request, preview={"avg_price": D("67000.1")})
    cid = order.client_order_id

    [(row, kinds_then)] = seen_on_disk
    assert row.state is TrackState.PENDING
    assert kinds_then == ["intent", "request"]
    assert order.state is TrackState.FILLED
    assert order.order_id is not None
    assert sim.requests[path] == 1
    # Every fill the exchange booked for the order is journaled, once.
    trades = sim_trades(sim, order.order_id)
    assert trades
    await service.tracker.refresh(cid)  # asking again adds nothing
    await asyncio.sleep(0.3)  # the private stream's events (and their confirms) come and go
    assert fills_as_trades(journal, cid) == trades
    assert order.filled == sum(a for a, _ in trades)
    assert service.tracker.get(cid).filled == order.filled
    intent = journal.events(cid)[0].detail
    assert intent["preview"] == {"avg_price": "67000.1"}
    if request.in_quote:
        # Sized in USD: the USD traded is the amount, less at most one satoshi's worth.
        assert order.amount_in_quote
        assert D(0) <= order.remaining < order.avg_price * D("0.00000001")  # type: ignore[operator]
        assert intent["amount_in_quote"] is True
    else:
        assert (order.filled, order.remaining) == (D("0.01"), 0)
    # The balances pane follows, once the throttled refresh has run.
    await until(lambda: service.balances["BTC"].total == sim_balance(sim, "btc"), "balances")
    assert service.balances["BTC"].total != btc_before
    assert changes.states(cid)[0] is TrackState.PENDING
    assert changes.states(cid)[-1] is TrackState.FILLED


async def test_fees_and_balances_come_from_the_account(
    sim: SimServer, service: TradingService
) -> None:
    assert service.fee_percent("btcusd") == D("0.40")
    assert service.fee_percent("btcusd", maker=True) == D("0.30")
    assert service.fee_percent("nosuch") is None
    usd = service.balances["USD"]
    assert (usd.total, usd.available, usd.reserved) == (D(100000), D(100000), D(0))


async def test_balance_refreshes_are_throttled_with_a_trailing_one(
    sim: SimServer, service: TradingService
) -> None:
    requests = "POST /api/v2/account_balances/"
    await asyncio.sleep(1.1)  # past the start's refresh: the next one goes at once
    # ...and that refresh served: on a loaded machine it can still be on its way, and would
    # then be counted after ``before`` (seen in CI: never ``before + 1``, straight to + 2)
    await until(
        lambda: sim.requests[requests] == service.account.requests, "the start's refresh served"
    )
    before, sent = sim.requests[requests], service.account.requests
    for _ in range(50):
        service.account.request_refresh()
    await until(lambda: service.account.requests == sent + 1, "the first refresh sent")
    await until(lambda: sim.requests[requests] == before + 1, "the first refresh served")
    await asyncio.sleep(0.1)
    assert service.balances["BTC"].reserved == 0
    sell_into(sim, "0.01", above_bid(sim) + 1000)  # money moves after the first reply...
    for _ in range(50):
        service.account.request_refresh()  # ...and the trailing refresh sees it
    await until(lambda: service.balances["BTC"].reserved == D("0.01"), "the trailing refresh")
    await asyncio.sleep(1.2)
    assert sim.requests[requests] - before == 2


# -- limit orders: amend, cancel, cancel all ----------------------------------------------------


async def test_amend_price_and_amount_leaves_one_order_on_the_exchange(
    sim: SimServer, service: TradingService, journal: Journal
) -> None:
    old = await service.submit(limit(D("60000")))
    assert old.state is TrackState.OPEN
    new = await service.amend(old.client_order_id, price=D("60100"), amount=D("0.02"))
    assert new.state is TrackState.OPEN
    assert new.client_order_id != old.client_order_id
    assert new.replaces == old.client_order_id
    [resting] = sim.exchange.open_orders("demo", None)
    assert (resting.client_order_id, resting.price, resting.amount) == (
        new.client_order_id,
        D("60100"),
        D("0.02"),
    )
    assert resting.order_id == new.order_id
    gone = service.tracker.get(old.client_order_id)
    assert gone.state is TrackState.CANCELLED
    assert gone.reason == f"replaced by {new.client_order_id}"
    assert [o.client_order_id for o in service.open_orders()] == [new.client_order_id]
    assert kinds(journal, new.client_order_id)[:3] == ["intent", "request", "ack"]
    phases = [e.detail["phase"] for e in journal.events(old.client_order_id) if e.kind == "cancel"]
    assert phases == ["request", "replaced"]
    # Price only: the amount stays what the order has left.
    newer = await service.amend(new.client_order_id, price=D("60200"))
    [resting] = sim.exchange.open_orders("demo", None)
    assert (resting.client_order_id, resting.price, resting.amount) == (
        newer.client_order_id,
        D("60200"),
        D("0.02"),
    )


async def test_a_refused_amend_changes_nothing_and_says_why(
    sim: SimServer, service: TradingService
) -> None:
    old = await service.submit(limit(D("60000")))
    new = await service.amend(old.client_order_id, price=D("1000"))  # far outside the band
    assert new.state is TrackState.REJECTED
    assert new.reason is not None
    assert "below market price" in new.reason
    assert service.tracker.get(old.client_order_id).state is TrackState.OPEN
    [resting] = sim.exchange.open_orders("demo", None)
    assert (resting.client_order_id, resting.price) == (old.client_order_id, D("60000"))
    with pytest.raises(AmendRefused, match="nothing to change"):
        await service.amend(old.client_order_id, price=D("60000"))
    market = await service.submit(OrderRequest("btcusd", Side.BUY, OrderKind.MARKET, D("0.01")))
    with pytest.raises(AmendRefused, match="limit"):
        await service.amend(market.client_order_id, amount=D("0.02"))


async def test_cancel_all_for_one_pair_then_for_every_pair(
    sim: SimServer, service: TradingService
) -> None:
    btc = [await service.submit(limit(below_bid(sim, "btcusd", n))) for n in (100, 200)]
    eth_price = below_bid(sim, "ethusd", 100)
    eth = await service.submit(limit(eth_price, "0.1", "ethusd"))
    eur = await service.submit(limit(below_bid(sim, "btceur", 100), market="btceur"))
    assert {o.state for o in [*btc, eth, eur]} == {TrackState.OPEN}
    assert len(service.open_orders()) == 4
    assert [o.client_order_id for o in service.open_orders("btcusd")] == [
        o.client_order_id for o in reversed(btc)
    ]

    done = await service.cancel_all("btcusd")
    assert done.failed == {}
    assert {o.client_order_id: o.state for o in done.cancelled} == {
        o.client_order_id: TrackState.CANCELLED for o in btc
    }
    assert {o.market for o in sim.exchange.open_orders("demo", None)} == {"ethusd", "btceur"}
    assert {o.client_order_id for o in service.open_orders()} == {
        eth.client_order_id,
        eur.client_order_id,
    }

    done = await service.cancel_all()
    assert {o.client_order_id: o.state for o in done.orders} == {
        eth.client_order_id: TrackState.CANCELLED,
        eur.client_order_id: TrackState.CANCELLED,
    }
    assert sim.exchange.open_orders("demo", None) == []
    assert service.open_orders() == []
    assert len(service.recent_orders()) == 4


async def test_a_cancel_racing_a_fill_ends_filled_with_its_fills(
    sim: SimServer, service: TradingService, journal: Journal
) -> None:
    price = above_bid(sim)
    order = await service.submit(limit(price))
    cid = order.client_order_id
    sim.faults.fail_next("/api/v2/cancel_order/", HttpFault(HttpFaultKind.DELAY, seconds=0.5))
    cancel = asyncio.create_task(service.cancel(cid))
    await until(lambda: sim.requests["POST /api/v2/cancel_order/"] == 1, "the cancel in flight")
    sell_into(sim, "0.01", price)  # the fill reaches the book before the cancel does
    done = await cancel
    assert (done.state, done.filled) == (TrackState.FILLED, D("0.01"))
    assert fills_as_trades(journal, cid) == sim_trades(sim, order.order_id) == [(D("0.01"), price)]
    phases = [e.detail["phase"] for e in journal.events(cid) if e.kind == "cancel"]
    assert phases == ["request", "failed"]


async def test_cancel_all_racing_a_fill(
    sim: SimServer, service: TradingService, journal: Journal
) -> None:
    price = above_bid(sim)
    filled = await service.submit(limit(price))
    resting = await service.submit(limit(below_bid(sim, "btcusd", 100)))
    sim.faults.fail_next("/api/v2/cancel_all_orders/", HttpFault(HttpFaultKind.DELAY, seconds=0.5))
    cancel_all = asyncio.create_task(service.cancel_all())
    await until(lambda: sim.requests["POST /api/v2/cancel_all_orders/"] == 1, "cancel_all sent")
    sell_into(sim, "0.01", price)
    report = await cancel_all
    assert report.failed == {}
    assert [o.client_order_id for o in report.ended_otherwise] == [filled.client_order_id]
    assert [o.client_order_id for o in report.cancelled] == [resting.client_order_id]
    done = {o.client_order_id: o for o in report.orders}
    assert done[filled.client_order_id].state is TrackState.FILLED
    assert done[filled.client_order_id].filled == D("0.01")
    assert done[resting.client_order_id].state is TrackState.CANCELLED
    assert fills_as_trades(journal, filled.client_order_id) == [(D("0.01"), price)]
    assert sim.exchange.open_orders("demo", None) == []


# -- lost replies, the gate, restarts ---------------------------------------------------------


async def test_lost_reply_is_unknown_then_its_true_state_with_one_order_placed(
    sim: SimServer, service: TradingService, changes: Changes, journal: Journal
) -> None:
    sim.faults.stall("*")  # the private stream's order_created is lost too
    sim.faults.fail_next("/api/v2/buy/", HttpFault(HttpFaultKind.HANG_AFTER_ACCEPT, seconds=30))
    order = await service.submit(limit(D("60000")))
    sim.faults.unstall()
    cid = order.client_order_id
    assert changes.states(cid) == [TrackState.PENDING, TrackState.UNKNOWN, TrackState.OPEN]
    assert order.state is TrackState.OPEN
    [resting] = sim_orders(sim, cid)
    assert resting.order_id == order.order_id
    assert sim.requests[BUY_PATH] == 1
    assert kinds(journal, cid) == ["intent", "request", "unknown", "reconciled"]


async def test_lost_reply_of_an_order_the_private_stream_already_showed(
    sim: SimServer, service: TradingService, changes: Changes, journal: Journal
) -> None:
    """The stream's event is proof the order exists: it is never shown as UNKNOWN."""
    sim.faults.fail_next("/api/v2/buy/", HttpFault(HttpFaultKind.HANG_AFTER_ACCEPT, seconds=30))
    order = await service.submit(limit(D("60000")))
    cid = order.client_order_id
    assert order.state is TrackState.OPEN
    assert changes.states(cid) == [TrackState.PENDING, TrackState.OPEN]
    assert len(sim_orders(sim, cid)) == 1
    assert sim.requests[BUY_PATH] == 1
    assert "unknown" in kinds(journal, cid)  # the lost reply is on the record all the same


async def test_submits_wait_while_stale_and_cancels_do_not(
    sim: SimServer, service: TradingService, changes: Changes
) -> None:
    order = await service.submit(limit(D("60000"), tif=TimeInForce.DAILY))
    assert order.tif == "daily"
    service.tracker.mark_stale("testing")
    assert service.gate_reason == "testing"
    with pytest.raises(SubmitsBlocked, match="testing"):
        await service.submit(limit(D("60000")))
    with pytest.raises(SubmitsBlocked):
        await service.amend(order.client_order_id, price=D("60001"))
    assert (await service.cancel(order.client_order_id)).state is TrackState.CANCELLED
    await service.reconcile()
    assert service.submits_allowed
    assert changes.gates()[-2:] == ["testing", ""]
    assert sim.requests[BUY_PATH] == 1


async def test_restart_mid_flight_finds_the_same_orders_and_fills(
    sim: SimServer, rest: RestClient, journal_path: Path
) -> None:
    first = Changes()
    with Journal(journal_path) as journal:
        async with trading_service(sim, rest, journal, first) as service:
            resting = await service.submit(limit(D("60000")))
            price = above_bid(sim)
            partial = await service.submit(limit(price, "0.02"))
            sell_into(sim, "0.005", price)
            await until(lambda: service.tracker.get(partial.client_order_id).filled > 0, "fill")
            sim.faults.stall("*")  # its private events are lost: it is UNKNOWN when we go
            sim.faults.fail_next(
                "/api/v2/buy/", HttpFault(HttpFaultKind.HANG_AFTER_ACCEPT, seconds=30)
            )
            hung = asyncio.create_task(service.submit(limit(D("59000"))))
            await until(lambda: sim.requests[BUY_PATH] == 3, "the third order placed")
            await until(lambda: len(sim.exchange.open_orders("demo", None)) == 3, "it rests")
            hung.cancel()  # the app goes away while the reply is outstanding
            with pytest.raises(asyncio.CancelledError):
                await hung
            before = {o.client_order_id: o for o in service.recent_orders()}
    sim.faults.unstall()
    sell_into(sim, "0.015", price)  # fills the rest while nobody watches

    [unknown] = [o for o in before.values() if o.state is TrackState.UNKNOWN]
    second = Changes()
    with Journal(journal_path) as journal:
        async with trading_service(sim, rest, journal, second) as service:
            assert service.submits_allowed
            after = {o.client_order_id: o for o in service.recent_orders()}
            assert after.keys() == before.keys()
            assert after[resting.client_order_id].state is TrackState.OPEN
            done = after[partial.client_order_id]
            assert (done.state, done.filled) == (TrackState.FILLED, D("0.02"))
            assert after[unknown.client_order_id].state is TrackState.OPEN
            assert after[unknown.client_order_id].order_id is not None
            for cid, order in after.items():
                assert order.order_id == (before[cid].order_id or order.order_id)
                assert fills_as_trades(journal, cid) == sim_trades(sim, order.order_id)
            assert fills_as_trades(journal, partial.client_order_id) == [
                (D("0.005"), price),
                (D("0.015"), price),
            ]
            open_now = {o.client_order_id for o in service.open_orders()}
            assert open_now == {resting.client_order_id, unknown.client_order_id}
    assert sim.requests[BUY_PATH] == 3  # nothing resent
