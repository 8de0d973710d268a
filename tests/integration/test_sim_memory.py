"""The simulator's resident memory under abuse (issue 17: "a memory test for the slow reader
and the forged keys").

Each test runs ``workstation sim`` in a child process, as a trader would, and reads its
resident set size (``VmRSS`` in ``/proc/PID/status``) before, during and after the abuse.

What can be asserted: CPython hands the memory of many small objects (frame strings,
limiter entries) back to its own allocator, not to the OS, so a process's RSS rarely falls
back after a peak (measured: three slow readers dropped, their backlog freed, and RSS stayed
where it was). The tests therefore bound the growth: by what the fixed code may hold at most,
well under what the old code held. Measured on this machine (MB):

* 20,000 GETs with random ``X-Auth`` values at speed 0: old code +34 (one limiter entry per
  claimed key, never forgotten), fixed +1. Bound: 12.
* three readers that never read, every channel of every market at speed 100: the old code
  never closed them (the test times out waiting); fixed, each is dropped at its 16 MiB
  backlog (the readers share their frames) with the process +32 at the drop, half of it the
  market's own growth at that speed (issue 17 item 6). Bound: 48 during and after.

Linux only (``/proc``); each test takes 30-60 s.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import secrets
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from tests.integration.test_sim_connections import masked_text_frame, until
from workstation.sim.catalog import DEFAULT_MARKETS
from workstation.sim.ws import PUBLIC_PREFIXES

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")

MB = 1 << 20


@dataclass
class ChildSim:
    process: asyncio.subprocess.Process
    host: str
    port: int

    def rss(self) -> int:
        """Resident set size of the child, in bytes."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS line")

    async def settled_rss(self, *, within: float = 30.0) -> int:
        """RSS once start-up is over: two readings a second apart within 1 MB."""
        async with asyncio.timeout(within):
            previous = self.rss()
            while True:
                await asyncio.sleep(1.0)
                now = self.rss()
                if abs(now - previous) < MB:
                    return now
                previous = now


@contextlib.asynccontextmanager
async def child_sim(speed: str) -> AsyncIterator[ChildSim]:
    """``python -m workstation sim`` on a free loopback port, ready once it printed its URLs
    (as services.venue.EmbeddedSim starts it); stopped by closing its stdin."""
    process = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "workstation", "sim", "--port", "0", "--embedded"],
        *["--seed", "7", "--speed", speed],
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdin is not None
    assert process.stdout is not None
    try:
        async with asyncio.timeout(60):
            ready = json.loads(await process.stdout.readline())
        host, port = ready["rest_url"].removeprefix("http://").rsplit(":", 1)
        yield ChildSim(process, host, int(port))
    finally:
        process.stdin.close()
        try:
            async with asyncio.timeout(10):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()


# -- forged keys -----------------------------------------------------------------------------

FORGED_REQUESTS = 20_000
FORGED_GROWTH_BOUND = 12 * MB


async def test_random_x_auth_values_leave_no_memory_behind() -> None:
    async with child_sim(speed="0") as sim:
        start = await sim.settled_rss()
        statuses: dict[int, int] = {}
        url = f"http://{sim.host}:{sim.port}/api/v2/markets/"
        todo = iter(range(FORGED_REQUESTS))
        async with aiohttp.ClientSession() as session:

            async def caller() -> None:
                for _ in todo:
                    headers = {"X-Auth": f"BITSTAMP {secrets.token_hex(16)}"}
                    async with session.get(url, headers=headers) as response:
                        await response.read()
                        statuses[response.status] = statuses.get(response.status, 0) + 1

            async with asyncio.timeout(120):
                await asyncio.gather(*(caller() for _ in range(20)))
        await asyncio.sleep(1.0)
        after = sim.rss()
    assert sum(statuses.values()) == FORGED_REQUESTS
    assert after - start < FORGED_GROWTH_BOUND, (start / MB, after / MB, statuses)
    assert statuses.get(429), statuses  # one address, one budget: 400/s


# -- slow readers ----------------------------------------------------------------------------

SLOW_READER_GROWTH_BOUND = 48 * MB
EVERY_CHANNEL = [prefix + m.symbol for m in DEFAULT_MARKETS for prefix in PUBLIC_PREFIXES]


async def never_reader(sim: ChildSim) -> socket.socket:
    """A WebSocket client with a tiny receive buffer that subscribes to every channel of
    every market and never reads."""
    loop = asyncio.get_running_loop()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await loop.sock_connect(sock, (sim.host, sim.port))
    key = base64.b64encode(os.urandom(16)).decode()
    head = (
        f"GET / HTTP/1.1\r\nHost: {sim.host}:{sim.port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    await loop.sock_sendall(sock, head.encode())
    for channel in EVERY_CHANNEL:
        subscribe = json.dumps({"event": "bts:subscribe", "data": {"channel": channel}})
        await loop.sock_sendall(sock, masked_text_frame(subscribe))
    return sock


def server_connections(port: int) -> int:
    """TCP connections the server's end holds open on 127.0.0.1:``port`` (``/proc/net/tcp``:
    that local address, state ESTABLISHED). The client's end cannot tell: a reset sent while its
    window is shut is out of window and ignored, so it stays ESTABLISHED until it reads."""
    held = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == f"0100007F:{port:04X}" and fields[3] == "01":  # 127.0.0.1:port
            held += 1
    return held


async def test_slow_readers_are_dropped_within_a_bounded_memory() -> None:
    async with child_sim(speed="100") as sim:
        start = await sim.settled_rss()
        readers = [await never_reader(sim) for _ in range(3)]
        await until(lambda: server_connections(sim.port) == 3, within=10, every=0.1)
        peak = start
        try:

            async def watch() -> None:
                nonlocal peak
                while True:
                    peak = max(peak, sim.rss())
                    await asyncio.sleep(0.5)

            watcher = asyncio.create_task(watch())
            try:
                await until(lambda: server_connections(sim.port) == 0, within=90, every=0.5)
            finally:
                watcher.cancel()
        finally:
            for sock in readers:
                sock.close()
        await asyncio.sleep(2.0)
        after = sim.rss()
    assert peak - start < SLOW_READER_GROWTH_BOUND, (start / MB, peak / MB)
    assert after - start < SLOW_READER_GROWTH_BOUND, (start / MB, after / MB)
