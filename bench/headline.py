"""The figures a trader feels, one flat line each, gathered from the sections the bench
scripts wrote to ``bench.json``, with their goals: the README's Performance table.

``python -m bench.headline`` (the last step of ``make bench``) writes them as the section
``headline`` (one key per figure, as issue 16 names them) and prints the table in Markdown. A
figure whose script has not run yet is ``null``, shown as "not measured".
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .book_bench import GOAL_VS_CBOOK, GOAL_VS_CCXT
from .common import BENCH_JSON, machine, say, write_section

__all__ = ["FIGURES", "Figure", "gather", "main", "table"]


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    unit: str
    read: Callable[[dict[str, Any]], Any]
    goal: str = ""
    met: Callable[[float], bool] | None = None


def _at(*path: str) -> Callable[[dict[str, Any]], Any]:
    def read(doc: dict[str, Any]) -> Any:
        node: Any = doc
        for step in path:
            if not isinstance(node, dict) or step not in node:
                return None
            node = node[step]
        return node

    return read


def _book_ratio(name: str) -> Callable[[dict[str, Any]], Any]:
    """Our book against ``name`` on real Bitstamp frames (the simulator's stream without them)."""

    def read(doc: dict[str, Any]) -> Any:
        streams = _at("book", "streams")(doc) or {}
        for stream in ("recorded", "sim_speed_100"):
            ratio = _at(stream, "cpu", "ratios", f"ours/{name}")(streams)
            if ratio is not None:
                return ratio
        return None

    return read


FIGURES = (
    Figure(
        "frame_to_paint_p99_ms",
        "WebSocket frame -> painted, p99, --speed 1",
        "ms",
        _at("frame_to_paint", "frame_to_paint_p99_ms"),
        "< 50",
        lambda v: v < 50,
    ),
    Figure(
        "frame_to_paint_p50_ms",
        "WebSocket frame -> painted, p50, --speed 1",
        "ms",
        _at("frame_to_paint", "frame_to_paint_p50_ms"),
    ),
    Figure(
        "frame_to_paint_p99_ms_speed100",
        "WebSocket frame -> painted, p99, --speed 100",
        "ms",
        _at("frame_to_paint", "frame_to_paint_p99_ms_speed100"),
        "< 50",
        lambda v: v < 50,
    ),
    Figure(
        "frame_to_paint_p50_ms_speed100",
        "WebSocket frame -> painted, p50, --speed 100",
        "ms",
        _at("frame_to_paint", "frame_to_paint_p50_ms_speed100"),
    ),
    Figure(
        "cold_start_s",
        "cold start to the first painted book, embedded simulator (median)",
        "s",
        _at("cold_start", "cold_start_s"),
        "< 1.0",
        lambda v: v < 1.0,
    ),
    Figure(
        "cold_start_attached_s",
        "cold start to the first painted book, attached (median; markets saved by the last start)",
        "s",
        _at("cold_start", "cold_start_attached_s"),
        "< 0.6",
        lambda v: v < 0.6,
    ),
    Figure(
        "cold_start_attached_first_s",
        "the same, a first start ever (no markets saved by an earlier one) (median)",
        "s",
        _at("cold_start", "cold_start_attached_first_s"),
    ),
    Figure(
        "cold_start_app_cpu_s",
        "CPU of the app's process by its first painted book, embedded (median)",
        "s",
        _at("cold_start", "cold_start_app_cpu_s"),
    ),
    Figure(
        "cold_start_attached_app_cpu_s",
        "CPU of the app's process by its first painted book, attached (median)",
        "s",
        _at("cold_start", "cold_start_attached_app_cpu_s"),
    ),
    Figure(
        "cold_start_bare_textual_s",
        "cold start of a bare Textual app drawing the same box, beside them: the floor",
        "s",
        _at("cold_start", "cold_start_bare_textual_s"),
    ),
    Figure(
        "cpu_pct_app_3_pairs",
        "CPU of the app's process, 3 pairs, --speed 1",
        "% of a core",
        _at("footprint", "cpu_pct_app_3_pairs"),
        "< 5",
        lambda v: v < 5,
    ),
    Figure(
        "cpu_pct_sim_3_pairs",
        "CPU of the embedded simulator's process, same run",
        "% of a core",
        _at("footprint", "cpu_pct_sim_3_pairs"),
    ),
    Figure(
        "rss_mb_app_10_pairs",
        "resident memory of the app, 10 pairs",
        "MB",
        _at("footprint", "rss_mb_app_10_pairs"),
        "< 80",
        lambda v: v < 80,
    ),
    Figure(
        "rss_mb_sim",
        "resident memory of the embedded simulator, same run",
        "MB",
        _at("footprint", "rss_mb_sim"),
        "< 80",
        lambda v: v < 80,
    ),
    Figure(
        "loop_lag_p99_ms",
        "UI event-loop lag p99, 10 pairs, --speed 100",
        "ms",
        _at("loop_lag", "lag_ms", "p99"),
        "< 10",
        lambda v: v < 10,
    ),
    Figure(
        "book_ratio_vs_ccxt",
        "book throughput, ours / ccxt's float book (CPU time)",
        "x",
        _book_ratio("ccxt"),
        f">= {GOAL_VS_CCXT:g}",
        lambda v: v >= GOAL_VS_CCXT,
    ),
    Figure(
        "book_ratio_vs_cryptofeed",
        "book throughput, ours / cryptofeed's C book (CPU time)",
        "x",
        _book_ratio("cbook"),
        f"> {GOAL_VS_CBOOK:g}",
        lambda v: v > GOAL_VS_CBOOK,
    ),
    Figure(
        "book_ratio_vs_ccxt_pro",
        "book throughput, ours / ccxt.pro's handler (CPU time)",
        "x",
        _book_ratio("ccxt_handler"),
    ),
    Figure(
        "tty_kbps_busy",
        "terminal bytes, --speed 1, 120x40 (make tty-bench)",
        "kB/s",
        _at("tty_bytes", "tty_kbps_busy"),
    ),
    Figure(
        "tty_kbps_low_bandwidth",
        "terminal bytes, --low-bandwidth, --speed 1, 120x40 (make tty-bench)",
        "kB/s",
        _at("tty_bytes", "tty_kbps_low_bandwidth"),
        "< 10",
        lambda v: v < 10,
    ),
)


def gather(doc: dict[str, Any]) -> dict[str, Any]:
    """Each figure's value (None where not measured) and whether it meets its goal."""
    out: dict[str, Any] = {}
    for f in FIGURES:
        value = f.read(doc)
        out[f.key] = value
        if f.met is not None:
            out[f"{f.key}_goal_met"] = None if value is None else f.met(float(value))
    return out


def table(values: dict[str, Any]) -> list[str]:
    lines = ["| figure | key | value | goal | |", "|---|---|---|---|---|"]
    for f in FIGURES:
        value = values.get(f.key)
        shown = "not measured" if value is None else f"{value:g} {f.unit}"
        met = values.get(f"{f.key}_goal_met")
        verdict = "" if met is None else ("met" if met else "**not met**")
        goal = f"{f.goal} {f.unit}" if f.goal else ""
        lines.append(f"| {f.label} | `{f.key}` | {shown} | {goal} | {verdict} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    try:
        doc = json.loads(BENCH_JSON.read_text())
    except (OSError, ValueError) as exc:
        say(f"no figures to gather: {BENCH_JSON} could not be read ({exc})")
        return 1
    values = gather(doc if isinstance(doc, dict) else {})
    for line in table(values):
        say(line)
    load = machine()["load_average_1m"]
    say(f"(load average over the last minute: {load} on {machine()['cpus']} CPUs)")
    write_section("headline", {"machine": machine(), **values})
    say("wrote the figures to bench.json (section 'headline')")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
