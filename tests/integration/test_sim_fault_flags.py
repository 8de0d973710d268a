"""The ``workstation sim --fault-*`` flags for periodic HTTP faults, armed from the parsed command
line and seen by real clients over loopback: 429s without Retry-After, JSON 5xx, HTML error
pages, orders placed but never answered or answered by a dropped connection, and a real
``workstation sim`` child process. WebSocket flags: test_sim_ws_faults.py."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest
import websockets

from workstation.bitstamp.errors import ExchangeUnavailable, OutcomeUnknown, RateLimited
from workstation.bitstamp.request_auth import BitstampAuth
from workstation.bitstamp.rest import RestClient
from workstation.bitstamp.transport import RetryPolicy
from workstation.cli_sim import parse_sim_args
from workstation.domain.common import Side
from workstation.domain.orders import OrderState
from workstation.sim.server import SimServer

from .conftest import credentials_for, sim_process

D = Decimal
TICKER = "/api/v2/ticker/btcusd/"
RATE_LIMIT_BODY = {"status": "error", "reason": "Rate limit exceeded", "response_code": "400.002"}


def arm(sim: SimServer, *argv: str) -> None:
    """Arm what ``workstation sim ARGV`` would arm."""
    sim.arm(parse_sim_args(list(argv)).faults)


@pytest.fixture
async def http(sim: SimServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sim.rest_url, timeout=10.0) as client:
        yield client


@pytest.fixture
async def signed(sim: SimServer) -> AsyncIterator[httpx.AsyncClient]:
    """Signed requests straight through httpx, to see exactly what the wire does."""
    auth = BitstampAuth(credentials_for(sim))
    timeout = httpx.Timeout(10.0, read=5.0)
    async with httpx.AsyncClient(base_url=sim.rest_url, auth=auth, timeout=timeout) as client:
        yield client


def single_try(sim: SimServer) -> RestClient:
    return RestClient.for_url(
        sim.rest_url, credentials=credentials_for(sim), retry=RetryPolicy(attempts=1)
    )


async def buy(client: httpx.AsyncClient, client_order_id: str) -> httpx.Response:
    form = {"amount": "0.01", "price": "60000", "client_order_id": client_order_id}
    return await client.post("/api/v2/buy/btcusd/", data=form)


def open_ids(sim: SimServer) -> list[str | None]:
    return [o.client_order_id for o in sim.exchange.open_orders("demo", "btcusd")]


# -- every Nth REST request --------------------------------------------------------------------


async def test_429s_without_retry_after(sim: SimServer, http: httpx.AsyncClient) -> None:
    arm(sim, "--fault-429-every", "2", "--fault-429-no-retry-after")
    replies = [await http.get(TICKER) for _ in range(4)]
    assert [r.status_code for r in replies] == [200, 429, 200, 429]
    assert replies[1].json() == RATE_LIMIT_BODY
    assert "Retry-After" not in replies[1].headers
    async with single_try(sim) as client:
        await client.ticker("btcusd")
        with pytest.raises(RateLimited) as caught:
            await client.ticker("btcusd")
    assert caught.value.retry_after is None


async def test_429s_with_a_chosen_retry_after(sim: SimServer, http: httpx.AsyncClient) -> None:
    arm(sim, "--fault-429-every", "1", "--fault-429-retry-after", "2.5")
    reply = await http.get(TICKER)
    assert (reply.status_code, reply.headers["Retry-After"]) == (429, "2.5")


async def test_every_nth_request_answered_with_a_json_5xx(
    sim: SimServer, http: httpx.AsyncClient
) -> None:
    arm(sim, "--fault-5xx-every", "2")
    replies = [await http.get(TICKER) for _ in range(4)]
    assert [r.status_code for r in replies] == [200, 500, 200, 500]
    assert replies[1].headers["Content-Type"] == "application/json"
    body = replies[1].json()
    assert (body["status"], body["response_code"]) == ("error", "500.001")
    async with single_try(sim) as client:
        await client.ticker("btcusd")
        with pytest.raises(ExchangeUnavailable):
            await client.ticker("btcusd")
    retrying = RestClient.for_url(sim.rest_url, retry=RetryPolicy(attempts=3, base_s=0.01))
    async with retrying:  # the 8th request fails, its retry (the 9th) gets through
        await retrying.ticker("btcusd")
        assert (await retrying.ticker("btcusd")).market == "btcusd"
    assert sim.requests[f"GET {TICKER}"] == 9


async def test_every_nth_request_answered_with_an_html_page(
    sim: SimServer, http: httpx.AsyncClient
) -> None:
    arm(sim, "--fault-html-every", "3")
    replies = [await http.get(TICKER) for _ in range(6)]
    assert [r.status_code for r in replies] == [200, 200, 502, 200, 200, 502]
    page = replies[2]
    assert page.headers["Content-Type"].startswith("text/html")
    assert page.text.startswith("<!DOCTYPE html>")
    assert "502" in page.text
    with pytest.raises(json.JSONDecodeError):
        page.json()
    async with single_try(sim) as client:
        await client.ticker("btcusd")
        await client.ticker("btcusd")
        with pytest.raises(ExchangeUnavailable):
            await client.ticker("btcusd")


async def test_coinciding_faults_follow_the_documented_order(
    sim: SimServer, http: httpx.AsyncClient
) -> None:
    arm(sim, "--fault-429-every", "2", "--fault-5xx-every", "3", "--fault-html-every", "5")
    statuses = [(await http.get(TICKER)).status_code for _ in range(10)]
    # 6: 429 over 5xx; 10: 429 over html; 9: 5xx; 5: html.
    assert statuses == [200, 429, 500, 429, 502, 429, 200, 429, 500, 429]


# -- orders placed, then no answer -------------------------------------------------------------


async def test_every_nth_order_is_placed_and_never_answered(
    sim: SimServer, signed: httpx.AsyncClient
) -> None:
    arm(sim, "--fault-hang-orders-every", "2")
    first = await buy(signed, "hang-1")
    assert first.status_code == 200
    assert (await signed.post("/api/v2/open_orders/all/")).status_code == 200  # not counted
    with pytest.raises(httpx.ReadTimeout):
        await buy(signed, "hang-2")
    assert (await buy(signed, "hang-3")).status_code == 200
    assert sorted(open_ids(sim)) == ["hang-1", "hang-2", "hang-3"]  # exactly one "hang-2"
    assert sim.requests["POST /api/v2/buy/btcusd/"] == 3
    client = RestClient.for_url(sim.rest_url, credentials=credentials_for(sim), timeout_s=1.0)
    async with client:
        with pytest.raises(OutcomeUnknown):  # the 4th: no reply, and not resent
            await client.place_limit(
                Side.BUY, "btcusd", amount=D("0.01"), price=D("60000"), client_order_id="hang-4"
            )
        status = await client.order_status(client_order_id="hang-4")
    assert status.state is OrderState.OPEN
    assert open_ids(sim).count("hang-4") == 1
    assert sim.requests["POST /api/v2/buy/btcusd/"] == 4


async def test_every_nth_order_is_placed_then_its_connection_dropped(
    sim: SimServer, signed: httpx.AsyncClient
) -> None:
    arm(sim, "--fault-drop-orders-every", "1")
    # Dropped, not timed out: a timeout would be httpx.ReadTimeout, not this error.
    with pytest.raises(httpx.RemoteProtocolError, match="without sending"):
        await buy(signed, "drop-1")
    assert open_ids(sim) == ["drop-1"]
    assert sim.requests["POST /api/v2/buy/btcusd/"] == 1
    assert (await signed.post("/api/v2/open_orders/all/")).status_code == 200  # reads answered


async def test_market_orders_count_as_order_submissions(
    sim: SimServer, signed: httpx.AsyncClient
) -> None:
    arm(sim, "--fault-drop-orders-every", "1")
    with pytest.raises(httpx.RemoteProtocolError):
        await signed.post(
            "/api/v2/buy/market/btcusd/", data={"amount": "0.001", "client_order_id": "mkt-1"}
        )
    async with single_try(sim) as client:
        status = await client.order_status(client_order_id="mkt-1")
    assert status.state is OrderState.FINISHED  # it executed although nobody heard back


# -- the command line ----------------------------------------------------------------------------


async def test_sim_command_arms_the_new_fault_flags() -> None:
    flags = ("--fault-html-every", "2", "--fault-429-every", "3", "--fault-429-no-retry-after")
    async with sim_process(*flags, "--fault-stall", "*") as child:
        text = child.banner
        assert "Fault      one REST request in 3 answered 429 (no Retry-After)" in text
        assert "Fault      one REST request in 2 answered 502 (HTML error page)" in text
        assert "Fault      frames of every channel withheld" in text
        async with httpx.AsyncClient(base_url=child.rest_base, timeout=10.0) as http:
            replies = [await http.get(TICKER) for _ in range(4)]
        assert [r.status_code for r in replies] == [200, 502, 429, 502]
        assert "Retry-After" not in replies[2].headers
        async with websockets.connect(child.ws_url, open_timeout=10) as conn:
            # order_book_ sends a snapshot on the first subscription: withheld here.
            for channel in ("order_book_btcusd", "live_trades_btcusd"):
                await conn.send(
                    json.dumps({"event": "bts:subscribe", "data": {"channel": channel}})
                )
            await asyncio.sleep(1.0)  # the live market trades meanwhile
            await conn.send(json.dumps({"event": "bts:heartbeat"}))
            seen = []
            async with asyncio.timeout(10):
                while not seen or seen[-1]["event"] != "bts:heartbeat":
                    seen.append(json.loads(await conn.recv()))
        assert [f["event"] for f in seen] == [
            "bts:subscription_succeeded",
            "bts:subscription_succeeded",
            "bts:heartbeat",
        ]
