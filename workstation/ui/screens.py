"""Modal screens: the help screen that lists every key, and the pair picker."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, OptionList, Static
from textual.widgets.option_list import Option

from ..domain.markets import Market

__all__ = ["KEYS", "HelpScreen", "PairPicker"]

#: Every key of the workstation, for the help screen. Plain keys only: they work over SSH and
#: in tmux, where F-keys, Ctrl+Shift and the mouse often do not.
KEYS: tuple[tuple[str, str], ...] = (
    ("?", "this help"),
    ("q", "quit"),
    ("p", "pick a pair to show (watches it too)"),
    ("[  ]", "previous / next watched pair"),
    ("x", "stop watching the pair shown"),
    ("up  down", "move the level cursor in the book"),
    ("home", "cursor back to the spread"),
    ("+  -", "coarser / finer price grouping"),
    ("m", "monochrome theme on / off"),
    ("tab", "next pane"),
    ("ctrl+p", "command palette (pairs, theme)"),
    ("esc", "close a dialog"),
)


class HelpScreen(ModalScreen[None]):
    """Every key, in a table. Esc, q or ? closes it."""

    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="help"):
            yield Static("Keys", id="help-title")
            table: DataTable[str] = DataTable(show_cursor=False, id="help-keys")
            table.add_columns("Key", "Does")
            for key, does in KEYS:
                table.add_row(key, does)
            yield table
            yield Static("esc closes", id="help-hint")


class PairPicker(ModalScreen[str | None]):
    """Choose a pair; returns its symbol (None on Esc)."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Close")]

    def __init__(self, markets: list[Market], current: str) -> None:
        super().__init__()
        self.markets = markets
        self.current = current

    def compose(self) -> ComposeResult:
        options = [
            Option(f"{m.name:<10} {m.description}", id=m.symbol)
            for m in sorted(self.markets, key=lambda m: m.name)
            if m.trading_enabled
        ]
        with Vertical(id="picker"):
            yield Static("Pair (type to jump, enter to show)", id="picker-title")
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
        """A letter jumps to the next pair whose name starts with it."""
        char = (event.character or "").lower()
        if not (char.isascii() and char.isalpha()):
            return
        option_list = self.query_one(OptionList)
        count = option_list.option_count
        start = (option_list.highlighted or 0) + 1
        for step in range(count):
            index = (start + step) % count
            if (option_list.get_option_at_index(index).id or "").startswith(char):
                option_list.highlighted = index
                event.stop()
                return
