"""The order ticket: amount, price, kind and time in force, checked as you type, with the cost
preview walked from the live book; Enter shows the confirm step, Enter or ``y`` there sends.

The screen only edits and shows; ``domain.ticket.evaluate`` decides, and the app sends the
request it returns (in a worker: sending never blocks the UI). Esc backs out one step. In
LIVE the confirm step is always shown; elsewhere it is on unless turned off. Watch only (no
keys), the form and preview work as ever, and where SEND would be it says how to add keys.

The environment's guards (``domain.guards``) are checked with every change and each breach is
shown with the config key that sets it. Outside LIVE an order outside a guard is refused at
Enter and nothing changes. On LIVE it goes to the confirm step, where Enter and ``y`` do not
send it: the trader types ``override`` in a field of its own and presses Enter, and only the
guards shown are accepted (the services check again, ``Services.submit``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal

import msgspec
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from ...domain.book_reader import BookReader
from ...domain.common import Side
from ...domain.guards import Breach, Guard, GuardLimits, breaches, mid_of
from ...domain.market_data import BookSnapshot
from ...domain.markets import Market, amount_currency, amount_decimals
from ...domain.numbers import format_decimal, plain
from ...domain.order_request import OrderRequest
from ...domain.order_vocabulary import OrderKind, TimeInForce
from ...domain.ticket import Funds, TicketCheck, TicketInput, evaluate
from ..choice import Choice
from .ticket_text import journal_preview, preview_text

__all__ = ["TicketContext", "TicketResult", "TicketScreen"]

REFRESH_S = 0.25
"""How often the preview follows the book while the ticket is open."""

OVERRIDE_WORD = "override"
"""What a trader types on LIVE's confirm step to send an order outside a guard."""

_TIFS: list[tuple[str, TimeInForce]] = [
    ("GTC", TimeInForce.GTC),
    ("post-only", TimeInForce.MOC),
    ("IOC", TimeInForce.IOC),
    ("FOK", TimeInForce.FOK),
    ("daily", TimeInForce.DAILY),
    ("GTD", TimeInForce.GTD),
]


class TicketContext(msgspec.Struct, frozen=True):
    """What the ticket reads from the services, as callables so it always sees them now."""

    market: Market
    env: str
    confirm: bool
    book: Callable[[], BookReader | None]
    funds: Callable[[], Funds]
    fee_percent: Callable[[], Decimal | None]
    now_ms: Callable[[], int]
    blocked: Callable[[], str | None]
    """Why new orders are refused right now (orders being reconciled), or None."""
    exact_book: Callable[[], Awaitable[BookSnapshot | None]] | None = None
    """A per-order snapshot for the confirm step's preview (exact fees), or None."""
    guards: GuardLimits | None = None
    """The environment's guards; None checks none (the services still do)."""
    add_keys: str | None = None
    """Watch only (the venue has no keys): how to add them, said where SEND would be. The
    form and its preview work as ever; nothing can be sent. None: orders can be sent."""


class TicketResult(msgspec.Struct, frozen=True):
    """A checked order to send, with the preview the trader saw (for the journal)."""

    request: OrderRequest
    preview: dict[str, str]
    amend_of: str | None = None
    accepted: frozenset[Guard] = frozenset()
    """The guards the trader typed the override for on LIVE (empty: none was breached)."""


def _kinds(side: Side, market: Market) -> list[tuple[str, tuple[OrderKind, bool]]]:
    kinds = [("limit", (OrderKind.LIMIT, False)), ("market", (OrderKind.MARKET, False))]
    if side is Side.BUY:
        kinds.append((f"instant ({market.quote})", (OrderKind.INSTANT, False)))
    else:
        kinds.append((f"instant ({market.base})", (OrderKind.INSTANT, False)))
        kinds.append((f"instant ({market.quote})", (OrderKind.INSTANT, True)))
    return kinds


