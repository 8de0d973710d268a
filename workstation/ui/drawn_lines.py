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
    if (texts := _one_cell_texts(before, after)) is not None:
        return _one_cell_span(before, after, *texts)
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


def _one_cell_texts(before: list[Segment], after: list[Segment]) -> tuple[str, str] | None:
    """The texts of two lines of one-cell characters (ASCII, no control codes) of the same
    length, as the book's rows are; None when the lines are not like that."""
    if any(s.control is not None or not s.text.isascii() for s in (*before, *after)):
        return None
    text_before = "".join(s.text for s in before)
    text_after = "".join(s.text for s in after)
    return (text_before, text_after) if len(text_before) == len(text_after) else None


def _one_cell_span(
    before: list[Segment], after: list[Segment], text_before: str, text_after: str
) -> tuple[int, int] | None:
    """:func:`changed_span` of such lines without a tuple per cell: the texts compared as
    strings, the styles run by run."""
    if not text_before:
        return None  # no cells at all, however the segments are cut
    spans = [
        span
        for span in (_text_span(text_before, text_after), _style_span(before, after))
        if span is not None
    ]
    if not spans:
        return None
    return min(start for start, _ in spans), max(end for _, end in spans)


def _style_span(before: list[Segment], after: list[Segment]) -> tuple[int, int] | None:
    """Where two lines of the same length are styled differently, walking their segments'
    boundaries together (None: styled alike everywhere)."""
    first = last = None
    i = j = position = 0
    end_before, end_after = len(before[0].text), len(after[0].text)
    while i < len(before) and j < len(after):
        end = min(end_before, end_after)
        if end > position and before[i].style != after[j].style:
            first = position if first is None else first
            last = end
        position = end
        if end_before == end:
            i += 1
            end_before += len(before[i].text) if i < len(before) else 0
        if end_after == end:
            j += 1
            end_after += len(after[j].text) if j < len(after) else 0
    return None if first is None or last is None else (first, last)


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
