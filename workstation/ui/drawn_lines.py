"""What each line of a pane last drew, so a redraw repaints only the cells that changed.

A Line API pane (the book, the tape, the status bar) computes all its lines on a redraw and
hands them to :meth:`DrawnLines.changes`, which compares them cell by cell (character and
style) with the lines drawn before and returns the region of each line that differs: the
pane refreshes those regions only (``Widget.refresh(*regions)``), and with
:class:`~workstation.ui.trimmed_screen.TrimmedScreen` only those cells reach the terminal.
A level whose amount changed rewrites the amount, its total and its bar, not its price, and
a pane that did not change writes nothing, not even its border.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.style import Style
from textual._cells import cell_len
from textual.geometry import Region
from textual.strip import Strip

__all__ = ["DrawnLines", "changed_span"]

_Cell = tuple[str, Style | None]


def _cells(strip: Strip) -> list[_Cell]:
    """One (character, style) per cell; a wide character fills its second cell with ''."""
    cells: list[_Cell] = []
    for segment in strip:
        if segment.control:
            continue
        style = segment.style
        for char in segment.text:
            cells.append((char, style))
            if cell_len(char) == 2:
                cells.append(("", style))
    return cells


def changed_span(old: Strip | None, new: Strip) -> tuple[int, int] | None:
    """The cells ``[start, end)`` where ``new`` differs from ``old`` (None: nothing did).
    With no ``old`` (never drawn), the whole of ``new``."""
    if old is None:
        return (0, new.cell_length) if new.cell_length else None
    if old is new or list(old) == list(new):
        return None
    before, after = _cells(old), _cells(new)
    size = max(len(before), len(after))
    gone: _Cell = ("\x00", None)  # past the end of the shorter line: no cell is this
    before += [gone] * (size - len(before))
    after += [gone] * (size - len(after))
    start = 0
    while start < size and before[start] == after[start]:
        start += 1
    end = size
    while end > start and before[end - 1] == after[end - 1]:
        end -= 1
    return (start, end) if end > start else None


class DrawnLines:
    """The strips a pane last drew, by line (``y`` in the pane's content)."""

    def __init__(self) -> None:
        self._lines: dict[int, Strip] = {}

    def keep(self, y: int, strip: Strip) -> Strip:
        """``strip`` is what line ``y`` shows now (from ``render_line``); returns it."""
        self._lines[y] = strip
        return strip

    def forget(self) -> None:
        """Nothing is known to be drawn (a resize, a new pair): the next redraw is whole."""
        self._lines.clear()

    def changes(self, lines: Iterable[tuple[int, Strip]]) -> list[Region]:
        """The region of each line in ``lines`` that differs from what it drew last; the
        lines are kept as drawn (the caller refreshes the regions at once)."""
        regions: list[Region] = []
        for y, strip in lines:
            span = changed_span(self._lines.get(y), strip)
            self._lines[y] = strip
            if span is not None:
                start, end = span
                regions.append(Region(start, y, end - start, 1))
        return regions
