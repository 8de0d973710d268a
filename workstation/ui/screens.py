"""Modal screens: the help screen that lists every key, and the pair picker."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from rich.markup import escape
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ..domain.markets import Market

__all__ = ["KEYS", "TYPE_PAUSE_S", "AskScreen", "HelpScreen", "PairPicker"]

TYPE_PAUSE_S = 1.0
"""A pause longer than this between letters starts a new prefix in the pair picker."""

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
    ("m", "monochrome theme on / off"),
    ("ctrl+p", "command palette (pairs, theme)"),
    ("esc", "close a dialog; back out of a ticket"),
)


class HelpScreen(ModalScreen[None]):
    """Every key, one line each, whole at 80x24; it scrolls where the terminal is smaller.

    Plain text sized to its longest line (not a DataTable of fixed width, which cut the
    descriptions at the border)."""

    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close"),
        Binding("up", "scroll(-1)", "Up", show=False),
        Binding("down", "scroll(1)", "Down", show=False),
    ]

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
            help_pane.border_subtitle = "esc closes"
            yield Static(text, id="help-keys")


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


class AskScreen(ModalScreen[object]):
    """A question answered with one key: ``AskScreen("Cancel?", [("y", "this pair", v)])``.

    Returns the chosen value, or ``AskScreen.NO`` on Esc or ``n``.
    """

    NO = object()
    BINDINGS = [Binding("escape,n", "answer('')", "No")]

    def __init__(self, question: str, choices: Sequence[tuple[str, str, object]]) -> None:
        super().__init__()
        self.question = question
        self.choices = choices

    def compose(self) -> ComposeResult:
        with Vertical(id="ask"):
            yield Static(self.question, id="ask-title")
            for key, label, _ in self.choices:
                yield Static(f"  {key}  {label}")
            yield Static("  n / esc  keep them", id="ask-hint")

    def on_key(self, event: events.Key) -> None:
        for key, _, value in self.choices:
            if event.key == key:
                event.stop()
                self.dismiss(value)
                return

    def action_answer(self, _: str) -> None:
        self.dismiss(self.NO)
