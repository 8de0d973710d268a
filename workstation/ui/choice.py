"""A one-line choice among a few options, changed with left/right or space.

Plain keys only (it works over SSH and in tmux) and one line high, so the ticket stays
compact: ``Kind  < limit >``. Textual's Select opens an overlay; a ticket wants the choice
visible and changed in place. Its width is that of its widest option, whichever is picked: the
line never clips a longer pick and the choices beside it stay where they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

__all__ = ["Choice"]

T = TypeVar("T")


class Choice(Widget, Generic[T], can_focus=True):
    """``Choice("Kind", [("limit", LIMIT), ("market", MARKET)])``; ``value`` is the pick."""

    DEFAULT_CSS = """
    Choice {
        height: 1;
        width: auto;
    }
    Choice:focus {
        text-style: reverse;
    }
    """
    BINDINGS = [
        Binding("right,space", "step(1)", "Next", show=False),
        Binding("left", "step(-1)", "Previous", show=False),
    ]

    index: reactive[int] = reactive(0)

    @dataclass
    class Changed(Message):
        choice: Choice

    def __init__(
        self,
        label: str,
        options: Sequence[tuple[str, T]],
        *,
        value: T | None = None,
        id: str | None = None,  # noqa: A002 - Textual's name
    ) -> None:
        super().__init__(id=id)
        self.label = label
        self.options = list(options)
        if value is not None:
            self.set_reactive(Choice.index, self._index_of(value))

    def _index_of(self, value: T) -> int:
        for index, (_, option) in enumerate(self.options):
            if option == value:
                return index
        raise ValueError(f"{value!r} is not an option of {self.label}")

    @property
    def value(self) -> T:
        return self.options[self.index][1]

    def select(self, value: T) -> None:
        self.index = self._index_of(value)

    def set_options(self, options: Sequence[tuple[str, T]], value: T | None = None) -> None:
        """New options (e.g. another side's kinds), keeping the pick when it still exists."""
        current = value if value is not None else self.value
        self.options = list(options)
        try:
            self.index = self._index_of(current)
        except ValueError:
            self.index = 0
        self.refresh(layout=True)

    def action_step(self, step: int) -> None:
        self.index = (self.index + step) % len(self.options)

    def watch_index(self) -> None:
        self.post_message(self.Changed(self))

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return max(self._text(name).cell_len for name, _ in self.options)

    def render(self) -> Text:
        return self._text(self.options[self.index][0])

    def _text(self, name: str) -> Text:
        text = Text(f"{self.label} ", style="dim")
        text.append(f"\u2039 {name} \u203a")
        return text
