"""A real simulator on 127.0.0.1 for every integration test, and clients pointed at it."""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from workstation.bitstamp.auth import Credentials
from workstation.bitstamp.rest import RestClient
from workstation.bitstamp.secret import Secret
from workstation.bitstamp.transport import RetryPolicy
from workstation.services.journal import Journal
from workstation.services.order_tracker import OrderTracker
from workstation.sim.clock import SimClock
from workstation.sim.exchange import SimExchange
from workstation.sim.server import SimServer

from .trading_support import FAST, Changes, Recorder


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    server = SimServer(SimExchange(seed=7, speed=0))
    async with server:
        yield server


def credentials_for(sim: SimServer, *, secret: str | None = None) -> Credentials:
    demo = sim.exchange.demo
    return Credentials(
        key=Secret(demo.api_key), secret=Secret(secret or demo.secret), env="sim", host=sim.host
    )


@pytest.fixture
async def live_sim() -> AsyncIterator[SimServer]:
    """A simulator whose market moves (speed 5 on a manual clock the test advances)."""
    clock = SimClock(manual_start_us=time.time_ns() // 1000)
    server = SimServer(SimExchange(seed=21, speed=5, clock=clock, history_s=600))
    async with server:
        yield server


@pytest.fixture
async def live_rest(live_sim: SimServer) -> AsyncIterator[RestClient]:
    client = RestClient.for_url(
        live_sim.rest_url, credentials=credentials_for(live_sim), timeout_s=5.0
    )
    async with client:
        yield client


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


@dataclass(frozen=True)
class SimProcess:
    """A ``workstation sim`` child: its banner and the URLs it printed."""

    banner: str
    rest_base: str
    ws_url: str


@contextlib.asynccontextmanager
async def sim_process(*flags: str) -> AsyncIterator[SimProcess]:
    """Run ``workstation sim --port 0 FLAGS`` and yield once its banner is printed; on exit
    send SIGINT and assert it ends with status 0 (killed if it does not, so nothing leaks)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "workstation",
        "sim",
        "--port",
        "0",
        *flags,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    try:
        lines: list[str] = []
        async with asyncio.timeout(30):
            while not any("ex.urls" in line for line in lines):
                line = (await process.stdout.readline()).decode()
                assert line, "the simulator exited before printing its banner"
                lines.append(line)
        text = "".join(lines)
        rest = re.search(r"REST\s+(http://127\.0\.0\.1:\d+)/api/v2/", text)
        ws = re.search(r"WebSocket\s+(ws://127\.0\.0\.1:\d+/)", text)
        assert rest is not None
        assert ws is not None
        yield SimProcess(text, rest.group(1), ws.group(1))
        process.send_signal(signal.SIGINT)
        async with asyncio.timeout(15):
            assert await process.wait() == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


@pytest.fixture
def journal_path(tmp_path: Path) -> Path:
    return tmp_path / "journal.sqlite3"


@pytest.fixture
async def journal(journal_path: Path) -> AsyncIterator[Journal]:
    with Journal(journal_path) as journal:
        yield journal


@pytest.fixture
def changes() -> Changes:
    """Every change a TradingService reports, in order."""
    return Changes()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def tracker(rest: RestClient, journal: Journal, recorder: Recorder) -> OrderTracker:
    """An order tracker on ``rest`` with fast reconcile pauses, having found nothing open."""
    tracker = OrderTracker(rest, journal, "sim", policy=FAST, on_change=recorder)
    assert await tracker.reconcile_open() == []
    return tracker
