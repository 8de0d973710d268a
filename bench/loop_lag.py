"""UI event-loop lag while ten pairs stream at ``--speed 100`` with the book pane visible.

``python -m bench.loop_lag`` (``make bench`` runs it). The real app runs headless (Textual's
``run_test`` driver: layout and widget rendering happen, only the terminal write is skipped)
against ``workstation sim --speed 100`` in a child process, as the embedded simulator runs in
production, so the simulator's own CPU work stays out of the loop being measured. A task
sleeps 10 ms over and over and records how late it wakes up: that lateness is what a
keystroke or a redraw waits behind.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
from typing import Any

from workstation.bitstamp.secret import Secret
from workstation.services.facade import VenueServices
from workstation.services.feed import FeedState
from workstation.services.venue import Venue
from workstation.ui.app import WorkstationApp, build_app, prepare_collector_for_the_run
from workstation.ui.options import AppOptions
from workstation.ui.panes.book import OrderBookView

from .book_bench import PAIRS
from .common import machine, say, write_section

__all__ = ["main"]

TICK_S = 0.010
GOAL_P99_MS = 10.0
SIM_SPEED = 100


async def _start_sim(seed: int, log: Any) -> tuple[asyncio.subprocess.Process, Venue]:
    """``workstation sim --embedded``: one JSON line with URLs and keys; exits on stdin EOF."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "workstation",
        "sim",
        "--port",
        "0",
        "--speed",
        str(SIM_SPEED),
        "--seed",
        str(seed),
        "--embedded",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=log,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    try:
        async with asyncio.timeout(60):
            ready = json.loads(await process.stdout.readline())
    except (TimeoutError, ValueError):
        await _stop_sim(process)
        log.seek(0)
        raise RuntimeError(f"the simulator did not start:\n{log.read()[-2000:]}") from None
    venue = Venue(
        "sim",
        ready["rest_url"],
        ready["ws_url"],
        Secret(ready["api_key"]),
        Secret(ready["api_secret"]),
    )
    return process, venue


