"""A pane's lines put inside its border once per line drawn, not once per paint.

Textual renders each line a widget repaints through its ``StylesCache``: it reads the
border, outline, padding, tint and opacity rules again, mixes the colours, builds new styles
and a new ``Strip`` around the content line, and then filters it (``ANSIToTruecolor``). In the
running app that is 60-110 us a line, ten times what the book's own (kept) line costs, and a
busy tape moves all its lines down on every new trade: at ``--speed 100`` the largest share
of each screen update.

:class:`BorderedLines` takes Textual's place for a pane whose sides are a plain border (no
padding, outline, tint, hatch or opacity; anything else is left to Textual, line by line):
the two border cells are worked out once per render, and a content line the pane hands back
unchanged (the book's and the tape's kept lines are the same ``Strip`` objects) gets back the
same bordered ``Strip`` (filtered as it was bordered, by :meth:`BorderedLines.render_line`,
not after it by Textual), so the cut into the screen's chops is a hit too. A trade that moves
down a line is bordered and filtered once, not on every line it moves, and a line the
``ANSIToTruecolor`` filter would not change (the two panes' styles are true colour, and dim
only on a stale book) is not copied by it. (Its text for the terminal is still made anew:
the screen update writes only the cells that differ from the line before.)

The top and bottom borders (with the title and subtitle) are Textual's, unchanged. What is
drawn is Textual's to the cell: ``tests/ui/test_bordered_lines.py`` compares the two.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.segment import Segment
from rich.style import Style as RichStyle
from rich.terminal_theme import DEFAULT_TERMINAL_THEME
from textual._border import get_box
from textual._styles_cache import StylesCache
from textual.filter import ANSIToTruecolor
from textual.strip import Strip
from textual.style import Style

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from rich.terminal_theme import TerminalTheme
    from textual.color import Color
    from textual.content import Content
    from textual.css.styles import StylesBase
    from textual.filter import LineFilter
    from textual.geometry import Region, Size, Spacing
    from textual.widget import Widget

    _Label = tuple[Content, Color, Color, Style] | None

__all__ = ["BorderedLines"]

KEPT_PER_LINE = 4
"""Bordered lines kept per line of the pane: the tape's lines that moved and may come back
(a pair switched back, a resize) without keeping every trade ever drawn."""


class _Sides:
    """What a content line needs to become a line of the pane, for one render."""

    __slots__ = ("inner", "left", "right")

    def __init__(self, left: Segment, right: Segment, inner: RichStyle) -> None:
        self.left, self.right, self.inner = left, right, inner


class BorderedLines(StylesCache):
    """Textual's ``StylesCache`` with a fast path for the lines between a plain border."""

    def __init__(self) -> None:
        super().__init__()
        self._sides: _Sides | None = None
        self._bordered: dict[int, tuple[Strip, Strip]] = {}
        """By ``id`` of the content line: (that line, the same line bordered and filtered)."""
        self._filters: Sequence[LineFilter] = ()
        """The app's line filters, for the render under way."""

    def render_widget(self, widget: Widget, crop: Region) -> list[Strip]:
        self._sides = self._plain_sides(widget)
        return super().render_widget(widget, crop)

    def render(
        self,
        styles: StylesBase,
        size: Size,
        base_background: Color,
        background: Color,
        render_content_line: Callable[[int], Strip],
        filters: Sequence[LineFilter],
        border_title: _Label,
        border_subtitle: _Label,
        content_size: Size | None = None,
        padding: Spacing | None = None,
        crop: Region | None = None,
        opacity: float = 1.0,
        ansi_theme: TerminalTheme = DEFAULT_TERMINAL_THEME,
        native_ansi: bool = False,
    ) -> list[Strip]:
        """Textual's render, with the filters applied by :meth:`render_line` as it makes a
        line (so what Textual keeps of the line is filtered already) and none after it."""
        self._filters = filters
        return super().render(
            styles,
            size,
            base_background,
            background,
            render_content_line,
            (),
            border_title,
            border_subtitle,
            content_size,
            padding,
            crop,
            opacity,
            ansi_theme,
            native_ansi,
        )

    def _filtered(self, strip: Strip, background: Color) -> Strip:
        """``strip`` through the app's line filters, as Textual filters every line, except
        that a line ``ANSIToTruecolor`` would leave as it is (its styles already in true
        colour and not dim: the book's and the tape's lines but a stale book's) is not copied
        into a new ``Strip``: each new line of a redraw was, with seven caches, for nothing."""
        for line_filter in self._filters:
            if type(line_filter) is ANSIToTruecolor and _truecolor_already(
                line_filter, strip, background
            ):
                continue
            strip = strip.apply_filter(line_filter, background)
        return strip

    def _plain_sides(self, widget: Widget) -> _Sides | None:
        """The border's left and right cells, or None when the sides are not plain (Textual
        draws every line then)."""
        styles = widget.styles
        if (
            widget.opacity != 1.0
            or styles.text_opacity != 1.0
            or styles.tint.a
            or any(styles.padding)
            or any(edge for edge, _ in styles.outline)
            or (styles.has_rule("hatch") and styles.hatch != "none")
        ):
            return None
        (top, _), (right, right_color), (_, _), (left, left_color) = styles.border
        if not (top and left and right):
            return None
        base_background, background = widget.background_colors
        inner, outer = self.get_inner_outer(base_background, background)
        left_cell = get_box(left, inner, outer, Style(foreground=base_background + left_color))
        right_cell = get_box(right, inner, outer, Style(foreground=base_background + right_color))
        return _Sides(left_cell[1][0], right_cell[1][2], inner.rich_style)

    def clear(self) -> None:
        """Textual's whole refresh, which every change of styles makes (focus, a class, a
        theme, a size): the bordered lines carry the old border, so they go too."""
        super().clear()
        self._bordered.clear()

    def render_line(
        self,
        styles: StylesBase,
        y: int,
        size: Size,
        content_size: Size,
        padding: Spacing,
        base_background: Color,
        background: Color,
        render_content_line: Callable[[int], Strip],
        border_title: _Label,
        border_subtitle: _Label,
        opacity: float,
        ansi_theme: TerminalTheme,
        native_ansi: bool,
    ) -> Strip:
        """Textual's line, or for a line between plain sides the content line bordered (the
        same ``Strip`` as last time when the content line is the same)."""
        sides = self._sides
        content_y = y - 1  # below the top border, with no padding
        if sides is None or not 0 <= content_y < content_size.height or y >= size.height - 1:
            return self._filtered(
                super().render_line(
                    styles,
                    y,
                    size,
                    content_size,
                    padding,
                    base_background,
                    background,
                    render_content_line,
                    border_title,
                    border_subtitle,
                    opacity,
                    ansi_theme,
                    native_ansi,
                ),
                background,
            )
        content = render_content_line(content_y)
        kept = self._bordered.get(id(content))
        if kept is not None and kept[0] is content:
            return kept[1]
        line = content.adjust_cell_length(content_size.width, sides.inner)
        bordered = self._filtered(Strip([sides.left, *line, sides.right], size.width), background)
        if len(self._bordered) >= KEPT_PER_LINE * size.height:
            self._bordered.clear()
        self._bordered[id(content)] = (content, bordered)
        return bordered


def _truecolor_already(line_filter: ANSIToTruecolor, strip: Strip, background: Color) -> bool:
    """``line_filter`` would hand back every style of ``strip`` as it is (its
    ``truecolor_style`` returns the style given when nothing is to convert, or from its
    cache an equal one), so its copy of the line would equal the line."""
    convert = line_filter.truecolor_style
    rich_background = background.rich_color
    for _, style, _ in strip:
        if style is None:
            continue
        converted = convert(style, rich_background)
        if converted is not style and converted != style:
            return False
    return True
