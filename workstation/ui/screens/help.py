"""The help screen: every key of the workstation, one line each."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from ..key_inventory import keys_in_use
from .key_test import KeyTestScreen

__all__ = ["KEYS", "HelpScreen"]

#: Every key of the workstation, for the help screen. Plain keys only: they work over SSH and
#: in tmux, where F-keys, Ctrl+Shift and the mouse often do not. Each line fits 80 columns.
KEYS: tuple[tuple[str, str], ...] = (
    ("?", "this help"),
    ("q", "quit"),
    ("p", "pick a pair to show and watch (type its name to jump)"),
    ("[  ]", "previous / next watched pair"),
    ("x", "stop watching the pair shown"),
    ("1 2 3 4", "go to the book / trades / open orders / balances"),
    ("tab", "next pane; in a ticket, next field (its text selected)"),
    ("up  down", "move the level cursor in the book"),
    ("home", "cursor back to the spread"),
    ("+  -", "coarser / finer price grouping"),
    ("b  s", "buy / sell ticket (price: join our side's touch)"),
    ("l  h", "lift the best ask / hit the best bid (at the far touch)"),
    ("enter", "in the book: ticket at the cursor's price (join that level)"),
    ("left  right", "in a ticket: change kind or time in force"),
    ("enter  y", "in a ticket: review, then send from the confirm step"),
    ("o", "go to open orders (same as 3)"),
    ("c  a  k", "in open orders: cancel / amend / cancel all"),
    ("ctrl+k", "KILL SWITCH: cancel every open order, every pair (asks once)"),
    ("m", "monochrome theme on / off"),
    ("ctrl+p", "command palette (pairs, theme)"),
    ("esc", "close a dialog; back out of a ticket"),
    ("t", "in this help: key test (what your terminal sends for each key)"),
)


class HelpScreen(ModalScreen[None]):
    """Every key, one line each, whole at 80x24; it scrolls where the terminal is smaller.

    Plain text sized to its longest line (not a DataTable of fixed width, which cut the
    descriptions at the border)."""

    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close"),
        Binding("t", "key_test", "Key test", show=False),
        Binding("up", "scroll(-1)", "Up", show=False),
        Binding("down", "scroll(1)", "Down", show=False),
    ]

    def action_key_test(self) -> None:
        """The key test, over the help (leaving it comes back here)."""
        self.app.push_screen(KeyTestScreen(keys_in_use(self.app)))

    def action_scroll(self, lines: int) -> None:
        self.query_one("#help").scroll_relative(y=lines, animate=False)

    def compose(self) -> ComposeResult:
        width = max(len(key) for key, _ in KEYS) + 2
        text = Text()
        for key, does in KEYS:
            text.append(key.ljust(width), style="bold")
            text.append(f"{does}\n")
        text.rstrip()
        with Vertical(id="help") as help_pane:
            help_pane.border_title = "Keys"
            help_pane.border_subtitle = "esc closes · t key test"
            yield Static(text, id="help-keys")
