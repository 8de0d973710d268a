"""The pieces of ``bench.tty_bytes`` that can be wrong without the figures looking wrong.

The byte counter and the screen it draws, on a tiny child in a real pseudo-terminal that
writes known bytes; the book check that gates the measurement; the quit that must leave no
process behind; and the report of an app that refuses a flag (the real ``workstation``
command line). Then issue 15's goals, on the real app and simulator: bytes, not timings.
"""

from __future__ import annotations

import os
import sys
import tempfile
import textwrap
import time

from bench.tty_bytes import (
    BASELINE_BUSY_KBPS,
    GOAL_IDLE_KBPS,
    GOAL_LOW_BANDWIDTH_KBPS,
    LOW_BANDWIDTH_FLAG,
    Cell,
    ScreenMeter,
    TtyChild,
    book_shows_prices,
    measure,
    merged_cells,
    pick,
    simulator,
)

# A child that sets its terminal raw (so the line discipline neither rewrites "\n" nor eats
# ctrl+q as XON, as under Textual), writes its size and known bytes, then waits for ctrl+q.
_ECHO_CHILD = textwrap.dedent(
    """
    import os, sys, tty
    tty.setraw(0)
    size = os.get_terminal_size(1)
    out = f"size {size.columns}x{size.lines}\\r\\n\\x1b[31mred\\x1b[0m\\r\\n".encode()
    os.write(1, out)
    while os.read(0, 1) != b"\\x11":
        pass
    sys.exit(0)
    """
)

