"""A real simulator on 127.0.0.1 for every integration test, and clients pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from workstation.bitstamp.auth import Credentials
from workstation.bitstamp.rest import RestClient
from workstation.bitstamp.transport import RetryPolicy
from workstation.sim.exchange import SimExchange
from workstation.sim.server import SimServer


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    server = SimServer(SimExchange(seed=7, speed=0))
    async with server:
        yield server


def credentials_for(sim: SimServer, *, secret: str | None = None) -> Credentials:
    demo = sim.exchange.demo
    return Credentials(key=demo.api_key, secret=secret or demo.secret, env="sim", host=sim.host)


@pytest.fixture
async def rest(sim: SimServer) -> AsyncIterator[RestClient]:
    client = RestClient.for_url(
        sim.rest_url,
        credentials=credentials_for(sim),
        retry=RetryPolicy(attempts=3, base_s=0.01, cap_s=0.05),
        timeout_s=2.0,
    )
    async with client:
        yield client