async def _stop_sim(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    if process.stdin is not None:
        process.stdin.close()  # the child exits on stdin EOF
    with contextlib.suppress(ProcessLookupError):
        process.terminate()
    try:
        async with asyncio.timeout(10):
            await process.wait()
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()


async def _wait_live(app: WorkstationApp, services: VenueServices, timeout_s: float) -> None:
    """Until every pair's book is synced (snapshot in, diffs applying) and one is on screen."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        hub = services.hub
        if hub is not None and app.current is not None:
            feeds = [hub.feeds.get(p) for p in PAIRS]
            if all(f is not None and f.state is FeedState.LIVE for f in feeds):
                return
        await asyncio.sleep(0.1)
    hub = services.hub
    states = {
        p: (f.state.value, f.health.resyncs, f.health.last_resync_reason)
        for p in PAIRS
        if hub is not None and (f := hub.feeds.get(p)) is not None
    }
    raise RuntimeError(
        f"the {len(PAIRS)} pairs were not all live within {timeout_s:g} s: "
        f"(state, resyncs, last reason) {states}"
    )


async def _sample_lag(seconds: float) -> list[float]:
    """How late (ms) each 10 ms sleep wakes, for ``seconds``."""
    lags = []
    end = time.perf_counter() + seconds
    while True:
        expected = time.perf_counter() + TICK_S
        await asyncio.sleep(TICK_S)
        now = time.perf_counter()
        lags.append((now - expected) * 1000)
        if now >= end:
            return lags


def _percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def _summary(lags: list[float]) -> dict[str, float]:
    return {
        "p50": round(statistics.median(lags), 2),
        "p90": round(_percentile(lags, 90), 2),
        "p99": round(_percentile(lags, 99), 2),
        "max": round(max(lags), 2),
        "mean": round(statistics.fmean(lags), 2),
    }


async def run(
    seconds: float, warmup_s: float, seed: int, baseline_s: float, profiler: Any
) -> dict[str, Any]:
    with tempfile.TemporaryFile("w+") as log:
        process, venue = await _start_sim(seed, log)
        try:
            # The control: this loop with nothing on it, the simulator running beside it. On a
            # shared machine the other workers alone make some lag; this says how much.
            baseline = await _sample_lag(baseline_s) if baseline_s > 0 else None
            services = VenueServices(venue)
            app = build_app(services, AppOptions(pairs=PAIRS))
            prepare_collector_for_the_run()  # as run_app does before the app runs
            async with app.run_test(size=(160, 50)):
                say(f"  app started against {venue.rest_url}; waiting for {len(PAIRS)} live pairs")
                await _wait_live(app, services, 90)
                await asyncio.sleep(warmup_s)
                hub = services.hub
                assert hub is not None
                book_view = app.query_one(OrderBookView)
                visible = book_view.display and book_view.region.area > 0
                versions = {p: hub.feeds[p].version for p in PAIRS}
                cpu0, wall0 = time.process_time(), time.perf_counter()
                say(f"  measuring for {seconds:g} s (book pane shows {app.current})")
                if profiler is not None:
                    profiler.enable()
                lags = await _sample_lag(seconds)
                if profiler is not None:
                    profiler.disable()
                cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
                applied = sum(hub.feeds[p].version - versions[p] for p in PAIRS)
                not_live = [p for p in PAIRS if hub.feeds[p].state is not FeedState.LIVE]
                resyncs = sum(hub.feeds[p].health.resyncs for p in PAIRS)
                shown = app.current
        finally:
            await _stop_sim(process)
    return {
        "pairs": list(PAIRS),
        "sim_speed": SIM_SPEED,
        "seconds": round(wall, 1),
        "tick_ms": TICK_S * 1000,
        "samples": len(lags),
        "lag_ms": _summary(lags),
        "baseline_lag_ms": _summary(baseline) if baseline else None,
        "baseline_note": "the same 10 ms sampler on this process's loop with no app, the "
        "simulator running, just before: the machine's share of the lag",
        "book_updates_per_s": round(applied / wall, 1),
        "book_pane_visible": bool(visible),
        "book_pane_pair": shown,
        "pairs_not_live_at_end": not_live,
        "resyncs": resyncs,
        "app_cpu_share": round(cpu / wall, 3),
        "goal_p99_under_ms": GOAL_P99_MS,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.loop_lag", description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0, help="measured (default 20)")
    parser.add_argument("--warmup", type=float, default=3.0, help="after sync (default 3)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--baseline", type=float, default=5.0, help="seconds of control, no app (default 5)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the measured window (adds lag)"
    )
    args = parser.parse_args(argv)
    say(f"UI loop lag: {len(PAIRS)} pairs at --speed {SIM_SPEED}, simulator in a child process")
    profiler = cProfile.Profile() if args.profile else None
    result = asyncio.run(run(args.seconds, args.warmup, args.seed, args.baseline, profiler))
    lag = result["lag_ms"]
    met = lag["p99"] < GOAL_P99_MS
    result["goal_met"] = met
    say()
    say(f"Event-loop lag over {result['seconds']} s ({result['samples']} wake-ups of 10 ms):")
    say(
        f"  p50 {lag['p50']:.2f} ms   p90 {lag['p90']:.2f} ms   p99 {lag['p99']:.2f} ms   "
        f"max {lag['max']:.2f} ms"
    )
    say(
        f"  book updates applied: {result['book_updates_per_s']:.0f}/s across {len(PAIRS)} pairs; "
        f"book pane visible: {result['book_pane_visible']} ({result['book_pane_pair']}); "
        f"resyncs: {result['resyncs']}; app process on CPU {result['app_cpu_share']:.0%}"
    )
    base = result["baseline_lag_ms"]
    if base:
        say(
            f"  control, no app (sim running): p50 {base['p50']:.2f} ms   "
            f"p99 {base['p99']:.2f} ms   max {base['max']:.2f} ms"
        )
    say(f"Goal: p99 under {GOAL_P99_MS:g} ms: {'met' if met else 'NOT MET'}")
    if profiler is not None:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(25)
        say(out.getvalue())
    if args.profile:
        result["profiled"] = True  # cProfile's overhead inflates the lag: not a clean figure
    write_section("loop_lag", {"machine": machine(), **result})
    say("wrote the figures to bench.json (section 'loop_lag')")
    return 0


if __name__ == "__main__":
    sys.exit(main())
