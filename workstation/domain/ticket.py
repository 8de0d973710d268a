"""The order ticket's brain: the trader's text in, an order (or the reasons there is none) out.

Pure, so it can run on every keystroke and every book frame the ticket shows, and be tested
without a screen. ``evaluate`` turns what was typed into an :class:`OrderRequest`, with every
problem at once (market rules from ``markets.validate_order``, the funds the order would hold,
a GTD expiry), and the cost preview walked from the live book.

Amounts may be typed as a number, as a share of what is available (``25%``), or ``max``. A
share is of the balance the order spends from (a buy's quote, a sell's base), and becomes
the largest order whose hold fits it, walked through the book for market and instant orders
(``sizing.py``); the ticket shows what it became.

What the order must hold mirrors the exchange (reference 4.3, 6; ``sim/admission.py``):
``sizing.buy_hold`` for buys, the base they sell for sells. Every number is handled with
contexts as wide as the values (``numbers.round_to``, ``walk.EXACT``): no text typed in any
field makes ``evaluate`` raise.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_UP, Decimal

from .book_reader import BookReader
from .common import Side
from .market_data import BookSnapshot
from .markets import Market, Problem, amount_decimals, amount_in_quote_currency, validate_order
from .numbers import MAX_NUMBER_LENGTH, format_decimal, parse_decimal
from .order_request import OrderRequest
from .order_vocabulary import OrderKind, TimeInForce
from .preview import LimitPreview, Preview, preview_limit, preview_market, taker_rows
from .sizing import buy_hold, largest_order
from .walk import EXACT

__all__ = ["Funds", "TicketCheck", "TicketInput", "evaluate", "parse_expiry"]

_HUNDRED = Decimal(100)
_SHARE = re.compile(r"(?P<number>[0-9]+(?:\.[0-9]+)?)\s?%", re.ASCII)
_RELATIVE = re.compile(r"\+(?P<count>[0-9]{1,4})(?P<unit>[mhd])", re.ASCII)
_UNIT_S = {"m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True, slots=True)
class TicketInput:
    """What the ticket's fields hold, as typed."""

    market: Market
    side: Side
    kind: OrderKind
    amount: str
    price: str = ""
    tif: TimeInForce = TimeInForce.GTC
    expiry: str = ""
    amount_in_quote: bool = False


@dataclass(frozen=True, slots=True)
class Funds:
    """What the account can spend now, per side of the pair; None when not known yet."""

    base: Decimal | None = None
    quote: Decimal | None = None


@dataclass(frozen=True, slots=True)
class TicketCheck:
    """The ticket's verdict.

    Attributes:
        request: the order to send; None while any problem stands.
        problems: every reason it cannot be sent, field by field.
        amount: the amount as resolved (after ``25%`` or ``max``); None if unreadable.
        amount_note: how a share was resolved, e.g. "25% of 1,000.00 USD"; None otherwise.
        price: the limit, parsed; None for market and instant orders or if unreadable.
        preview: what taking liquidity would do (market and instant orders).
        limit_preview: a limit order's immediate part and what rests or is cancelled.
        holds: what the order would hold, as (amount, currency); None if unknown.
    """

    request: OrderRequest | None
    problems: tuple[Problem, ...]
    amount: Decimal | None = None
    amount_note: str | None = None
    price: Decimal | None = None
    preview: Preview | None = None
    limit_preview: LimitPreview | None = None
    holds: tuple[Decimal, str] | None = None

    def message(self, field: str, typed: str | None = None) -> str | None:
        """The first problem of ``field`` as one line, with the rounding it would need:
        "amount has 7 decimals; BTC/USD allows 6: 0.0004631 -> 0.000463"."""
        for problem in self.problems:
            if problem.field != field:
                continue
            if problem.suggestion is None:
                return problem.message
            if typed:
                return f"{problem.message}: {typed.strip()} -> {problem.suggestion}"
            return f"{problem.message} (use {problem.suggestion})"
        return None

    @property
    def taker_preview(self) -> Preview | None:
        """The part that would trade at once, whatever the kind."""
        if self.limit_preview is not None:
            return self.limit_preview.immediate
        return self.preview


