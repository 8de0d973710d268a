"""The trader-felt benches (``bench/frame_to_paint.py``, ``cold_start.py``, ``footprint.py``,
``headline.py``) run at a tiny size and give figures that can be true.

Timings are never asserted (the machine is shared), but for one bound far wider than any
noise: the cold start's clock stops at the write of the book, not at pyte's reading of it.
The matching logic that turns frames and screens into delays is checked exactly, on made-up
stamps and screens.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import frame_to_paint
from bench.app_pty import app_argv, app_env, book_top, tape_rows
from bench.cold_start import time_to_book
from bench.footprint import measure_cpu
from bench.frame_to_paint import ChangeClock, percentiles
from bench.headline import FIGURES, gather, table
from bench.proc_stats import child_pids, cpu_seconds, memory_mb
from bench.sim_child import RunningSim, running_sim

_SCREEN = [
    "╭─ BTC/USD ──────────────────────╮╭─ Trades BTC/USD ───────────────╮",
    "│     Price      Amount    Total ││Time UTC     Price      Amount  │",
    "│  67010.32  0.00497833  0.03211 ││20:32:42  67007.37  0.02888935  │",
    "│  67007.84  0.00658131  0.00658 ││20:32:41  67,005.57  0.04624093 │",
    "│  spread 3.15 (0.47 bps)  mid 67 ││                                │",
    "│  67004.69  0.03732276  0.03732 ││                                │",
    "│  67001.81  0.01618165  0.05350 ││                                │",
    "╰────────────────────────────────╯╰────────────────────────────────╯",
]


def test_screen_readers_find_the_touch_and_the_tape_rows() -> None:
    assert book_top(_SCREEN) == ("67004.69", "67007.84")
    assert tape_rows(_SCREEN) == {("67007.37", "0.02888935"), ("67005.57", "0.04624093")}
    assert book_top(_SCREEN[:3]) is None
    assert tape_rows(["nothing here"]) == set()


def test_a_change_is_timed_to_the_paint_that_shows_it_or_a_newer_one() -> None:
    clock = ChangeClock("trade", recording=True)
    clock.frame(10.000, "a")
    clock.frame(10.010, "b")
    clock.screen(10.050, frozenset({"b"}))  # "a" was replaced before a redraw showed it
    assert [round(d) for d in clock.delays_ms] == [50, 40]
    assert clock.superseded == 1
    # the paint came before this process read the frame's line: timed from the frame's stamp
    clock.screen(10.100, frozenset({"b", "c"}))
    clock.frame(10.090, "c")
    assert round(clock.delays_ms[-1]) == 10
    # a change the screen held before its frame came (the book went back to an old top)
    clock.frame(10.200, "b")
    assert clock.on_screen_before == 1
    assert len(clock.delays_ms) == 3
    clock.frame(10.300, "d")
    clock.expire(13.0)
    assert clock.missed == 1
    assert not clock.pending


def test_percentiles_of_none_one_and_many() -> None:
    assert percentiles([])["count"] == 0
    assert percentiles([5.0])["p99"] == 5.0
    many = percentiles([float(i) for i in range(1, 101)])
    assert many["p50"] == 50.5
    assert many["max"] == 100.0
    assert many["count"] == 100


def test_proc_stats_read_this_process() -> None:
    assert cpu_seconds(os.getpid()) > 0
    mem = memory_mb(os.getpid())
    assert 5 < mem["rss_mb"] <= mem["peak_rss_mb"]
    assert child_pids(os.getpid()) == []


def test_headline_gathers_each_key_and_marks_the_goals() -> None:
    doc = {
        "frame_to_paint": {"frame_to_paint_p99_ms": 30.0},
        "footprint": {"rss_mb_sim": 90.0},
        "book": {"streams": {"sim_speed_100": {"cpu": {"ratios": {"ours/ccxt": 2.5}}}}},
    }
    values = gather(doc)
    assert set(values) >= {f.key for f in FIGURES}
    assert values["frame_to_paint_p99_ms_goal_met"] is True
    assert values["rss_mb_sim_goal_met"] is False
    assert values["book_ratio_vs_ccxt"] == 2.5
    assert values["cold_start_s"] is None
    assert values["cold_start_s_goal_met"] is None
    assert any("not measured" in line for line in table(values))


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSim]:
    with tempfile.TemporaryFile("w+") as log, running_sim(10.0, 1, log) as running:
        yield running


def test_frame_to_paint_times_changes_of_a_real_app(sim: RunningSim) -> None:
    got = frame_to_paint.measure(sim, seconds=2.0, warmup_s=0.5)
    assert got["all"]["count"] > 0
    assert got["trade"]["count"] + got["book"]["count"] == got["all"]["count"]
    assert 0 <= got["all"]["p50"] <= got["all"]["p99"] <= got["all"]["max"] < 10_000


def test_cold_start_attached_to_a_running_simulator(sim: RunningSim) -> None:
    with tempfile.TemporaryDirectory() as home:
        env = app_env(home, api_key=sim.api_key, api_secret=sim.api_secret)
        wall, cpu = time_to_book(app_argv("--sim-url", sim.rest_url), env)
    assert cpu > 0
    assert 0 < wall < 60


_LATE_BOOK = """
import os, queue, sys, threading, time, tty
tty.setraw(0)
lines = queue.SimpleQueue()

