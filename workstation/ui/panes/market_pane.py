"""What the book and the tape share: one pair's market, redrawn when it moves.

A pane shows one pair (``show`` switches it) from the services' market view. It redraws when
the app nudges it because that pair moved (capped by :class:`~workstation.ui.redraw_cap.
RedrawCap`, normal mode), and on a fallback timer at ``redraw_hz`` for what no nudge tells
(a resize, a stale flag); in low bandwidth (no ``move_hz``) the timer is the only pace.
"""

from __future__ import annotations

from collections.abc import Hashable

from rich.style import Style
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

from ...services.facade import Services
from ...services.views import MarketView
from ..bordered_lines import BorderedLines
from ..drawn_lines import DrawnLines
from ..redraw_cap import RedrawCap
from ..trimmed_screen import TrimmedScreen

__all__ = ["MarketPane"]


class MarketPane(Widget, can_focus=True):
    """One pair's market, redrawn by :meth:`poll` on a nudge or the fallback timer."""

    def __init__(
        self,
        services: Services,
        *,
        redraw_hz: float,
        move_hz: float | None = None,
        id: str | None = None,  # noqa: A002 - Textual's name
    ) -> None:
        super().__init__(id=id)
        self._styles_cache = BorderedLines()  # each kept line is bordered once, not per paint
        self.services = services
        self.redraw_hz = redraw_hz
        """The fallback timer's pace: what no nudge told (a resize, a stale flag) shows by then;
        with no ``move_hz`` (low bandwidth), the only redraws."""
        self.cap = RedrawCap(self._redraw_moved, move_hz) if move_hz is not None else None
        """Redraws on a nudge (:meth:`nudge`), at most ``move_hz`` a second; None: timer only."""
        self.symbol: str | None = None
        self.view: MarketView | None = None
        """The market as the last redraw saw it (what ``render_line`` draws)."""
        self._drawn = DrawnLines()
        self._render_size: Size | None = None
        """The pane's size while Textual renders its lines (``render_lines``): reading
        ``size`` walks up to the screen for the region, and a redraw renders every changed
        line (the whole tape when a trade comes): a few per cent of the CPU at `--speed 100`."""
        self._styles: dict[tuple[str, ...], Style] = {}

    def poll(self) -> None:
        """Redraw what changed in the pair's market since the last redraw (each pane's own)."""
        raise NotImplementedError

    def _line_key(self, y: int, size: Size) -> Hashable | None:
        """What line ``y`` is drawn from (None: no key, formatted on every draw)."""
        raise NotImplementedError

    def _line(self, y: int, size: Size) -> Strip:
        """Line ``y`` formatted."""
        raise NotImplementedError

    def repaint_changes(self) -> None:
        """Refresh only the cells that differ from what was drawn: a redraw where one level
        moved writes that level's cells, not the pane (nor its border). A line whose key did
        not change (its inputs: a level's row, bar and cursor, a trade on the same line) is
        not even formatted."""
        regions = []
        size = self.size  # computed by Textual on every read: once per redraw, not per line
        for y in range(size.height):
            key = self._line_key(y, size)
            if self._drawn.same(y, key):
                continue
            if (region := self._drawn.change(y, self._line(y, size), key)) is not None:
                regions.append(region)
        if regions:
            self.refresh(*regions)

    def render_lines(self, crop: Region) -> list[Strip]:
        self._render_size = self.size  # Textual works it out on every read: once a render
        try:
            return super().render_lines(crop)
        finally:
            self._render_size = None

    def render_line(self, y: int) -> Strip:
        size = self._render_size or self.size
        key = self._line_key(y, size)
        if (drawn := self._drawn.drawn(y, key)) is not None:
            return drawn  # formatted by the redraw that refreshed it
        return self._drawn.keep(y, self._line(y, size), key)

    def style_of(self, *components: str) -> Style:
        """The rich style of ``components``, kept until the styles change.

        Textual keeps these too, but forgets them on every ``refresh``, and each redraw
        refreshes: a busy book looked its row styles up again on every redraw, a tenth of the
        app's CPU at the real rate. Styles change only through ``notify_style_update`` (a
        theme, focus, a class), which forgets these with the formatted lines."""
        style = self._styles.get(components)
        if style is None:
            style = self._styles[components] = self.get_component_rich_style(*components)
        return style

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._forget_formatted()

    def _forget_formatted(self) -> None:
        """Forget every formatted line and style: the lines carry the old styles, which no
        key holds."""
        self._drawn.forget()
        self._styles.clear()

    def on_mount(self) -> None:
        self.set_interval(1 / self.redraw_hz, self._tick)

    def on_unmount(self) -> None:
        if self.cap is not None:
            self.cap.cancel()

    def nudge(self, symbol: str) -> None:
        """``symbol``'s market moved: redraw now, or as soon as the cap allows."""
        if self.cap is not None and symbol == self.symbol:
            self.cap.nudge()

    def _redraw_moved(self) -> None:
        """The cap's redraw: poll, and paint what changed on the loop's next turn."""
        self.poll()
        if self._repaint_required and isinstance(screen := self.screen, TrimmedScreen):
            screen.paint_soon(self)

    def _tick(self) -> None:
        if self.cap is None or self.cap.due():
            self.poll()
