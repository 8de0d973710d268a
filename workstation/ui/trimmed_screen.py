"""A screen that sends the terminal only the cells that changed, not the rest of their line.

When a widget repaints part of itself (``refresh(region)``: the book's changed cells, the
status bar's age), Textual's compositor knows the changed span of each line but writes every
chop (a widget's share of a line) from the chop's left edge up to the span's end, and moves
the cursor to chops that have nothing left to write (a ``TODO: crop to x extents`` in
``textual._compositor.ChopsUpdate``). Over SSH those are bytes paid for nothing: a changed
Total column rewrote its row from the book's left border. :class:`TrimmedScreen` (the app's
default screen) crops each chop to the span on both sides, skips empty chops and drops the
newline between spans (every chop starts with an absolute cursor move).

It leans on Textual's compositor internals (``Screen._compositor``, ``ChopsUpdate``'s
fields), pinned by ``tests/ui/test_low_bandwidth.py``, which reads the bytes written.
"""

from __future__ import annotations

from rich.console import Console
from rich.control import Control
from textual._compositor import ChopsUpdate, Compositor
from textual.screen import Screen

__all__ = ["TrimmedChopsUpdate", "TrimmedCompositor", "TrimmedScreen"]


class TrimmedChopsUpdate(ChopsUpdate):
    """The changed spans of a partial update, each chop cropped to them on both sides."""

    def render_segments(self, console: Console) -> str:
        move_to = Control.move_to
        out: list[str] = []
        for y, x1, x2 in self.spans:
            line, ends = self.chops[y], self.chop_ends[y]
            for end, (x, strip) in zip(ends, line.items(), strict=False):
                if strip is None or x >= x2 or end <= x1:
                    continue
                start = max(x, x1)
                part = strip.crop(start - x, min(end, x2) - x)
                if not part.cell_length:
                    continue
                out.append(move_to(start, y).segment.text)
                out.append(part.simplify().render(console))
        return "".join(out)


class TrimmedCompositor(Compositor):
    """Textual's compositor, whose partial updates are :class:`TrimmedChopsUpdate`."""

    def render_partial_update(self) -> ChopsUpdate | None:
        update = super().render_partial_update()
        if update is None:
            return None
        return TrimmedChopsUpdate(update.chops, update.spans, update.chop_ends)


class TrimmedScreen(Screen[None]):
    """A screen drawn through :class:`TrimmedCompositor`."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self._compositor = TrimmedCompositor()
