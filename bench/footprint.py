"""What the app costs the machine it runs on: CPU of its own process, and resident memory,
the embedded simulator's beside it.

``python -m bench.footprint`` (``make bench`` runs it). The real app (``python -m workstation
--pair ...``: its embedded simulator in a child process, at the real rate, ``--speed 1``) runs
in a 120x40 pseudo-terminal drawn by pyte, from temp XDG dirs. Two runs:

- **CPU**: 3 pairs watched. Once the book shows prices and a warm-up has passed, the user plus
  system CPU time of the app's process and of the simulator's (``/proc/PID/stat``, read from
  outside) is taken over a window (25 s) and divided by its wall time: a share of one core.
- **Memory**: 10 pairs watched. Once the book shows prices, every pair has had time to load
  (a settle time, 15 s), ``VmRSS`` and the peak ``VmHWM`` of both processes
  (``/proc/PID/status``). MB is 10^6 bytes.

The app and the simulator are separate processes, so neither figure holds the other's; this
script's own drawing (pyte) is reported too: on a 2-core machine it competes for the cores
but never adds to the app's figures.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from typing import Any

from .app_pty import app_env, spawn_app
from .book_bench import PAIRS
from .common import machine, say, write_section
from .proc_stats import child_pids, cpu_seconds, memory_mb
from .tty_bytes import ScreenMeter, TtyChild, book_shows_prices

__all__ = ["main", "measure_cpu", "measure_memory"]

CPU_PAIRS = PAIRS[:3]
GOAL_CPU_PCT = 5.0
GOAL_RSS_MB = 80.0


def _pair_args(pairs: tuple[str, ...], seed: int) -> list[str]:
    args = ["--seed", str(seed)]
    for pair in pairs:
        args += ["--pair", pair]
    return args


def _running(
    pairs: tuple[str, ...], seed: int, home: str, startup_timeout_s: float
) -> tuple[TtyChild, ScreenMeter, int]:
    """The app up with its book on screen, and the pid of its embedded simulator."""
    child, meter = spawn_app(_pair_args(pairs, seed), app_env(home))
    if not child.pump(meter, startup_timeout_s, until=lambda: book_shows_prices(meter.text())):
        child.stop(meter, (b"\x11", b"q"), timeout_s=10)
        raise RuntimeError(f"no book on screen within {startup_timeout_s:g} s:\n{meter.text()}")
    sims = child_pids(child.process.pid)
    if len(sims) != 1:
        child.stop(meter, (b"\x11", b"q"), timeout_s=10)
        raise RuntimeError(f"expected one embedded simulator under the app, found {sims}")
    return child, meter, sims[0]


def measure_cpu(
    pairs: tuple[str, ...], seed: int, *, warmup_s: float, seconds: float
) -> dict[str, Any]:
    """Share of one core used by the app's process and by its simulator's over ``seconds``
    (and their memory at the end)."""
    with tempfile.TemporaryDirectory(prefix="footprint-cpu-") as home:
        child, meter, sim = _running(pairs, seed, home, 60.0)
        try:
            child.pump(meter, warmup_s)
            app = child.process.pid
            app0, sim0, own0, t0 = (
                cpu_seconds(app),
                cpu_seconds(sim),
                time.process_time(),
                time.monotonic(),
            )
            if not child.pump(meter, seconds):
                raise RuntimeError("the app closed its terminal while measured")
            wall = time.monotonic() - t0
            app_s, sim_s = cpu_seconds(app) - app0, cpu_seconds(sim) - sim0
            own_s = time.process_time() - own0
            shows = book_shows_prices(meter.text())
            app_mem, sim_mem = memory_mb(app), memory_mb(sim)
        finally:
            child.stop(meter, (b"\x11", b"q"), timeout_s=10)
    return {
        "pairs": list(pairs),
        "seconds": round(wall, 1),
        "app_cpu_pct": round(100 * app_s / wall, 2),
        "sim_cpu_pct": round(100 * sim_s / wall, 2),
        "bench_cpu_pct": round(100 * own_s / wall, 2),
        "book_shown_at_end": shows,
        "app_memory": app_mem,
        "sim_memory": sim_mem,
    }


def measure_memory(pairs: tuple[str, ...], seed: int, *, settle_s: float) -> dict[str, Any]:
    """Resident memory of the app's process and of its simulator's, ``settle_s`` after the
    book first shows prices."""
    with tempfile.TemporaryDirectory(prefix="footprint-rss-") as home:
        child, meter, sim = _running(pairs, seed, home, 90.0)
        try:
            if not child.pump(meter, settle_s):
                raise RuntimeError("the app closed its terminal while settling")
            app_mem, sim_mem = memory_mb(child.process.pid), memory_mb(sim)
        finally:
            child.stop(meter, (b"\x11", b"q"), timeout_s=10)
    return {"pairs": list(pairs), "settle_s": settle_s, "app": app_mem, "sim": sim_mem}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.footprint", description=__doc__)
    parser.add_argument("--seconds", type=float, default=25.0, help="CPU window (default 25)")
    parser.add_argument("--warmup", type=float, default=5.0, help="before it (default 5)")
    parser.add_argument(
        "--settle", type=float, default=15.0, help="10 pairs loading before RSS (default 15)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-write", action="store_true", help="leave bench.json alone")
    args = parser.parse_args(argv)
    say(
        f"Footprint of the app (its embedded simulator beside it, --speed 1): CPU with "
        f"{len(CPU_PAIRS)} pairs over {args.seconds:g} s, memory with {len(PAIRS)} pairs"
    )
    cpu = measure_cpu(CPU_PAIRS, args.seed, warmup_s=args.warmup, seconds=args.seconds)
    say(
        f"  CPU, {len(CPU_PAIRS)} pairs: app {cpu['app_cpu_pct']:.1f} % of a core, simulator "
        f"{cpu['sim_cpu_pct']:.1f} %, this script drawing {cpu['bench_cpu_pct']:.1f} %"
    )
    mem = measure_memory(PAIRS, args.seed, settle_s=args.settle)
    say(
        f"  memory, {len(PAIRS)} pairs: app {mem['app']['rss_mb']:.0f} MB "
        f"(peak {mem['app']['peak_rss_mb']:.0f}), simulator {mem['sim']['rss_mb']:.0f} MB "
        f"(peak {mem['sim']['peak_rss_mb']:.0f})"
    )
    verdicts = {
        f"app CPU under {GOAL_CPU_PCT:g} %": cpu["app_cpu_pct"] < GOAL_CPU_PCT,
        f"app RSS under {GOAL_RSS_MB:g} MB": mem["app"]["rss_mb"] < GOAL_RSS_MB,
        f"simulator RSS under {GOAL_RSS_MB:g} MB": mem["sim"]["rss_mb"] < GOAL_RSS_MB,
    }
    for label, met in verdicts.items():
        say(f"Goal: {label}: {'met' if met else 'NOT MET'}")
    result = {
        "machine": machine(),
        "cpu_pct_app_3_pairs": cpu["app_cpu_pct"],
        "cpu_pct_sim_3_pairs": cpu["sim_cpu_pct"],
        "rss_mb_app_10_pairs": mem["app"]["rss_mb"],
        "rss_mb_sim": mem["sim"]["rss_mb"],
        "peak_rss_mb_app_10_pairs": mem["app"]["peak_rss_mb"],
        "peak_rss_mb_sim": mem["sim"]["peak_rss_mb"],
        "cpu": cpu,
        "memory": mem,
        "seed": args.seed,
    }
    if not args.no_write:
        write_section("footprint", result)
        say("wrote the figures to bench.json (section 'footprint')")
    return 0


if __name__ == "__main__":
    sys.exit(main())
