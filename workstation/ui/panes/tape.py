"""The trades tape: newest on top, the taker's side coloured, large trades emphasised.

Drawn with the Line API from the pair's tape at a capped rate, like the book. A new trade
moves every row down one line, so each trade's line is formatted once and kept while it is on
screen (:meth:`TradesTapeView._trade_line`): a redraw under a busy tape formats the new
trades only, and ``render_line`` hands back what the redraw drew. Times are UTC
(a trader on a remote host and the exchange agree on it; the header says so). A trade is
"large" when its amount is at least ``LARGE_MULTIPLE`` times the median of the tape, so the
emphasis adapts to the pair and the hour instead of a fixed size.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Hashable
from decimal import Decimal

from rich.segment import Segment
from textual.binding import Binding
from textual.geometry import Size
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
        self._seen: tuple[int, Size, bool] | None = None
        self._formatted: dict[tuple[int, bool], Strip] = {}
        """The line of each trade on screen, by (trade id, large), at ``_formatted_width``."""
        self._formatted_width = -1

    def show(self, symbol: str, name: str) -> None:
        """Switch to another pair (``name``: its display name)."""
        self.symbol = symbol
        self._seen = None
        self._forget_formatted()  # another pair's trades: its ids and its decimals
        self.border_title = f"Trades {name}"
        self.poll()

    def poll(self) -> None:
        feed = self.services.market(self.symbol) if self.symbol is not None else None
        if feed is None:
            return
        size = self.size  # computed by Textual on every read: once per poll
        seen = (feed.tape_version, size, feed.tape_stale)
        if seen == self._seen:
            return
        self._seen = seen
        self.view = feed
        if self.cap is not None:
            self.cap.drew()
        subtitle = "STALE: trades missed, refilled from REST" if feed.tape_stale else ""
        if subtitle != (self.border_subtitle or ""):  # setting it repaints the whole pane
            self.border_subtitle = subtitle
        self._rows = feed.tape.newest_first(max(0, size.height - 1))
        recent = [t.amount for t in feed.tape.newest_first(200)]
        self._large = statistics.median(recent) * LARGE_MULTIPLE if recent else Decimal(0)
        width = size.width
        if width != self._formatted_width:
            self._formatted, self._formatted_width = {}, width
        kept, self._formatted = self._formatted, {}
        for trade in self._rows:  # the trades on screen: kept ones reused, new ones formatted
            formatted = (trade.id, self._is_large(trade.amount))
            strip = kept.get(formatted)
            if strip is None:
                strip = self._format_trade(trade, width)
            self._formatted[formatted] = strip
        self.repaint_changes()  # a line showing the same trade as before is not even compared

    def _forget_formatted(self) -> None:
        super()._forget_formatted()
        self._formatted.clear()

    def _line_key(self, y: int, size: Size) -> Hashable | None:
        """What line ``y`` is drawn from: the header, a trade (id, large) or nothing."""
        width = size.width
        if self.view is None:
            return None
        if y == 0:
            return ("header", width)
        index = y - 1
        if index >= len(self._rows):
            return ("blank", width)
        trade = self._rows[index]
        return (trade.id, self._is_large(trade.amount), width)

    def _is_large(self, amount: Decimal) -> bool:
        return bool(self._large) and amount >= self._large

    def _line(self, y: int, size: Size) -> Strip:
        width = size.width
        feed = self.view
        if feed is None:
            return Strip.blank(width, self.rich_style)
        if y == 0:
            time_w, price_w, amount_w = _columns(width)
            text = "Time UTC".ljust(time_w) + "Price".rjust(price_w) + "Amount".rjust(amount_w)
            style = self.style_of("tape--header")
            return Strip([Segment(text[:width].ljust(width), style)])
        index = y - 1
        if index >= len(self._rows):
            return Strip.blank(width, self.rich_style)
        trade = self._rows[index]
        if width != self._formatted_width:  # resized since the last redraw
            return self._format_trade(trade, width)
        key = (trade.id, self._is_large(trade.amount))
        strip = self._formatted.get(key)
        if strip is None:
            strip = self._formatted[key] = self._format_trade(trade, width)
        return strip

    def _format_trade(self, trade: Trade, width: int) -> Strip:
        feed = self.view
        assert feed is not None
        time_w, price_w, amount_w = _columns(width)
        clock = dt.datetime.fromtimestamp(trade.timestamp_us // 1_000_000, tz=dt.UTC)
        market = feed.market
        price = f"{trade.price.quantize(market.tick):f}"
        amount = f"{trade.amount.quantize(market.lot):f}"
        text = clock.strftime("%H:%M:%S").ljust(time_w) + cell(price, price_w)
        text += cell(amount, amount_w)
        style = self.style_of("tape--buy" if trade.side is Side.BUY else "tape--sell")
        if self._is_large(trade.amount):
            style = style + self.style_of("tape--large")
        return Strip([Segment(text[:width].ljust(width), style)], width)  # ASCII: a cell each


def _columns(width: int) -> tuple[int, int, int]:
    """The widths of the time, price and amount columns in a pane ``width`` cells wide."""
    time_w, price_w = 9, max(9, min(16, (width - 9) // 2))
    return time_w, price_w, min(width - time_w - price_w, 16)