class TicketScreen(ModalScreen[TicketResult | None]):
    """A buy or sell ticket for one pair (or the amend form of one open order)."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("y", "send", "Send", show=False),
        # A binding, not a key method: a key that runs a binding is consumed (one key, one
        # action); in a text field the field's own Enter binding comes first (submit).
        Binding("enter", "enter", "Review or send", show=False),
        # Priority: the focus moves as the key is read, so text typed right after Tab (in one
        # burst over SSH, or pasted) lands in the next field, not in the one being left.
        Binding("tab", "app.focus_next", "Next field", show=False, priority=True),
        Binding("shift+tab", "app.focus_previous", "Previous field", show=False, priority=True),
    ]

    def __init__(
        self,
        context: TicketContext,
        side: Side,
        *,
        price: str = "",
        amount: str = "",
        kind: OrderKind = OrderKind.LIMIT,
        amend_of: str | None = None,
    ) -> None:
        super().__init__()
        self.context = context
        self.side = side
        self.amend_of = amend_of
        self._price = price
        self._amount = amount
        self._kind = kind
        self.check: TicketCheck | None = None
        self.breaches: tuple[Breach, ...] = ()
        """The guards the order as it stands is outside of."""
        self.confirming = False
        self.exact = False
        """The confirm step's preview was walked on a per-order snapshot."""

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        market = self.context.market
        with Vertical(id="ticket", classes=f"-{self.side.value}"):
            yield Static(self._title(), id="ticket-title")
            with Horizontal(id="ticket-choices"):
                yield Choice(
                    "Kind", _kinds(self.side, market), value=(self._kind, False), id="kind"
                )
                yield Choice("Time in force", _TIFS, value=TimeInForce.GTC, id="tif")
            with Horizontal(classes="ticket-row"):
                yield Label("Amount", id="amount-label", classes="ticket-label")
                yield Input(self._amount, placeholder="0.5, 25% or max", id="amount")
            with Horizontal(classes="ticket-row", id="price-row"):
                yield Label(f"Price {market.quote}", classes="ticket-label")
                yield Input(self._price, id="price")
            with Horizontal(classes="ticket-row", id="expiry-row"):
                yield Label("Expires", classes="ticket-label")
                yield Input("+1d", placeholder="+30m, +4h, +2d, 2026-12-31 18:00", id="expiry")
            with Horizontal(classes="ticket-row", id="override-row"):
                yield Label("Override", classes="ticket-label")
                yield Input(placeholder=f"type {OVERRIDE_WORD} + enter", id="override")
            yield Static("", id="ticket-problems")
            yield Static("", id="ticket-preview")
            yield Static("", id="ticket-hint")

    def _title(self) -> str:
        market = self.context.market
        what = "AMEND " if self.amend_of else ""
        return f"{what}{self.side.value.upper()} {market.name} \u00b7 {self.context.env.upper()}"

    def on_mount(self) -> None:
        self.query_one("#override-row").display = False
        if self.amend_of is not None:
            self.query_one("#kind", Choice).display = False
            self.query_one("#tif", Choice).display = False
        self._fit_fields()
        self.query_one("#amount", Input).focus()
        self.evaluate()
        self.set_interval(REFRESH_S, self.evaluate)

    # -- the form -------------------------------------------------------------------------

    @property
    def kind(self) -> OrderKind:
        return self.query_one("#kind", Choice).value[0]

    @property
    def amount_in_quote(self) -> bool:
        return self.query_one("#kind", Choice).value[1]

    @property
    def tif(self) -> TimeInForce:
        return self.query_one("#tif", Choice).value

    def ticket_input(self) -> TicketInput:
        limit = self.kind is OrderKind.LIMIT
        return TicketInput(
            self.context.market,
            self.side,
            self.kind,
            self.query_one("#amount", Input).value,
            self.query_one("#price", Input).value if limit else "",
            self.tif if limit else TimeInForce.GTC,
            self.query_one("#expiry", Input).value,
            self.amount_in_quote,
        )

    def _fit_fields(self) -> None:
        """Show the fields this kind takes, and the amount's currency."""
        limit = self.kind is OrderKind.LIMIT
        self.query_one("#price-row").display = limit
        self.query_one("#tif", Choice).display = limit and self.amend_of is None
        self.query_one("#expiry-row").display = limit and self.tif is TimeInForce.GTD
        currency = amount_currency(self.context.market, self.kind, self.side, self.amount_in_quote)
        self.query_one("#amount-label", Label).update(f"Amount {currency}")

    def on_choice_changed(self, _: Choice.Changed) -> None:
        if not self.is_mounted:
            return
        self._fit_fields()
        self.evaluate()

    def on_input_changed(self, _: Input.Changed) -> None:
        if self.is_mounted:
            self.evaluate()

    def evaluate(self) -> None:
        """Check the form against the rules, the funds and the book as it is now."""
        if self.confirming:
            return  # the confirm step shows what the trader is about to send: hold it still
        context = self.context
        book = context.book()
        self.check = evaluate(
            self.ticket_input(),
            book=book,
            funds=context.funds(),
            fee_percent=self._fee_percent(),
            now_ms=context.now_ms(),
        )
        self.breaches = self._breaches(self.check, book)
        self._draw()

    def _breaches(
        self, check: TicketCheck, book: BookReader | BookSnapshot | None
    ) -> tuple[Breach, ...]:
        limits = self.context.guards
        if limits is None or check.request is None:
            return ()
        return breaches(
            check.request,
            self.context.market,
            mid=mid_of(book),
            preview=check.preview,
            limits=limits,
        )

    @property
    def live(self) -> bool:
        return self.context.env == "live"

    def _fee_percent(self) -> Decimal | None:
        """The account's taker fee. Watch only there is no account: the book is walked
        without a fee (the preview says the fee is unknown) rather than not at all."""
        fee = self.context.fee_percent()
        if fee is None and self.context.add_keys is not None:
            return Decimal(0)
        return fee

    # -- drawing --------------------------------------------------------------------------

    def _draw(self) -> None:
        check = self.check
        if check is None:
            return
        typed = {
            "amount": self.query_one("#amount", Input).value,
            "price": self.query_one("#price", Input).value,
        }
        lines = self._funds_line()
        for field in ("order", "amount", "price", "expiry"):
            message = check.message(field, typed.get(field))
            if message is not None:
                lines.append(f"\u2716 {message}\n", style="bold red")
        if self.breaches:
            mark, style = ("\u26a0", "bold yellow") if self.live else ("\u2716", "bold red")
            for breach in self.breaches:
                lines.append(f"{mark} {breach.key}: {breach.message}\n", style=style)
            what = "LIVE asks you to type override" if self.live else "refused"
            lines.append(
                f"  outside the guards: {what}; change them in {self.breaches[0].source}\n",
                style="dim",
            )
        if check.amount_note and check.amount is not None:
            places = amount_decimals(
                self.context.market, self.kind, self.side, self.amount_in_quote
            )
            lines.append(f"= {format_decimal(check.amount, places)} ({check.amount_note})\n")
        blocked = self.context.blocked()
        if blocked:
            lines.append(f"\u23f8 new orders wait: {blocked}\n", style="bold yellow")
        lines.rstrip()
        self.query_one("#ticket-problems", Static).update(lines)
        self.query_one("#ticket-preview", Static).update(self._preview_text(check))
        self.query_one("#ticket-hint", Static).update(self._hint())

    def _funds_line(self) -> Text:
        """What the order can spend from, and the fee it would pay as a taker."""
        market, context = self.context.market, self.context
        funds = context.funds()
        if self.side is Side.BUY:
            available, currency, places = funds.quote, market.quote, market.quote_decimals
        else:
            available, currency, places = funds.base, market.base, market.base_decimals
        text = Text(style="dim")
        if available is not None:
            text.append(f"available {format_decimal(available, places)} {currency}")
        fee = context.fee_percent()
        if fee is not None:
            text.append(f"  \u00b7  taker fee {plain(fee)}%")
        text.append("\n")
        return text

    def _preview_text(self, check: TicketCheck) -> Text:
        return preview_text(check, self.context.market, self.context.fee_percent() is not None)

    def _hint(self) -> Text:
        if self.context.add_keys is not None:
            text = Text()
            text.append(" WATCH ONLY ", style="bold reverse yellow")
            text.append(f" no SEND without API keys: add them with {self.context.add_keys}")
            text.append("\ntab next field \u00b7 \u2190\u2192 change \u00b7 esc close", style="dim")
            return text
        if self.confirming:
            request = self.check.request if self.check else None
            live = self.context.env == "live"
            text = Text()
            text.append(
                f" {'LIVE ' if live else ''}SEND? ",
                style="bold reverse red" if live else "bold reverse",
            )
            if request is not None:
                text.append(f" {self.describe(request)}")
            if self.exact:
                text.append("\npreview walked on the order-by-order book", style="dim")
            if self.breaches:  # listed above; one line, so it fits at 80x24
                text.append(
                    f"\ntype {OVERRIDE_WORD} + enter to send anyway \u00b7 esc back",
                    style="bold red",
                )
                return text
            text.append("\nenter or y sends \u00b7 esc back", style="dim")
            return text
        return Text(
            "enter review \u00b7 tab next field \u00b7 \u2190\u2192 change \u00b7 esc close",
            style="dim",
        )

    def describe(self, request: OrderRequest) -> str:
        """One line a trader reads back before sending: 'BUY 0.5 BTC at 97000.00 USD limit GTC'."""
        market = self.context.market
        currency = market.quote if request.in_quote else market.base
        what = f"{request.side.value.upper()} {plain(request.amount)} {currency}"
        if request.kind is OrderKind.LIMIT:
            assert request.price is not None
            price = format_decimal(request.price, market.quote_decimals)
            tif = {v: k for k, v in _TIFS}[request.tif]
            return f"{what} at {price} {market.quote} limit {tif}"
        return f"{what} {request.kind.value}"

    # -- steps ----------------------------------------------------------------------------

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "override":
            self._override(event.value)
            return
        self.action_review()

    def action_review(self) -> None:
        """Enter in the form: confirm step (or send at once when it is off)."""
        self.evaluate()
        check = self.check
        if check is None or check.request is None:
            self.app.bell()
            return
        if self.context.add_keys is not None:
            self.notify(
                f"Watch only: nothing is sent without API keys; add them with "
                f"{self.context.add_keys}",
                severity="warning",
            )
            return
        if self.context.blocked():
            self.notify(f"New orders wait: {self.context.blocked()}", severity="warning")
            return
        if self.breaches and not self.live:
            self._refuse()
            return
        if self.context.confirm or self.live:
            self.confirming = True
            for widget in self.query(Input):
                widget.disabled = True
            for choice in self.query(Choice):
                choice.can_focus = False
            self.query_one("#ticket").add_class("-confirming")
            self.set_focus(None)
            if self.breaches:
                self._ask_override()
            self._draw()
            if self.context.exact_book is not None and check.taker_preview is not None:
                self.run_worker(self._exact_preview(), exclusive=True, group="exact")
            return
        self._send()

    async def _exact_preview(self) -> None:
        """Redo the confirm step's preview on a per-order snapshot: the exchange charges
        fees per maker order, which the aggregated live book cannot tell apart."""
        assert self.context.exact_book is not None
        snapshot = await self.context.exact_book()
        if snapshot is None or not self.confirming:
            return
        context = self.context
        exact = evaluate(
            self.ticket_input(),
            book=snapshot,
            funds=context.funds(),
            fee_percent=context.fee_percent(),
            now_ms=context.now_ms(),
        )
        if exact.request == (self.check.request if self.check else None):
            self.check = exact
            self.exact = True
            found = self._breaches(exact, snapshot)
            if found and not self.live:
                self.action_back()  # the exact walk found it outside a guard: refused
                self._refuse(found)
                return
            self.breaches = found
            if found:
                self._ask_override()
            self._draw()

    def action_send(self) -> None:
        if self.confirming:
            self._send()

    def action_enter(self) -> None:
        """Enter outside the text fields (on a choice, or in the confirm step)."""
        if self.confirming:
            self._send()
        else:
            self.action_review()

    def _refuse(self, breaches: tuple[Breach, ...] | None = None) -> None:
        """Outside LIVE: an order outside a guard is not sent, and the trader is told why."""
        self.app.bell()
        keys = ", ".join(b.key for b in breaches or self.breaches)
        self.notify(f"Refused, outside a guard: {keys}", severity="error", timeout=10)

    def _ask_override(self) -> None:
        """LIVE's extra step for an order outside a guard: a field to type the word in."""
        row = self.query_one("#override-row")
        if row.display:
            return
        row.display = True
        field = self.query_one("#override", Input)
        field.value = ""
        field.disabled = False
        field.focus()

    def _override(self, typed: str) -> None:
        """Enter in the override field: send outside the guards shown, if the word is right."""
        if not self.confirming:
            return
        if self.breaches and typed.strip().lower() != OVERRIDE_WORD:
            self.app.bell()
            self.notify(f"Type {OVERRIDE_WORD} to send outside the guards", severity="warning")
            return
        self._send(accepted=frozenset(b.guard for b in self.breaches))

    def _send(self, accepted: frozenset[Guard] = frozenset()) -> None:
        check = self.check
        if check is None or check.request is None:
            return
        if self.breaches and not (self.live and {b.guard for b in self.breaches} <= accepted):
            # Enter or y on an order outside a guard: never a silent pass
            self.app.bell()
            self.notify(
                f"Outside a guard: type {OVERRIDE_WORD} and press enter to send it anyway"
                if self.live
                else "Refused: outside a guard",
                severity="warning",
            )
            return
        result = TicketResult(check.request, journal_preview(check), self.amend_of, accepted)
        self.dismiss(result)

    def action_back(self) -> None:
        if not self.confirming:
            self.dismiss(None)
            return
        self.confirming = False
        self.exact = False
        self.query_one("#override-row").display = False
        for widget in self.query(Input):
            widget.disabled = False
        for choice in self.query(Choice):
            choice.can_focus = True
        self.query_one("#ticket").remove_class("-confirming")
        self.query_one("#amount", Input).focus()
        self.evaluate()
