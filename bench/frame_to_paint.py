"""WebSocket frame received -> painted on the terminal: how late a trader sees the market.

``python -m bench.frame_to_paint`` (``make bench`` runs it). For each speed (1: the real rate;
100: a stress) the script starts ``workstation sim --port 0 --speed S`` as its own process
(URLs and demo keys read from its banner), then the real app attached to it
(``python -m workstation --sim-url URL --pair btcusd``) in a 120x40 pseudo-terminal whose
every byte is drawn by pyte. Beside it, ``bench/frame_clock.py`` (a bare WebSocket client in a
third process) subscribes to ``order_book_btcusd`` and ``live_trades_btcusd`` on the same
simulator and stamps each frame with CLOCK_MONOTONIC as it arrives. Two kinds of change are
then looked for on the drawn screen, and the delay from the frame's stamp to the moment the
bytes that show it were read from the pty is recorded:

- **book**: a frame whose best bid or ask differs from the previous one; painted when the book
  pane's rows around its ``spread`` line show that bid and ask;
- **trade**: a trade frame; painted when the trades pane holds a row with its price and amount.

A change that is never shown because a newer one replaced it before the next redraw (the
pane redraws at a capped rate) counts as painted when the newer one is: the trader saw a
state at least that new. A change still unseen after 2 s counts as missed (reported).

Error bars, all of a few milliseconds at most on an idle machine:

- the two WebSocket clients are written by the simulator one after the other, in one publish
  call: a few hundred microseconds apart, in either order (the top-100 frame the bench reads
  is sent just after the diff frame the app applies, so book figures err low by that much);
- the pty is read as soon as ``select`` wakes, but while this process feeds pyte a chunk the
  next one waits (up to a few ms at ``--speed 100``): figures err high by that much;
- a frame line reaching this process after the paint it caused is still timed from its
  stamp (the last change of that part of the screen is kept for this);
- the stamp is the receipt in a process that does nothing else, not the app's own receipt:
  on a loaded machine either process can be descheduled for a slice (10s of ms): both the
  median and the p99 then carry the machine's load, which ``machine()`` records.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import select
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import IO, Any

from .app_pty import app_env, book_top, spawn_app, tape_rows
from .common import machine, say, write_section
from .sim_child import RunningSim, running_sim
from .tty_bytes import ScreenMeter, TtyChild, book_shows_prices

__all__ = ["ChangeClock", "main", "measure", "percentiles"]

PAIR = "btcusd"
GOAL_P99_MS = 50.0
MISSED_AFTER_S = 2.0
SPEEDS = (1.0, 100.0)


def percentiles(values: list[float]) -> dict[str, float | int | None]:
    """p50, p90, p99 and max (ms) of ``values``, and how many."""
    if not values:
        return {"count": 0, "p50": None, "p90": None, "p99": None, "max": None}
    if len(values) == 1:
        one = round(values[0], 1)
        return {"count": 1, "p50": one, "p90": one, "p99": one, "max": one}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {
        "count": len(values),
        "p50": round(statistics.median(values), 1),
        "p90": round(cuts[89], 1),
        "p99": round(cuts[98], 1),
        "max": round(max(values), 1),
    }


@dataclass
class ChangeClock:
    """The changes of one kind waiting to be seen on screen, and how late each one was."""

    kind: str
    pending: list[tuple[float, Hashable]] = field(default_factory=list)
    shown: frozenset[Hashable] = frozenset()
    changed_at: float = 0.0
    delays_ms: list[float] = field(default_factory=list)
    superseded: int = 0
    missed: int = 0
    on_screen_before: int = 0
    recording: bool = False

    def frame(self, stamp: float, key: Hashable) -> None:
        """A change the frame stamped ``stamp`` brings, to be shown as ``key``."""
        if key in self.shown:
            if self.changed_at >= stamp:  # painted before its frame line reached us
                self._resolve(self.changed_at, [(stamp, key)])
            else:
                self.on_screen_before += self.recording  # the screen held it already
            return
        self.pending.append((stamp, key))

    def screen(self, read_at: float, shown: frozenset[Hashable]) -> None:
        """What the screen shows of this kind after the bytes read at ``read_at``."""
        if shown == self.shown:
            return
        self.shown, self.changed_at = shown, read_at
        for i in range(len(self.pending) - 1, -1, -1):
            if self.pending[i][1] in shown:
                done, self.pending = self.pending[: i + 1], self.pending[i + 1 :]
                self._resolve(read_at, done)
                return

    def expire(self, now: float) -> None:
        while self.pending and now - self.pending[0][0] > MISSED_AFTER_S:
            self.pending.pop(0)
            self.missed += self.recording

    def _resolve(self, painted_at: float, done: list[tuple[float, Hashable]]) -> None:
        if not self.recording:
            return
        for stamp, key in done:
            self.delays_ms.append((painted_at - stamp) * 1000)
            self.superseded += key not in self.shown

    def summary(self) -> dict[str, Any]:
        return {
            **percentiles(self.delays_ms),
            "superseded": self.superseded,
            "missed": self.missed,
            "already_on_screen": self.on_screen_before,
        }


class _Frames:
    """Lines of ``frame_clock`` read without blocking: (stamp in s, frame) pairs."""

    def __init__(self, stream: IO[bytes]):
        self.fd = stream.fileno()
        self._rest = b""

    def read(self) -> list[tuple[float, dict[str, Any]]]:
        data = os.read(self.fd, 1 << 20)
        if not data:
            raise EOFError("the frame clock ended")
        lines = (self._rest + data).split(b"\n")
        self._rest = lines.pop()
        out = []
        for line in lines:
            stamp, _, text = line.partition(b" ")
            out.append((int(stamp) / 1e9, json.loads(text)))
        return out


def _route(
    frame: dict[str, Any], book: ChangeClock, trades: ChangeClock, state: dict[str, Any]
) -> tuple[ChangeClock, Hashable] | None:
    """Which clock a frame's change goes to, and the key it will be seen as; None: no change
    a trader could see (a book frame with the same top, a subscription reply)."""
    channel, data = frame.get("channel", ""), frame.get("data") or {}
    if frame.get("event") == "data" and channel == f"order_book_{PAIR}":
        if data.get("bids") and data.get("asks"):
            top = (data["bids"][0][0], data["asks"][0][0])
            if top != state.get("top"):
                state["top"] = top
                return book, top
    elif frame.get("event") == "trade" and channel == f"live_trades_{PAIR}":
        return trades, (data["price_str"], data["amount_str"])
    return None


def _watch(
    child: TtyChild,
    meter: ScreenMeter,
    frames: _Frames,
    clocks: tuple[ChangeClock, ChangeClock],
    seconds: float,
    state: dict[str, Any],
) -> None:
    book, trades = clocks
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        ready, _, _ = select.select([child.master, frames.fd], [], [], min(left, 0.05))
        if child.master in ready:
            try:
                data = os.read(child.master, 65536)
            except OSError:
                data = b""
            read_at = time.monotonic()
            if not data:
                raise RuntimeError("the app closed its terminal while measured")
            meter.feed(data)
            screen = meter.screen.display
            top = book_top(screen)
            book.screen(read_at, frozenset([top]) if top else frozenset())
            trades.screen(read_at, frozenset(tape_rows(screen)))
        if frames.fd in ready:
            for stamp, frame in frames.read():
                routed = _route(frame, book, trades, state)
                if routed is not None:
                    clock, key = routed
                    clock.frame(stamp, key)
        now = time.monotonic()
        book.expire(now)
        trades.expire(now)


def measure(
    sim: RunningSim, *, seconds: float, warmup_s: float, startup_timeout_s: float = 60.0
) -> dict[str, Any]:
    """One app attached to ``sim``: the frame-to-paint delays over ``seconds``."""
    book, trades = ChangeClock("book"), ChangeClock("trade")
    with tempfile.TemporaryDirectory(prefix="frame-to-paint-") as home:
        env = app_env(home, api_key=sim.api_key, api_secret=sim.api_secret)
        child, meter = spawn_app(["--sim-url", sim.rest_url, "--pair", PAIR], env)
        clock = None
        try:
            if not child.pump(
                meter, startup_timeout_s, until=lambda: book_shows_prices(meter.text())
            ):
                raise RuntimeError(
                    f"no book on screen within {startup_timeout_s:g} s:\n{meter.text()}"
                )
            clock = subprocess.Popen(
                [sys.executable, "-m", "bench.frame_clock", sim.ws_url]
                + [f"order_book_{PAIR}", f"live_trades_{PAIR}"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
            assert clock.stdout is not None
            frames = _Frames(clock.stdout)
            state: dict[str, Any] = {}  # the last top of the book the frames said
            _watch(child, meter, frames, (book, trades), warmup_s, state)
            for c in (book, trades):
                c.recording = True
            cpu0 = time.process_time()
            _watch(child, meter, frames, (book, trades), seconds, state)
            meter_share = (time.process_time() - cpu0) / seconds
        finally:
            if clock is not None:
                with contextlib.suppress(OSError):
                    assert clock.stdin is not None
                    clock.stdin.close()
                try:
                    clock.wait(5)
                except subprocess.TimeoutExpired:
                    clock.kill()
                    clock.wait()
                if clock.stdout is not None:
                    clock.stdout.close()
            child.stop(meter, (b"\x11", b"q"), timeout_s=5)
    every = book.delays_ms + trades.delays_ms
    return {
        "all": percentiles(every),
        "book": book.summary(),
        "trade": trades.summary(),
        "meter_cpu_share": round(meter_share, 3),
    }


def _line(label: str, p: dict[str, Any]) -> str:
    if not p["count"]:
        return f"  {label:<22} no changes seen"
    return (
        f"  {label:<22} p50 {p['p50']:>6.1f}  p90 {p['p90']:>6.1f}  p99 {p['p99']:>6.1f}  "
        f"max {p['max']:>6.1f} ms  ({p['count']} changes)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.frame_to_paint", description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0, help="measured per speed (20)")
    parser.add_argument("--warmup", type=float, default=3.0, help="after the book shows (3)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--speed", type=float, action="append", help="simulator speeds (default 1 and 100)"
    )
    parser.add_argument("--no-write", action="store_true", help="leave bench.json alone")
    args = parser.parse_args(argv)
    speeds = args.speed or list(SPEEDS)
    say(
        f"Frame -> paint: the app attached to `workstation sim` in a 120x40 pty drawn by pyte, "
        f"{args.seconds:g} s per speed after {args.warmup:g} s of warm-up"
    )
    runs: dict[str, Any] = {}
    with tempfile.TemporaryFile("w+") as log:
        for speed in speeds:
            with running_sim(speed, args.seed, log) as sim:
                got = measure(sim, seconds=args.seconds, warmup_s=args.warmup)
            runs[f"{speed:g}"] = got
            say(
                f"--speed {speed:g} (this script's CPU while drawing: {got['meter_cpu_share']:.0%})"
            )
            for label, key in (("every change", "all"), ("book top", "book"), ("trade", "trade")):
                say(_line(label, got[key]))
            for key in ("book", "trade"):
                s = got[key]
                if s["missed"] or s["superseded"]:
                    say(f"    {key}: {s['superseded']} shown by a newer one, {s['missed']} missed")

    def p99(speed: str) -> float | None:
        return runs[speed]["all"]["p99"] if speed in runs else None

    def p50(speed: str) -> float | None:
        return runs[speed]["all"]["p50"] if speed in runs else None

    result = {
        "machine": machine(),
        "frame_to_paint_p50_ms": p50("1"),
        "frame_to_paint_p99_ms": p99("1"),
        "frame_to_paint_p50_ms_speed100": p50("100"),
        "frame_to_paint_p99_ms_speed100": p99("100"),
        "goal_p99_under_ms": GOAL_P99_MS,
        "pair": PAIR,
        "seconds": args.seconds,
        "warmup_s": args.warmup,
        "seed": args.seed,
        "runs": runs,
    }
    say(f"Goal: p99 under {GOAL_P99_MS:g} ms")
    for speed, got in runs.items():
        value = got["all"]["p99"]
        met = value is not None and value < GOAL_P99_MS
        say(f"  --speed {speed}: p99 {value} ms: {'met' if met else 'NOT MET'}")
    if not args.no_write:
        write_section("frame_to_paint", result)
        say("wrote the figures to bench.json (section 'frame_to_paint')")
    return 0


if __name__ == "__main__":
    sys.exit(main())
