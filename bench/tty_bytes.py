"""Bytes per second the real app writes to its terminal: what a trader on SSH pays for.

``python -m bench.tty_bytes`` (``make tty-bench``). For each market (a still one, ``--speed 0``:
idle; ``--speed 1``: busy, Bitstamp-like; ``--speed 10``: a stress) the script starts
``workstation sim --embedded`` in a child process, then for each terminal size runs
``python -m workstation --sim-url URL`` in a pseudo-terminal of that size (TERM=xterm-256color,
keys from the simulator's ready line in BITSTAMP_API_KEY/SECRET). Every byte the app writes
goes through a pyte terminal emulator, so the screen is really drawn, and the count starts
only once the book shows prices and a warm-up has passed. ``--mode low`` runs the app with
``--low-bandwidth`` (``--app-arg`` passes any other flag); an app that refuses a flag is
reported with its own message. The app quits with ctrl+q; no child is left behind.

kB here is 1000 bytes.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import queue
import re
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

import pyte

from .common import BENCH_JSON, machine, say, spread, write_section
from .proc_stats import cpu_seconds

__all__ = [
    "BASELINE_BUSY_KBPS",
    "GOAL_IDLE_KBPS",
    "GOAL_LOW_BANDWIDTH_KBPS",
    "LOW_BANDWIDTH_FLAG",
    "Cell",
    "ScreenMeter",
    "TtyChild",
    "book_shows_prices",
    "main",
    "measure",
    "merged_cells",
    "pick",
    "simulator",
]

SPEEDS = {"idle": 0.0, "busy": 1.0, "busy10": 10.0}
SIZES = ((80, 24), (120, 40))
LOW_BANDWIDTH_FLAG = "--low-bandwidth"
GOAL_LOW_BANDWIDTH_KBPS = 10.0
GOAL_IDLE_KBPS = 1.0
# tty_kbps_busy before issue 15's low-bandwidth work, by this script (issue 15 says 33-42 kB/s):
# the normal mode's goal is half of it. Kept as the reference: today's figure is in bench.json.
BASELINE_BUSY_KBPS = 38.3  # 2026-12-06, at c391212, seed 1, 10 s after 3 s of warm-up

# A price as the book draws one: digits, a decimal point, digits (commas allowed).
_PRICE = re.compile(r"\d[\d,]*\.\d+")


@dataclass
class ScreenMeter:
    """Counts the bytes a terminal receives and draws them on a pyte screen.

    Also which screen lines each write touched (pyte's dirty set), and the write's bytes
    shared evenly among them: a rough map of where the bytes go, for whoever cuts them.
    """

    columns: int
    lines: int
    total: int = 0
    line_writes: Counter[int] = field(default_factory=Counter)
    line_bytes: defaultdict[int, float] = field(default_factory=lambda: defaultdict(float))
    screen: pyte.Screen = field(init=False)
    _stream: pyte.ByteStream = field(init=False)

    def __post_init__(self) -> None:
        self.screen = pyte.Screen(self.columns, self.lines)
        self._stream = pyte.ByteStream(self.screen)

    def feed(self, data: bytes) -> None:
        self.total += len(data)
        self.screen.dirty.clear()
        self._stream.feed(data)
        touched = self.screen.dirty
        for line in touched:
            self.line_writes[line] += 1
            self.line_bytes[line] += len(data) / len(touched)

    def forget_lines(self) -> None:
        """Start the map of where the bytes go afresh (the measured window begins)."""
        self.line_writes.clear()
        self.line_bytes.clear()

    def text(self) -> str:
        return "\n".join(line.rstrip() for line in self.screen.display)

    def busiest_lines(self, seconds: float, count: int = 5) -> list[dict[str, Any]]:
        """The lines that took the most bytes: their number, bytes/s, rewrites/s, text."""
        display = self.screen.display
        return [
            {
                "line": line,
                "bytes_per_s": round(share / seconds),
                "writes_per_s": round(self.line_writes[line] / seconds, 1),
                "text": display[line].strip()[:60],
            }
            for line, share in sorted(self.line_bytes.items(), key=lambda kv: -kv[1])[:count]
        ]


def book_shows_prices(text: str, rows: int = 3) -> bool:
    """The book pane (the box at the top left of the main screen) has at least ``rows`` lines
    with two prices each: levels, not an empty book or a placeholder."""
    lines = text.splitlines()
    for top, line in enumerate(lines):
        left = line.find("╭")
        if left < 0:
            continue
        right = line.find("╮", left)
        if right < 0:
            return False
        priced = 0
        for inner in lines[top + 1 :]:
            if inner[left : left + 1] == "╰":
                break
            if len(_PRICE.findall(inner[left + 1 : right])) >= 2:
                priced += 1
        return priced >= rows
    return False


class TtyChild:
    """A command on the slave side of a fresh pseudo-terminal of a given size.

    The child leads its own session with the pty as its controlling terminal, as under a
    terminal emulator or sshd; the parent reads the master side.
    """

    def __init__(self, argv: Sequence[str], env: dict[str, str], columns: int, lines: int):
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))

        def controlling_tty() -> None:  # runs in the child, after setsid
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        try:
            self.process = subprocess.Popen(
                list(argv),
                stdin=slave,
                stdout=slave,
                stderr=slave,
                env=env,
                start_new_session=True,
                preexec_fn=controlling_tty,  # this script runs no threads: safe here
                close_fds=True,
            )
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)
        self.master = master

    def pump(
        self, meter: ScreenMeter, seconds: float, until: Callable[[], bool] | None = None
    ) -> bool:
        """Feed what the child writes to ``meter`` for ``seconds`` or until ``until()`` holds
        (True) or the child closes the terminal (False when ``until`` was given)."""
        deadline = time.monotonic() + seconds
        while True:
            if until is not None and until():
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return until is None
            ready, _, _ = select.select([self.master], [], [], min(left, 0.05))
            if not ready:
                continue
            try:
                data = os.read(self.master, 65536)
            except OSError:  # EIO: every slave descriptor closed, the child is gone
                return False
            if not data:
                return False
            meter.feed(data)

    def arrival(
        self, meter: ScreenMeter, seconds: float, until: Callable[[], bool]
    ) -> tuple[float, float] | None:
        """When the child's output first made ``until()`` hold: the ``time.monotonic()`` at
        which the chunk that did it was read from the terminal, and the child's CPU seconds
        then; None if it did not within ``seconds`` (or the child closed the terminal).

        A reader thread drains the terminal as a terminal emulator does and stamps each chunk
        as it comes; the screen (``meter``, pyte: about 0.3 MB a second here) is drawn from
        them after. Reading and drawing in turn, as :meth:`pump` does, made the app's first
        screen (~50 kB) wait on the reader in 4 kB steps of ~15 ms each: about 0.15 s added
        to a start, none of it the app's. What is left is the reader's turns at the
        interpreter lock (a switch interval of 50 µs while it runs): ~0.65 ms per 4 kB chunk
        measured (75 ms for 460 kB), a few ms for a first screen; never early."""
        chunks: queue.SimpleQueue[tuple[float, float, bytes]] = queue.SimpleQueue()
        done = threading.Event()
        pid = self.process.pid

        def drain() -> None:
            while not done.is_set():
                ready, _, _ = select.select([self.master], [], [], 0.02)
                if not ready:
                    continue
                try:
                    data = os.read(self.master, 65536)
                except OSError:  # EIO: every slave descriptor closed, the child is gone
                    data = b""
                read_at = time.monotonic()
                try:
                    cpu = cpu_seconds(pid)
                except OSError:  # gone already
                    cpu = float("nan")
                chunks.put((read_at, cpu, data))
                if not data:
                    return

        switch = sys.getswitchinterval()
        sys.setswitchinterval(0.00005)  # the reader waits for the drawing thread this long
        reader = threading.Thread(target=drain, name="tty-reader", daemon=True)
        reader.start()
        try:
            deadline = time.monotonic() + seconds
            while (left := deadline - time.monotonic()) > 0:
                try:
                    read_at, cpu, data = chunks.get(timeout=min(left, 0.05))
                except queue.Empty:
                    continue
                if not data:
                    return None
                meter.feed(data)
                if until():
                    return read_at, cpu
            return None
        finally:
            done.set()
            reader.join()
            sys.setswitchinterval(switch)
            while not chunks.empty():  # read but not drawn yet: the screen stays whole
                meter.feed(chunks.get()[2])

    def send(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def stop(self, meter: ScreenMeter, quit_keys: Sequence[bytes], timeout_s: float) -> str:
        """Quit with each of ``quit_keys`` in turn, then signals; how it ended, for the report."""
        how = "exited by itself"
        for keys in quit_keys:
            if self.process.poll() is not None:
                break
            with contextlib.suppress(OSError):
                self.send(keys)
            how = f"quit on {keys!r}"
            end = time.monotonic() + timeout_s
            # the app lets go of the terminal a moment before its process ends
            self.pump(meter, timeout_s, until=lambda: self.process.poll() is not None)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(max(0.0, end - time.monotonic()))
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if self.process.poll() is not None:
                break
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)  # its session: the app and anything it started
            how = f"killed with {sig.name}"
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout_s)
        self.process.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # a straggler that left the group open
        os.close(self.master)
        return how


@contextlib.contextmanager
def simulator(speed: float, seed: int, log: IO[str]) -> Iterator[dict[str, Any]]:
    """``workstation sim --embedded``: its ready JSON (URLs, demo keys); stopped on leaving."""
    process = subprocess.Popen(
        [sys.executable, "-m", "workstation", "sim", "--port", "0", "--speed", f"{speed:g}"]
        + ["--seed", str(seed), "--embedded"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=log,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        text=True,
    )
    try:
        assert process.stdout is not None
        ready_fds, _, _ = select.select([process.stdout], [], [], 60)
        line = process.stdout.readline() if ready_fds else ""
        try:
            ready = json.loads(line)
        except ValueError:
            log.seek(0)
            raise RuntimeError(f"the simulator did not start:\n{log.read()[-2000:]}") from None
        yield ready
    finally:
        if process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()  # the child exits on stdin EOF
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


@dataclass
class Cell:
    """One measurement: a market, a size, a mode."""

    market: str
    speed: float
    columns: int
    lines: int
    mode: str
    kbps: float | None = None
    screen: str = ""
    busiest_lines: list[dict[str, Any]] = field(default_factory=list)
    bytes: int = 0
    seconds: float = 0.0
    startup_s: float | None = None
    ended: str = ""
    error: str | None = None
    spread_pct: float | None = None  # of the bytes/s of each second in the window
    meter_cpu_share: float | None = None  # this script's CPU while counting: it kept up?
    refused: bool = False  # the app would not take its command line (e.g. a flag it lacks)

    @property
    def size(self) -> str:
        return f"{self.columns}x{self.lines}"


def _app_env(ready: dict[str, Any], home: str) -> dict[str, str]:
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "BITSTAMP_API_KEY": ready["api_key"],
        "BITSTAMP_API_SECRET": ready["api_secret"],
        "XDG_DATA_HOME": os.path.join(home, "data"),
        "XDG_STATE_HOME": os.path.join(home, "state"),
        "XDG_CONFIG_HOME": os.path.join(home, "config"),
        "XDG_CACHE_HOME": os.path.join(home, "cache"),
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("COLUMNS", "LINES", "NO_COLOR", "TEXTUAL", "SSH_CONNECTION"):
        env.pop(name, None)  # the pty's size and a plain local terminal, whatever ours is
    return env


def _refusal(text: str) -> str:
    """The app's own complaint about its command line, if the screen holds one."""
    lines = [line for line in text.splitlines() if line.strip()]
    hits = [line for line in lines if "unrecognized arguments" in line or "error:" in line]
    return " / ".join(hits) if hits else " / ".join(lines[-3:])


def measure(
    cell: Cell,
    ready: dict[str, Any],
    app_args: Sequence[str],
    *,
    seconds: float,
    warmup_s: float,
    startup_timeout_s: float,
) -> Cell:
    """Run the app once in a pty of the cell's size and count its bytes per second."""
    argv = [sys.executable, "-m", "workstation", "--sim-url", ready["rest_url"], *app_args]
    meter = ScreenMeter(cell.columns, cell.lines)
    with tempfile.TemporaryDirectory(prefix="tty-bytes-") as home:
        child = TtyChild(argv, _app_env(ready, home), cell.columns, cell.lines)
        try:
            t0 = time.monotonic()
            up = child.pump(meter, startup_timeout_s, until=lambda: book_shows_prices(meter.text()))
            if not up:
                # the terminal closes a moment before the process ends: give it that moment
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.process.wait(5)
                code = child.process.returncode
                if code is not None:
                    said = _refusal(meter.text())
                    cell.refused = code == 2 and "unrecognized arguments" in said
                    what = "refused its command line" if cell.refused else "exited"
                    cell.error = f"the app {what} ({code}) before a book: {said}"
                else:
                    cell.error = (
                        f"no book with prices within {startup_timeout_s:g} s; screen ends: "
                        f"{_refusal(meter.text())}"
                    )
                return cell
            cell.startup_s = round(time.monotonic() - t0, 2)
            child.pump(meter, warmup_s)
            start_bytes, start, cpu0 = meter.total, time.monotonic(), time.process_time()
            meter.forget_lines()
            alive, end, rates = True, start + seconds, []  # bytes/s of each second
            while alive and (left := end - time.monotonic()) > 0:
                before, t = meter.total, time.monotonic()
                alive = child.pump(meter, min(1.0, left))
                if (took := time.monotonic() - t) >= 0.5:
                    rates.append((meter.total - before) / took)
            if len(rates) >= 2 and statistics.median(rates) > 0:
                cell.spread_pct = round(spread(rates), 1)
            cell.seconds = round(time.monotonic() - start, 2)
            # if drawing fell behind, the app would block on a full pty and write less
            cell.meter_cpu_share = round((time.process_time() - cpu0) / cell.seconds, 3)
            cell.screen = meter.text()
            cell.busiest_lines = meter.busiest_lines(cell.seconds)
            cell.bytes = meter.total - start_bytes
            if not alive or child.process.poll() is not None:
                cell.error = f"the app ended while measured: {_refusal(meter.text())}"
                return cell
            if not book_shows_prices(meter.text()):
                cell.error = "the book no longer shows prices at the end of the window"
            cell.kbps = round(cell.bytes / cell.seconds / 1000, 2)
            return cell
        finally:
            cell.ended = child.stop(meter, (b"\x11", b"q"), timeout_s=5)


def _modes(mode: str) -> list[str]:
    return ["normal", "low"] if mode == "both" else [mode]


def _table(cells: list[Cell]) -> list[str]:
    """kB/s: one row per market and mode, one column per size."""
    sizes = sorted({c.size for c in cells}, key=lambda s: [int(x) for x in s.split("x")])
    out = [f"{'market':<22}{'mode':<8}" + "".join(f"{s:>12}" for s in sizes)]
    rows: dict[tuple[str, str], dict[str, Cell]] = {}
    for c in cells:
        rows.setdefault((f"{c.market} (--speed {c.speed:g})", c.mode), {})[c.size] = c
    for (market, mode), by_size in rows.items():
        values = []
        for s in sizes:
            got = by_size.get(s)
            values.append(
                "-"
                if got is None
                else f"{got.kbps:.2f}"
                if got.kbps is not None
                else "refused"
                if got.refused
                else "failed"
            )
        out.append(f"{market:<22}{mode:<8}" + "".join(f"{v:>12}" for v in values))
    return out


def _cell_record(c: Cell) -> dict[str, Any]:
    return {
        "market": c.market,
        "speed": c.speed,
        "size": c.size,
        "mode": c.mode,
        "kbps": c.kbps,
        "bytes": c.bytes,
        "seconds": c.seconds,
        "book_after_s": c.startup_s,
        "ended": c.ended,
        "error": c.error,
        "refused": c.refused,
        "meter_cpu_share": c.meter_cpu_share,
        "per_second_spread_pct": c.spread_pct,
        "busiest_lines": c.busiest_lines,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def merged_cells(previous: Any, fresh: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """This run's cells over the last run's: a ``--mode low`` run keeps the normal figures
    (each cell says when it was measured)."""
    old = previous.get("cells", []) if isinstance(previous, dict) else []
    by_key = {(c["market"], c["size"], c["mode"]): c for c in old if isinstance(c, dict)}
    by_key.update({(c["market"], c["size"], c["mode"]): c for c in fresh})
    return list(by_key.values())


def pick(cells: list[dict[str, Any]], market: str, mode: str, size: str = "120x40") -> float | None:
    for c in cells:
        if c["market"] == market and c["mode"] == mode and c["size"] == size:
            kbps = c.get("kbps")
            return float(kbps) if kbps is not None else None
    return None


def _verdict(value: float | None, limit: float, *, inclusive: bool = False) -> str:
    if value is None:
        return "not measured"
    met = value <= limit if inclusive else value < limit
    return f"{value:.2f}: {'met' if met else 'NOT MET'}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tty_bytes", description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured (default 10)")
    parser.add_argument("--warmup", type=float, default=3.0, help="after the book (default 3)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--mode",
        choices=("normal", "low", "both"),
        default="both",
        help=f"low runs the app with {LOW_BANDWIDTH_FLAG} (default both, side by side)",
    )
    parser.add_argument(
        "--app-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="one more argument for the app's command line (repeatable; --app-arg=--flag)",
    )
    parser.add_argument(
        "--market",
        action="append",
        choices=tuple(SPEEDS),
        help="idle (--speed 0), busy (--speed 1), busy10 (--speed 10); default all",
    )
    parser.add_argument(
        "--size", action="append", metavar="COLSxLINES", help="default 80x24 and 120x40"
    )
    parser.add_argument("--startup-timeout", type=float, default=60.0)
    parser.add_argument(
        "--show-screen", action="store_true", help="print each screen as the window ends"
    )
    parser.add_argument(
        "--show-lines",
        action="store_true",
        help="print the screen lines that took the most bytes (a rough share of each write)",
    )
    parser.add_argument("--no-write", action="store_true", help="leave bench.json alone")
    args = parser.parse_args(argv)
    try:
        sizes = (
            [tuple(int(x) for x in s.lower().split("x")) for s in args.size] if args.size else SIZES
        )
        if any(len(s) != 2 or min(s) < 10 for s in sizes):
            raise ValueError
    except ValueError:
        parser.error("--size takes COLSxLINES, e.g. 120x40")
    markets = args.market or list(SPEEDS)
    say(
        f"Terminal bytes of the real app in a pty (TERM=xterm-256color, pyte drawing the screen); "
        f"{args.warmup:g} s warm-up after the book shows prices, {args.seconds:g} s measured"
    )
    cells: list[Cell] = []
    with tempfile.TemporaryFile("w+") as log:
        for market in markets:
            speed = SPEEDS[market]
            with simulator(speed, args.seed, log) as ready:
                for columns, lines in sizes:
                    for mode in _modes(args.mode):
                        app_args = [*args.app_arg]
                        if mode == "low":
                            app_args.append(LOW_BANDWIDTH_FLAG)
                        cell = Cell(market, speed, columns, lines, mode)
                        measure(
                            cell,
                            ready,
                            app_args,
                            seconds=args.seconds,
                            warmup_s=args.warmup,
                            startup_timeout_s=args.startup_timeout,
                        )
                        cells.append(cell)
                        shown = (
                            f"{cell.kbps:.2f} kB/s"
                            if cell.kbps is not None
                            else "refused"
                            if cell.refused
                            else "failed"
                        )
                        say(
                            f"  {market:<6} --speed {speed:<4g} {cell.size:>7} {mode:<6} {shown}"
                            f"  (book after {cell.startup_s} s; {cell.ended}; "
                            f"spread {cell.spread_pct}%; meter CPU {cell.meter_cpu_share})"
                        )
                        if cell.error:
                            say(f"    {cell.error}")
                        if args.show_screen:
                            say(cell.screen)
                        if args.show_lines:
                            for b in cell.busiest_lines:
                                say(
                                    f"    line {b['line']:>2}: {b['bytes_per_s']:>6} B/s, "
                                    f"{b['writes_per_s']:>5}/s  {b['text']}"
                                )
    say()
    for line in _table(cells):
        say(line)
    previous = None
    with contextlib.suppress(OSError, ValueError):
        previous = json.loads(BENCH_JSON.read_text()).get("tty_bytes")
    cells_json = merged_cells(previous, [_cell_record(c) for c in cells])
    busy = pick(cells_json, "busy", "normal")
    low = pick(cells_json, "busy", "low")
    idle = pick(cells_json, "idle", "normal")
    say()
    say("Goals at 120x40 (figures from bench.json where this run did not measure them):")
    say(
        f"  low-bandwidth, busy, under {GOAL_LOW_BANDWIDTH_KBPS:g} kB/s: "
        f"{_verdict(low, GOAL_LOW_BANDWIDTH_KBPS)}"
    )
    say(
        f"  normal, busy, at most half of {BASELINE_BUSY_KBPS:g} kB/s (before issue 15): "
        f"{_verdict(busy, BASELINE_BUSY_KBPS / 2, inclusive=True)}"
    )
    say(f"  idle under {GOAL_IDLE_KBPS:g} kB/s: {_verdict(idle, GOAL_IDLE_KBPS)}")
    result: dict[str, Any] = {
        "machine": machine(),
        "unit": "kB/s (1000 bytes) written to the terminal",
        "tty_kbps_busy": busy,
        "tty_kbps_busy_speed10": pick(cells_json, "busy10", "normal"),
        "tty_kbps_idle": idle,
        "tty_kbps_low_bandwidth": low,
        "tty_kbps_low_bandwidth_idle": pick(cells_json, "idle", "low"),
        "tty_kbps_low_bandwidth_speed10": pick(cells_json, "busy10", "low"),
        "baseline_busy_kbps": BASELINE_BUSY_KBPS,
        "definitions": "at 120x40 and TERM=xterm-256color; busy: --speed 1; idle: --speed 0 "
        "(a market that never moves by itself: the app's own redraws only); low: the app run "
        f"with {LOW_BANDWIDTH_FLAG}; baseline: tty_kbps_busy before issue 15's work",
        "seconds": args.seconds,
        "warmup_s": args.warmup,
        "seed": args.seed,
        "app_args": args.app_arg,
        "cells": cells_json,
    }
    if not args.no_write:
        write_section("tty_bytes", result)
        say("wrote the figures to bench.json (section 'tty_bytes')")
    return 0 if all(c.error is None for c in cells) else 1


if __name__ == "__main__":
    sys.exit(main())
