"""Book throughput, frame text to applied book, for our book and three others on one stream.

``python -m bench.book_bench`` (``make bench`` runs it). Each contender replays the same
frames onto the same snapshots: first real recorded Bitstamp traffic (skipped with a message
when ``../shared/fixtures`` is absent), then a simulator stream at ``--speed 100``.

How it measures, on a shared and noisy machine: contenders are interleaved (A B C D, then
B C D A, ...) for several rounds so a burst of load elsewhere hits all of them alike; each
sample replays the stream a few times, each time on a fresh copy of the snapshot loaded
untimed; the garbage collector is paused while the clock runs (as ``timeit`` does); the
figure is the median over rounds. Two clocks are read around every replay: ``perf_counter``
(wall) and ``process_time`` (this process's CPU time). On a 2-core box shared with other
workers the wall clock also counts the time the process sat descheduled (often half of it),
so the goals are judged on CPU time; both are printed and written. After every sample all
contenders must hold the same top 10 levels of every pair: a benchmark of a wrong book is
worthless.

Our book stages frame sides until it is read (only a level's last row between reads counts,
see ``workstation/domain/orderbook.py``), so ``ours`` ends each replay by reading every book,
inside the timed part; ``ours_read_each`` reads after every frame, which leaves nothing to
merge: the cost when frames arrive one at a time; ``ours_feed`` is the production path, the
feeds settled as the hub's timer does when frames queue up (every ``SETTLE_EVERY_S``).
"""

from __future__ import annotations

import argparse
import gc
import math
import statistics
import sys
import time
from typing import Any

from .common import machine, say, spread, write_section
from .contenders import CONTENDERS, Contender, Level
from .profile_ours import profile_ours
from .streams import Stream, count_rows, fixtures_dir, load_recorded, sim_stream

__all__ = ["main"]

PAIRS = (
    "btcusd",
    "btceur",
    "ethusd",
    "etheur",
    "ethbtc",
    "xrpusd",
    "xrpeur",
    "ltcusd",
    "bchusd",
    "linkusd",
)
CHECK_DEPTH = 10
GOAL_VS_CCXT = 2.0
GOAL_VS_CBOOK = 1.0
CLOCKS = ("cpu", "wall")
JUDGED_ON = "cpu"
"""Goals are judged on CPU time: on a shared machine wall time also counts other workers."""


class BookMismatchError(AssertionError):
    """A contender ended a replay with a different book than ours."""


Tops = dict[str, tuple[list[Level], list[Level]]]


def _tops(contender: Contender, state: Any, stream: Stream) -> Tops:
    return {m: contender.top(state, m, CHECK_DEPTH) for m in stream.snapshots}


def _check(contender: Contender, state: Any, stream: Stream, reference: Tops) -> None:
    """Raise unless the contender's top levels equal the reference, compared as Decimals."""
    got = _tops(contender, state, stream)
    for market, (ref_bids, ref_asks) in reference.items():
        bids, asks = got[market]
        for side, want, have in (("bids", ref_bids, bids), ("asks", ref_asks, asks)):
            if want != have:
                at = next(
                    (i for i, (w, h) in enumerate(zip(want, have, strict=False)) if w != h),
                    min(len(want), len(have)),
                )
                raise BookMismatchError(
                    f"{stream.title}: {contender.key} disagrees with ours on {market} {side} "
                    f"level {at}: {have[at : at + 1]} vs {want[at : at + 1]}"
                )


def _sample(contender: Contender, stream: Stream, reps: int) -> tuple[float, float, Any]:
    """Frames per second over ``reps`` replays, each on a fresh untimed snapshot, by the wall
    clock (``perf_counter``) and by this process's CPU time (``process_time``)."""
    wall = cpu = 0.0
    state = None
    for _ in range(reps):
        state = contender.prepare(stream.snapshots)
        gc.collect()
        gc.disable()
        try:
            start, start_cpu = time.perf_counter(), time.process_time()
            contender.replay(state, stream.frames)
            cpu += time.process_time() - start_cpu
            wall += time.perf_counter() - start
        finally:
            gc.enable()
    frames = reps * len(stream.frames)
    return frames / wall, frames / cpu, state


