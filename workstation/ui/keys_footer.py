"""The footer of keys, rebuilt only when the keys it shows change.

Textual's ``Footer`` rebuilds itself (a new ``FooterKey`` widget per key, each styled and
bound to the footer's compact flag) every time the screen says its bindings *may* have
changed: at every focus change, every reactive declared with ``bindings=True``, every
return from a screen above. Most of those leave the same keys: the book and the trades tape
show the app's keys alone. At a cold start it was rebuilt three times before the first book,
and moving focus between the market panes rebuilt it for nothing each time.
:class:`KeysFooter` rebuilds only when what it would draw differs from what it drew.

A footer made with ``held=True`` builds no keys until :meth:`release`: the app holds them
back until the book's first prices are on the screen (a start's first frames go to what a
trader waits for; the keys' widgets, their styles and the layout they need come after).
Measured with the stream opened early (docs/decisions.md, "Cold start: the footer waits"):
the app's CPU from ``main()`` to the book's first prices 228 -> 180 ms.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer

__all__ = ["KeysFooter"]

_Shown = tuple[tuple[Binding, bool, str], ...]


class KeysFooter(Footer):
    """Textual's ``Footer``; a notice that the bindings changed rebuilds it only when the
    keys it shows (each binding with its enabled state and tooltip: all the footer draws
    from them) differ from those it was built from."""

    _shown: _Shown | None = None
    """The bindings the footer's keys were built from (None: not built from any yet)."""

    def __init__(self, *, held: bool = False, compact: bool = False) -> None:
        super().__init__(compact=compact, show_command_palette=False)
        self.held = held
        """No keys are built while held (:meth:`release`)."""

    def release(self) -> None:
        """Build the keys now if they were held back (once; later calls do nothing)."""
        if self.held:
            self.held = False
            self._bindings_ready = True
            # through the footer's own queue: the rebuild must run as the footer's (Textual
            # binds each key's compact flag to the widget composing it), not the caller's
            self.call_next(self.call_after_refresh, self._rebuild_if_changed)

    def compose(self) -> ComposeResult:
        if self.held:
            return
        self._shown = self._bindings_now() if self._bindings_ready else None
        yield from super().compose()

    def bindings_changed(self, screen: Screen[object]) -> None:
        # Textual's own, but for the rebuild it schedules (``_rebuild_if_changed``)
        self._bindings_ready = True
        if self.held or not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen:
            self.call_after_refresh(self._rebuild_if_changed)

    async def _rebuild_if_changed(self) -> None:
        if self.held or not self.is_attached or self._bindings_now() == self._shown:
            return
        await self.recompose()

    def _bindings_now(self) -> _Shown:
        """What ``Footer.compose`` draws from: the bindings it shows, in order, and the
        command palette's when the footer shows that one."""
        app, active = self.app, self.screen.active_bindings
        shown = [
            (binding, enabled, tooltip)
            for (_node, binding, enabled, tooltip) in active.values()
            if binding.show
        ]
        palette = active.get(app.COMMAND_PALETTE_BINDING)
        if self.show_command_palette and app.ENABLE_COMMAND_PALETTE and palette is not None:
            shown.append((palette.binding, palette.enabled, palette.tooltip))
        return tuple(shown)
