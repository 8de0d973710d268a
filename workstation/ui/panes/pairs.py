"""The pairs line: the watched pairs (the shown one highlighted) and its 24 h ticker."""

from __future__ import annotations

from textual.widgets import Static

from ...services.facade import Services
from ..fmt import ticker_text

__all__ = ["PairsLine"]

REFRESH_S = 1.0
"""The ticker is polled every 10 s by the services: once a second is plenty."""


class PairsLine(Static):
    """One line above the panes; the app tells it which pairs are watched and shown."""

    def __init__(self, services: Services, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__("", id=id)
        self.services = services
        self.watched: list[str] = []
        self.current: str | None = None
        self._shown: str | None = None

    def on_mount(self) -> None:
        self.set_interval(REFRESH_S, self._redraw_if_shown)

    def show(self, watched: list[str], current: str | None) -> None:
        self.watched = list(watched)
        self.current = current
        self.redraw()

    def _redraw_if_shown(self) -> None:
        if self.current is not None:
            self.redraw()

    def redraw(self) -> None:
        markets = self.services.markets
        names = []
        for symbol in self.watched:
            name = markets[symbol].name
            names.append(f"[reverse] {name} [/]" if symbol == self.current else f" {name} ")
        text = " ".join(names)
        view = self.services.market(self.current) if self.current else None
        if view is not None and view.ticker is not None:
            text += "   " + ticker_text(view.ticker, view.market)
        if text != self._shown:  # a line that did not change costs the terminal nothing
            self._shown = text
            self.update(text, layout=False)
