"""What the kill switch did, order by order: cancelled, already gone, or failed and why.

Shown as soon as the kill is confirmed ("cancelling…"), then filled in with one line per
order the cancel-all was about (those placed elsewhere included) once every order's state
is confirmed. Esc closes it; nothing here sends anything.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

__all__ = ["KillOutcome", "OrderOutcome"]

_STYLE = {"cancelled": "bold", "already gone": "", "failed": "bold reverse"}


class OrderOutcome(msgspec.Struct, frozen=True):
    """One order's line: ``outcome`` is ``cancelled``, ``already gone`` or ``failed``."""

    outcome: str
    order: str
    """The order as the trader knows it (``BUY 0.01 BTC/USD at 60000``)."""
    detail: str = ""
    """Why it failed, or how it ended first (``filled``)."""


class KillOutcome(ModalScreen[None]):
    """The kill switch's report; :meth:`show_outcomes` or :meth:`show_failure` fill it in."""

    BINDINGS = [
        Binding("escape,q,enter", "dismiss", "Close"),
        Binding("up", "scroll(-1)", "Up", show=False),
        Binding("down", "scroll(1)", "Down", show=False),
    ]

    def __init__(self, scope: str) -> None:
        super().__init__()
        self.outcomes: tuple[OrderOutcome, ...] | None = None
        """The lines shown; None while the cancels are on their way."""
        self._summary = Text(f"Cancelling {scope}…")
        self._orders = Text()

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="kill-outcome") as box:
            box.border_title = "KILL SWITCH"
            box.border_subtitle = "esc closes"
            yield Static(self._summary, id="kill-summary")
            yield Static(self._orders, id="kill-orders")

    def on_mount(self) -> None:
        self._draw()  # what was reported before the screen was up

    def action_scroll(self, lines: int) -> None:
        self.query_one("#kill-outcome").scroll_relative(y=lines, animate=False)

    def show_outcomes(self, outcomes: Sequence[OrderOutcome]) -> None:
        self.outcomes = tuple(outcomes)
        counts = {kind: sum(o.outcome == kind for o in outcomes) for kind in _STYLE}
        summary = ", ".join(f"{n} {kind}" for kind, n in counts.items())
        if not outcomes:
            summary = "Nothing to cancel: the exchange holds no open order of the account."
        elif counts["failed"]:
            summary += ": the failed ones are still live; cancel them from open orders (o)"
        self._summary = Text(summary, style="bold")
        width = max((len(o.outcome) for o in outcomes), default=0) + 2
        text = Text()
        for line in outcomes:
            text.append(line.outcome.ljust(width), style=_STYLE[line.outcome])
            text.append(line.order)
            if line.detail:
                text.append(f": {line.detail}")
            text.append("\n")
        text.rstrip()
        self._orders = text
        self._draw()

    def show_failure(self, error: str) -> None:
        """The cancel-all itself could not run (no reply at all is reported per order)."""
        self.outcomes = ()
        self._summary = Text(f"Kill switch failed: {error}", style="bold reverse")
        self._draw()

    def _draw(self) -> None:
        """Into the widgets, once composed (``on_mount`` draws what came before)."""
        for summary in self.query("#kill-summary").results(Static):
            summary.update(self._summary)
        for orders in self.query("#kill-orders").results(Static):
            orders.update(self._orders)
