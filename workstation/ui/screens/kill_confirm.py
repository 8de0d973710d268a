"""The kill switch's one question: cancel every open order of the account, on every pair?

It says how many orders on how many pairs will be cancelled (the ones the app knows), and
that the exchange cancels any others it holds for the account (placed elsewhere) as well.
Enter or ``y`` confirms; Esc or ``n`` backs out and cancels nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from ...domain.markets import Market
from ...domain.tracked_order import TrackedOrder

__all__ = ["KillConfirm", "kill_question"]


def kill_question(orders: Sequence[TrackedOrder], markets: dict[str, Market]) -> str:
    """``Cancel 3 open orders on 2 pairs (BTC/USD 2, ETH/USD 1)?`` for the orders known."""
    if not orders:
        return "No open order is known. Send cancel-all anyway?"
    per_pair: dict[str, int] = {}
    for order in orders:
        name = markets[order.market].name if order.market in markets else order.market
        per_pair[name] = per_pair.get(name, 0) + 1
    names = ", ".join(f"{name} {count}" for name, count in sorted(per_pair.items()))
    noun = "order" if len(orders) == 1 else "orders"
    pairs = "pair" if len(per_pair) == 1 else "pairs"
    return f"Cancel {len(orders)} open {noun} on {len(per_pair)} {pairs} ({names})?"


class KillConfirm(ModalScreen[bool]):
    """True once confirmed (Enter or ``y``), False on Esc or ``n``."""

    BINDINGS = [
        Binding("enter,y", "answer(True)", "Cancel them all"),
        Binding("escape,n", "answer(False)", "Back"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="kill") as box:
            box.border_title = "KILL SWITCH"
            yield Static(Text(self.question, style="bold"), id="kill-question")
            yield Static(
                "Every open order of the account, on every pair, placed here or elsewhere. "
                "Cancels go over REST: the market data is not needed.",
                id="kill-scope",
            )
            yield Static("  enter / y  cancel them all     esc / n  back out", id="kill-hint")

    def action_answer(self, confirmed: bool) -> None:
        self.dismiss(confirmed)
