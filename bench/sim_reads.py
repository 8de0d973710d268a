"""What one client's expensive reads cost the simulator's other clients (issue 17, items 3, 6).

``python -m bench.sim_reads`` starts ``workstation sim --embedded`` in a child process (as the
workstation runs it), lets it finish its day of history, then measures a WebSocket client's
``bts:heartbeat`` round trips twice: with nobody else about, and while a second process
polls ``/ticker/btcusd/`` and ``/transactions/btcusd/?time=day`` back to back (two loops, as
fast as the answers come, so at Bitstamp's rate limit once the answers are cheap). The poller
reads bodies as bytes and never parses them, so its own cost stays out of the figures.

``--tree DIR`` runs the simulator of another checkout (``git archive <commit> | tar -x -C
DIR``): the figures of the code before and after a change, side by side on one machine.
``--profile FILE`` runs the simulator under pyinstrument and writes its text report there.
``--holds`` measures instead how long the simulator's loop is held at a time, in thread CPU
time, with the simulator in-process (``bench/sim_loop_holds.py``): the machine's scheduling
noise, which the wall-time round trips above carry, does not count there.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from .common import REPO, machine, say, write_section

__all__ = ["main"]

HEARTBEAT = json.dumps({"event": "bts:heartbeat"})
PAUSE_S = 0.005
"""Between one heartbeat's answer and the next heartbeat."""


async def _start_sim(
    tree: Path, speed: float, profile: Path | None, log: Any
) -> tuple[asyncio.subprocess.Process, dict[str, str]]:
    """``workstation sim --embedded`` from ``tree``: one JSON line with its URLs."""
    sim = ["-m", "workstation", "sim", "--port", "0", "--speed", str(speed), "--seed", "3"]
    runner = ["-m", "pyinstrument", "-r", "text", "-o", str(profile)] if profile else []
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *runner,
        *sim,
        "--embedded",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=log,
        cwd=tree,  # ``-m`` puts the working directory first on the path
        env={**os.environ, "PYTHONPATH": str(tree), "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    async with asyncio.timeout(60):
        ready = json.loads(await process.stdout.readline())
    return process, ready


async def _stop_sim(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    if process.stdin is not None:
        process.stdin.close()  # the child exits on stdin EOF
    try:
        async with asyncio.timeout(30):
            await process.wait()
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()


async def _heartbeats(ws_url: str, seconds: float) -> list[float]:
    """Round trips of ``bts:heartbeat`` in milliseconds, one at a time for ``seconds``."""
    rtts: list[float] = []
    async with aiohttp.ClientSession() as session, session.ws_connect(ws_url) as ws:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            sent = time.perf_counter()
            await ws.send_str(HEARTBEAT)
            while True:
                message = await ws.receive(timeout=10)
                if message.type is not aiohttp.WSMsgType.TEXT:
                    raise RuntimeError(f"the simulator closed the stream: {message!r}")
                if '"bts:heartbeat"' in message.data:
                    break
            rtts.append((time.perf_counter() - sent) * 1000)
            await asyncio.sleep(PAUSE_S)
    return rtts


async def _poll(rest_url: str, seconds: float) -> dict[str, Any]:
    """The abuser: two loops, ticker and a day of transactions, for ``seconds``."""
    paths = {
        "ticker": "/api/v2/ticker/btcusd/",
        "transactions_day": "/api/v2/transactions/btcusd/?time=day",
    }
    figures: dict[str, Any] = {}

    async def loop(session: aiohttp.ClientSession, name: str, path: str) -> None:
        times: list[float] = []
        refused = size = 0
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            sent = time.perf_counter()
            async with session.get(rest_url + path) as reply:
                body = await reply.read()
            if reply.status == 429:
                refused += 1
                await asyncio.sleep(0.01)
                continue
            if reply.status != 200:
                raise RuntimeError(f"{path}: HTTP {reply.status}")
            times.append((time.perf_counter() - sent) * 1000)
            size = len(body)
        figures[name] = {
            "calls_per_s": round(len(times) / seconds, 1),
            "median_ms": round(statistics.median(times), 2) if times else None,
            "p99_ms": round(_p99(times), 2) if times else None,
            "refused_429": refused,
            "body_bytes": size,
        }

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(loop(session, name, path) for name, path in paths.items()))
    return figures


def _p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100)[98] if len(samples) > 1 else samples[0]


