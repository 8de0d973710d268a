"""The order tracker against the simulator over loopback: journal first, never resend."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest

from workstation.bitstamp.errors import OrderNotFound
from workstation.bitstamp.orders import SubmitForm
from workstation.bitstamp.rest import RestClient
from workstation.domain.common import Side
from workstation.domain.order_request import OrderRequest
from workstation.domain.order_vocabulary import OrderKind, TimeInForce, TrackState
from workstation.domain.tracked_order import TrackedOrder
from workstation.services.journal import Journal
from workstation.services.order_tracker import OrderTracker
from workstation.services.refusals import AmendRefused, SubmitsBlocked
from workstation.sim.faults import HttpFault, HttpFaultKind
from workstation.sim.orderform import OrderForm
from workstation.sim.server import SimServer

from .trading_support import FAST, Recorder

BUY_PATH = "POST /api/v2/buy/btcusd/"

D = Decimal


def _sim_orders(sim: SimServer, cid: str) -> list[Any]:
    return [o for o in sim.exchange.open_orders("demo", None) if o.client_order_id == cid]


def _kinds(journal: Journal, cid: str) -> list[str]:
    return [e.kind for e in journal.events(cid)]


def _top_bid(sim: SimServer) -> D:
    best = sim.exchange.engines["btcusd"].best_bid()
    assert best is not None
    return best + 1


def _sell_into(sim: SimServer, amount: str, price: D) -> None:
    """A marketable sell straight into the simulator (not through the tracker)."""
    form = OrderForm("limit", Side.SELL, "btcusd", {"amount": amount, "price": str(price)})
    sim.exchange.place("demo", form)


async def test_submit_journals_the_intent_before_the_request_leaves(
    sim: SimServer,
    rest: RestClient,
    tracker: OrderTracker,
    journal_path: Path,
    recorder: Recorder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen_on_disk: list[Any] = []
    real_place = rest.place

    async def spying_place(form: SubmitForm) -> Any:
        with Journal(journal_path) as other:  # a second connection sees only committed rows
            seen_on_disk.append(other.order(form.client_order_id))
            seen_on_disk.append(_kinds(other, form.client_order_id))
        return await real_place(form)

    monkeypatch.setattr(rest, "place", spying_place)
    order = await tracker.submit_limit(
        "btcusd", Side.BUY, D("0.01"), D("60000"), preview={"cost": D("600.00")}
    )
    cid = order.client_order_id
    assert order.state is TrackState.OPEN
    assert len(cid) == 32
    [resting] = _sim_orders(sim, cid)
    assert order.order_id == resting.order_id
    assert (resting.amount, resting.price) == (D("0.01"), D("60000"))
    pending, kinds_then = seen_on_disk
    assert pending.state is TrackState.PENDING
    assert kinds_then == ["intent", "request"]
    assert _kinds(tracker.journal, cid) == ["intent", "request", "ack"]
    intent = tracker.journal.events(cid)[0].detail
    assert intent["preview"] == {"cost": "600"}
    assert (intent["amount"], intent["price"]) == ("0.01", "60000")
    assert recorder.states(cid) == [TrackState.PENDING, TrackState.OPEN]
    assert tracker.journal.order(cid).state is TrackState.OPEN  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "fault",
    [
        HttpFault(HttpFaultKind.HANG_AFTER_ACCEPT, seconds=30),
        HttpFault(HttpFaultKind.DROP_AFTER_ACCEPT),
    ],
    ids=["hang", "drop"],
)
async def test_lost_reply_is_unknown_then_reconciled_and_never_resent(
    sim: SimServer, tracker: OrderTracker, recorder: Recorder, fault: HttpFault
) -> None:
    sim.faults.fail_next("/api/v2/buy/", fault)
    order = await tracker.submit_limit("btcusd", Side.BUY, D("0.01"), D("60000"))
    cid = order.client_order_id
    assert recorder.states(cid) == [TrackState.PENDING, TrackState.UNKNOWN, TrackState.OPEN]
    assert order.state is TrackState.OPEN
    [resting] = _sim_orders(sim, cid)
    assert order.order_id == resting.order_id
    assert sim.requests[BUY_PATH] == 1
    assert _kinds(tracker.journal, cid) == ["intent", "request", "unknown", "reconciled"]
    reconciled = tracker.journal.events(cid)[-1].detail
    assert (reconciled["from"], reconciled["state"]) == ("unknown", "open")


async def test_unknown_submit_that_never_reached_the_book_is_rejected_after_grace(
    sim: SimServer, tracker: OrderTracker, recorder: Recorder
) -> None:
    # A 5xx on submit: the transport cannot tell whether the order exists.
    sim.faults.fail_next("/api/v2/buy/", HttpFault(HttpFaultKind.SERVER_ERROR, status=503))
    # A grace longer than one reply takes on a busy machine, so "asked again" is observable.
    tracker.policy = msgspec.structs.replace(FAST, not_found_grace_s=1.0)
    order = await tracker.submit_limit("btcusd", Side.BUY, D("0.01"), D("60000"))
    cid = order.client_order_id
    assert recorder.states(cid) == [TrackState.PENDING, TrackState.UNKNOWN, TrackState.REJECTED]
    assert order.reason is not None
    assert order.reason.startswith("not placed")
    assert sim.requests[BUY_PATH] == 1
    assert sim.requests["POST /api/v2/order_status/"] >= 2  # asked again until the grace ran out
    assert _sim_orders(sim, cid) == []
    assert _kinds(tracker.journal, cid)[-1] == "reject"


async def test_rejection_keeps_bitstamps_reason_and_places_nothing(
    sim: SimServer, tracker: OrderTracker
) -> None:
    order = await tracker.submit_limit("btcusd", Side.BUY, D("0.0001"), D("60000"))
    assert order.state is TrackState.REJECTED
    assert order.reason is not None
    assert re.fullmatch(r"Minimum order size is \d+\.\d+ USD\.", order.reason)
    assert sim.exchange.open_orders("demo", None) == []
    assert sim.requests[BUY_PATH] == 1
    reject = tracker.journal.events(order.client_order_id)[-1]
    assert reject.kind == "reject"
    assert reject.detail["error"] == "BelowMinimum"
    assert reject.detail["reason"] == order.reason
    journaled = tracker.journal.order(order.client_order_id)
    assert journaled is not None
    assert (journaled.state, journaled.reason) == (TrackState.REJECTED, order.reason)


async def test_partial_fill_then_cancel(sim: SimServer, tracker: OrderTracker) -> None:
    price = _top_bid(sim)
    order = await tracker.submit_limit("btcusd", Side.BUY, D("0.02"), price)
    cid = order.client_order_id
    assert order.state is TrackState.OPEN
    _sell_into(sim, "0.005", price)
    order = await tracker.refresh(cid)
    assert (order.state, order.filled, order.remaining) == (
        TrackState.PARTIALLY_FILLED,
        D("0.005"),
        D("0.015"),
    )
    again = await tracker.refresh(cid)  # the same fill is not counted twice
    assert again.filled == D("0.005")
    assert _kinds(tracker.journal, cid).count("fill") == 1
    tracker.mark_stale()  # cancels stay allowed while submits are blocked
    with pytest.raises(SubmitsBlocked):
        await tracker.submit_limit("btcusd", Side.BUY, D("0.01"), D("60000"))
    order = await tracker.cancel(cid)
    assert (order.state, order.filled) == (TrackState.CANCELLED, D("0.005"))
    assert _sim_orders(sim, cid) == []
    cancels = [e.detail["phase"] for e in tracker.journal.events(cid) if e.kind == "cancel"]
    assert cancels == ["request", "ack"]
    assert sim.requests[BUY_PATH] == 1


async def test_restart_reconciles_open_and_filled_orders(
    sim: SimServer, rest: RestClient, tracker: OrderTracker, journal_path: Path
) -> None:
    resting = await tracker.submit_limit("btcusd", Side.BUY, D("0.01"), D("60000"))
    price = _top_bid(sim)
    filled = await tracker.submit_limit("btcusd", Side.BUY, D("0.01"), price)
    assert (resting.state, filled.state) == (TrackState.OPEN, TrackState.OPEN)
    _sell_into(sim, "0.01", price)  # fills ``filled`` while "the app is down"

    recorder = Recorder()
    with Journal(journal_path) as journal:
        restarted = OrderTracker(rest, journal, "sim", policy=FAST, on_change=recorder)
        with pytest.raises(SubmitsBlocked):
            await restarted.submit_limit("btcusd", Side.BUY, D("0.01"), D("60000"))
        results = {o.client_order_id: o for o in await restarted.reconcile_open()}
        assert restarted.submits_allowed
        done = results[filled.client_order_id]
        assert (done.state, done.filled, done.order_id) == (
            TrackState.FILLED,
            D("0.01"),
            filled.order_id,
        )
        assert results[resting.client_order_id].state is TrackState.OPEN
        assert [o.client_order_id for o in journal.open_orders("sim")] == [resting.client_order_id]
        fills = [e.detail for e in journal.events(filled.client_order_id) if e.kind == "fill"]
        assert [(f["price"], f["base_amount"]) for f in fills] == [(str(price), "0.01")]
    assert sim.requests[BUY_PATH] == 2


async def test_restart_after_a_crash_between_intent_and_reply(
    sim: SimServer, rest: RestClient, journal: Journal
) -> None:
    """PENDING rows at start: one reached the exchange, one never left the machine."""
    stamp: Callable[[str], None] = lambda cid: journal.record_intent(  # noqa: E731
        cid, env="sim", market="btcusd", side=Side.BUY, kind="limit",
        amount=D("0.01"), price=D("60000"),
    )  # fmt: skip
    stamp("sent-1")
    stamp("never-sent-1")
    await rest.place_limit(
        Side.BUY, "btcusd", amount=D("0.01"), price=D("60000"), client_order_id="sent-1"
    )
    tracker = OrderTracker(rest, journal, "sim", policy=FAST)
    results = {o.client_order_id: o for o in await tracker.reconcile_open()}
    assert results["sent-1"].state is TrackState.OPEN
    assert results["never-sent-1"].state is TrackState.REJECTED
    assert tracker.submits_allowed
    assert sim.requests[BUY_PATH] == 1  # nothing resent
    assert _kinds(journal, "never-sent-1") == ["intent", "unknown", "reject"]
    assert _kinds(journal, "sent-1") == ["intent", "unknown", "reconciled"]


# -- every kind of order through one submit path ----------------------------------------------


def _ask(sim: SimServer) -> D:
    best = sim.exchange.engines["btcusd"].best_ask()
    assert best is not None
    return best


@pytest.mark.parametrize(
    ("tif", "flags", "state"),
    [
        (TimeInForce.GTC, {}, TrackState.OPEN),
        (TimeInForce.DAILY, {"daily_order": "True"}, TrackState.OPEN),
        (TimeInForce.GTD, {"gtd_order": "True"}, TrackState.OPEN),
        (TimeInForce.IOC, {"ioc_order": "True"}, TrackState.CANCELLED),
        (TimeInForce.FOK, {"fok_order": "True"}, TrackState.CANCELLED),
        (TimeInForce.MOC, {"moc_order": "True"}, TrackState.CANCELLED),
    ],
    ids=lambda v: v.value if isinstance(v, TimeInForce | TrackState) else None,
)
async def test_submit_sends_each_time_in_force_as_its_flag(
    sim: SimServer,
    tracker: OrderTracker,
    tif: TimeInForce,
    flags: dict[str, str],
    state: TrackState,
) -> None:
    # Post-only at the ask would trade, so it is cancelled; IOC and FOK at a price nobody
    # sells at trade nothing. The others rest.
    price = _ask(sim) if tif is TimeInForce.MOC else D("60000")
    expire_ms = int(time.time() * 1000) + 3_600_000 if tif is TimeInForce.GTD else None
    request = OrderRequest(
        "btcusd", Side.BUY, OrderKind.LIMIT, D("0.01"), price, tif=tif, expire_ms=expire_ms
    )
    order = await tracker.submit(request, preview={"tif": tif.value})
    cid = order.client_order_id
    assert (order.state, order.filled, order.tif) == (state, 0, tif.value)
    [sent] = [e.detail for e in tracker.journal.events(cid) if e.kind == "request"]
    if expire_ms is not None:
        flags = {**flags, "expire_time": str(expire_ms)}
    assert sent["fields"] == {
        "amount": "0.01",
        "price": str(price),
        "client_order_id": cid,
        **flags,
    }
    assert len(_sim_orders(sim, cid)) == (1 if state is TrackState.OPEN else 0)
    assert sim.requests[BUY_PATH] == 1


async def test_market_and_instant_submits_share_the_discipline(
    sim: SimServer, tracker: OrderTracker, recorder: Recorder
) -> None:
    sim.faults.fail_next(
        "/api/v2/sell/instant/", HttpFault(HttpFaultKind.HANG_AFTER_ACCEPT, seconds=30)
    )
    sold = await tracker.submit_instant("btcusd", Side.SELL, D("0.01"))  # base amount
    assert recorder.states(sold.client_order_id) == [
        TrackState.PENDING,
        TrackState.UNKNOWN,
        TrackState.FILLED,
    ]
    assert (sold.filled, sold.amount_in_quote) == (D("0.01"), False)
    assert sim.requests["POST /api/v2/sell/instant/btcusd/"] == 1
    refused = await tracker.submit_market("btcusd", Side.BUY, D("1000"))  # more than we have
    assert refused.state is TrackState.REJECTED
    assert refused.reason is not None
    assert _kinds(tracker.journal, refused.client_order_id) == ["intent", "request", "reject"]
    bought = await tracker.submit_instant("btcusd", Side.BUY, D("50"))
    assert (bought.state, bought.amount_in_quote, bought.kind) == (
        TrackState.FILLED,
        True,
        "instant",
    )
    assert bought.filled_quote <= D("50") < bought.filled_quote + D("0.01")
    assert bought.fee > 0


# -- confirmations, cancels, amends --------------------------------------------------------------


async def test_a_burst_of_confirms_costs_one_request_in_flight(
    sim: SimServer, tracker: OrderTracker
) -> None:
    order = await tracker.submit_limit("btcusd", Side.BUY, D("0.01"), D("60000"))
    asked = sim.requests["POST /api/v2/order_status/"]
    results = await asyncio.gather(*(tracker.confirm(order.client_order_id) for _ in range(20)))
    # The first asks; all the others wait for one trailing request.
    assert sim.requests["POST /api/v2/order_status/"] - asked == 2
    assert {r.state for r in results} == {TrackState.OPEN}


async def test_the_tracker_alone_ends_a_cancel_that_races_a_fill_filled(
    sim: SimServer, tracker: OrderTracker
) -> None:
    price = _top_bid(sim)
    order = await tracker.submit_limit("btcusd", Side.BUY, D("0.02"), price)
    sim.faults.fail_next("/api/v2/cancel_order/", HttpFault(HttpFaultKind.DELAY, seconds=0.5))
    cancel = asyncio.create_task(tracker.cancel(order.client_order_id))
    for _ in range(500):
        if sim.requests["POST /api/v2/cancel_order/"]:
            break
        await asyncio.sleep(0.01)
    _sell_into(sim, "0.02", price)
    done = await cancel
    assert (done.state, done.filled) == (TrackState.FILLED, D("0.02"))
    assert _kinds(tracker.journal, order.client_order_id).count("fill") == 1


async def test_an_amend_whose_reply_is_lost_is_reconciled(
    sim: SimServer, tracker: OrderTracker, recorder: Recorder
) -> None:
    old = await tracker.submit_limit("btcusd", Side.BUY, D("0.01"), D("60000"))
    sim.faults.fail_next(
        "/api/v2/replace_order/", HttpFault(HttpFaultKind.HANG_AFTER_ACCEPT, seconds=30)
    )
    new = await tracker.replace(old.client_order_id, price=D("60500"), amount=D("0.01"))
    assert recorder.states(new.client_order_id) == [
        TrackState.PENDING,
        TrackState.UNKNOWN,
        TrackState.OPEN,
    ]
    [resting] = sim.exchange.open_orders("demo", None)
    assert (resting.client_order_id, resting.price) == (new.client_order_id, D("60500"))
    replaced = tracker.get(old.client_order_id)
    assert (replaced.state, replaced.reason) == (
        TrackState.CANCELLED,
        f"replaced by {new.client_order_id}",
    )
    assert sim.requests["POST /api/v2/replace_order/"] == 1
    with pytest.raises(AmendRefused):
        await tracker.replace(old.client_order_id, price=D("60600"), amount=D("0.01"))


async def test_a_reconcile_that_began_before_a_reconnect_does_not_open_the_gate(
    sim: SimServer, tracker: OrderTracker
) -> None:
    gates: list[str | None] = []
    tracker.gate.listener = gates.append  # what the service passes at construction
    sim.faults.fail_next("/api/v2/open_orders/", HttpFault(HttpFaultKind.DELAY, seconds=0.5))
    asked = sim.requests["POST /api/v2/open_orders/all/"]
    first = asyncio.create_task(tracker.reconcile_open())
    for _ in range(500):
        if sim.requests["POST /api/v2/open_orders/all/"] > asked:
            break
        await asyncio.sleep(0.01)
    tracker.mark_stale("reconnected again")
    await first
    assert not tracker.submits_allowed
    await tracker.reconcile_open()
    assert tracker.submits_allowed
    assert gates == ["reconnected again", None]


async def test_a_confirm_asks_again_when_the_exchange_fails_to_answer(
    sim: SimServer, tracker: OrderTracker
) -> None:
    price = _top_bid(sim)
    order = await tracker.submit_limit("btcusd", Side.BUY, D("0.01"), price)
    _sell_into(sim, "0.01", price)
    # More failures than the transport's own retries of a read (3 in these tests).
    sim.faults.fail_next(
        "/api/v2/order_status/", HttpFault(HttpFaultKind.SERVER_ERROR, status=503), times=4
    )
    done = await tracker.confirm(order.client_order_id)
    assert (done.state, done.filled) == (TrackState.FILLED, D("0.01"))
    assert sim.requests["POST /api/v2/order_status/"] >= 5


async def _resting_order_status_forgets(
    tracker: OrderTracker, rest: RestClient, monkeypatch: pytest.MonkeyPatch
) -> TrackedOrder:
    """A resting buy whose order_status answers "not found" from now on (older than its 30
    days), with "not found" trusted at once."""
    tracker.policy = msgspec.structs.replace(FAST, not_found_grace_s=0.0)
    order = await tracker.submit_limit("btcusd", Side.BUY, D("0.01"), D("60000"))

    async def not_found(**_: Any) -> Any:
        raise OrderNotFound("Order not found")

    monkeypatch.setattr(rest, "order_status", not_found)
    return order


async def test_an_order_status_does_not_know_but_the_venue_lists_is_not_lost(
    sim: SimServer, rest: RestClient, tracker: OrderTracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    # order_status covers 30 days: an older order is "not found" there, yet still rests and
    # open_orders lists it. Shown LOST, it could fill unseen and cancel-all would skip it.
    order = await _resting_order_status_forgets(tracker, rest, monkeypatch)
    cid = order.client_order_id
    still, failure = await tracker.check(cid)
    assert (still.state, failure) == (TrackState.OPEN, "Order not found")
    await tracker.reconcile_open()
    assert tracker.get(cid).state is TrackState.OPEN
    assert tracker.journal.order(cid).state is TrackState.OPEN  # type: ignore[union-attr]


async def test_an_order_lost_to_not_found_that_the_venue_still_lists_is_open_again(
    sim: SimServer, rest: RestClient, tracker: OrderTracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    # LOST while the listing missed it (or journaled LOST by a version that did not look):
    # the next reconcile that sees it listed opens it again, and cancel-all counts it.
    order = await _resting_order_status_forgets(tracker, rest, monkeypatch)
    cid = order.client_order_id

    async def nothing_listed(*_: Any) -> list[Any]:
        return []

    with monkeypatch.context() as listing:
        listing.setattr(rest, "open_orders", nothing_listed)
        assert (await tracker.refresh(cid)).state is TrackState.LOST
    assert len(_sim_orders(sim, cid)) == 1  # the venue still holds it
    await tracker.reconcile_open()
    again = tracker.get(cid)
    assert (again.state, again.order_id) == (TrackState.OPEN, order.order_id)
    assert tracker.journal.order(cid).state is TrackState.OPEN  # type: ignore[union-attr]
    assert [o.client_order_id for o in tracker.orders.values() if not o.state.is_final] == [cid]
    report = await tracker.cancel_all()  # counted by cancel-all again
    assert [o.client_order_id for o in report.cancelled] == [cid]
    assert _sim_orders(sim, cid) == []
