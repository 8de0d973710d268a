"""Where our path's time goes (``python -m bench.book_bench --profile``).

Splits ``parse_frame`` + ``apply_packed`` into its two halves, sets the decode beside the
floor of msgspec decoding the same frame in one typed pass with its rows, counts the rows the
one-pass check takes and how many distinct levels they come down to (what a read at the end
parses), and lists cProfile's top functions for one replay.
"""

from __future__ import annotations

import cProfile
import gc
import io
import pstats
import statistics
import time
from collections.abc import Callable
from typing import Any

import msgspec

from workstation.bitstamp.stream_frames import BookDiffEvent, parse_frame
from workstation.domain.book_rows import PackedRules

from .common import say
from .contenders import WIRE_AMOUNT_PLACES, Ours
from .streams import Stream

__all__ = ["profile_ours"]

RUNS = 15


class _DiffData(msgspec.Struct):
    microtimestamp: str
    bids: list[tuple[str, str]]
    asks: list[tuple[str, str]]


class _DiffFrame(msgspec.Struct):
    data: _DiffData
    channel: str
    event: str


_ONE_PASS = msgspec.json.Decoder(_DiffFrame)


def _us_per_frame(stream: Stream, setup: Callable[[], Any], run: Callable[[Any], None]) -> float:
    """Median over RUNS of one call's CPU time, each on fresh untimed state."""
    times = []
    for _ in range(RUNS):
        state = setup()
        gc.collect()
        gc.disable()
        try:
            start = time.process_time()
            run(state)
            times.append(time.process_time() - start)
        finally:
            gc.enable()
    return statistics.median(times) / len(stream.frames) * 1e6


def _staged_rows(stream: Stream) -> tuple[int, int, int, int]:
    """Rows in sides the one-pass check takes (staged), the distinct (market, side, price)
    levels among them, rows in sides it refuses (applied row by row), and all rows."""
    staged = refused = total = 0
    levels: set[tuple[str, int, str]] = set()
    rules = {
        m: PackedRules(s.price_places, WIRE_AMOUNT_PLACES) for m, s in stream.snapshots.items()
    }
    for text in stream.frames:
        event = parse_frame(text)
        assert isinstance(event, BookDiffEvent)
        for side, (packed, rows) in enumerate(
            ((event.bids, event.bid_rows), (event.asks, event.ask_rows))
        ):
            total += len(rows)
            if not rows:
                continue
            if rules[event.market].check(packed) is None:
                refused += len(rows)
                continue
            staged += len(rows)
            levels.update((event.market, side, price) for price, _ in rows)
    distinct = len(levels)
    return staged, distinct, refused, total


def profile_ours(stream: Stream) -> dict[str, Any]:
    ours = Ours()
    frames = stream.frames
    events: list[BookDiffEvent] = []
    for text in frames:
        event = parse_frame(text)
        assert isinstance(event, BookDiffEvent)  # the recorded streams are book diffs
        events.append(event)

    def decode(_: Any) -> None:
        for text in frames:
            parse_frame(text)

    def one_pass(_: Any) -> None:
        for text in frames:
            _ONE_PASS.decode(text)

    def apply(books: Any) -> None:
        for e in events:
            e.apply_to(books[e.market])
        for book in books.values():
            _ = book.crossed  # applies what is staged

    def fresh() -> Any:
        return ours.prepare(stream.snapshots)

    whole = _us_per_frame(stream, fresh, lambda books: ours.replay(books, frames))
    parse = _us_per_frame(stream, lambda: None, decode)
    floor = _us_per_frame(stream, lambda: None, one_pass)
    applied = _us_per_frame(stream, fresh, apply)
    staged, distinct, refused, rows = _staged_rows(stream)

    profiler = cProfile.Profile()
    books = fresh()
    profiler.enable()
    ours.replay(books, frames)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(12)

    result: dict[str, Any] = {
        "us_per_frame": {
            "parse_frame_plus_apply_packed": round(whole, 3),
            "parse_frame": round(parse, 3),
            "msgspec_one_pass_typed_decode": round(floor, 3),
            "apply_packed_then_read": round(applied, 3),
        },
        "rows_per_frame": round(rows / len(frames), 2),
        "rows": rows,
        "rows_staged": staged,
        "distinct_levels_staged": distinct,
        "rows_in_sides_refused_by_one_pass_check": refused,
        "cprofile_top": out.getvalue(),
    }
    say(f"\nProfile of our path on {stream.title} (CPU µs per frame, median of {RUNS} runs)")
    for key, value in result["us_per_frame"].items():
        say(f"  {key:34} {value:8.3f}")
    say(
        f"  rows per frame {rows / len(frames):.2f}; staged {staged} of {rows} rows "
        f"({distinct} distinct levels); large-side rows sent row by row: {refused}"
    )
    say(out.getvalue())
    return result
