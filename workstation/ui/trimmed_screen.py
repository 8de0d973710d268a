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

A moved market is also painted sooner (:meth:`TrimmedScreen.paint_soon`): Textual paints a
widget's refresh after four hops through message queues (the widget's prompt and idle, the
screen's update message and idle, then its update timer), and each hop waits behind whatever
the loop is running: at ``--speed 100`` a stream's burst of frames. Measured in the app, 6.6
ms from a tape redraw to its paint at the median and 44 ms at p99; the book and the tape now
paint on the loop's next turn after they redraw.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence

from rich.cells import cell_len
from rich.color import ColorSystem
from rich.console import Console
from rich.style import Style
from textual._compositor import ChopsUpdate, Compositor
from textual.geometry import Region
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget

__all__ = ["TrimmedChopsUpdate", "TrimmedCompositor", "TrimmedScreen", "span_text"]


class TrimmedChopsUpdate(ChopsUpdate):
    """The changed spans of a partial update, each chop cropped to them on both sides."""

    def render_segments(self, console: Console) -> str:
        out: list[str] = []
        for y, x1, x2 in self.spans:
            line, ends = self.chops[y], self.chop_ends[y]
            for end, (x, strip) in zip(ends, line.items(), strict=False):
                if strip is None or x >= x2 or end <= x1:
                    continue
                start = max(x, x1)
                text = span_text(strip, start - x, min(end, x2) - x, console)
                if text:
                    out.append(f"\x1b[{y + 1};{start + 1}H")  # rich's Control.move_to
                    out.append(text)
        return "".join(out)


def span_text(strip: Strip, start: int, end: int, console: Console) -> str:
    """What ``strip.crop(start, end).simplify().render(console)`` writes, without the two
    ``Strip`` objects (each with seven caches) that path makes for every chop of an update:
    the cells from ``start`` to ``end``, a segment joined to the one before when it has the
    same style (rich's ``Segment.simplify``), each run written with its style.

    A screen update writes a chop per pane per changed line (~60 a redraw at ``--speed
    100``); cropping and simplifying made two strips for each, a tenth of the update's CPU.
    """
    if min(end, strip.cell_length) <= start:
        return ""  # no cell of the strip in the span
    color_system = console._color_system or ColorSystem.TRUECOLOR
    if end >= strip.cell_length:  # to the strip's end: zero-width segments there count
        end = sys.maxsize
        if start == 0:  # the whole strip: at its start too
            start = -1
    texts: list[str] = []
    styles: list[Style | None] = []
    pos = 0
    for segment in strip:
        if pos >= end:
            break
        text, style, control = segment
        if control:  # not in a pane's line; ``crop`` counts its text as cells, kept as is
            return strip.crop(start, end).simplify().render(console)
        next_pos = pos + (len(text) if text.isascii() and text.isprintable() else cell_len(text))
        if next_pos <= start:
            pos = next_pos
            continue
        if pos < start or next_pos > end:  # cut by an edge of the span, as ``crop`` cuts
            if pos < start:
                segment = segment.split_cells(start - pos)[1]
            if next_pos > end:
                segment = segment.split_cells(end - max(pos, start))[0]
            text = segment.text
        pos = next_pos
        if styles and (styles[-1] is style or styles[-1] == style):
            texts[-1] += text
        else:
            texts.append(text)
            styles.append(style)
    render = Strip.render_style
    return "".join(
        text if style is None else render(style, text, color_system=color_system)
        for text, style in zip(texts, styles, strict=True)
    )


