"""The simulator's request budget and HTTP faults seen by real clients over loopback sockets,
normal service once a fault is cleared, and the ``workstation sim`` fault flags in a real
child process. WebSocket faults: test_sim_ws_faults.py."""

from __future__ import annotations

import asyncio
import email.utils
import json
import re
import time
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
import websockets

from workstation.bitstamp.errors import RateLimited, TimestampOutOfWindow
from workstation.bitstamp.request_auth import BitstampAuth
from workstation.bitstamp.rest import RestClient
from workstation.bitstamp.transport import RetryPolicy, Transport
from workstation.sim.exchange import SimExchange
from workstation.sim.faultplan import FaultPlan
from workstation.sim.faults import Faults
from workstation.sim.ratelimit import RateLimiter, RateLimits
from workstation.sim.server import BITSTAMP_LIMITS, SimServer

from .conftest import credentials_for, sim_process

TICKER = "/api/v2/ticker/btcusd/"
RATE_LIMIT_BODY = {"status": "error", "reason": "Rate limit exceeded", "response_code": "400.002"}


@pytest.fixture
async def http(sim: SimServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sim.rest_url, timeout=10.0) as client:
        yield client


async def until(condition: Callable[[], bool], within: float = 5.0) -> None:
    async with asyncio.timeout(within):
        while True:
            if condition():
                return
            await asyncio.sleep(0.01)


def retry_after(response: httpx.Response) -> float:
    value = response.headers["Retry-After"]
    assert re.fullmatch(r"\d+(\.\d+)?", value)
    return float(value)


# -- the request budget ----------------------------------------------------------------------


