"""The desk's layout as the app hands it on, to be found again at the next start: the pairs
watched, the one shown, the theme and each pair's book grouping.

The app calls :meth:`DeskMemory.keep` after every change (a pair shown or unwatched, the
theme, a grouping) and once on exit; a layout equal to the last one kept is not handed on
again. Where it goes is the caller's (``AppOptions.remember``: the CLI writes a file); the
app never names it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..domain.desk_layout import DeskLayout

if TYPE_CHECKING:
    from .app import WorkstationApp

__all__ = ["DeskMemory"]


class DeskMemory:
    """Hands ``app``'s layout to ``remember`` when it changed (None: kept nowhere)."""

    def __init__(self, app: WorkstationApp, remember: Callable[[DeskLayout], None] | None) -> None:
        self.app = app
        self.remember = remember
        self.groups: dict[str, int] = {}
        """The book's grouping per pair: the pane's own dict, handed over at compose (it
        stays readable once the pane is gone, on exit)."""
        self._kept: DeskLayout | None = None

    def layout(self) -> DeskLayout | None:
        """The desk as arranged now; None before a pair is shown (nothing worth keeping)."""
        app = self.app
        if app.current is None or not app.watched:
            return None
        return DeskLayout(
            pairs=tuple(app.watched),
            shown=app.current,
            mono=app.mono_chosen,
            groups=dict(self.groups),
        )

    def keep(self) -> None:
        """Hand a changed layout on; a failure is shown (the writer logs it) and the layout
        is handed on again at the next change."""
        layout = self.layout()
        if self.remember is None or layout is None or layout == self._kept:
            return
        try:
            self.remember(layout)
        except OSError as exc:
            self.app.notify(f"Could not save the desk layout: {exc}", severity="warning")
            return
        self._kept = layout