class TrimmedCompositor(Compositor):
    """Textual's compositor, whose partial updates are :class:`TrimmedChopsUpdate` and render
    only the lines they change.

    Textual renders a partial update by asking every widget that overlaps the union of the
    changed regions for *all* its lines: a book level and the status bar changing together
    made every pane between them render each of its lines again (cached, but filtered,
    cropped and divided one by one), most of a redraw's CPU. Here each widget that overlaps a
    changed region renders only the changed lines it covers; the chops are filled as Textual
    fills them (the topmost widget's strip wins a cut), and what reaches the terminal is the
    same, checked against Textual's own by ``tests/ui/test_low_bandwidth.py``.
    """

    def __init__(self) -> None:
        super().__init__()
        self._plans: dict[tuple[int, int, int, int], tuple[list[int], list[int]]] = {}
        """The cuts of a widget's share of a line, by (line, widget's x, its first and last
        cut): the screen's cuts kept by Textual until the next layout, and with them these
        (``_plans_for``), rather than worked out again for every line of every update."""
        self._plans_for: list[list[int]] | None = None

    def render_partial_update(self) -> ChopsUpdate | None:
        update_regions = self._dirty_regions.copy()
        self._dirty_regions.clear()
        screen = self.size.region
        dirty = [r for r in (region.intersection(screen) for region in update_regions) if r]
        if not dirty:
            return None
        spans = list(self._regions_to_spans(dirty))
        chops = self._render_changed_lines(dirty, {y for y, _, _ in spans})
        chop_ends = [cut_set[1:] for cut_set in self.cuts]
        return TrimmedChopsUpdate(chops, spans, chop_ends)

    def _render_changed_lines(
        self, dirty: list[Region], lines: set[int]
    ) -> list[dict[int, Strip | None]]:
        """Textual's ``_render_chops`` for ``lines``, rendering of each widget only the lines
        that a changed region of it covers (the other lines' chops are left empty)."""
        cuts = self.cuts
        if self._plans_for is not cuts:
            self._plans, self._plans_for = {}, cuts
        plans = self._plans
        chops: list[dict[int, Strip | None]] = [_NO_CHOPS] * len(cuts)
        for y in lines:
            chops[y] = dict.fromkeys(cuts[y][:-1])
        in_order = sorted(lines)
        around = Region.from_union(dirty)
        for widget, (region, clip) in self.visible_widgets.items():  # topmost first
            shown = region.intersection(clip)
            if not shown.overlaps(around) or not any(shown.overlaps(r) for r in dirty):
                continue
            shown_x, shown_y, shown_width, shown_height = shown
            ys = [y for y in in_order if shown_y <= y < shown_y + shown_height]
            if not ys:
                continue
            top = ys[0]
            crop = Region(shown_x - region.x, top - region.y, shown_width, ys[-1] + 1 - top)
            strips = widget.render_lines(crop)
            first_cut, last_cut = shown.column_span
            for y in ys:
                if y - top >= len(strips):
                    break
                key = (y, shown_x, first_cut, last_cut)
                plan = plans.get(key)
                if plan is None:
                    final_cuts = [cut for cut in cuts[y] if last_cut >= cut >= first_cut]
                    plan = plans[key] = (final_cuts, [cut - shown_x for cut in final_cuts[1:]])
                final_cuts, relative_cuts = plan
                line = chops[y]
                for cut, piece in zip(
                    final_cuts, _divided(strips[y - top], relative_cuts), strict=False
                ):
                    if line.get(cut) is None:
                        line[cut] = piece
        return chops


_NO_CHOPS: dict[int, Strip | None] = {}
"""The chops of a line the update does not change: never written to, never read."""


def _divided(strip: Strip, cuts: list[int]) -> Sequence[Strip]:
    """``strip.divide(cuts)``, but a strip cut only at its end is itself, uncached.

    Textual's ``Strip.divide`` caches its answer on the strip, and for a single cut at the
    end that answer is ``[strip]``: the strip then refers to itself, a cycle that only the
    garbage collector frees. A pane's line is one piece in most lines, so at ``--speed 100``
    every redrawn line became such a cycle (1,185 strips, 17,000 objects in one full
    collection), and full collections of 40-60 ms came every ~3 s."""
    length = strip.cell_length
    if [cut for cut in cuts if cut <= length] == [length]:
        return (strip,)
    return strip.divide(cuts)


class TrimmedScreen(Screen[None]):
    """A screen drawn through :class:`TrimmedCompositor`."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id, classes=classes)
        self._compositor = TrimmedCompositor()
        self._to_paint: set[Widget] = set()
        self._paint: asyncio.Handle | None = None

    def paint_soon(self, widget: Widget) -> None:
        """Paint ``widget``'s refreshed regions on the loop's next turn (with every other
        widget that asked by then: the book and the tape redrawn for one frame paint once),
        rather than after Textual's round of messages. Textual's own path still runs; it
        finds the widget painted and does nothing."""
        self._to_paint.add(widget)
        if self._paint is None:
            self._paint = asyncio.get_running_loop().call_soon(self._paint_now)

    def _paint_now(self) -> None:
        self._paint = None
        widgets, self._to_paint = self._to_paint, set()
        if not self.is_current or self.app._batch_count or self not in self._compositor:
            return  # hidden, or inside a batch: Textual paints them when it can
        for widget in widgets:
            # What the widget's idle handler posts as ``messages.Update``, done here; it may
            # have run already (its wake-up was queued before this call), so what counts is
            # the regions it still has to repaint, which the screen's update collects.
            if widget.display and widget.is_mounted and widget._repaint_regions:
                widget._repaint_required = False
                self._dirty_widgets.add(widget)
        if self._dirty_widgets:
            self._on_timer_update()  # what the update timer's next tick would do, now