def parse_expiry(text: str, now_ms: int) -> int:
    """A GTD expiry: ``+30m``, ``+4h``, ``+2d`` from now, or ``YYYY-MM-DD HH:MM`` in UTC.

    Returns Unix milliseconds. Raises ValueError with a message fit for the trader.
    """
    if (relative := _RELATIVE.fullmatch(text)) is not None:
        seconds = int(relative["count"]) * _UNIT_S[relative["unit"]]
        expire_ms = now_ms + seconds * 1000
    else:
        try:
            when = dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=dt.UTC)
        except ValueError:
            raise ValueError(
                f"expiry must be like +30m, +4h, +2d or 2026-12-31 18:00 (UTC), not {text!r}"
            ) from None
        expire_ms = int(when.timestamp()) * 1000
    if expire_ms <= now_ms:
        raise ValueError("expiry must be in the future")
    return expire_ms


def evaluate(
    ticket: TicketInput,
    *,
    book: BookReader | BookSnapshot | None,
    funds: Funds,
    fee_percent: Decimal | None,
    now_ms: int,
) -> TicketCheck:
    """Check ``ticket`` against the market's rules, the book and the funds; never raises.

    ``book`` is the live book while the trader types; the confirm step passes a per-order
    snapshot (``group=2``), with which the preview's value and fee are the exchange's own
    to the last decimal (``preview.py``)."""
    market, side, kind = ticket.market, ticket.side, ticket.kind
    fee = fee_percent if fee_percent is not None else Decimal(0)
    best_bid, best_ask = _touches(book)
    mid = (best_bid + best_ask) / 2 if best_bid is not None and best_ask is not None else None
    price_text = ticket.price.strip() if kind is OrderKind.LIMIT else None
    price_hint = _price_hint(price_text, best_ask if side is Side.BUY else best_bid)

    amount_text, note, share_problem = _resolve_share(ticket, funds, price_hint, fee, book)
    if share_problem is not None:
        return TicketCheck(None, (share_problem,), amount_note=note)
    problems = validate_order(
        market,
        kind=kind,
        side=side,
        amount=amount_text,
        price=price_text,
        amount_in_quote=ticket.amount_in_quote,
        reference_price=mid,
    )
    amount = _number(amount_text) if not _has(problems, "amount") else None
    price = _number(price_text) if price_text and not _has(problems, "price") else None

    expire_ms = None
    if kind is OrderKind.LIMIT and ticket.tif is TimeInForce.GTD:
        try:
            expire_ms = parse_expiry(ticket.expiry.strip(), now_ms)
        except ValueError as error:
            problems.append(Problem("expiry", str(error)))

    preview = limit_preview = None
    if amount is not None and book is not None and fee_percent is not None:
        preview, limit_preview = _previews(ticket, book, amount, price, fee)
    holds = _holds(ticket, amount, price, fee, preview)
    touch = best_ask if side is Side.BUY else best_bid
    if book is not None and kind is not OrderKind.LIMIT and touch is None:
        side_name = "ask" if side is Side.BUY else "bid"
        problems.append(Problem("order", f"no {side_name}s on the book: nothing to trade against"))
    _check_funds(problems, market, side, holds, funds)

    request = None
    if not problems and amount is not None:
        request = OrderRequest(
            market.symbol,
            side,
            kind,
            amount,
            price,
            ticket.tif if kind is OrderKind.LIMIT else TimeInForce.GTC,
            expire_ms,
            ticket.amount_in_quote,
        )
    return TicketCheck(request, tuple(problems), amount, note, price, preview, limit_preview, holds)


# -- pieces ----------------------------------------------------------------------------------


def _touches(book: BookReader | BookSnapshot | None) -> tuple[Decimal | None, Decimal | None]:
    if book is None:
        return None, None
    if not isinstance(book, BookSnapshot):
        return book.best_bid(), book.best_ask()
    return (book.bids[0][0] if book.bids else None), (book.asks[0][0] if book.asks else None)


