"""How often each pane redraws and how much of the book it shows: what the terminal pays.

Two paces. **Normal**: the book at the config's ``refresh_hz`` (10 by default: a redraw
every 100 ms is as fast as a trader reads a changed figure, and Bitstamp sends a busy book
about ten diffs a second), every level the pane holds, the tape at 10 Hz, the status bar
at 4 Hz. **Low bandwidth** (``--low-bandwidth``, the config's ``low_bandwidth``): the book
twice a second with the eight best levels a side, the tape and the status bar once a second
(trades in between arrive together). In both, only the cells that changed are written
(:mod:`workstation.ui.drawn_lines`), and nothing flashes: a level that changed is drawn in its
side's colour like every other, so an update costs its own cells and no second repaint.
"""

from __future__ import annotations

import msgspec

from .panes.status import REFRESH_HZ as STATUS_HZ
from .panes.tape import REDRAW_HZ as TAPE_HZ

__all__ = ["LOW_BANDWIDTH", "MOVE_HZ", "Pace", "pace_for"]


class Pace(msgspec.Struct, frozen=True):
    """Redraws a second of each pane, and the book's levels a side (None: all that fit)."""

    book_hz: float
    book_levels: int | None
    tape_hz: float
    status_hz: float
    move_hz: float | None = None
    """Book and tape redraw when the pair shown moves, at most this often (None: on their
    timers only, ``book_hz`` and ``tape_hz``)."""


LOW_BANDWIDTH = Pace(book_hz=2.0, book_levels=8, tape_hz=1.0, status_hz=1.0)
MOVE_HZ = 60.0
"""Normal mode's cap on redraws for a moving market: a frame after a quiet spell paints at
once, under a stream within 1/60 s of the last redraw, as often as a display refreshes. The
goal is 50 ms from frame to paint. Under a busy stream (``--speed 100``, ~375 trades a
second) the cap's wait is the largest part of a trade's latency: four rounds side by side on
a 2-core host read p99 52/47/62/69 ms at 40 Hz against 40/44/51/61 ms at 60 Hz, with the UI
loop's lag p99 (10 pairs) 6.3/5.9/7.9/8.0 against 6.6/7.9/8.2/7.9 ms and no change in CPU
at the real rate, where frames seldom come within a cap of each other (2026-12-07)."""


def pace_for(*, low_bandwidth: bool, refresh_hz: float) -> Pace:
    """The pace of this run: ``refresh_hz`` (the config's) caps the book in both modes."""
    if low_bandwidth:
        return Pace(
            book_hz=min(refresh_hz, LOW_BANDWIDTH.book_hz),
            book_levels=LOW_BANDWIDTH.book_levels,
            tape_hz=LOW_BANDWIDTH.tape_hz,
            status_hz=LOW_BANDWIDTH.status_hz,
        )
    return Pace(
        book_hz=refresh_hz,
        book_levels=None,
        tape_hz=TAPE_HZ,
        status_hz=STATUS_HZ,
        move_hz=MOVE_HZ,
    )
