"""Whose budget a request spends at the simulator (issue 17, item 2): the caller's address
until a signature verifies, the API key only after. An ``X-Auth`` header anyone can write
neither buys a fresh budget nor spends someone else's."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import httpx
import pytest

from workstation.bitstamp.rest import RestClient
from workstation.bitstamp.transport import RetryPolicy
from workstation.sim.exchange import SimExchange
from workstation.sim.ratelimit import RateLimiter, RateLimits
from workstation.sim.server import SimServer

from .conftest import credentials_for

TICKER = "/api/v2/ticker/btcusd/"
BALANCE = "/api/v2/account_balances/"
BUDGET = RateLimits(per_second=3)


class StillClock:
    """Monotonic seconds that stand still: every request falls in one window."""

    def __init__(self) -> None:
        self.now = 7000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    """A simulator allowing three requests a second per caller, on a clock that stands still."""
    server = SimServer(SimExchange(seed=7, speed=0))
    server.rate_limiter = RateLimiter(BUDGET, clock=StillClock())
    async with server:
        yield server


@pytest.fixture
async def http(sim: SimServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sim.rest_url, timeout=10.0) as client:
        yield client


def forged(api_key: str) -> dict[str, str]:
    """Every X-Auth header, with a signature nobody computed."""
    return {
        "X-Auth": f"BITSTAMP {api_key}",
        "X-Auth-Signature": "0" * 64,
        "X-Auth-Nonce": secrets.token_hex(16),
        "X-Auth-Timestamp": "1",
        "X-Auth-Version": "v2",
    }


async def test_random_x_auth_values_share_their_addresss_budget(
    sim: SimServer, http: httpx.AsyncClient
) -> None:
    statuses = [
        (
            await http.get(TICKER, headers={"X-Auth": f"BITSTAMP {secrets.token_hex(16)}"})
        ).status_code
        for _ in range(BUDGET.per_second + 2)
    ]
    assert statuses == [200, 200, 200, 429, 429]
    limiter = sim.rate_limiter
    assert limiter is not None
    assert len(limiter) == 1  # one caller: the address


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_forged_requests_carrying_a_key_do_not_spend_its_budget(
    sim: SimServer, http: httpx.AsyncClient, method: str
) -> None:
    demo_key = sim.exchange.demo.api_key
    path = TICKER if method == "GET" else BALANCE
    statuses = [
        (await http.request(method, path, headers=forged(demo_key))).status_code
        for _ in range(BUDGET.per_second + 5)
    ]
    allowed = 200 if method == "GET" else 403  # a bad signature is refused, as Bitstamp does
    assert statuses == [allowed] * BUDGET.per_second + [429] * 5  # the address's budget, spent
    client = RestClient.for_url(
        sim.rest_url, credentials=credentials_for(sim), retry=RetryPolicy(attempts=1)
    )
    async with client:  # the key's owner, from the same address, still has all of its budget
        for _ in range(BUDGET.per_second):
            assert await client.account_balances()


async def test_the_budget_table_holds_one_entry_per_caller_not_per_claimed_key(
    sim: SimServer, http: httpx.AsyncClient
) -> None:
    for _ in range(200):
        await http.get(TICKER, headers={"X-Auth": f"BITSTAMP {secrets.token_hex(16)}"})
        await http.post(BALANCE, headers=forged(secrets.token_hex(16)))
    limiter = sim.rate_limiter
    assert limiter is not None
    assert len(limiter) == 1


async def test_a_body_too_large_to_verify_spends_the_addresss_budget(
    http: httpx.AsyncClient,
) -> None:
    oversized = b"x" * ((1 << 20) + 1)  # past the server's 1 MiB: never read, never verified
    headers = forged("somebody") | {"Content-Type": "application/x-www-form-urlencoded"}
    statuses = [
        (await http.post(BALANCE, content=oversized, headers=headers)).status_code
        for _ in range(BUDGET.per_second + 1)
    ]
    assert statuses == [413] * BUDGET.per_second + [429]
