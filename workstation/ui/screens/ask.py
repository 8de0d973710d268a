"""A question answered with one key (cancel all: this pair, every pair, or keep them)."""

from __future__ import annotations

from collections.abc import Sequence

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

__all__ = ["AskScreen"]


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
