"""Trading from the keyboard: opening tickets, sending what they return, and acting on the
open orders pane. Mixed into the app so its keys are app-wide.

Keys: ``b``/``s`` a buy/sell ticket at the touch of our side (join the queue); ``l`` lifts
the best ask and ``h`` hits the best bid (a marketable limit at the touch); Enter on a book
level opens a ticket at that level's price (buy on a bid, sell on an ask: join that level);
``o`` goes to the open orders pane, where ``c`` cancels, ``a`` amends and ``k`` cancels all.

Everything that talks to the exchange runs in a worker, so the screen never waits on it.
The outcome arrives as order snapshots from the trading service (shown in the panes) and a
notification here.
"""

from __future__ import annotations

import time
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING

from ..domain.common import Side
from ..domain.market_data import BookSnapshot
from ..domain.markets import Market
from ..domain.numbers import format_decimal, plain
from ..domain.order_vocabulary import TrackState
from ..domain.sizing import buy_hold
from ..domain.ticket import Funds
from ..domain.walk import booking_places
from ..services.order_model import CancelFailed, SubmitsBlocked, TrackedOrder
from .bookview import OrderBookView
from .ordersview import OpenOrdersView
from .screens import AskScreen
from .ticket import TicketContext, TicketResult, TicketScreen

if TYPE_CHECKING:
    from ..services.trading import TradingService
    from .app import WorkstationApp

__all__ = ["TradingDesk", "notice_text"]

_NOTICE = {
    TrackState.FILLED: ("filled", "information"),
    TrackState.REJECTED: ("rejected", "error"),
    TrackState.UNKNOWN: ("outcome unknown, reconciling", "warning"),
    TrackState.EXPIRED: ("expired", "information"),
    TrackState.LOST: ("the venue no longer knows this order", "error"),
}