def writer():  # as Textual's driver does: the screen is written by a thread of its own
    while (text := lines.get()) is not None:
        sys.stdout.write(text)
        sys.stdout.flush()

thread = threading.Thread(target=writer)
thread.start()
lines.put("\\x1b[2J\\x1b[H" + ("filler " * 16 + "\\r\\n") * 4000)  # ~460 kB, no book
box = "\\x1b[2J\\x1b[H\\u256d" + "\\u2500" * 26 + "\\u256e\\r\\n"
for n in range(3):
    box += f"\\u2502 6700{n}.00 0.5000 6701{n}.00 \\u2502\\r\\n"
lines.put(box + "\\u2570\\u2500\\u256f\\r\\n")
drawn_at = time.monotonic()  # the app has drawn its book: the rest is the terminal's
with open(sys.argv[1], "w") as f:
    f.write(repr(drawn_at))
os.read(0, 1)  # the bench's quit key
lines.put(None)
thread.join()
"""


def test_the_cold_start_clock_stops_when_the_book_is_written_not_when_pyte_reads_it(
    tmp_path: Path,
) -> None:
    """An app that hands its book to its writer thread behind ~460 kB of other output (pyte
    draws ~0.3 MB a second here): a terminal emulator takes that in milliseconds, and so
    must the bench, which stops its clock at the chunk that carried the book (0.25 s
    allowed). Reading and drawing in turn, it held the app's writer back by the whole
    backlog's drawing: ~1.5 s late."""
    written = tmp_path / "written"
    before = time.monotonic()
    with tempfile.TemporaryDirectory() as home:
        wall, _ = time_to_book([sys.executable, "-c", _LATE_BOOK, str(written)], app_env(home))
    drawn_at = float(written.read_text())
    assert abs(before + wall - drawn_at) < 0.25, (before + wall, drawn_at)


def test_cold_start_of_the_bare_textual_floor() -> None:
    with tempfile.TemporaryDirectory() as home:
        wall, cpu = time_to_book([sys.executable, "-m", "bench.bare_textual"], app_env(home))
    assert cpu > 0
    assert 0 < wall < 60


def test_footprint_of_the_app_and_its_embedded_simulator() -> None:
    cpu = measure_cpu(("btcusd",), 1, warmup_s=0.0, seconds=1.0)
    assert cpu["book_shown_at_end"]
    assert 0 <= cpu["app_cpu_pct"] < 400
    assert 0 <= cpu["sim_cpu_pct"] < 400
    for process in ("app_memory", "sim_memory"):
        assert 10 < cpu[process]["rss_mb"] <= cpu[process]["peak_rss_mb"] < 2_000
