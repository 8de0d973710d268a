"""The trades tape: newest on top, the taker's side coloured, large trades emphasised.

Drawn with the Line API from the pair's tape at a capped rate, like the book. Times are UTC
(a trader on a remote host and the exchange agree on it; the header says so). A trade is
"large" when its amount is at least ``LARGE_MULTIPLE`` times the median of the tape, so the
emphasis adapts to the pair and the hour instead of a fixed size.
"""

from __future__ import annotations

import datetime as dt
import statistics
from decimal import Decimal

from rich.segment import Segment
from textual.binding import Binding
from textual.strip import Strip

from ...domain.common import Side
from ...domain.market_data import Trade
from ...services.facade import Services
from ..fmt import cell
from .market_pane import MarketPane

__all__ = ["LARGE_MULTIPLE", "REDRAW_HZ", "TradesTapeView"]

LARGE_MULTIPLE = 10
REDRAW_HZ = 10.0
"""The tape scrolls at most ten times a second: faster is unreadable, and every redraw of a
tall pane costs the event loop a few milliseconds."""


class TradesTapeView(MarketPane):
    """The tape of one pair (``show`` switches it)."""

    COMPONENT_CLASSES = {"tape--header", "tape--buy", "tape--sell", "tape--large"}
    BINDINGS = [Binding("enter", "app.bell", show=False)]  # a ticket opens from the book only

    def __init__(
        self,
        services: Services,
        *,
        redraw_hz: float = REDRAW_HZ,
        move_hz: float | None = None,
        id: str | None = None,  # noqa: A002
    ) -> None:
        super().__init__(services, redraw_hz=redraw_hz, move_hz=move_hz, id=id)
        self._rows: list[Trade] = []
        self._large = Decimal(0)
        self._seen: tuple[int, int, bool] | None = None

    def show(self, symbol: str, name: str) -> None:
        """Switch to another pair (``name``: its display name)."""
        self.symbol = symbol
        self._seen = None
        self.border_title = f"Trades {name}"
        self.poll()

    def poll(self) -> None:
        feed = self.services.market(self.symbol) if self.symbol is not None else None
        if feed is None:
            return
        key = (feed.tape_version, self.size.height, feed.tape_stale)
        if key == self._seen:
            return
        self._seen = key
        self.view = feed
        if self.cap is not None:
            self.cap.drew()
        self.border_subtitle = "STALE: trades missed, refilled from REST" if feed.tape_stale else ""
        self._rows = feed.tape.newest_first(max(0, self.size.height - 1))
        recent = [t.amount for t in feed.tape.newest_first(200)]
        self._large = statistics.median(recent) * LARGE_MULTIPLE if recent else Decimal(0)
        lines = ((y, self._line(y)) for y in range(self.size.height))
        if regions := self._drawn.changes(lines):
            self.refresh(*regions)

    def render_line(self, y: int) -> Strip:
        return self._drawn.keep(y, self._line(y))

    def _line(self, y: int) -> Strip:
        width = self.size.width
        feed = self.view
        if feed is None:
            return Strip.blank(width, self.rich_style)
        time_w, price_w = 9, max(9, min(16, (width - 9) // 2))
        amount_w = min(width - time_w - price_w, 16)
        if y == 0:
            text = "Time UTC".ljust(time_w) + "Price".rjust(price_w) + "Amount".rjust(amount_w)
            style = self.get_component_rich_style("tape--header")
            return Strip([Segment(text[:width].ljust(width), style)])
        index = y - 1
        if index >= len(self._rows):
            return Strip.blank(width, self.rich_style)
        trade = self._rows[index]
        clock = dt.datetime.fromtimestamp(trade.timestamp_us // 1_000_000, tz=dt.UTC)
        market = feed.market
        price = f"{trade.price.quantize(market.tick):f}"
        amount = f"{trade.amount.quantize(market.lot):f}"
        text = clock.strftime("%H:%M:%S").ljust(time_w) + cell(price, price_w)
        text += cell(amount, amount_w)
        style = self.get_component_rich_style(
            "tape--buy" if trade.side is Side.BUY else "tape--sell"
        )
        if self._large and trade.amount >= self._large:
            style = style + self.get_component_rich_style("tape--large")
        return Strip([Segment(text[:width].ljust(width), style)])
