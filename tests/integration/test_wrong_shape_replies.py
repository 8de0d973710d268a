"""A wrong reply never hides an accepted order (issue 12, item 4).

The simulator carries a request out and then answers HTTP 200 with valid JSON of the wrong
shape (``{"status": "ok"}``). A read says so with a ``ProtocolError`` of the error tree; a
submit or an amend cannot tell whether the order exists, so it is ``OutcomeUnknown``, the
tracker marks it UNKNOWN and reconciles it by ``client_order_id`` to its true state, and the
request is never sent twice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest

from workstation.bitstamp.errors import OutcomeUnknown, ProtocolError
from workstation.bitstamp.request_auth import BitstampAuth
from workstation.bitstamp.rest import RestClient
from workstation.cli_sim import parse_sim_args
from workstation.domain.common import Side
from workstation.domain.order_vocabulary import TrackState
from workstation.domain.orders import OrderState
from workstation.services.order_tracker import OrderTracker
from workstation.sim.faults import WRONG_SHAPE_BODY, HttpFault, HttpFaultKind
from workstation.sim.server import SimServer

from .conftest import credentials_for, sim_process
from .trading_support import Recorder

D = Decimal
BUY_PATH = "POST /api/v2/buy/btcusd/"
REPLACE_PATH = "POST /api/v2/replace_order/"
WRONG_SHAPE = HttpFault(HttpFaultKind.WRONG_SHAPE, status=200)


def sim_orders(sim: SimServer) -> list[tuple[str | None, Decimal]]:
    return [(o.client_order_id, o.price) for o in sim.exchange.open_orders("demo", None)]


async def test_a_wrong_shape_reply_to_a_submit_is_reconciled_to_the_open_order(
    sim: SimServer, tracker: OrderTracker, recorder: Recorder
) -> None:
    sim.faults.fail_next("/api/v2/buy/", WRONG_SHAPE)
    order = await tracker.submit_limit("btcusd", Side.BUY, D("0.01"), D("60000"))
    cid = order.client_order_id
    assert recorder.states(cid) == [TrackState.PENDING, TrackState.UNKNOWN, TrackState.OPEN]
    assert order.state is TrackState.OPEN
    assert sim_orders(sim) == [(cid, D("60000"))]  # exactly one order at the exchange
    assert sim.requests[BUY_PATH] == 1  # never resent
    [resting] = sim.exchange.open_orders("demo", None)
    assert order.order_id == resting.order_id
    kinds = [e.kind for e in tracker.journal.events(cid)]
    assert kinds == ["intent", "request", "unknown", "reconciled"]
    unknown = tracker.journal.events(cid)[2].detail
    assert unknown["error"] == "OutcomeUnknown"
    assert "order_ack" in unknown["reason"] or "order" in unknown["reason"]


async def test_a_wrong_shape_reply_to_an_amend_is_reconciled(
    sim: SimServer, tracker: OrderTracker, recorder: Recorder
) -> None:
    old = await tracker.submit_limit("btcusd", Side.BUY, D("0.01"), D("60000"))
    sim.faults.fail_next("/api/v2/replace_order/", WRONG_SHAPE)
    new = await tracker.replace(old.client_order_id, price=D("60500"), amount=D("0.01"))
    assert recorder.states(new.client_order_id) == [
        TrackState.PENDING,
        TrackState.UNKNOWN,
        TrackState.OPEN,
    ]
    assert sim_orders(sim) == [(new.client_order_id, D("60500"))]
    assert sim.requests[REPLACE_PATH] == 1
    assert tracker.get(old.client_order_id).state is TrackState.CANCELLED


async def test_the_rest_client_says_outcome_unknown_for_a_submit_and_protocol_for_a_read(
    sim: SimServer, rest: RestClient
) -> None:
    sim.faults.fail_next("/api/v2/buy/", WRONG_SHAPE)
    with pytest.raises(OutcomeUnknown) as caught:
        await rest.place_limit(
            Side.BUY, "btcusd", amount=D("0.01"), price=D("60000"), client_order_id="ws-1"
        )
    assert caught.value.client_order_id == "ws-1"
    assert "order" in caught.value.message
    status = await rest.order_status(client_order_id="ws-1")
    assert status.state is OrderState.OPEN
    sim.faults.fail_next("/api/v2/ticker/", WRONG_SHAPE)
    with pytest.raises(ProtocolError, match="ticker btcusd"):
        await rest.ticker("btcusd")
    sim.faults.fail_next("/api/v2/cancel_order/", WRONG_SHAPE)
    with pytest.raises(ProtocolError, match="cancel_order"):
        await rest.cancel_order(client_order_id="ws-1")
    assert sim_orders(sim) == []  # the cancel took effect although its reply was unreadable


# -- the fault itself, from the command line ------------------------------------------------


@pytest.fixture
async def signed(sim: SimServer) -> AsyncIterator[httpx.AsyncClient]:
    auth = BitstampAuth(credentials_for(sim))
    async with httpx.AsyncClient(base_url=sim.rest_url, auth=auth, timeout=10.0) as client:
        yield client


async def buy(client: httpx.AsyncClient, cid: str) -> httpx.Response:
    form = {"amount": "0.01", "price": "60000", "client_order_id": cid}
    return await client.post("/api/v2/buy/btcusd/", data=form)


async def test_every_nth_order_is_placed_and_answered_with_the_wrong_shape(
    sim: SimServer, signed: httpx.AsyncClient
) -> None:
    sim.arm(parse_sim_args(["--fault-wrong-shape-every", "2"]).faults)
    first = await buy(signed, "w-1")
    assert (await signed.post("/api/v2/open_orders/all/")).status_code == 200  # not counted
    second = await buy(signed, "w-2")
    assert "order_id" in first.json() or "id" in first.json()
    assert (second.status_code, second.text) == (200, WRONG_SHAPE_BODY)
    assert sorted(c for c, _ in sim_orders(sim)) == ["w-1", "w-2"]  # both placed


async def test_the_wrong_shape_fault_on_chosen_paths(
    sim: SimServer, signed: httpx.AsyncClient
) -> None:
    argv = ["--fault-wrong-shape-every", "1", "--fault-wrong-shape-path", "/api/v2/ticker/"]
    sim.arm(parse_sim_args(argv).faults)
    async with httpx.AsyncClient(base_url=sim.rest_url, timeout=10.0) as http:
        ticker = await http.get("/api/v2/ticker/btcusd/")
    assert (ticker.status_code, ticker.text) == (200, WRONG_SHAPE_BODY)
    assert (await buy(signed, "w-3")).json()["client_order_id"] == "w-3"  # orders untouched


async def test_sim_command_arms_the_wrong_shape_fault() -> None:
    async with sim_process("--fault-wrong-shape-every", "3") as child:
        assert (
            "Fault      one request in 3 under /api/v2/buy/, /api/v2/sell/ carried out, "
            'then answered 200 {"status": "ok"}'
        ) in child.banner