# One that ignores every quit key and SIGTERM and has a grandchild in its session.
_STUBBORN_CHILD = textwrap.dedent(
    """
    import os, signal, subprocess, sys, time, tty
    tty.setraw(0)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    os.write(1, f"grandchild {grandchild.pid}\\r\\n".encode())
    time.sleep(60)
    """
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is gone for our purpose; /proc says which (Linux only, like the bench)
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(")")[-1].split()[0] != "Z"


def test_meter_counts_every_byte_and_draws_the_screen() -> None:
    meter = ScreenMeter(20, 4)
    meter.feed(b"ab\r\n")
    meter.feed(b"\x1b[1;32mcd\x1b[0m")  # escapes count as bytes but draw nothing
    assert meter.total == 4 + 13
    assert meter.text().splitlines()[:2] == ["ab", "cd"]


def test_meter_maps_each_write_to_the_lines_it_touched() -> None:
    meter = ScreenMeter(20, 4)
    meter.feed(b"\x1b[2;1Hxx")  # 8 bytes, all on line 1 (0-based)
    meter.forget_lines()  # the window starts here
    meter.feed(b"\x1b[3;1Hyy\x1b[4;1Hzz")  # 16 bytes over lines 2 and 3
    meter.feed(b"\x1b[4;1Hww")  # 8 bytes on line 3
    assert dict(meter.line_writes) == {2: 1, 3: 2}
    assert dict(meter.line_bytes) == {2: 8.0, 3: 16.0}
    busiest = meter.busiest_lines(seconds=2.0, count=1)
    assert busiest == [{"line": 3, "bytes_per_s": 8, "writes_per_s": 1.0, "text": "ww"}]


def test_child_in_a_pty_of_the_given_size_is_counted_and_quits_on_ctrl_q() -> None:
    meter = ScreenMeter(33, 11)
    child = TtyChild([sys.executable, "-c", _ECHO_CHILD], dict(os.environ), 33, 11)
    try:
        assert child.pump(meter, 20, until=lambda: "red" in meter.text())
        expected = b"size 33x11\r\n\x1b[31mred\x1b[0m\r\n"
        assert meter.total == len(expected)
        assert meter.text().splitlines()[:2] == ["size 33x11", "red"]
    finally:
        how = child.stop(meter, (b"\x11",), timeout_s=10)
    assert how == "quit on b'\\x11'"
    assert child.process.returncode == 0


def test_a_child_that_ignores_quit_and_sigterm_is_killed_with_its_session() -> None:
    meter = ScreenMeter(40, 5)
    child = TtyChild([sys.executable, "-c", _STUBBORN_CHILD], dict(os.environ), 40, 5)
    try:
        assert child.pump(meter, 20, until=lambda: "grandchild" in meter.text())
        grandchild = int(meter.text().split()[1])
    finally:
        how = child.stop(meter, (b"\x11", b"q"), timeout_s=0.5)
    assert how == "killed with SIGKILL"
    deadline = time.monotonic() + 5
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(grandchild)


_BOOK = """\
  BTC/USD    last 67,007.37  24h -4.46%
╭─ BTC/USD ──────────────────────────────────╮╭─ Trades BTC/USD ───────────────╮
│          Price        Amount          Total││Time UTC       Price      Amount│
│       67020.50    0.03221700     0.08483529││18:57:26    67016.95  0.00467642│
│       67020.30    0.00701578     0.05261829││18:57:26    67016.55  0.02264515│
│  spread 4.10 (0.61 bps)   mid 67015.64     ││18:57:26    67016.55  0.06994988│
│       67013.59    0.00658412     0.00658412││18:57:26    67016.29  0.02701731│
╰─────────────────────────────── group 0.01 ─╯╰────────────────────────────────╯
"""

_EMPTY_BOOK_BESIDE_BALANCES = """\
╭─ BTC/USD ──────────────────────────────────╮╭─ Balances ─────────────────────╮
│          Price        Amount          Total││ USD     100000.00     100000.00│
│                                            ││ BTC    5.00000000    5.00000000│
│  no spread: one side is empty              ││ ETH   50.00000000   50.00000000│
│                                            ││ LTC  100.00000000  100.00000000│
╰─────────────────────────────── group 0.01 ─╯╰────────────────────────────────╯
"""


def test_book_check_reads_the_book_pane_only() -> None:
    assert book_shows_prices(_BOOK)
    assert not book_shows_prices(_EMPTY_BOOK_BESIDE_BALANCES)  # prices, but not in the book
    assert not book_shows_prices("loading…")


def test_an_app_that_refuses_a_flag_is_reported_with_its_own_message() -> None:
    ready = {"rest_url": "http://127.0.0.1:9", "api_key": "k", "api_secret": "s"}
    cell = Cell("busy", 1.0, 80, 24, "low")
    measure(
        cell, ready, ["--no-such-flag-for-the-test"], seconds=1, warmup_s=0, startup_timeout_s=60
    )
    assert cell.kbps is None
    assert cell.error is not None
    assert cell.refused
    assert "refused its command line (2)" in cell.error
    assert "unrecognized arguments: --no-such-flag-for-the-test" in cell.error


def test_a_run_of_some_cells_keeps_the_others_from_bench_json() -> None:
    def cell(market: str, mode: str, kbps: float | None) -> dict[str, object]:
        return {"market": market, "size": "120x40", "mode": mode, "kbps": kbps}

    previous = {"cells": [cell("busy", "normal", 30.0), cell("busy", "low", None)]}
    merged = merged_cells(previous, [cell("busy", "low", 6.5)])
    assert pick(merged, "busy", "normal") == 30.0  # kept from the last run
    assert pick(merged, "busy", "low") == 6.5  # this run's
    assert pick(merged, "idle", "normal") is None
    assert pick(merged_cells(None, [cell("idle", "normal", 0.4)]), "idle", "normal") == 0.4


def test_issue_15_goals_with_the_real_app_in_a_pty() -> None:
    """Issue 15's figures at 120x40, measured as ``make tty-bench`` does (shorter windows).

    What a busy market costs depends on its activity far more than on the CPU: a loaded
    machine makes the app draw less often, not more. So the limits are the goals themselves
    with the margin kept on our side: measured on a loaded 2-core machine, low-bandwidth busy
    is 2-4 kB/s (goal 10), idle 0.07-0.25 (goal 1), normal busy 6-13 (half the baseline: 19).
    """
    cells: dict[tuple[str, str], Cell] = {}
    with tempfile.TemporaryFile("w+") as log:
        for market, speed in (("busy", 1.0), ("idle", 0.0)):
            with simulator(speed, 1, log) as ready:
                for mode, args in (("low", [LOW_BANDWIDTH_FLAG]), ("normal", [])):
                    cell = Cell(market, speed, 120, 40, mode)
                    # a busy market comes in bursts (a sweep shifts every row): a longer
                    # window measures its rate, not one burst (8 s once read 19.5 kB/s in CI
                    # where 6-8 is usual)
                    seconds = 16 if market == "busy" else 8
                    measure(cell, ready, args, seconds=seconds, warmup_s=2, startup_timeout_s=90)
                    assert cell.error is None, cell.error
                    cells[market, mode] = cell
    kbps = {key: cell.kbps for key, cell in cells.items()}
    assert kbps["busy", "low"] is not None
    assert kbps["busy", "low"] < GOAL_LOW_BANDWIDTH_KBPS, kbps
    assert kbps["busy", "normal"] is not None
    assert kbps["busy", "normal"] <= BASELINE_BUSY_KBPS / 2, kbps
    for mode in ("low", "normal"):
        idle = kbps["idle", mode]
        assert idle is not None
        assert idle < GOAL_IDLE_KBPS, kbps
    # the low mode does draw less than the normal one on the same market
    assert kbps["busy", "low"] < kbps["busy", "normal"], kbps
