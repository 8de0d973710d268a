"""The order book pane: a price ladder drawn line by line (Textual's Line API).

Asks above, best ask nearest the middle; a spread line with the mid; bids below. Each row
shows Price, Amount, Total (cumulative amount from the touch) and, when there is room, Value
(cumulative notional), over a depth bar sized by the cumulative amount. The pane redraws from
the services' market view at a capped rate (``REDRAW_HZ``), never once per frame received: a
busy pair sends ten frames a second per book, and a terminal over SSH should not repaint that
often. A redraw refreshes only the cells that changed (:mod:`..drawn_lines`); low bandwidth
shows fewer levels (``levels``).

A level cursor (arrow keys) picks a row; the readout line under the ladder shows the
cumulative amount and notional to that level and its distance from the mid.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from decimal import Decimal

import msgspec
from rich.segment import Segment
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip

from ...domain.common import Side
from ...domain.ladder import GROUP_STEPS, LadderRow, Spread, group_levels, ladder, spread
from ...domain.numbers import from_units, units_whole_text
from ...services.facade import Services
from ..fmt import amount_text, cell, grouped, price_text, signed_bps
from .market_pane import MarketPane

__all__ = ["REDRAW_HZ", "OrderBookView"]

REDRAW_HZ = 10.0


class _Frame(msgspec.Struct, frozen=True):
    """Everything one redraw needs, computed once per model change."""

    asks: list[LadderRow]
    bids: list[LadderRow]
    spread: Spread | None
    max_total: int
    stale: bool


class OrderBookView(MarketPane):
    """The ladder of one pair (``show`` switches it); ``group`` is in ticks."""

    COMPONENT_CLASSES = {
        "book--header",
        "book--bid",
        "book--ask",
        "book--bid-bar",
        "book--ask-bar",
        "book--spread",
        "book--cursor",
        "book--readout",
        "book--stale",
    }
    BINDINGS = [
        Binding("up", "cursor(1)", "Level up", show=False),
        Binding("down", "cursor(-1)", "Level down", show=False),
        Binding("home", "cursor_home", "Cursor to spread", show=False),
        Binding("plus,equals_sign", "group(1)", "Group +", show=False),
        Binding("minus", "group(-1)", "Group -", show=False),
    ]

    group_index: reactive[int] = reactive(0)
    cursor: reactive[int] = reactive(0)
    """0 is the best bid, -1 the best ask; positive goes down the bids, negative up the asks."""

    @dataclass
    class GroupChanged(Message):
        """The trader changed the grouping of the pair shown (the app keeps the layout)."""

    class PricesShown(Message):
        """The pane painted prices for the first time (a start's first book)."""

    def __init__(
        self,
        services: Services,
        *,
        groups: Mapping[str, int] | None = None,
        redraw_hz: float = REDRAW_HZ,
        move_hz: float | None = None,
        levels: int | None = None,
        id: str | None = None,  # noqa: A002
    ) -> None:
        super().__init__(services, redraw_hz=redraw_hz, move_hz=move_hz, id=id)
        self.groups: dict[str, int] = {
            symbol: ticks for symbol, ticks in (groups or {}).items() if ticks in GROUP_STEPS
        }
        """Each pair's grouping in ticks, as last chosen (a pair not here: 1, every level).
        Per pair: a step that suits one pair's price means nothing on another's."""
        self.levels = levels
        """At most this many levels a side (None: as many as the pane holds); low bandwidth
        shows fewer, and a level that moves rewrites fewer rows."""
        self._frame: _Frame | None = None
        self._seen: tuple[int, int, int, int, bool] | None = None
        self._prices_told = False

    # -- model ------------------------------------------------------------------------------

    @property
    def group(self) -> int:
        return GROUP_STEPS[self.group_index]

    def show(self, symbol: str, name: str) -> None:
        """Switch to another pair (``name``: its display name)."""
        self.symbol = symbol
        self.cursor = 0
        self.group_index = GROUP_STEPS.index(self.groups.get(symbol, 1))
        self._seen = None
        self.border_title = name
        self.poll()

    def poll(self) -> None:
        """Rebuild the frame if the book, grouping, size or staleness changed."""
        feed = self.services.market(self.symbol) if self.symbol is not None else None
        if feed is None:
            return
        size = self.size
        key = (feed.version, self.group, size.height, size.width, feed.stale)
        if key == self._seen:
            return
        self._seen = key
        self.view = feed
        if self.cap is not None:
            self.cap.drew()
        fit = max(1, (size.height - 3) // 2)
        rows = fit if self.levels is None else min(fit, self.levels)
        book = feed.book
        bids = group_levels(book.top_units(Side.BUY, rows * self.group), self.group, bids=True)
        asks = group_levels(book.top_units(Side.SELL, rows * self.group), self.group, bids=False)
        bid_rows, ask_rows = ladder(bids, rows), ladder(asks, rows)
        best_bid = bid_rows[0].price if bid_rows else None
        best_ask = ask_rows[0].price if ask_rows else None
        totals = [r.total for r in (bid_rows[-1:] + ask_rows[-1:])]
        self._frame = _Frame(
            asks=ask_rows,
            bids=bid_rows,
            spread=spread(
                *_touch(book.top_units(Side.BUY, 1), book.top_units(Side.SELL, 1)),
                feed.market.quote_decimals,
            )
            if best_bid is not None and best_ask is not None
            else None,
            max_total=max(totals, default=0),
            stale=feed.stale,
        )
        subtitle = f"group {grouped(self.group, feed.market.quote_decimals)}"
        if rows < fit:  # the pane has room for more: say why it is not filled
            subtitle += f"  top {rows}"
        if feed.stale:
            subtitle += "  STALE"

        if subtitle != self.border_subtitle:
            self.border_subtitle = subtitle
        if feed.stale != self.has_class("-stale"):
            self.set_class(feed.stale, "-stale")
        self.repaint_changes()
        if not self._prices_told and (bid_rows or ask_rows):
            self._prices_told = True
            self.post_message(self.PricesShown())

    # -- actions ----------------------------------------------------------------------------

    def action_cursor(self, step: int) -> None:
        frame = self._frame
        if frame is None:
            return
        low, high = -len(frame.asks), len(frame.bids) - 1
        self.cursor = max(low, min(high, self.cursor - step))
        self.repaint_changes()

    def action_cursor_home(self) -> None:
        self.cursor = 0
        self.repaint_changes()

    def action_group(self, step: int) -> None:
        self.group_index = max(0, min(len(GROUP_STEPS) - 1, self.group_index + step))
        if self.symbol is not None:
            if self.group > 1:
                self.groups[self.symbol] = self.group
            else:
                self.groups.pop(self.symbol, None)
            self.post_message(self.GroupChanged())
        self.poll()

    def cursor_level(self) -> tuple[Side, LadderRow] | None:
        """The row under the cursor: (BUY, bid row) or (SELL, ask row)."""
        frame = self._frame
        if frame is None:
            return None
        if self.cursor >= 0 and self.cursor < len(frame.bids):
            return Side.BUY, frame.bids[self.cursor]
        index = -self.cursor - 1
        if 0 <= index < len(frame.asks):
            return Side.SELL, frame.asks[index]
        return None

    # -- drawing ----------------------------------------------------------------------------

    @staticmethod
    def _slot(y: int, frame: _Frame, size: Size) -> tuple[Side, int, list[LadderRow], int] | None:
        """The level line ``y`` shows: (side, index from the touch, that side's rows, its
        cursor position); None for the header, the spread line and the readout."""
        rows = max(1, (size.height - 3) // 2)
        if 1 <= y <= rows:
            index = rows - y  # best ask sits right above the spread line
            return Side.SELL, index, frame.asks, -index - 1
        if rows + 2 <= y <= 2 * rows + 1:
            index = y - rows - 2
            return Side.BUY, index, frame.bids, index
        return None

    def _line_key(self, y: int, size: Size) -> Hashable | None:
        """Everything line ``y`` is drawn from: equal keys draw equal lines (the styles are
        not in it: new styles forget every line). None before the first book."""
        frame, feed = self._frame, self.view
        if frame is None or feed is None:
            return None
        width = size.width
        slot = self._slot(y, frame, size)
        if slot is None:
            rows = max(1, (size.height - 3) // 2)
            if y == rows + 1:
                return ("spread", frame.spread, frame.stale, feed.market.quote_decimals, width)
            if y == 2 * rows + 2:
                market = (feed.market, feed.book.amount_places)
                return ("readout", self.cursor_level(), frame.spread, market, width)
            return ("header" if y == 0 else "blank", width)
        side, index, levels, at = slot
        if index >= len(levels):
            return (side, None, width)
        row = levels[index]
        focused = at == self.cursor and self.has_focus
        places = (feed.market, feed.book.amount_places, self.group)
        return (side, row, _bar(row, frame, width), focused, frame.stale, width, places)

    def _line(self, y: int, size: Size) -> Strip:
        width = size.width
        frame, feed = self._frame, self.view
        if frame is None or feed is None:
            if y:
                return Strip.blank(width, self.rich_style)
            return Strip([Segment(" waiting for the book…", self.rich_style)])
        rows = max(1, (size.height - 3) // 2)
        if y == 0:
            return self._header(width)
        if (slot := self._slot(y, frame, size)) is not None:
            side, index, levels, at = slot
            if index < len(levels):
                return self._row(levels[index], side, at, frame, width)
            return Strip.blank(width, self.rich_style)
        if y == rows + 1:
            return self._spread_line(frame, width)
        if y == 2 * rows + 2:
            return self._readout(frame, width)
        return Strip.blank(width, self.rich_style)

    def _columns(self, width: int) -> tuple[int, int, int, int]:
        """Widths of Price, Amount, Total, Value; Value is dropped when narrow."""
        value = 14 if width >= 56 else 0
        rest = min(width - value, 48)  # wider panes get space on the right, not wide gaps
        price = max(8, rest * 36 // 100)
        amount = (rest - price) // 2
        return price, amount, rest - price - amount, value

    def _header(self, width: int) -> Strip:
        p, a, t, v = self._columns(width)
        text = "Price".rjust(p) + "Amount".rjust(a) + "Total".rjust(t)
        if v:
            text += "Value".rjust(v)
        return Strip([Segment(text.ljust(width), self.style_of("book--header"))])

    def _row(self, row: LadderRow, side: Side, index: int, frame: _Frame, width: int) -> Strip:
        feed = self.view
        assert feed is not None
        market = feed.market
        pp, ap = market.quote_decimals, feed.book.amount_places
        p, a, t, v = self._columns(width)
        text = (
            cell(price_text(row.price, pp), p)
            + cell(amount_text(row.amount, ap, market.base_decimals), a)
            + cell(amount_text(row.total, ap, market.base_decimals), t)
        )
        if v:
            text += cell(grouped_value(row.value, pp + ap), v)
        text = text.ljust(width)[:width]
        is_bid = side is Side.BUY
        style = self.style_of("book--bid" if is_bid else "book--ask")
        bar_style = self.style_of("book--bid-bar" if is_bid else "book--ask-bar")
        if index == self.cursor and self.has_focus:
            style = style + self.style_of("book--cursor")
        if frame.stale:
            style = style + self.style_of("book--stale")
        bar = _bar(row, frame, width)
        # The bar grows from the right edge, like most ladders. One cell per character (the
        # figures are ASCII): the length is known, not measured.
        return Strip(
            [
                Segment(text[: width - bar], style),
                Segment(text[width - bar :], style + bar_style),
            ],
            width,
        )

    def _spread_line(self, frame: _Frame, width: int) -> Strip:
        feed = self.view
        assert feed is not None
        s = frame.spread
        if s is None:
            text = "  no spread: one side is empty"
        else:
            mid = _mid(s.mid, feed.market.quote_decimals)
            text = f"  spread {s.spread:f} ({s.bps:f} bps)   mid {mid}"
            if frame.stale:
                text += "   STALE"
        style = self.style_of("book--spread")
        return Strip([Segment(text.ljust(width)[:width], style)])

    def _readout(self, frame: _Frame, width: int) -> Strip:
        feed = self.view
        assert feed is not None
        picked = self.cursor_level()
        style = self.style_of("book--readout")
        if picked is None or frame.spread is None:
            return Strip([Segment(" " * width, style)])
        side, row = picked
        market = feed.market
        pp, ap = market.quote_decimals, feed.book.amount_places
        price = from_units(row.price, pp)
        away = price - frame.spread.mid
        bps = away / frame.spread.mid * 10_000
        parts = (
            f" {'bid' if side is Side.BUY else 'ask'} {price_text(row.price, pp)}",
            f"  cum {amount_text(row.total, ap, market.base_decimals)} {market.base}",
            f"  {grouped_value(row.value, pp + ap)} {market.quote}",
            f"  {signed_bps(bps)}",
            " from mid",
        )
        text = ""
        for part in parts:  # whole figures only: a narrow pane drops the last, never cuts one
            if len(text) + len(part) > width:
                break
            text += part
        return Strip([Segment(text.ljust(width)[:width], style)])


def _touch(bids: list[tuple[int, int]], asks: list[tuple[int, int]]) -> tuple[int, int]:
    return bids[0][0], asks[0][0]


def _mid(value: Decimal, places: int) -> str:
    """The mid with the price's decimals, or one more when it falls between two ticks."""
    exact = value.quantize(Decimal(1).scaleb(-places))
    return f"{exact:f}" if exact == value else f"{value.quantize(Decimal(1).scaleb(-places - 1)):f}"


def grouped_value(units: int, places: int) -> str:
    """A notional in quote currency, whole units with thousands separators."""
    return units_whole_text(units, places)


def _bar(row: LadderRow, frame: _Frame, width: int) -> int:
    """The depth bar's cells: the row's cumulative amount against the deepest total shown
    (at least one cell for a level that holds anything)."""
    bar = round(width * row.total / frame.max_total) if frame.max_total else 0
    return min(width, max(1 if row.amount else 0, bar))
