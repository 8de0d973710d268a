"""Trading from the keyboard: opening tickets, sending what they return, and acting on the
open orders pane. The app owns one desk and hands its keys to it (they are app-wide).

Keys: ``b``/``s`` a buy/sell ticket at the touch of our side (join the queue); ``l`` lifts
the best ask and ``h`` hits the best bid (a marketable limit at the touch); Enter on a book
level opens a ticket at that level's price (buy on a bid, sell on an ask: join that level);
``o`` goes to the open orders pane, where ``c`` cancels, ``a`` amends and ``k`` cancels all.

Everything that talks to the exchange runs as one of the app's commands (a worker whose
failure the app tells the trader, ``WorkstationApp.run_command``), so the screen never waits
on it. The outcome arrives as order snapshots from the services (shown in the panes) and a
notification here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING

from ..domain.book_reader import BookReader
from ..domain.common import Side
from ..domain.market_data import BookSnapshot
from ..domain.markets import Market
from ..domain.numbers import format_decimal, plain
from ..domain.order_vocabulary import TrackState
from ..domain.tracked_order import TrackedOrder
from ..domain.walk import booking_places
from ..services.facade import Services
from .commands import CommandFailure
from .panes.book import OrderBookView

if TYPE_CHECKING:
    from ..domain.ticket import Funds
    from .app import WorkstationApp
    from .screens.ticket import TicketContext, TicketResult

# The ticket and ask screens, with the ticket's own domain (sizing, funds), are imported where
# a key opens them: a start draws none of them, and their modules were ~10 ms of its imports.

__all__ = ["TICKET_WAITS_S", "TradingDesk", "notice_text", "order_text"]

TICKET_WAITS_S = 5.0
"""A ticket asked for while trading was still opening opens once it has, if that came within
this long: later, the trader may be doing something else (it is said, not opened)."""

_NOTICE = {
    TrackState.FILLED: ("filled", "information"),
    TrackState.REJECTED: ("rejected", "error"),
    TrackState.UNKNOWN: ("outcome unknown, reconciling", "warning"),
    TrackState.EXPIRED: ("expired", "information"),
    TrackState.LOST: ("the venue no longer knows this order", "error"),
}


class TradingDesk:
    """The app's trading keys and what they start; ``app`` is the screen it works on."""

    def __init__(self, app: WorkstationApp, services: Services) -> None:
        self.app = app
        self.services = services
        self.order_states: dict[str, tuple[TrackState, Decimal]] = {}
        """The last state (and filled amount) told to the trader, per order (told once)."""
        self._waiting: tuple[float, Callable[[], None]] | None = None
        """A ticket asked for while trading was starting: when, and how to open it."""

    # -- tickets --------------------------------------------------------------------------

    def _market_shown(self, again: Callable[[], None]) -> Market | None:
        """The pair a new ticket is for; None while a dialog (a ticket too) is open, or while
        trading is still opening at a start (the book comes first): ``again`` is then done
        once it has opened, if that is within :data:`TICKET_WAITS_S`."""
        app = self.app
        if len(app.screen_stack) > 1:
            return None
        health = self.services.health()
        if app.current is None:
            return None
        if not health.trading and not health.watch_only:  # watch only: a ticket to price
            if health.trading_starting:
                self._waiting = (time.monotonic(), again)
                app.notify("Trading is starting (reading the account): the ticket follows")
            else:
                app.notify("Trading is unavailable for this environment", severity="warning")
            return None
        return self.services.markets.get(app.current)

    def trading_opened(self) -> None:
        """Trading is open: a ticket asked for while it was starting opens now, unless the
        trader asked too long ago to still expect it."""
        waiting, self._waiting = self._waiting, None
        if waiting is not None and time.monotonic() - waiting[0] <= TICKET_WAITS_S:
            waiting[1]()

    def trading_unavailable(self) -> None:
        self._waiting = None

    def ticket_context(self, market: Market, amend: TrackedOrder | None = None) -> TicketContext:
        from ..domain.ticket import Funds
        from .screens.ticket import TicketContext

        services = self.services
        symbol = market.symbol

        def book() -> BookReader | None:
            view = services.market(symbol)
            return view.book if view is not None and not view.stale else None

        def funds() -> Funds:
            account = services.account(market.quote)
            balances = account.balances if account is not None else {}
            base = balances.get(market.base)
            quote = balances.get(market.quote)
            funds = Funds(
                base=base.available if base else None, quote=quote.available if quote else None
            )
            return _with_released(funds, market, amend, fee_percent() or Decimal(0))

        def fee_percent() -> Decimal | None:
            account = services.account(market.quote)
            return None if account is None else account.fee_percent(symbol)

        def blocked() -> str | None:
            health = services.health()
            return health.reach_reason or health.gate_reason

        async def exact_book() -> BookSnapshot | None:
            return await services.book_by_order(symbol)

        health = services.health()
        return TicketContext(
            market=market,
            env=services.env,
            confirm=self.app.confirm_orders,
            book=book,
            funds=funds,
            fee_percent=fee_percent,
            now_ms=lambda: int(time.time() * 1000),
            blocked=blocked,
            exact_book=exact_book,
            guards=services.guards,
            add_keys=health.add_keys if health.watch_only else None,
        )

    def _touch(self, symbol: str, side: Side) -> Decimal | None:
        """The best price on ``side`` of the pair's book (BUY: the best bid)."""
        view = self.services.market(symbol)
        if view is None:
            return None
        return view.book.best_bid() if side is Side.BUY else view.book.best_ask()

    def open_ticket(self, side: Side, price: Decimal | None = None) -> None:
        market = self._market_shown(lambda: self.open_ticket(side, price))
        if market is None:
            return
        if price is None:
            price = self._touch(market.symbol, side)
        text = "" if price is None else format_decimal(price, market.quote_decimals)
        from .screens.ticket import TicketScreen

        screen = TicketScreen(self.ticket_context(market), side, price=text)
        self.app.push_screen(screen, self._ticket_done)

    def take(self, side: Side) -> None:
        """Lift the best ask (buy) or hit the best bid (sell): a ticket at the far touch."""
        market = self._market_shown(lambda: self.take(side))
        if market is None:
            return
        price = self._touch(market.symbol, Side.SELL if side is Side.BUY else Side.BUY)
        if price is None:
            self.app.notify("No price on that side of the book", severity="warning")
            return
        self.open_ticket(side, price)

    def join_level(self) -> None:
        """Enter on a book level: a ticket at that price, on the level's side."""
        market = self._market_shown(self.join_level)
        if market is None:
            return
        picked = self.app.query_one(OrderBookView).cursor_level()
        if picked is None:
            self.app.bell()
            return
        side, row = picked
        self.open_ticket(side, row.price * market.tick)

    def _ticket_done(self, result: TicketResult | None) -> None:
        if result is not None:
            self.app.run_command(self._send(result), CommandFailure("Not sent", gate_waits=True))

    async def _send(self, result: TicketResult) -> None:
        if result.amend_of is not None:
            request = result.request
            await self.services.amend(
                result.amend_of,
                price=request.price,
                amount=request.amount,
                accepted=result.accepted,
            )
        else:
            await self.services.submit(
                result.request, preview=result.preview, accepted=result.accepted
            )

    # -- open orders ----------------------------------------------------------------------

    def _can_act(self, what: str) -> bool:
        """A key of the open orders pane acts: trading is up and the app is not quitting
        (a key typed right after `q` does nothing). Without trading the trader is told
        why (watch only: how to add keys) and nothing changes."""
        if self.app.quitting:
            return False
        health = self.services.health()
        if health.trading:
            return True
        if health.watch_only:
            text = f"{what}: watch only, no API keys; add them with {health.add_keys}"
        else:
            text = f"{what}: trading is unavailable for this environment"
        self.app.notify(text, severity="warning")
        return False

    def cancel(self, order: TrackedOrder) -> None:
        if self._can_act("Cancel"):
            self.app.run_command(
                self._cancel(order), CommandFailure("Cancel failed", order_text=self._order_text)
            )

    async def _cancel(self, order: TrackedOrder) -> None:
        done = await self.services.cancel(order.client_order_id)
        # cancelled or ended otherwise: the pane and notice() tell it
        if not done.state.is_final:  # "Cancel pending": accepted, not yet carried out
            text = f"Cancel pending: {self._order_text(done)} is still {done.state.value}"
            self.app.notify(text, severity="warning")

    def amend(self, order: TrackedOrder) -> None:
        if not self._can_act("Amend"):
            return
        market = self.services.markets.get(order.market)
        if market is None or order.price is None or order.kind != "limit":
            self.app.notify("Only limit orders can be amended", severity="warning")
            return
        from .screens.ticket import TicketScreen

        screen = TicketScreen(
            self.ticket_context(market, amend=order),
            order.side,
            price=format_decimal(order.price, market.quote_decimals),
            amount=format_decimal(order.remaining, market.base_decimals),
            amend_of=order.client_order_id,
        )
        self.app.push_screen(screen, self._ticket_done)

    def ask_cancel_all(self) -> None:
        from .screens.ask import AskScreen

        if not self._can_act("Cancel all"):
            return
        account = self.services.account(self.app.quote)
        every = list(account.open_orders) if account is not None else []
        if not every:
            self.app.notify("No open orders")
            return
        symbol = self.app.current
        market = self.services.markets.get(symbol) if symbol is not None else None
        here = [o for o in every if o.market == symbol]
        name = market.name if market is not None else "this pair"
        choices: list[tuple[str, str, object]] = (
            [("y", f"the {len(here)} on {name}", symbol)] if here else []
        )
        choices.append(("a", f"all {len(every)} on every pair", None))

        def answer(choice: object) -> None:
            if choice is not AskScreen.NO:
                market = choice if isinstance(choice, str) else None
                self.app.run_command(self._cancel_all(market), CommandFailure("Cancel all failed"))

        self.app.push_screen(AskScreen("Cancel open orders?", choices), answer)

    async def _cancel_all(self, market: str | None) -> None:
        report = await self.services.cancel_all(market)
        text = f"Cancel all: {len(report.cancelled)} cancelled"
        if report.ended_otherwise:
            text += f", {len(report.ended_otherwise)} ended first (filled, expired or lost)"
        if not report.failed:
            self.app.notify(text)
            return
        by_cid = {o.client_order_id: o for o in report.orders}
        failures = "; ".join(
            f"{self._order_text(by_cid[cid])}: {reason} (still {by_cid[cid].state.value})"
            for cid, reason in report.failed.items()
        )
        self.app.notify(
            f"{text}, {len(report.failed)} failed: {failures}", severity="error", timeout=20
        )

    # -- outcomes -------------------------------------------------------------------------

    def notice(self, order: TrackedOrder) -> None:
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
        text = notice_text(order, self.services.markets.get(order.market), what)
        self.app.notify(text, severity=severity, timeout=8)  # type: ignore[arg-type]

    def _order_text(self, order: TrackedOrder) -> str:
        return order_text(order, self.services.markets.get(order.market))


def order_text(order: TrackedOrder, market: Market | None) -> str:
    """``BUY 0.01 BTC/USD at 60000``, with ``(placed elsewhere)`` for such an order."""
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
    from ..domain.sizing import buy_hold

    if amend is None or amend.price is None:
        return funds
    if amend.side is Side.SELL:
        base = None if funds.base is None else funds.base + amend.remaining
        return replace(funds, base=base)
    held = buy_hold(market, amend.remaining * amend.price, fee_percent)
    quote = None if funds.quote is None else funds.quote + held
    return replace(funds, quote=quote)