Samples = dict[str, dict[str, list[float]]]
"""clock ("cpu", "wall") -> contender key -> frames/s of each round."""


def measure(stream: Stream, contenders: list[Contender], rounds: int, min_frames: int) -> Samples:
    """Interleaved rounds; every sample is checked against our book's final top levels."""
    reference_owner = contenders[0]
    state = reference_owner.prepare(stream.snapshots)
    reference_owner.replay(state, stream.frames)
    reference = _tops(reference_owner, state, stream)
    start_tops = _tops(reference_owner, reference_owner.prepare(stream.snapshots), stream)
    moved = sum(reference[m] != start_tops[m] for m in reference)
    if not moved:
        raise BookMismatchError(
            f"{stream.title}: no pair's top {CHECK_DEPTH} moved; nothing applied?"
        )
    for contender in contenders:  # warm-up, and a first check before anything is timed
        warm = contender.prepare(stream.snapshots)
        contender.replay(warm, stream.frames)
        _check(contender, warm, stream, reference)
    reps = max(1, math.ceil(min_frames / len(stream.frames)))
    samples: Samples = {clock: {c.key: [] for c in contenders} for clock in CLOCKS}
    for round_no in range(rounds):
        shift = round_no % len(contenders)
        for contender in contenders[shift:] + contenders[:shift]:
            wall, cpu, final = _sample(contender, stream, reps)
            _check(contender, final, stream, reference)
            samples["wall"][contender.key].append(wall)
            samples["cpu"][contender.key].append(cpu)
        say(f"  round {round_no + 1}/{rounds} done")
    say(
        f"  books agree: top {CHECK_DEPTH} of {len(reference)} pairs ({moved} moved) after "
        f"every sample of every contender"
    )
    return samples


def _ratio(figures: dict[str, float], a: str, b: str) -> float | None:
    if a in figures and b in figures:
        return round(figures[a] / figures[b], 2)
    return None


RATIOS = (
    ("ours", "ccxt"),
    ("ours", "cbook"),
    ("ours", "naive"),
    ("ours", "ccxt_json"),
    ("ours", "ccxt_handler"),
    ("ours_read_each", "ccxt"),
    ("ours_read_each", "cbook"),
    ("ours_feed", "ccxt"),
    ("ours_feed", "cbook"),
)


def _figures(runs: dict[str, list[float]]) -> dict[str, Any]:
    medians = {k: statistics.median(v) for k, v in runs.items()}
    ratios = {f"{a}/{b}": _ratio(medians, a, b) for a, b in RATIOS}
    return {
        "frames_per_s": {k: round(v) for k, v in medians.items()},
        "spread_pct": {k: round(spread(v), 1) for k, v in runs.items()},
        "ratios": {k: v for k, v in ratios.items() if v is not None},
        "samples": {k: [round(x) for x in v] for k, v in runs.items()},
    }


def summarise(stream: Stream, samples: Samples, rounds: int) -> dict[str, Any]:
    cpu_share = [  # CPU time / wall time = wall rate / CPU rate
        wall / cpu
        for key in samples["cpu"]
        for wall, cpu in zip(samples["wall"][key], samples["cpu"][key], strict=True)
    ]
    return {
        "title": stream.title,
        "note": stream.note,
        "frames": len(stream.frames),
        "rows": count_rows(stream.frames),
        "pairs": stream.pairs,
        "rounds": rounds,
        "cpu_share_median": round(statistics.median(cpu_share), 2),
        **{clock: _figures(samples[clock]) for clock in CLOCKS},
    }


