"""How long the simulator's event loop is held at a time, in thread CPU time (issue 17).

Run as a script by ``bench.sim_reads --holds`` with the ``workstation`` of the tree being
measured first on the path (so it stands alone: no import of ``bench``). A probe sleeps 1 ms
over and over in the loop of an in-process simulator and records the CPU time its thread
spent between going to sleep and waking up: what any client waits behind, without the
scheduling noise of a shared machine that wall-time round trips carry. Three phases: start-up
(the day of history being made), the market alone at the given speed, and one client polling
``/ticker/btcusd/`` and ``transactions?time=day`` back to back. Prints one JSON line.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import sys
import time

import aiohttp

from workstation.sim.exchange import SimExchange
from workstation.sim.server import SimServer


async def _probe(holds: list[float]) -> None:
    while True:
        before = time.thread_time()
        await asyncio.sleep(0.001)
        holds.append((time.thread_time() - before) * 1000)


def _figures(holds: list[float]) -> dict[str, float]:
    return {
        "samples": len(holds),
        "p50_ms": round(statistics.median(holds), 2),
        "p99_ms": round(statistics.quantiles(holds, n=100, method="inclusive")[98], 2),
        "max_ms": round(max(holds), 2),
    }


async def _poll(session: aiohttp.ClientSession, url: str, until: float) -> int:
    answered = 0
    while time.monotonic() < until:
        async with session.get(url) as reply:
            async for _ in reply.content.iter_chunked(1 << 16):
                pass
        answered += reply.status == 200
    return answered


async def _measure(speed: float, seconds: float) -> dict[str, object]:
    exchange = SimExchange(seed=3, speed=speed)
    out: dict[str, object] = {}
    holds: list[float] = []
    probe = asyncio.create_task(_probe(holds))
    try:
        async with SimServer(exchange) as server:
            started = time.monotonic()
            ready = getattr(exchange, "history_ready", None)
            for symbol in exchange.markets:
                if ready is not None:
                    await ready(symbol)
                else:  # before issue 17: a read made the rest of a market's history at once
                    exchange.ticker(symbol)
                    await asyncio.sleep(0)
            out["startup"] = _figures(holds) | {"took_s": round(time.monotonic() - started, 1)}
            await asyncio.sleep(0.5)
            holds.clear()
            await asyncio.sleep(seconds)
            out["market_alone"] = _figures(holds)
            holds.clear()
            rest = server.rest_url + "/api/v2"
            until = time.monotonic() + seconds
            async with aiohttp.ClientSession() as session:
                tickers, days = await asyncio.gather(
                    _poll(session, f"{rest}/ticker/btcusd/", until),
                    _poll(session, f"{rest}/transactions/btcusd/?time=day", until),
                )
            out["polled"] = _figures(holds) | {
                "tickers_per_s": round(tickers / seconds, 1),
                "days_per_s": round(days / seconds, 1),
            }
    finally:
        probe.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await probe
    return out


if __name__ == "__main__":
    figures = asyncio.run(_measure(float(sys.argv[1]), float(sys.argv[2])))
    sys.stdout.write(json.dumps(figures) + "\n")
