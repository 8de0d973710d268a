"""The balances pane: available, reserved and total per currency, and what it is worth.

Read from the services' account view, whose balances refresh after our fills and orders
(throttled, never a polling storm). The value column prices each currency in the quote
currency of the pair shown, at the price the view gives (``services/valuation.py``: the mid
of a watched book, else of the pair's ticker, polled slowly), or at 1 for the quote itself; a
currency with no price shows no value rather than a guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from rich.table import Table
from rich.text import Text
from textual.binding import Binding
from textual.widgets import Static

from ...domain.account import Balance
from ...domain.numbers import format_decimal
from ...domain.walk import BOOKED_TO_FIVE_DECIMALS
from ...services.views import AccountView

__all__ = ["COLUMNS", "BalancesView"]

COLUMNS = ("Cur", "Available", "Reserved", "Total", "Value")


def places(currency: str) -> int:
    """Display decimals: 2 for fiat and stablecoins (the currencies booked to 5), else 8."""
    return 2 if currency in BOOKED_TO_FIVE_DECIMALS else 8


class BalancesView(Static, can_focus=True):
    """One row per currency held (non-zero total), the quote currency of the pair first.

    A plain table with one space between columns, not a DataTable (which pads both sides of
    every cell): five columns of 8-decimal amounts must fit beside the book at 120 columns.
    """

    BINDINGS = [
        # already here: keeps the app's "4 Balances" out of the footer (room at 80 columns)
        Binding("4", "app.pane('balances')", "Balances", show=False),
        Binding("enter", "app.bell", show=False),  # a ticket opens from the book only
    ]

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__("", id=id)
        self.balances: Mapping[str, Balance] = {}
        self.quote = "USD"
        self.prices: Mapping[str, Decimal] = {}
        """The price of each currency in ``quote`` (those that have one)."""
        self.keys_needed: str | None = None
        """Watch only: how to add keys (there is no account to show); None with keys."""

    def need_keys(self, add_keys: str) -> None:
        """Watch only: say that balances need keys and how to add them (``add_keys``)."""
        self.keys_needed = add_keys
        self.border_subtitle = "watch only"
        self.update(Text(f"Balances need API keys: add them with {add_keys}", style="dim"))

    def on_mount(self) -> None:
        self.border_title = "Balances"
        self.redraw()

    def show(self, account: AccountView) -> None:
        self.balances = account.balances
        self.quote = account.quote
        self.prices = account.prices
        self.redraw()

    def redraw(self) -> None:
        if self.keys_needed is not None:
            return  # watch only: the text need_keys put there stays
        table = Table(
            box=None, padding=(0, 0, 0, 1), show_edge=False, header_style="bold dim", expand=False
        )
        for index, name in enumerate(COLUMNS):
            table.add_column(name, justify="left" if index == 0 else "right", no_wrap=True)
        held = [b for b in self.balances.values() if b.total or b.reserved]
        held.sort(key=lambda b: (b.currency.upper() != self.quote, b.currency.upper()))
        worth = Decimal(0)
        complete = True
        for balance in held:
            value = self._value(balance)
            if value is None:
                complete = False
            else:
                worth += value
            table.add_row(*self._cells(balance, value))
        total = f"{worth:,.2f}"
        at_least = "" if complete else "\u2265 "  # some currency could not be priced
        self.border_subtitle = f"{at_least}{total} {self.quote}" if held else ""
        self.update(table if held else Text("no balances yet", style="dim"))

    def _value(self, balance: Balance) -> Decimal | None:
        currency = balance.currency.upper()
        if currency == self.quote:
            return balance.total
        price = self.prices.get(currency)
        return None if price is None else balance.total * price

    def _cells(self, balance: Balance, value: Decimal | None) -> list[Text | str]:
        currency = balance.currency.upper()
        p = places(currency)
        reserved_style = "bold" if balance.reserved else "dim"
        return [
            currency,
            Text(format_decimal(balance.available, p), justify="right"),
            Text(format_decimal(balance.reserved, p), justify="right", style=reserved_style),
            Text(format_decimal(balance.total, p), justify="right"),
            Text(
                "-" if value is None else f"{value:,.0f}",
                justify="right",
                style="" if value is not None else "dim",
            ),
        ]