def _goals(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    goals: dict[str, Any] = {}
    for name, res in results.items():
        ratios = res[JUDGED_ON]["ratios"]
        goals[name] = {
            "clock": JUDGED_ON,
            "ours_at_least_2x_ccxt": ratios.get("ours/ccxt", 0) >= GOAL_VS_CCXT,
            "ours_ahead_of_cbook": ratios.get("ours/cbook", 0) > GOAL_VS_CBOOK,
        }
    return goals


def report(results: dict[str, dict[str, Any]], contenders: list[Contender]) -> None:
    names = list(results)
    width = 34
    say()
    say("Book throughput: frame text -> applied book, JSON decode included. frames/s, median")
    say("of interleaved rounds (± half the interquartile range); cpu = per CPU-second of this")
    say("process (immune to other workers taking the core), wall = perf_counter")
    say(f"{'':50}" + "".join(f"{results[n]['title']:>{width}}" for n in names))
    say(
        f"{'':50}"
        + "".join(
            f"{results[n]['frames']:>11,} frames {results[n]['rows']:>9,} rows" for n in names
        )
    )
    say(f"{'':50}" + f"{'cpu':>19}{'wall':>15}" * len(names))
    for c in contenders:
        cells = ""
        for n in names:
            cpu, wall = results[n]["cpu"], results[n]["wall"]
            cells += f"{cpu['frames_per_s'][c.key]:>12,} ±{cpu['spread_pct'][c.key]:>4.1f}%"
            cells += f"{wall['frames_per_s'][c.key]:>15,}"
        mark = "  (context)" if c.informational else ""
        say(f"{c.label[:49]:50}{cells}{mark}")
    shares = "".join(f"{results[n]['cpu_share_median']:>19.0%}{'':15}" for n in names)
    say(f"{'  share of wall time this process was on a CPU':50}{shares}")
    say()
    say("Ratios")
    for key in results[names[0]]["cpu"]["ratios"]:
        cells = "".join(
            f"{results[n]['cpu']['ratios'][key]:>18.2f}x{results[n]['wall']['ratios'][key]:>14.2f}x"
            for n in names
        )
        say(f"  {key:48}{cells}")
    say()
    say(f"Goals (judged on {JUDGED_ON} time)")
    goals = _goals(results)
    for label, key in (
        (f"ours >= {GOAL_VS_CCXT:g}x ccxt's float book", "ours_at_least_2x_ccxt"),
        ("ours ahead of the C book", "ours_ahead_of_cbook"),
    ):
        cells = "".join(f"{'met' if goals[n][key] else 'NOT MET':>{width}}" for n in names)
        say(f"  {label:48}{cells}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.book_bench", description=__doc__)
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (default 7)")
    parser.add_argument(
        "--sim-seconds", type=float, default=20.0, help="simulated seconds (default 20)"
    )
    parser.add_argument(
        "--min-frames", type=int, default=3000, help="frames replayed per sample (default 3000)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="3 rounds, at most 5 s of sim: a smoke run"
    )
    parser.add_argument("--profile", action="store_true", help="also profile our path")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.min_frames = 3, 1500
        args.sim_seconds = min(args.sim_seconds, 5.0)

    contenders = [make() for make in CONTENDERS]
    streams: list[Stream] = []
    folder = fixtures_dir()
    recorded = load_recorded(folder)
    if recorded is None:
        say(
            f"recorded traffic not found at {folder} (set BITSTAMP_FIXTURES): "
            "skipping the recorded stream, running the simulator stream only"
        )
    else:
        streams.append(recorded)
    say(f"generating the --speed 100 stream ({args.sim_seconds:g} s, {len(PAIRS)} pairs)…")
    streams.append(sim_stream(PAIRS, args.sim_seconds))

    results: dict[str, dict[str, Any]] = {}
    for stream in streams:
        say(f"{stream.title}: {stream.note}")
        try:
            samples = measure(stream, contenders, args.rounds, args.min_frames)
        except BookMismatchError as exc:
            say(f"BOOKS DISAGREE, no figures: {exc}")
            return 1
        results[stream.name] = summarise(stream, samples, args.rounds)
    report(results, contenders)

    section: dict[str, Any] = {
        "machine": machine(),
        "method": "interleaved rounds, median frames/s by CPU time (process_time) and wall "
        "time (perf_counter), GC paused while timed, snapshot load untimed; frames are text "
        "as received, JSON decode included",
        "contenders": {c.key: c.label for c in contenders},
        "streams": results,
        "goals": _goals(results),
    }
    if args.profile:
        section["profile"] = {s.name: profile_ours(s) for s in streams}
    write_section("book", section)
    say("\nwrote the figures to bench.json (section 'book')")
    return 0


if __name__ == "__main__":
    sys.exit(main())