def _summary(rtts: list[float]) -> dict[str, float]:
    return {
        "samples": len(rtts),
        "p50_ms": round(statistics.median(rtts), 2),
        "p99_ms": round(_p99(rtts), 2),
        "max_ms": round(max(rtts), 2),
    }


async def _measure(
    tree: Path, speed: float, seconds: float, profile: Path | None
) -> dict[str, Any]:
    with tempfile.TemporaryFile("w+") as log:
        process, ready = await _start_sim(tree, speed, profile, log)
        try:
            rest, ws = ready["rest_url"], ready["ws_url"]
            async with aiohttp.ClientSession() as session:  # history made, caches warm
                for path in ("/api/v2/ticker/", "/api/v2/transactions/btcusd/?time=day"):
                    async with session.get(rest + path) as reply:
                        await reply.read()
            await asyncio.sleep(1.0)
            idle = _summary(await _heartbeats(ws, seconds))
            poller = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bench.sim_reads",
                "--poll",
                rest,
                "--seconds",
                str(seconds),
                stdout=asyncio.subprocess.PIPE,
                env={**os.environ, "PYTHONPATH": str(REPO)},
            )
            await asyncio.sleep(0.3)  # the poller's interpreter starts
            busy = _summary(await _heartbeats(ws, seconds - 0.6))
            out, _ = await poller.communicate()
            polled = json.loads(out)
        finally:
            await _stop_sim(process)
    return {"heartbeat_idle": idle, "heartbeat_polled": busy, "poller": polled}


def _report(label: str, figures: dict[str, Any]) -> None:
    idle, busy, polled = figures["heartbeat_idle"], figures["heartbeat_polled"], figures["poller"]
    say(f"{label}")
    say(
        f"  heartbeat RTT, nobody polling: p50 {idle['p50_ms']} ms, p99 {idle['p99_ms']} ms, "
        f"max {idle['max_ms']} ms ({idle['samples']} samples)"
    )
    say(
        f"  heartbeat RTT, one client polling: p50 {busy['p50_ms']} ms, p99 {busy['p99_ms']} "
        f"ms, max {busy['max_ms']} ms ({busy['samples']} samples)"
    )
    for name, row in polled.items():
        say(
            f"  {name}: {row['calls_per_s']}/s answered, median {row['median_ms']} ms, "
            f"p99 {row['p99_ms']} ms, {row['refused_429']} refused (429), "
            f"{row['body_bytes']} bytes"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, action="append", help="a checkout to measure")
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--profile", type=Path, help="pyinstrument report of the simulator")
    parser.add_argument("--holds", action="store_true", help="loop holds in thread CPU time")
    parser.add_argument("--poll", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.poll:
        figures = asyncio.run(_poll(args.poll, args.seconds))
        sys.stdout.write(json.dumps(figures) + "\n")
        return
    trees = args.tree or [REPO]
    results: dict[str, Any] = {"machine": machine(), "speed": args.speed}
    say(f"simulator at --speed {args.speed:g}, {args.seconds:g} s per phase")
    for tree in trees:
        if args.holds:
            figures = _holds(tree, args.speed, args.seconds)
            say(f"{tree}: loop holds in thread CPU time (ms)")
            for phase, row in figures.items():
                say(f"  {phase}: {row}")
        else:
            figures = asyncio.run(_measure(tree, args.speed, args.seconds, args.profile))
            _report(str(tree), figures)
        results[str(tree)] = figures
    write_section("sim_loop_holds" if args.holds else "sim_reads", results)


def _holds(tree: Path, speed: float, seconds: float) -> dict[str, Any]:
    """``bench/sim_loop_holds.py`` run against ``tree``'s simulator."""
    script = Path(__file__).with_name("sim_loop_holds.py")
    done = subprocess.run(
        [sys.executable, str(script), str(speed), str(seconds)],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    figures: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return figures


if __name__ == "__main__":
    main()
