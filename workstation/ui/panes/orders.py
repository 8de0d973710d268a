"""The open orders pane: every order of ours that can still trade, on every pair.

Read from the trading service's order snapshots (never from the network). Keys act on the
selected row: ``c`` cancels it, ``a`` amends its price or amount, ``k`` cancels all (for the
pair or every pair, after a confirm). PENDING and UNKNOWN orders are listed too: an order
whose outcome is unknown may be live on the exchange, and hiding it would be a lie. So are
the account's orders placed elsewhere (the web, a phone, a bot): their client id column
reads ``ext`` and their exchange order id, and ``c``/``a``/``k`` act on them as on ours.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

from ...domain.markets import Market
from ...domain.numbers import format_decimal
from ...domain.order_vocabulary import TrackState
from ...domain.tracked_order import TrackedOrder

__all__ = ["COLUMNS", "NARROW", "OpenOrdersView"]

COLUMNS = ("Pair", "Side", "Price", "Amount", "Filled", "Remaining", "Age", "State", "Client id")
NARROW = 90
"""Under this width Filled gives way (it is Amount - Remaining), so the client id fits 80."""

_STATE = {
    TrackState.PENDING: ("sending", "yellow"),
    TrackState.OPEN: ("open", ""),
    TrackState.PARTIALLY_FILLED: ("partial", "bold"),
    TrackState.UNKNOWN: ("UNKNOWN", "bold reverse yellow"),
}


class _Shown(NamedTuple):
    """What the table shows, as text: its columns, the watch-only note, and per order its
    client id then the text of every cell of ``COLUMNS``."""

    columns: tuple[object, ...]
    keys_needed: str | None
    rows: tuple[tuple[str, ...], ...]


def _age(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds // 60:.0f}m"
    return f"{seconds // 3600:.0f}h{seconds % 3600 // 60:02.0f}"


def _client_id(order: TrackedOrder) -> Text | str:
    """Ours: the start of our client id. Placed elsewhere: marked ``ext``, with the end of
    its exchange order id (what tells two such orders apart)."""
    if order.external:
        return Text(f"ext {str(order.order_id)[-8:]}", style="bold magenta")
    return order.client_order_id[:12]


class OpenOrdersView(DataTable[Text | str]):
    """One row per live order, newest first; rows keyed by ``client_order_id``."""

    BINDINGS = [
        Binding("c", "cancel", "Cancel"),
        Binding("a", "amend", "Amend"),
        Binding("k", "cancel_all", "Cancel all"),
        # already here: keeps the app's "o Orders" out of the footer, which then fits 80 columns
        Binding("o", "app.pane('orders')", "Orders", show=False),
    ]

    @dataclass
    class CancelAsked(Message):
        """The trader asked to cancel ``order`` (key ``c``)."""

        order: TrackedOrder

    @dataclass
    class AmendAsked(Message):
        """The trader asked to amend ``order`` (key ``a``)."""

        order: TrackedOrder

    class CancelAllAsked(Message):
        """The trader asked to cancel every open order (key ``k``; which ones is asked next)."""

    def __init__(
        self,
        markets: Callable[[], Mapping[str, Market]],
        *,
        id: str | None = None,  # noqa: A002 - Textual's name
    ) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, id=id)
        self._markets = markets
        self.orders: list[TrackedOrder] = []
        self.clock: Callable[[], float] = time.time
        """Wall clock for the Age column (frozen in snapshot tests)."""
        self._drawn: _Shown | None = None
        """What the table showed at its last redraw (``_contents``)."""
        self.keys_needed: str | None = None
        """Watch only: how to add keys (the pane says it in place of the table, and its
        keys say it instead of acting); None with keys."""

    def on_mount(self) -> None:
        self.border_title = "Open orders"
        self._set_columns()
        self.set_interval(1.0, self._tick)

    def on_resize(self, _: events.Resize) -> None:
        self._set_columns()

    def need_keys(self, add_keys: str) -> None:
        """Watch only: say that orders need keys and how to add them (``add_keys``) in place
        of the orders."""
        self.keys_needed = add_keys
        self._set_columns()

    def _set_columns(self) -> None:
        wide = self.size.width >= NARROW
        names = tuple(name for name in COLUMNS if wide or name != "Filled")
        if self.keys_needed is not None:
            names = ("Watch only",)
        if names == tuple(self.columns):
            return
        self.clear(columns=True)
        for name in names:
            self.add_column(name, key=name)
        self._redraw()

    def show(self, orders: list[TrackedOrder]) -> None:
        """The live orders, newest first (the service's ``open_orders()``)."""
        self.orders = orders
        self._redraw()

    @property
    def selected(self) -> TrackedOrder | None:
        if not self.orders or self.cursor_row < 0 or self.cursor_row >= len(self.orders):
            return None
        return self.orders[self.cursor_row]

    def _tick(self) -> None:
        """Once a second, for the Age column: an empty pane, or orders whose ages read the
        same, write nothing; ages that moved rewrite their own cells, not the pane."""
        contents = self._contents()
        if contents == self._drawn:
            return
        if not self._show_ages(contents):
            self._redraw()

    def _show_ages(self, contents: _Shown) -> bool:
        """Write only the Age cells that changed, when nothing else did (False: it did, or a
        new age is wider than its column: the table is redrawn whole instead)."""
        drawn = self._drawn
        if drawn is None or drawn[:2] != contents[:2] or "Age" not in self.columns:
            return False
        before, after = drawn.rows, contents.rows
        if len(before) != len(after):
            return False
        at = 1 + COLUMNS.index("Age")
        moved: list[tuple[int, str, str]] = []
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            if old[:at] + old[at + 1 :] != new[:at] + new[at + 1 :]:
                return False
            if old[at] != new[at]:
                moved.append((index, new[0], new[at]))
        age = ColumnKey("Age")
        if any(len(text) > self.columns[age].content_width for _, _, text in moved):
            return False
        column = list(self.columns).index(age)
        for index, key, text in moved:
            # DataTable.update_cell would refresh the whole table: set the cell, then
            # refresh that cell alone (the table's render caches key on _update_count)
            self._data[RowKey(key)][age] = text
            self._update_count += 1
            self.refresh_coordinate(Coordinate(index, column))
        self._drawn = contents
        return True

    def _contents(self) -> _Shown:
        """What the table would show now, as text: compared with what it shows."""
        markets, now = self._markets(), self.clock()
        rows = tuple(
            (order.client_order_id, *map(str, self._cells(order, markets.get(order.market), now)))
            for order in self.orders
        )
        return _Shown(tuple(self.columns), self.keys_needed, rows)

    def _redraw(self) -> None:
        self._drawn = self._contents()
        keep = self.selected.client_order_id if self.selected else None
        self.clear()
        if self.keys_needed is not None:
            text = f"Open orders need API keys: add them with {self.keys_needed}"
            self.add_row(Text(text, style="dim"))
            self.border_subtitle = "watch only"
            return
        markets = self._markets()
        now = self.clock()
        for order in self.orders:
            cells = self._cells(order, markets.get(order.market), now)
            shown = [
                cell for name, cell in zip(COLUMNS, cells, strict=True) if name in self.columns
            ]
            self.add_row(*shown, key=order.client_order_id)
        self.border_subtitle = f"{len(self.orders)} live" if self.orders else "none"
        if keep is not None:
            for index, order in enumerate(self.orders):
                if order.client_order_id == keep:
                    self.move_cursor(row=index)

    def _cells(self, order: TrackedOrder, market: Market | None, now: float) -> list[Text | str]:
        base_places = market.base_decimals if market else 8
        quote_places = market.quote_decimals if market else 2
        side_style = "green" if order.side.value == "buy" else "red"
        state, style = _STATE.get(order.state, (order.state.value, "dim"))
        price = "market" if order.price is None else format_decimal(order.price, quote_places)
        created_at = getattr(order, "created_at", None)
        created = created_at.timestamp() if created_at is not None else now
        return [
            market.name if market else order.market,
            Text(order.side.value.upper(), style=side_style),
            Text(price, justify="right"),
            Text(format_decimal(order.amount, base_places), justify="right"),
            Text(format_decimal(order.filled, base_places), justify="right"),
            Text(format_decimal(order.remaining, base_places), justify="right"),
            _age(max(0.0, now - created)),
            Text(state, style=style),
            _client_id(order),
        ]

    def action_cancel(self) -> None:
        if (order := self._selected_or_bell("Cancel")) is not None:
            self.post_message(self.CancelAsked(order))

    def action_amend(self) -> None:
        if (order := self._selected_or_bell("Amend")) is not None:
            self.post_message(self.AmendAsked(order))

    def action_cancel_all(self) -> None:
        self.post_message(self.CancelAllAsked())

    def _selected_or_bell(self, what: str) -> TrackedOrder | None:
        if self.keys_needed is not None:
            text = f"{what}: watch only, no API keys; add them with {self.keys_needed}"
            self.notify(text, severity="warning")
            return None
        order = self.selected
        if order is None:
            self.app.bell()
        return order
