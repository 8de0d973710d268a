"""``workstation sim``: run the simulator until interrupted."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from dataclasses import dataclass

from .exchange import SimExchange
from .server import SimServer

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


def _banner(server: SimServer, key: str, secret: str) -> str:
    return "\n".join(
        [
            "Bitstamp-compatible simulator running (Ctrl+C to stop)",
            f"  REST       {server.rest_url}/api/v2/",
            f"  WebSocket  {server.ws_url}",
            f"  API key    {key}",
            f"  API secret {secret}",
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
        exchange, host=options.host, port=options.port, allow_remote=options.allow_remote
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await server.start()
    key, secret = exchange.demo.api_key, exchange.demo.secret
    watchers = [asyncio.create_task(stop.wait())]
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
        sys.stdout.write(_banner(server, key, secret))
        sys.stdout.flush()
    try:
        await asyncio.wait(watchers, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in watchers:
            task.cancel()
        await server.stop()
    return 0
