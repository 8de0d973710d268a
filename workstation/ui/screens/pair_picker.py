"""The pair picker: every pair of the venue, chosen by typing the start of its name."""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.markup import escape
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ...domain.markets import Market

__all__ = ["TYPE_PAUSE_S", "PairPicker"]

TYPE_PAUSE_S = 1.0
"""A pause longer than this between letters starts a new prefix in the pair picker."""


class PairPicker(ModalScreen[str | None]):
    """Choose a pair; returns its symbol (None on Esc).

    Type-to-jump is an incremental prefix: the letters typed accumulate (``xrp/usd``), '/'
    is optional (``xrpusd``), Backspace takes one back, and after a pause of
    :data:`TYPE_PAUSE_S` the next letter starts a new prefix. A letter no pair continues with
    is refused with a bell and leaves the highlight where it is.
    """

    BINDINGS = [Binding("escape", "dismiss(None)", "Close")]
    PROMPT = "Pair (type to jump, enter to show)"

    def __init__(self, markets: list[Market], current: str) -> None:
        super().__init__()
        self.markets = markets
        self.current = current
        self.typed = ""
        """The prefix typed so far, as the trader typed it ('/' kept, for the title)."""
        self.clock: Callable[[], float] = time.monotonic
        self._typed_at = float("-inf")  # float-ok: a monotonic time, "never typed"

    def compose(self) -> ComposeResult:
        options = [
            Option(f"{m.name:<10} {m.description}", id=m.symbol)
            for m in sorted(self.markets, key=lambda m: m.name)
            if m.trading_enabled
        ]
        with Vertical(id="picker"):
            yield Static(self.PROMPT, id="picker-title")
            yield OptionList(*options, id="picker-list")

    def on_mount(self) -> None:
        option_list = self.query_one(OptionList)
        for index in range(option_list.option_count):
            if option_list.get_option_at_index(index).id == self.current:
                option_list.highlighted = index
        option_list.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def on_key(self, event: events.Key) -> None:
        now = self.clock()
        if now - self._typed_at > TYPE_PAUSE_S:
            self.typed = ""
        if event.key == "backspace":
            if not self.typed:
                return
            typed = self.typed[:-1]
        else:
            char = (event.character or "").lower()
            if not (char.isascii() and (char.isalnum() or char == "/")):
                return
            typed = self.typed + char
        event.stop()
        self._typed_at = now
        if typed and not self._jump(typed):
            self.app.bell()
            return
        self.typed = typed
        title = self.query_one("#picker-title", Static)
        title.update(f"{self.PROMPT}  [b]{escape(typed)}[/]" if typed else self.PROMPT)

    def _jump(self, typed: str) -> bool:
        """Highlight the first pair whose name starts with ``typed`` ('/' optional)."""
        prefix = typed.replace("/", "")
        option_list = self.query_one(OptionList)
        for index in range(option_list.option_count):
            if (option_list.get_option_at_index(index).id or "").startswith(prefix):
                option_list.highlighted = index
                return True
        return False