class TradingDesk:
    """The app's trading keys and workers (a mixin of :class:`WorkstationApp`)."""

    trading: TradingService | None
    confirm_orders: bool
    order_states: dict[str, tuple[TrackState, Decimal]]
    """The last state (and filled amount) told to the trader, per order (told once)."""

    # -- tickets --------------------------------------------------------------------------

    def _market_shown(self: WorkstationApp) -> Market | None:
        """The pair a new ticket is for; None while a dialog (a ticket too) is open."""
        if len(self.screen_stack) > 1:
            return None
        if self.current is None or self.trading is None:
            if self.trading is None and self.current is not None:
                self.notify("Trading needs API keys for this environment", severity="warning")
            return None
        return self.markets.get(self.current)

    def ticket_context(self: WorkstationApp, market: Market, amend: TrackedOrder | None = None):
        trading = self.trading
        assert trading is not None
        symbol = market.symbol

        def book():
            feed = self.hub.feeds.get(symbol) if self.hub else None
            return feed.book if feed is not None and not feed.stale else None

        def funds() -> Funds:
            balances = trading.balances
            base = balances.get(market.base)
            quote = balances.get(market.quote)
            funds = Funds(
                base=base.available if base else None, quote=quote.available if quote else None
            )
            return _with_released(funds, market, amend, trading.fee_percent(symbol) or Decimal(0))

        async def exact_book() -> BookSnapshot | None:
            session = self._session
            return None if session is None else await session.book_by_order(symbol)

        return TicketContext(
            market=market,
            env=self._env,
            confirm=self.confirm_orders,
            book=book,
            funds=funds,
            fee_percent=lambda: trading.fee_percent(symbol),
            now_ms=lambda: int(time.time() * 1000),
            blocked=lambda: (self._session and self._session.reach.reason) or trading.gate_reason,
            exact_book=exact_book,
        )

    def open_ticket(self: WorkstationApp, side: Side, price: Decimal | None = None) -> None:
        market = self._market_shown()
        if market is None:
            return
        if price is None:
            feed = self.hub.feeds.get(market.symbol) if self.hub else None
            touch = None
            if feed is not None:
                touch = feed.book.best_bid() if side is Side.BUY else feed.book.best_ask()
            price = touch
        text = "" if price is None else format_decimal(price, market.quote_decimals)
        screen = TicketScreen(self.ticket_context(market), side, price=text)
        self.push_screen(screen, self._ticket_done)

    def action_ticket(self: WorkstationApp, side: str) -> None:
        self.open_ticket(Side(side))

    def action_take(self: WorkstationApp, side: str) -> None:
        """Lift the best ask (buy) or hit the best bid (sell): a ticket at the far touch."""
        market = self._market_shown()
        if market is None or self.hub is None:
            return
        feed = self.hub.feeds.get(market.symbol)
        book_side = Side(side)
        price = None
        if feed is not None:
            price = feed.book.best_ask() if book_side is Side.BUY else feed.book.best_bid()
        if price is None:
            self.notify("No price on that side of the book", severity="warning")
            return
        self.open_ticket(book_side, price)

    def action_join_level(self: WorkstationApp) -> None:
        """Enter on a book level: a ticket at that price, on the level's side."""
        market = self._market_shown()
        if market is None:
            return
        picked = self.query_one(OrderBookView).cursor_level()
        if picked is None:
            self.bell()
            return
        side, row = picked
        self.open_ticket(side, row.price * market.tick)

    def _ticket_done(self: WorkstationApp, result: TicketResult | None) -> None:
        if result is not None:
            self.run_worker(self._send(result), group="orders", exit_on_error=False)

    async def _send(self: WorkstationApp, result: TicketResult) -> None:
        trading = self.trading
        assert trading is not None
        try:
            if result.amend_of is not None:
                request = result.request
                await trading.amend(result.amend_of, price=request.price, amount=request.amount)
            else:
                await trading.submit(result.request, preview=result.preview)
        except SubmitsBlocked as blocked:
            self.notify(f"Not sent: new orders wait ({blocked})", severity="warning")
        except Exception as error:  # noqa: BLE001 - shown to the trader, the app carries on
            self.notify(f"Not sent: {error}", severity="error", timeout=10)

    # -- open orders ----------------------------------------------------------------------

    def on_open_orders_view_action(self: WorkstationApp, message: OpenOrdersView.Action) -> None:
        trading = self.trading
        if trading is None or self.quitting:  # a key typed right after `q` does nothing
            return
        order = message.order
        if message.what == "cancel" and order is not None:
            self.run_worker(self._cancel(order), group="orders", exit_on_error=False)
        elif message.what == "amend" and order is not None:
            self._amend(order)
        elif message.what == "cancel_all":
            self._ask_cancel_all()

    async def _cancel(self: WorkstationApp, order: TrackedOrder) -> None:
        trading = self.trading
        assert trading is not None
        try:
            done = await trading.cancel(order.client_order_id)
        except CancelFailed as failed:
            what = _order_text(self, failed.order)
            self.notify(f"Cancel failed: {what}: {failed}", severity="error", timeout=15)
        except Exception as error:  # noqa: BLE001 - shown to the trader, the app carries on
            self.notify(f"Cancel failed: {error}", severity="error", timeout=10)
        else:  # cancelled or ended otherwise: the pane and notice() tell it
            if not done.state.is_final:  # "Cancel pending": accepted, not yet carried out
                text = f"Cancel pending: {_order_text(self, done)} is still {done.state.value}"
                self.notify(text, severity="warning")

    def _amend(self: WorkstationApp, order: TrackedOrder) -> None:
        market = self.markets.get(order.market)
        if market is None or order.price is None or order.kind != "limit":
            self.notify("Only limit orders can be amended", severity="warning")
            return
        screen = TicketScreen(
            self.ticket_context(market, amend=order),
            order.side,
            price=format_decimal(order.price, market.quote_decimals),
            amount=format_decimal(order.remaining, market.base_decimals),
            amend_of=order.client_order_id,
        )
        self.push_screen(screen, self._ticket_done)

    def _ask_cancel_all(self: WorkstationApp) -> None:
        trading = self.trading
        assert trading is not None
        every = trading.open_orders()
        if not every:
            self.notify("No open orders")
            return
        symbol = self.current
        here = [o for o in every if o.market == symbol]
        name = self.markets[symbol].name if symbol in self.markets else "this pair"
        choices = [("y", f"the {len(here)} on {name}", symbol)] if here else []
        choices.append(("a", f"all {len(every)} on every pair", None))

        def answer(choice: object) -> None:
            if choice is not AskScreen.NO:
                market = choice if isinstance(choice, str) else None
                self.run_worker(self._cancel_all(market), group="orders", exit_on_error=False)

        self.push_screen(AskScreen("Cancel open orders?", choices), answer)

    async def _cancel_all(self: WorkstationApp, market: str | None) -> None:
        trading = self.trading
        assert trading is not None
        try:
            report = await trading.cancel_all(market)
        except Exception as error:  # noqa: BLE001 - shown to the trader
            self.notify(f"Cancel all failed: {error}", severity="error", timeout=10)
            return
        text = f"Cancel all: {len(report.cancelled)} cancelled"
        if report.ended_otherwise:
            text += f", {len(report.ended_otherwise)} ended first (filled, expired or lost)"
        if not report.failed:
            self.notify(text)
            return
        by_cid = {o.client_order_id: o for o in report.orders}
        failures = "; ".join(
            f"{_order_text(self, by_cid[cid])}: {reason} (still {by_cid[cid].state.value})"
            for cid, reason in report.failed.items()
        )
        self.notify(
            f"{text}, {len(report.failed)} failed: {failures}", severity="error", timeout=20
        )

    # -- outcomes -------------------------------------------------------------------------

    def notice(self: WorkstationApp, order: TrackedOrder) -> None:
        """Tell the trader when an order reaches a state worth an interruption (once; a fill
        told before its fills were known is told again with them)."""
        seen = self.order_states
        told = (order.state, order.filled)
        if seen.get(order.client_order_id) == told:
            return
        seen[order.client_order_id] = told
        entry = _NOTICE.get(order.state)
        if entry is None:
            return
        what, severity = entry
        text = notice_text(order, self.markets.get(order.market), what)
        self.notify(text, severity=severity, timeout=8)  # type: ignore[arg-type]


