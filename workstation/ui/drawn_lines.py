"""What each line of a pane last drew, so a redraw repaints only the cells that changed.

A Line API pane (the book, the tape, the status bar) computes all its lines on a redraw and
hands them to :meth:`DrawnLines.changes`, which compares them cell by cell (character and
style) with the lines drawn before and returns the region of each line that differs: the
pane refreshes those regions only (``Widget.refresh(*regions)``), and with
:class:`~workstation.ui.trimmed_screen.TrimmedScreen` only those cells reach the terminal.
A level whose amount changed rewrites the amount, its total and its bar, not its price, and
a pane that did not change writes nothing, not even its border.

A line may be kept with a *key*: the inputs it was drawn from (a book level's row, its bar,
the cursor...). A redraw asks :meth:`DrawnLines.same` first and skips a line whose key did not
change without formatting or comparing it, and ``render_line`` reuses the strip drawn from that
key (:meth:`DrawnLines.drawn`) instead of formatting it twice. The pane forgets its lines when
its styles change (a theme, a class), which no key holds.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable

from rich.segment import Segment
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
    if old is new:
        return None
    before, after = list(old), list(new)
    if before == after:
        return None
    if _same_shape(before, after):
        return _text_span("".join(s.text for s in before), "".join(s.text for s in after))
    cells_before, cells_after = _cells(old), _cells(new)
    size = max(len(cells_before), len(cells_after))
    gone: _Cell = ("\x00", None)  # past the end of the shorter line: no cell is this
    cells_before += [gone] * (size - len(cells_before))
    cells_after += [gone] * (size - len(cells_after))
    start = 0
    while start < size and cells_before[start] == cells_after[start]:
        start += 1
    end = size
    while end > start and cells_before[end - 1] == cells_after[end - 1]:
        end -= 1
    return (start, end) if end > start else None


def _same_shape(before: list[Segment], after: list[Segment]) -> bool:
    """The same styles over the same lengths of one-cell characters: the lines then differ in
    their text alone (a level whose amount changed and whose bar did not move)."""
    return len(before) == len(after) and all(
        a.style == b.style
        and a.control is None
        and b.control is None
        and len(a.text) == len(b.text)
        and a.text.isascii()
        and b.text.isascii()
        for a, b in zip(before, after, strict=True)
    )


def _text_span(before: str, after: str) -> tuple[int, int] | None:
    """Where two equally long texts of one-cell characters differ (None: nowhere)."""
    start = _common_prefix(before, after)
    if start == len(before):
        return None
    end = len(before) - _common_prefix(before[::-1], after[::-1])
    return start, end


def _common_prefix(a: str, b: str) -> int:
    """The length of the longest common prefix, by bisection on slices (compared in C)."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


class DrawnLines:
    """The strips a pane last drew, by line (``y`` in the pane's content), with the key each
    was drawn from when the pane gave one."""

    def __init__(self) -> None:
        self._lines: dict[int, Strip] = {}
        self._keys: dict[int, Hashable] = {}

    def same(self, y: int, key: Hashable | None) -> bool:
        """Line ``y`` was drawn from ``key`` (None, a line without a key, is never the same)."""
        return key is not None and y in self._keys and self._keys[y] == key

    def drawn(self, y: int, key: Hashable | None) -> Strip | None:
        """What line ``y`` shows if it was drawn from ``key``, else None."""
        return self._lines.get(y) if self.same(y, key) else None

    def keep(self, y: int, strip: Strip, key: Hashable | None = None) -> Strip:
        """``strip`` is what line ``y`` shows now (from ``render_line``); returns it."""
        self._lines[y] = strip
        if key is None:
            self._keys.pop(y, None)
        else:
            self._keys[y] = key
        return strip

    def forget(self) -> None:
        """Nothing is known to be drawn (a resize, a new pair, new styles): the next redraw
        is whole."""
        self._lines.clear()
        self._keys.clear()

    def change(self, y: int, strip: Strip, key: Hashable | None = None) -> Region | None:
        """Keep ``strip`` (drawn from ``key``) as line ``y``; the region of it that differs
        from what the line showed before (None: nothing)."""
        span = changed_span(self._lines.get(y), strip)
        self.keep(y, strip, key)
        if span is None:
            return None
        start, end = span
        return Region(start, y, end - start, 1)

    def changes(self, lines: Iterable[tuple[int, Strip]]) -> list[Region]:
        """The region of each line in ``lines`` that differs from what it drew last; the
        lines are kept as drawn (the caller refreshes the regions at once)."""
        return [r for y, strip in lines if (r := self.change(y, strip)) is not None]