def _number(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        return parse_decimal(text)
    except ValueError:
        return None


def _has(problems: list[Problem], field: str) -> bool:
    return any(p.field == field for p in problems)


def _price_hint(price_text: str | None, touch: Decimal | None) -> Decimal | None:
    """The price a share of the quote balance is converted at: the limit, else the touch."""
    price = _number(price_text) if price_text else None
    return price if price is not None and price > 0 else touch


def _resolve_share(
    ticket: TicketInput,
    funds: Funds,
    price: Decimal | None,
    fee_percent: Decimal,
    book: BookReader | BookSnapshot | None,
) -> tuple[str, str | None, Problem | None]:
    """``25%`` or ``max`` as an amount whose hold fits that share of the balance the order
    spends from (``sizing.largest_order``); other text is returned as typed."""
    text = ticket.amount
    lowered = text.strip().lower()
    if lowered == "max":
        share = _HUNDRED
    elif (match := _SHARE.fullmatch(lowered)) is not None and len(lowered) <= MAX_NUMBER_LENGTH:
        share = Decimal(match["number"])
        if not 0 < share <= _HUNDRED:
            return text, None, Problem("amount", "a share must be above 0% and at most 100%")
    else:
        return text, None, None
    market, side, kind = ticket.market, ticket.side, ticket.kind
    spends_quote = side is Side.BUY
    available = funds.quote if spends_quote else funds.base
    currency = market.quote if spends_quote else market.base
    if available is None:
        return text, None, Problem("amount", f"the {currency} balance is not known yet")
    budget = EXACT.divide(EXACT.multiply(available, share), _HUNDRED)
    rows = None if book is None else taker_rows(book, side)
    amount = largest_order(
        market,
        side,
        kind,
        budget,
        fee_percent=fee_percent,
        price=price,
        rows=rows,
        amount_in_quote=ticket.amount_in_quote,
    )
    if amount is None:
        return text, None, Problem("amount", "no price to size a share of the balance at")
    what = "all" if share == _HUNDRED else f"{share.normalize():f}% of"
    shown = market.quote_decimals if spends_quote else market.base_decimals
    note = f"{what} {format_decimal(available, shown)} {currency} available"
    if amount <= 0:
        return text, note, Problem("amount", f"{note} is too little for an order")
    places = amount_decimals(market, kind, side, ticket.amount_in_quote)
    return format_decimal(amount, places), note, None


def _previews(
    ticket: TicketInput,
    book: BookReader | BookSnapshot,
    amount: Decimal,
    price: Decimal | None,
    fee: Decimal,
) -> tuple[Preview | None, LimitPreview | None]:
    market, side = ticket.market, ticket.side
    try:
        if ticket.kind is OrderKind.LIMIT:
            if price is None:
                return None, None
            return None, preview_limit(
                book, market, side, amount=amount, price=price, fee_percent=fee, tif=ticket.tif
            )
        if amount_in_quote_currency(ticket.kind, side, ticket.amount_in_quote):
            return preview_market(book, market, side, quote_amount=amount, fee_percent=fee), None
        return preview_market(book, market, side, amount=amount, fee_percent=fee), None
    except ValueError:
        return None, None  # a number the rules already flag


def _holds(
    ticket: TicketInput,
    amount: Decimal | None,
    price: Decimal | None,
    fee_percent: Decimal,
    preview: Preview | None,
) -> tuple[Decimal, str] | None:
    """What the exchange would hold for the order, as it reserves it (``sizing.py``)."""
    market, side = ticket.market, ticket.side
    if amount is None:
        return None
    if side is Side.SELL:
        if ticket.kind is OrderKind.INSTANT and ticket.amount_in_quote:
            if preview is None:
                return None
            return preview.filled_amount, market.base
        return amount, market.base
    if ticket.kind is OrderKind.LIMIT:
        if price is None:
            return None
        return buy_hold(market, EXACT.multiply(amount, price), fee_percent), market.quote
    if ticket.kind is OrderKind.INSTANT:
        return buy_hold(market, amount, fee_percent), market.quote
    if preview is None:
        return None
    return buy_hold(market, preview.value, fee_percent), market.quote


def _check_funds(
    problems: list[Problem],
    market: Market,
    side: Side,
    holds: tuple[Decimal, str] | None,
    funds: Funds,
) -> None:
    if holds is None:
        return
    needed, currency = holds
    available = funds.quote if currency == market.quote else funds.base
    if available is None or needed <= available:
        return
    places = market.quote_decimals if currency == market.quote else market.base_decimals
    needed_text = format_decimal(needed, places, rounding=ROUND_UP)
    problems.append(
        Problem(
            "amount",
            f"not enough {currency}: the order needs {needed_text}, "
            f"{format_decimal(available, places, rounding=ROUND_DOWN)} available",
        )
    )
