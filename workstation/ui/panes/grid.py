"""The main screen's panes in one grid: the book, the tape, the balances and the open orders.

Where the terminal is roomy (100 columns and 32 rows or more) every pane has its own place:
the tape over the balances on the right of the book, the open orders under them all. Where it
is not, the balances and the open orders share the place under the market, one shown at a
time like the tabs of an exchange's order panel: focusing one (keys ``3``/``o`` and ``4``)
shows it there. The grid is laid out by ``styles/app.tcss``; this widget only remembers
which of the two is in front.
"""

from __future__ import annotations

from textual import events
from textual.containers import Container

from .balances import BalancesView
from .orders import OpenOrdersView

__all__ = ["Panes"]


class Panes(Container):
    """Grid of the market and account panes; ``-balances`` while the balances are in front."""

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if isinstance(event.widget, BalancesView):
            self.add_class("-balances")
        elif isinstance(event.widget, OpenOrdersView):
            self.remove_class("-balances")
