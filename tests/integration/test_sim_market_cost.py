"""The simulator's own market stays cheap (issue 17, item 6).

At ``--speed 100`` the 50 ms market tick held the event loop for 10-14 ms at a time, a fresh
simulator held it for up to 90 ms while it made its day of history, and an idle one grew by
half a megabyte a second (every trade kept as objects, about 400 bytes each). The loop's
holds are measured in thread CPU time by a probe inside the simulator's loop (see
``loop_hold``: a shared machine's scheduling noise does not count), the tape's cost per
trade with tracemalloc, and a real ``workstation sim --speed 100`` process's resident size.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path

from workstation.domain.common import Side
from workstation.domain.market_data import Trade
from workstation.sim.exchange import SimExchange
from workstation.sim.server import SimServer

from .loop_hold import holding_probe

TICK_P99_MS = 8.0
"""The old tick held the loop 8-14 ms of CPU every 50 ms (p99 12-18 ms); the new one lets it
go every millisecond (p99 about 4 ms: a probe waits about three turns of the loop)."""
HISTORY_P99_MS = 15.0
"""Old history chunks held the loop 20-90 ms each (p99 70-1300 ms); new ones (50 trades)
well under a millisecond (p99 3-7 ms with the market running)."""
BYTES_PER_TRADE = 150
"""The old tape's Trade objects took about 400 bytes each; a row of columns takes ~55."""
RSS_AFTER_S = 25.0
RSS_GROWTH_MIB = 35.0
"""Growth bound over :data:`RSS_AFTER_S` from serving: old 70-100 MiB, new about 11."""


async def test_the_market_tick_at_speed_100_holds_the_loop_a_few_milliseconds() -> None:
    exchange = SimExchange(seed=7, speed=100, history_s=0)
    async with SimServer(exchange):
        await asyncio.sleep(0.5)  # the first ticks
        async with holding_probe() as holds:
            await asyncio.sleep(3.0)
    assert holds.p99() < TICK_P99_MS, holds.describe()


async def test_a_fresh_simulator_makes_its_day_of_history_in_slices() -> None:
    exchange = SimExchange(seed=7, speed=1)
    async with holding_probe() as holds, SimServer(exchange):
        started = time.monotonic()
        for symbol in exchange.markets:
            await exchange.history_ready(symbol)
        took = time.monotonic() - started
    assert len(exchange.transactions("btcusd", 86_400)) > 20_000  # a busy market's day
    assert holds.p99() < HISTORY_P99_MS, f"{holds.describe()}; history took {took:.1f} s"


def test_a_stored_trade_costs_tens_of_bytes_not_hundreds() -> None:
    """Memory traced while the tape takes trades, per trade: the trades are made inside the
    traced block and only the tape keeps anything of them."""
    exchange = SimExchange(seed=7, speed=0, history_s=0)
    start_us = exchange.clock.now_us()
    count = 20_000
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(count):
            exchange.data.record_trade(
                Trade(
                    market="btcusd",
                    id=700_000_000 + i,
                    price=Decimal(60_000 + i % 500) + Decimal("0.25"),
                    amount=Decimal(i % 97 + 1) / 1000,
                    side=Side.BUY if i % 2 else Side.SELL,
                    timestamp_us=start_us + i * 1000,
                    buy_order_id=1_900_000_000_000_000 + 2 * i,
                    sell_order_id=1_900_000_000_000_001 + 2 * i,
                )
            )
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(exchange.transactions("btcusd", 86_400)) == count
    assert grown / count < BYTES_PER_TRADE, f"{grown} bytes for {count} trades"


def resident_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


async def test_an_idle_simulator_at_speed_100_stays_near_its_size() -> None:
    """A real ``workstation sim --speed 100``: resident memory from the moment it serves to
    25 s later. The old one grew 80-100 MiB (a day of history and a tape of 50,000 trades
    per market as objects, filling at speed 100 in about that time, faster on an idle
    machine); the new one about 11 MiB (the history's columns, the books, the imports of
    serving), and its tape's bound is a few MiB more."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "workstation",
        "sim",
        "--port",
        "0",
        "--speed",
        "100",
        "--embedded",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert process.stdout is not None
    assert process.stdin is not None
    try:
        async with asyncio.timeout(60):
            assert await process.stdout.readline()  # the JSON line: serving
        serving = resident_mib(process.pid)
        await asyncio.sleep(RSS_AFTER_S)
        grown = resident_mib(process.pid) - serving
    finally:
        process.stdin.close()  # the simulator exits on stdin EOF
        try:
            async with asyncio.timeout(15):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()
    assert grown < RSS_GROWTH_MIB, f"grew {grown:.1f} MiB in {RSS_AFTER_S} s from {serving:.1f}"