def _order_text(app: WorkstationApp, order: TrackedOrder) -> str:
    """``BUY 0.01 BTC/USD at 60000``, with ``(placed elsewhere)`` for such an order."""
    market = app.markets.get(order.market)
    name = market.name if market else order.market
    text = f"{order.side.value.upper()} {plain(order.amount)} {name}"
    if order.price is not None:
        text += f" at {plain(order.price)}"
    return text + (" (placed elsewhere)" if order.external else "")


def notice_text(order: TrackedOrder, market: Market | None, what: str) -> str:
    """``BUY 0.07462351 BTC on BTC/USD: filled at avg 67005.12 USD, fee 20.00462 USD``: what
    traded in base, at what average price, for what fee; before any fill, the order's amount
    in its own currency (``BUY 5000 USD on BTC/USD: rejected (...)``)."""
    if market is None:
        base = quote = ""
        name = order.market
    else:
        base, quote, name = f" {market.base}", f" {market.quote}", market.name
    side = order.side.value.upper()
    reason = order.reason
    if reason and reason.startswith("not sent"):  # it never left: nothing was refused
        what, reason = reason, ""
    avg = order.avg_price
    fills = ""
    if order.filled > 0 and avg is not None:
        price_places = market.quote_decimals if market else 2
        fee_places = booking_places(market.quote) if market else 5
        fills = (
            f"at avg {format_decimal(avg, price_places)}{quote}, "
            f"fee {format_decimal(order.fee, fee_places)}{quote}"
        )
    if order.state is TrackState.FILLED and fills:
        text = f"{side} {plain(order.filled)}{base} on {name}: {what} {fills}"
    else:
        unit = quote if order.amount_in_quote else base
        text = f"{side} {plain(order.amount)}{unit} on {name}: {what}"
        if fills:
            text += f"; {plain(order.filled)}{base} filled {fills}"
    if reason:
        text += f" ({reason})"
    return text


def _with_released(
    funds: Funds, market: Market, amend: TrackedOrder | None, fee_percent: Decimal
) -> Funds:
    """An amended order frees what its old version holds (replace is cancel + new): as the
    exchange holds it, for what is left at its limit (``sizing.buy_hold``)."""
    if amend is None or amend.price is None:
        return funds
    if amend.side is Side.SELL:
        base = None if funds.base is None else funds.base + amend.remaining
        return replace(funds, base=base)
    held = buy_hold(market, amend.remaining * amend.price, fee_percent)
    quote = None if funds.quote is None else funds.quote + held
    return replace(funds, quote=quote)