class SteppedClock:
    """Monotonic seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def budgeted() -> AsyncIterator[tuple[SimServer, SteppedClock]]:
    """A simulator whose request budget runs on a clock the test moves."""
    sim = SimServer(SimExchange(seed=7, speed=0))
    clock = SteppedClock()
    async with sim:
        yield sim, clock


@pytest.mark.parametrize(
    ("limits", "allowed", "step", "expected_wait"),
    [
        (RateLimits(per_second=3), 3, 0.1, 0.7),  # the first request leaves the window at 1 s
        (RateLimits(per_10min=4), 4, 10.0, 560.0),  # ... at 600 s
    ],
    ids=["per-second", "per-10-minutes"],
)
async def test_over_budget_is_429_until_the_window_passes(
    budgeted: tuple[SimServer, SteppedClock],
    limits: RateLimits,
    allowed: int,
    step: float,
    expected_wait: float,
) -> None:
    sim, clock = budgeted
    sim.rate_limiter = RateLimiter(limits, clock=clock)
    async with httpx.AsyncClient(base_url=sim.rest_url, timeout=10.0) as http:
        for _ in range(allowed):
            assert (await http.get(TICKER)).status_code == 200
            clock.now += step
        refused = await http.get(TICKER)
        assert refused.status_code == 429
        assert refused.json() == RATE_LIMIT_BODY
        assert retry_after(refused) == pytest.approx(expected_wait)
        # The WebSocket upgrade is not REST: it is served while the budget is spent.
        async with websockets.connect(sim.ws_url, open_timeout=5) as conn:
            await conn.send('{"event": "bts:heartbeat"}')
            assert json.loads(await conn.recv())["event"] == "bts:heartbeat"
        clock.now += retry_after(refused) - 0.002
        assert (await http.get(TICKER)).status_code == 429
        clock.now += 0.002
        assert (await http.get(TICKER)).status_code == 200
    assert sim.rate_limiter.refused == 2


async def test_a_signed_caller_spends_its_keys_budget_not_the_addresss(
    budgeted: tuple[SimServer, SteppedClock],
) -> None:
    sim, clock = budgeted
    sim.rate_limiter = RateLimiter(RateLimits(per_second=2), clock=clock)
    async with httpx.AsyncClient(base_url=sim.rest_url, timeout=10.0) as http:
        assert [(await http.get(TICKER)).status_code for _ in range(3)] == [200, 200, 429]
    client = RestClient.for_url(
        sim.rest_url, credentials=credentials_for(sim), retry=RetryPolicy(attempts=1)
    )
    async with client:
        assert await client.account_balances()
        assert await client.open_orders() == []
        with pytest.raises(RateLimited):
            await client.open_orders("btcusd")


async def test_the_rest_client_rides_out_the_budget() -> None:
    """Real time this once: two reads at once against a budget of one per two seconds."""
    limits = RateLimits(per_second=1, second_s=2.0)
    sim = SimServer(SimExchange(seed=7, speed=0), rate_limits=limits)
    async with sim:
        client = RestClient.for_url(
            sim.rest_url, retry=RetryPolicy(attempts=3, base_s=0.01, cap_s=0.05)
        )
        async with client:
            markets = ["btcusd", "ethusd"]
            tickers = await asyncio.gather(*(client.ticker(m) for m in markets))
        assert [t.market for t in tickers] == markets
        assert sim.rate_limiter is not None
        assert sim.rate_limiter.refused >= 1


async def test_the_budget_is_bitstamps_by_default_and_can_be_lifted(sim: SimServer) -> None:
    assert sim.rate_limiter is not None
    assert sim.rate_limiter.limits == BITSTAMP_LIMITS == RateLimits(400, 10_000)
    unlimited = SimServer(SimExchange(seed=7, speed=0), rate_limits=None)
    async with unlimited, httpx.AsyncClient(base_url=unlimited.rest_url, timeout=10.0) as http:
        replies = await asyncio.gather(*(http.get(TICKER) for _ in range(30)))
    assert {r.status_code for r in replies} == {200}
    assert unlimited.rate_limiter is None


# -- HTTP faults -------------------------------------------------------------------------------


async def test_every_nth_request_answered_429(sim: SimServer, http: httpx.AsyncClient) -> None:
    sim.faults.answer_429_every(3, retry_after_s=0.5)
    replies = [await http.get(TICKER) for _ in range(6)]
    assert [r.status_code for r in replies] == [200, 200, 429, 200, 200, 429]
    assert replies[2].json() == RATE_LIMIT_BODY
    assert retry_after(replies[2]) == 0.5
    sim.clear_faults()
    assert [(await http.get(TICKER)).status_code for _ in range(6)] == [200] * 6


async def test_every_response_delayed(sim: SimServer, http: httpx.AsyncClient) -> None:
    loop = asyncio.get_running_loop()
    sim.faults.delay_responses(1000)
    started = loop.time()
    assert (await http.get(TICKER)).status_code == 200
    assert loop.time() - started >= 1.0
    sim.faults.delay_responses(0)
    started = loop.time()
    assert (await http.get(TICKER)).status_code == 200
    assert loop.time() - started < 1.0  # milliseconds in fact; generous for a loaded machine


def date_offset_s(response: httpx.Response) -> float:
    server = email.utils.parsedate_to_datetime(response.headers["Date"]).timestamp()
    return server - time.time()


async def test_clock_skew_moves_the_date_header_and_the_auth_window(
    sim: SimServer, http: httpx.AsyncClient
) -> None:
    assert abs(date_offset_s(await http.get(TICKER))) < 5
    sim.faults.skew_clock(200_000)  # beyond the 150 s window
    assert abs(date_offset_s(await http.get(TICKER)) - 200) < 5
    assert abs(date_offset_s(await http.get("/api/v2/nosuch/")) - 200) < 5  # 404s too

    def signed(retry_on_clock_skew: bool) -> tuple[RestClient, BitstampAuth]:
        auth = BitstampAuth(credentials_for(sim), retry_on_clock_skew=retry_on_clock_skew)
        return RestClient(Transport(sim.rest_url, auth=auth)), auth

    strict, _ = signed(False)
    async with strict:
        with pytest.raises(TimestampOutOfWindow):
            await strict.account_balances()
    learning, auth = signed(True)  # learns the server's time from the Date header
    async with learning:
        assert await learning.account_balances()
    assert abs(auth.clock.offset_ms - 200_000) < 5_000

    sim.faults.skew_clock(0)
    assert abs(date_offset_s(await http.get(TICKER))) < 5
    strict, _ = signed(False)
    async with strict:
        assert await strict.account_balances()


async def test_requests_in_flight_together_all_survive_a_skewed_clock(sim: SimServer) -> None:
    """Requests signed before any reply taught the offset each get their one re-sign."""
    sim.faults.skew_clock(-400_000)
    auth = BitstampAuth(credentials_for(sim))
    async with RestClient(Transport(sim.rest_url, auth=auth)) as rest:
        results = await asyncio.gather(
            rest.account_balances(), rest.open_orders(), rest.trading_fees(), rest.open_orders()
        )
    assert all(result is not None for result in results)
    assert abs(auth.clock.offset_ms + 400_000) < 5_000


# -- faults that repeat ------------------------------------------------------------------------


async def test_a_plan_arms_everything_and_stop_ends_the_periodic_tasks() -> None:
    sim = SimServer(SimExchange(seed=7, speed=0))
    plan = FaultPlan(
        delay_ms=10,
        rate_limit_every=4,
        server_error_every=5,
        html_error_every=6,
        hang_orders_every=7,
        drop_orders_every=8,
        clock_skew_ms=1500,
        drop_ws_every_s=0.05,
        reconnect_every_s=0.05,
        stall_channels=("live_trades_btcusd",),
        stall_period_s=0.05,
        malformed_every_s=0.05,
        drop_diffs_every=9,
    )
    sim.arm(plan)  # before start: the periodic tasks begin with the server
    periodic = {"drop-ws": 0.05, "request-reconnect": 0.05, "stall": 0.05, "malformed": 0.05}
    assert sim.periodic_faults == periodic
    assert sim.faults.stalled_channels == set()  # intermittent: flowing at first
    async with sim:
        faults = sim.faults
        assert (faults.delay_ms, faults.rate_limit_every, faults.clock_skew_ms) == (10, 4, 1500)
        assert (faults.server_error_every, faults.html_error_every) == (5, 6)
        assert (faults.order_hang_every, faults.order_drop_every) == (7, 8)
        assert faults.diff_drop_every == 9
        await until(lambda: len(sim.periodic_runs) == 4)
        await until(lambda: min(sim.periodic_runs.values()) >= 2)
    assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("sim-fault-")]
    sim.clear_faults()
    assert sim.periodic_faults == {}
    assert sim.faults == Faults()
    for too_short in (0, -1, 0.001):
        with pytest.raises(ValueError, match="at least"):
            sim.drop_ws_every(too_short)


# -- the command line ----------------------------------------------------------------------------


async def test_sim_command_arms_fault_flags() -> None:
    async with sim_process("--fault-delay-ms", "300", "--fault-429-every", "2") as child:
        assert "Fault      REST replies delayed 300 ms" in child.banner
        assert "Fault      one REST request in 2 answered 429 (Retry-After 1 s)" in child.banner
        assert "Rate limit 400/s and 10000 per 10 min" in child.banner
        async with httpx.AsyncClient(base_url=child.rest_base, timeout=10.0) as http:
            started = time.monotonic()
            first = await http.get(TICKER)
            assert time.monotonic() - started >= 0.3
            second = await http.get(TICKER)
        assert (first.status_code, second.status_code) == (200, 429)
        assert second.headers["Retry-After"] == "1"
