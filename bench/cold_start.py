"""Cold start: from spawning the app to its first painted book, as a trader waits for it.

``python -m bench.cold_start`` (``make bench`` runs it). Two ways to start, side by side: the
app alone (``python -m workstation``: it starts its embedded simulator in a child process)
and attached to a simulator already running (``workstation sim`` started once beforehand,
the app run with ``--sim-url``); beside them the attached start with no markets saved by an
earlier start (a trader's first start ever: the cache is removed before each of its runs, so
its first book waits for the venue's markets, ``services/markets_cache.py``); and the floor,
a bare Textual app that draws the same box of prices (``bench/bare_textual.py``: Python and
Textual alone).

Each run spawns the app in a 120x40 pseudo-terminal drawn by pyte and stops the clock at the
chunk of output after which the book pane shows three rows with two prices each: a reader
thread drains the terminal and stamps each chunk as it comes, and pyte draws them after
(``TtyChild.arrival``); the error is the reader's waits for the drawing thread, about a
millisecond per 4 kB of output, and never early. (Until 2026-12-07 the bench read and drew
in turn, and a first screen of ~50 kB waited on pyte in 4 kB steps: ~0.15 s of every start
was the bench's.) The starts alternate run by run, so a burst of load elsewhere hits all
alike; one unmeasured start of each goes first (the OS's file cache, Python's bytecode
cache), then each run starts from the same temp XDG dirs, as a trader's second start does.
The app quits with ctrl+q between runs. Figures: median and max over the runs, in seconds,
and the CPU seconds the app's own process had used when its book showed (``/proc``, read as
the chunk came): on a loaded machine the wall time carries the other workers, the CPU time
much less so.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from typing import Any

from .app_pty import app_argv, app_env
from .common import machine, say, write_section
from .sim_child import RunningSim, running_sim
from .tty_bytes import ScreenMeter, TtyChild, book_shows_prices

__all__ = ["main", "time_to_book"]

FIRST = "first ever"
"""The attached start with no markets cache (its own XDG dirs, the cache removed each run)."""
GOALS_S: dict[str, float | None] = {
    "embedded": 1.0,
    "attached": 0.6,
    FIRST: None,
    "bare Textual": None,
}
"""The goal of each start; the first start ever and the bare Textual app are beside them."""


def time_to_book(
    argv: list[str], env: dict[str, str], timeout_s: float = 60.0
) -> tuple[float, float]:
    """Seconds from spawning ``argv`` to a book with prices on screen, and the CPU seconds
    the app's process had used by then (its simulator's not counted)."""
    t0 = time.monotonic()
    child, meter = TtyChild(argv, env, 120, 40), ScreenMeter(120, 40)
    try:
        shown = child.arrival(meter, timeout_s, until=lambda: book_shows_prices(meter.text()))
        if shown is None:
            raise RuntimeError(f"no book on screen within {timeout_s:g} s:\n{meter.text()}")
        read_at, cpu = shown
        return read_at - t0, cpu
    finally:
        child.stop(meter, (b"\x11", b"q"), timeout_s=10)


def _starts(sim: RunningSim, seed: int, home: str) -> dict[str, tuple[list[str], dict[str, str]]]:
    return {
        "embedded": (app_argv("--seed", str(seed)), app_env(f"{home}/embedded")),
        "attached": (
            app_argv("--sim-url", sim.rest_url),
            app_env(f"{home}/attached", api_key=sim.api_key, api_secret=sim.api_secret),
        ),
        FIRST: (
            app_argv("--sim-url", sim.rest_url),
            app_env(f"{home}/first", api_key=sim.api_key, api_secret=sim.api_secret),
        ),
        "bare Textual": (
            [sys.executable, "-m", "bench.bare_textual"],
            app_env(f"{home}/bare"),
        ),
    }


def measure(runs: int, seed: int) -> dict[str, Any]:
    times: dict[str, list[float]] = {how: [] for how in GOALS_S}
    cpus: dict[str, list[float]] = {how: [] for how in GOALS_S}
    with (
        tempfile.TemporaryFile("w+") as log,
        running_sim(1.0, seed, log) as sim,
        tempfile.TemporaryDirectory(prefix="cold-start-") as home,
    ):
        starts = _starts(sim, seed, home)
        for how, (args, env) in starts.items():
            if how == FIRST:
                shutil.rmtree(env["XDG_CACHE_HOME"], ignore_errors=True)
            took, cpu = time_to_book(args, env)
            say(f"  {how:<12} unmeasured first start: {took:.2f} s (CPU {cpu:.2f} s)")
        for i in range(runs):
            order = list(starts) if i % 2 == 0 else list(reversed(starts))
            for how in order:
                args, env = starts[how]
                if how == FIRST:
                    shutil.rmtree(env["XDG_CACHE_HOME"], ignore_errors=True)
                took, cpu = time_to_book(args, env)
                times[how].append(took)
                cpus[how].append(cpu)
                say(f"  {how:<12} run {i + 1}: {took:.2f} s (CPU {cpu:.2f} s)")
    return {
        how: {
            "median_s": round(statistics.median(values), 3),
            "max_s": round(max(values), 3),
            "min_s": round(min(values), 3),
            "runs_s": [round(v, 3) for v in values],
            "app_cpu_median_s": round(statistics.median(cpus[how]), 3),
            "goal_under_s": GOALS_S[how],
        }
        for how, values in times.items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cold_start", description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="measured runs of each (default 5)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-write", action="store_true", help="leave bench.json alone")
    args = parser.parse_args(argv)
    say(f"Cold start to the first painted book, {args.runs} runs of each, alternating")
    got = measure(args.runs, args.seed)
    say()
    for how, fig in got.items():
        goal = fig["goal_under_s"]
        if how == FIRST:
            verdict = "beside: no markets saved by an earlier start"
        elif goal is None:
            verdict = "the floor: Python and Textual alone"
        else:
            verdict = f"goal under {goal:g} s: {'met' if fig['median_s'] < goal else 'NOT MET'}"
        say(
            f"  {how:<12} median {fig['median_s']:.2f} s, max {fig['max_s']:.2f} s, app CPU "
            f"{fig['app_cpu_median_s']:.2f} s ({verdict})"
        )
    result = {
        "machine": machine(),
        "cold_start_s": got["embedded"]["median_s"],
        "cold_start_max_s": got["embedded"]["max_s"],
        "cold_start_attached_s": got["attached"]["median_s"],
        "cold_start_attached_max_s": got["attached"]["max_s"],
        "cold_start_app_cpu_s": got["embedded"]["app_cpu_median_s"],
        "cold_start_attached_app_cpu_s": got["attached"]["app_cpu_median_s"],
        "cold_start_attached_first_s": got[FIRST]["median_s"],
        "cold_start_bare_textual_s": got["bare Textual"]["median_s"],
        "definition": "spawn of `python -m workstation` in a 120x40 pty to three rows of the "
        "book pane with two prices each; median of the runs (the goal is judged on it); "
        "each run a trader's second start (XDG dirs and bytecode kept), but 'first ever' "
        "(no markets cache)",
        "runs": got,
    }
    if not args.no_write:
        write_section("cold_start", result)
        say("wrote the figures to bench.json (section 'cold_start')")
    return 0


if __name__ == "__main__":
    sys.exit(main())
