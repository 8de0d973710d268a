"""What the market data hub tests share: a moving simulator on a manual clock, a hub on it
with fast reconnects, and a bounded wait."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from workstation.bitstamp.rest import RestClient
from workstation.bitstamp.stream import Backoff, StreamClient
from workstation.services.events import MarketEvent
from workstation.services.hub import MarketHub
from workstation.sim.clock import SimClock
from workstation.sim.exchange import SimExchange
from workstation.sim.server import SimServer

SYMBOL = "btcusd"


@contextlib.asynccontextmanager
async def manual_sim(history_s: float) -> AsyncIterator[SimServer]:
    """A simulator (seed 5, speed 5) whose market moves only when a test advances it."""
    clock = SimClock(manual_start_us=time.time_ns() // 1000)
    async with SimServer(SimExchange(seed=5, speed=5, clock=clock, history_s=history_s)) as sim:
        yield sim


@contextlib.asynccontextmanager
async def running_hub(
    sim: SimServer, **options: Any
) -> AsyncIterator[tuple[MarketHub, list[MarketEvent]]]:
    """A started hub on ``sim`` (``options`` go to :class:`MarketHub`) and the changes it
    told; closed at the end."""
    rest = RestClient.for_url(sim.rest_url, timeout_s=5.0)
    stream = StreamClient(
        sim.ws_url, heartbeat_s=0.5, idle_timeout_s=5.0, backoff=Backoff(base_s=0.05, cap_s=0.2)
    )
    changes: list[MarketEvent] = []
    markets = {m.symbol: m for m in await rest.markets()}
    service = MarketHub(rest, stream, markets, listener=changes.append, **options)
    await service.start()
    try:
        yield service, changes
    finally:
        await service.close()
        await rest.aclose()


async def until(condition: Callable[[], bool], within: float = 10.0, what: str = "") -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await asyncio.sleep(0.02)
