"""The still simulator the pilot tests drive the app against (speed 0: what the screen shows
can be checked against the engine exactly), and the venue that points the app at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from workstation.bitstamp.secret import Secret
from workstation.services.venue import Venue
from workstation.sim.exchange import SimExchange
from workstation.sim.server import SimServer


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    async with SimServer(SimExchange(seed=11, speed=0, history_s=900)) as server:
        yield server


@pytest.fixture
def venue(sim: SimServer) -> Venue:
    demo = sim.exchange.demo
    return Venue("sim", sim.rest_url, sim.ws_url, Secret(demo.api_key), Secret(demo.secret))
