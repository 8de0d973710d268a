"""One client's expensive reads don't starve the simulator's other clients (issue 17, item 3).

A ``/ticker/`` took 20-85 ms of the event loop and ``transactions?time=day`` (35,000 trades,
3.2 MB) about 190 ms, so one client polling them pushed every other client's heartbeat round
trip to hundreds of milliseconds. Here one client polls both back to back (at the rate limit
once they are cheap) while another sends ``bts:heartbeat`` and a probe records how long the
simulator's event loop is held at a time.

What is asserted is the probe's figure, in thread CPU time (``loop_hold``): a heartbeat waits
exactly as long as the loop is held, and CPU time does not count the random tens of
milliseconds a shared machine deschedules the process for, which made wall-time round trips
flaky. The old code holds the loop for 100-250 ms of CPU per day of transactions (p99 200-270
ms here); the new one for a few milliseconds (a body joined from cached blocks, a slice of
writing), p99 5-8 ms, so a bound of 20 ms has a margin both ways. The heartbeat round trips
are measured too and shown when the test fails; ``bench/sim_reads.py`` measures them with
the simulator in its own process, as the workstation runs it.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from workstation.sim.clock import SimClock
from workstation.sim.exchange import SimExchange
from workstation.sim.server import SimServer
from workstation.sim.wire.fields import dumps
from workstation.sim.wire.market_data import encode_transactions

from .loop_hold import holding_probe

POLL_S = 3.0
HOLD_P99_MS = 20.0
"""Bound on the loop's holds. The issue asks heartbeat round trips under 10 ms at p99; the
holds here also count the polling client's own work (it shares the loop being probed), and
the new code's p99 is 5-8 ms on a loaded two-core machine, the old code's 200-270 ms."""


@pytest.fixture
async def day_sim() -> AsyncIterator[SimServer]:
    """A simulator on the wall clock with its day of history made, at Bitstamp's pace."""
    server = SimServer(SimExchange(seed=11, speed=1))
    async with server:
        for symbol in server.exchange.markets:
            await server.exchange.history_ready(symbol)
        yield server


async def poll(session: aiohttp.ClientSession, url: str, until: float) -> list[int]:
    """GET ``url`` back to back until ``until``; the sizes of the bodies answered 200. Bodies
    are read in chunks and dropped: the client's own work shares the loop being probed."""
    sizes: list[int] = []
    while time.monotonic() < until:
        async with session.get(url) as reply:
            size = 0
            async for chunk in reply.content.iter_chunked(1 << 16):
                size += len(chunk)
        if reply.status == 200:
            sizes.append(size)
        else:
            assert reply.status == 429, reply.status
            await asyncio.sleep(0.005)
    return sizes


async def heartbeats(ws_url: str, until: float) -> list[float]:
    """Round trips of ``bts:heartbeat`` in milliseconds, one at a time until ``until``."""
    rtts: list[float] = []
    async with aiohttp.ClientSession() as session, session.ws_connect(ws_url) as ws:
        while time.monotonic() < until:
            sent = time.perf_counter()
            await ws.send_str(json.dumps({"event": "bts:heartbeat"}))
            reply = await ws.receive(timeout=10)
            assert "bts:heartbeat" in reply.data
            rtts.append((time.perf_counter() - sent) * 1000)
            await asyncio.sleep(0.005)
    return rtts


async def test_a_client_polling_ticker_and_a_day_of_trades_does_not_hold_the_loop(
    day_sim: SimServer,
) -> None:
    rest = day_sim.rest_url + "/api/v2"
    until = time.monotonic() + POLL_S
    async with holding_probe() as holds, aiohttp.ClientSession() as session:
        tickers, days, rtts = await asyncio.gather(
            poll(session, f"{rest}/ticker/btcusd/", until),
            poll(session, f"{rest}/transactions/btcusd/?time=day", until),
            heartbeats(day_sim.ws_url, until),
        )
    figures = (
        f"loop holds: {holds.describe()}; {len(tickers)} tickers, {len(days)} days of trades; "
        f"heartbeat p50 {statistics.median(rtts):.2f} ms, max {max(rtts):.2f} ms"
    )
    assert days, figures
    assert min(days) > 1_000_000, figures  # a real day: over a megabyte each time
    assert len(tickers) >= 3, figures
    assert holds.p99() < HOLD_P99_MS, figures


async def test_the_transactions_body_is_the_encoders_bytes_and_follows_new_trades() -> None:
    """The served body is what the encoder writes from the trades, also after the market
    moved (the cache is keyed by the trades a window holds). A manual clock, so nothing
    trades between the answer and the trades it is compared with."""
    clock = SimClock(manual_start_us=time.time_ns() // 1000)
    exchange = SimExchange(seed=11, speed=20, clock=clock, history_s=7_200)
    market = exchange.markets["btcusd"]
    async with SimServer(exchange) as server, aiohttp.ClientSession() as session:
        for _ in range(3):
            for window, seconds in (("minute", 60), ("hour", 3600), ("day", 86_400)):
                async with session.get(
                    f"{server.rest_url}/api/v2/transactions/btcusd/?time={window}"
                ) as reply:
                    served = await reply.read()
                    assert reply.content_type == "application/json"
                trades = exchange.transactions("btcusd", seconds)
                expected = dumps(
                    encode_transactions(trades, market.base_decimals, market.quote_decimals)
                )
                assert served == expected, window
            exchange.advance(20)
