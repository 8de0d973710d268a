"""``workstation sim``: run the simulator until interrupted, with any faults asked for armed."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from dataclasses import dataclass

from .exchange import SimExchange
from .faultplan import FaultPlan
from .server import BITSTAMP_LIMITS, SimServer

__all__ = ["SimOptions", "run_sim"]


@dataclass(frozen=True)
class SimOptions:
    host: str = "127.0.0.1"
    port: int = 8765
    seed: int | None = None
    speed: float = 1.0
    api_key: str | None = None
    api_secret: str | None = None
    allow_remote: bool = False
    embedded: bool = False
    """Started by the workstation: print one JSON line, exit when stdin closes."""
    rate_limit: bool = True
    """Enforce Bitstamp's request budget (429 past 400/s or 10,000 per 10 minutes)."""
    faults: FaultPlan = FaultPlan()
    """Faults armed from the start (the ``--fault-*`` flags)."""


def _banner(server: SimServer, key: str, secret: str, faults: FaultPlan) -> str:
    limits = server.rate_limiter.limits if server.rate_limiter is not None else None
    budget = (
        f"{limits.per_second}/s and {limits.per_10min} per 10 min per key or IP, then 429"
        if limits is not None
        else "off"
    )
    armed = [f"  Fault      {line}" for line in faults.describe()]
    return "\n".join(
        [
            "Bitstamp-compatible simulator running (Ctrl+C to stop)",
            f"  REST       {server.rest_url}/api/v2/",
            f"  WebSocket  {server.ws_url}",
            f"  API key    {key}",
            f"  API secret {secret}",
            f"  Rate limit {budget}",
            *armed,
            "",
            "Point ccxt at it:",
            f'  ex = ccxt.bitstamp({{"apiKey": "{key}", "secret": "{secret}"}})',
            f'  ex.urls["api"] = {{"public": "{server.rest_url}/api", '
            f'"private": "{server.rest_url}/api"}}',
            "",
        ]
    )


async def _stdin_closed() -> None:
    """Return when our parent's end of stdin closes (the parent exited or crashed)."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while await reader.read(4096):
        pass


async def run_sim(options: SimOptions) -> int:
    exchange = SimExchange(
        seed=options.seed if options.seed is not None else 0,
        speed=options.speed,
        api_key=options.api_key,
        api_secret=options.api_secret,
    )
    server = SimServer(
        exchange,
        host=options.host,
        port=options.port,
        allow_remote=options.allow_remote,
        rate_limits=BITSTAMP_LIMITS if options.rate_limit else None,
    )
    server.arm(options.faults)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await server.start()
    key, secret = exchange.demo.api_key, exchange.demo.secret
    watchers: list[asyncio.Task[object]] = [asyncio.create_task(stop.wait())]
    if options.embedded:
        ready = {
            "rest_url": server.rest_url,
            "ws_url": server.ws_url,
            "api_key": key,
            "api_secret": secret,
        }
        sys.stdout.write(json.dumps(ready) + "\n")
        sys.stdout.flush()
        watchers.append(asyncio.create_task(_stdin_closed()))
    else:
        sys.stdout.write(_banner(server, key, secret, options.faults))
        sys.stdout.flush()
    try:
        await asyncio.wait(watchers, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in watchers:
            task.cancel()
        await server.stop()
    return 0
