"""The order ticket's cost preview: what an order of this exact size would do on the book now.

Pure and cheap enough to run on every book frame the ticket shows. ``preview_market`` covers
market orders (base amount) and instant orders (a buy sized in the quote currency; a sell in
base or, with ``quote_amount``, in quote); ``preview_limit`` covers limit orders with their
flags (reference 4.3): the part that would execute at once is previewed like a market order,
the rest rests (GTC, daily, GTD), is cancelled (IOC), or the whole order is cancelled
(FOK not covered, post-only that would cross).

Every price, amount and sum of money is exact ``Decimal``; the walk and the fee rule are the
exchange's own (``walk.py`` says where they come from). Ratios are rounded: slippage to
0.01 bp, the share of visible depth to 1e-6, the average price to 40 significant digits
(``walk.average_price``).

The book may be the live aggregated book (a ``BookReader``) or a ``BookSnapshot``. Fees are
charged per fill, i.e. per maker order; an aggregated book hides how many orders a level holds, so
there the booked value and fee assume one fill per level (``fills_known=False``) and can
differ from the charge by half a unit of the booked decimal per extra order at a level
taken. A ``group=2`` snapshot (rows per order, with ids) makes them exact.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from .book_reader import BookReader
from .common import Side
from .market_data import BookSnapshot
from .markets import Market
from .numbers import format_decimal, from_units, plain
from .order_vocabulary import TimeInForce
from .walk import (
    EXACT,
    Row,
    Walk,
    average_price,
    booking_places,
    charge,
    fee_rate,
    walk_amount,
    walk_quote,
)

__all__ = [
    "LABELS",
    "LimitPreview",
    "Preview",
    "preview_limit",
    "preview_market",
    "summary",
    "taker_rows",
]

ZERO = Decimal(0)
_BPS = Decimal("0.01")
_SHARE = Decimal("0.000001")
_TEN_THOUSAND = Decimal(10_000)

#: What the ticket shows, in this order (see ``summary``).
LABELS = ("Avg price", "Worst", "Slippage", "Fee", "Total")


@dataclass(frozen=True, slots=True)
class Preview:
    """What taking liquidity for an order would do, against the book as it is.

    Attributes:
        side: the order's side.
        filled_amount: base that would trade.
        value: ``sum(price * amount)`` over the fills, exact (quote).
        avg_price: ``value / filled_amount`` (``walk.average_price``); None if nothing fills.
        worst_price: the last price level reached; None if nothing fills.
        best_price: the touch of the side taken (best ask for a buy, best bid for a sell).
        mid: ``(best bid + best ask) / 2``; None with a side empty.
        slippage_vs_best_bps: how much worse than ``best_price`` the average is, in basis
            points (positive = worse for the trader), rounded half-up to 0.01.
        slippage_vs_mid_bps: the same against ``mid``.
        levels_consumed: price levels reached (the last one possibly in part).
        depth_share: ``filled_amount`` over all visible depth of the side taken (0 to 1).
        booked_value: the quote the exchange books: each fill's value rounded half-up to the
            quote's booking decimals, summed.
        fee: the fee at ``fee_percent``, per fill, rounded likewise, summed.
        total: cost of a buy (``booked_value + fee``) or proceeds of a sell
            (``booked_value - fee``): what moves in the quote balance.
        covered: the visible depth covers the whole order (within the limit, for the
            immediate part of a limit order).
        unfilled: what would not trade: base, or quote when ``unfilled_in_quote``.
        unfilled_in_quote: the order was sized in the quote currency.
        fills_known: the book listed single orders, so ``booked_value`` and ``fee`` are the
            exchange's to the last decimal; False on an aggregated book (module docstring).
        takes: ``(price, amount)`` taken per level, best first.
        warning: for the trader when the visible depth does not cover the order, else None.
    """

    side: Side
    filled_amount: Decimal
    value: Decimal
    avg_price: Decimal | None
    worst_price: Decimal | None
    best_price: Decimal | None
    mid: Decimal | None
    slippage_vs_best_bps: Decimal | None
    slippage_vs_mid_bps: Decimal | None
    levels_consumed: int
    depth_share: Decimal | None
    booked_value: Decimal
    fee: Decimal
    total: Decimal
    covered: bool
    unfilled: Decimal
    unfilled_in_quote: bool
    fills_known: bool
    takes: tuple[Row, ...]
    warning: str | None = None


@dataclass(frozen=True, slots=True)
class LimitPreview:
    """A limit order: the part that would execute at once, and what happens to the rest.

    Attributes:
        immediate: the part that would trade on arrival (as a taker, at the resting orders'
            prices, at the taker fee); None when nothing would.
        resting_amount: base that would rest on the book at ``price``.
        resting_value: ``resting_amount * price``, exact.
        cancelled_amount: base cancelled on arrival (IOC rest; whole order when cancelled).
        would_cancel: the whole order would be cancelled without trading (post-only that
            would cross; fill-or-kill that the visible depth does not cover).
        reason: why anything is cancelled, in words for the ticket; None otherwise.
    """

    side: Side
    amount: Decimal
    price: Decimal
    tif: TimeInForce
    immediate: Preview | None
    resting_amount: Decimal
    resting_value: Decimal
    cancelled_amount: Decimal
    would_cancel: bool
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class _View:
    """The side a taker meets, best first, plus the touch of both sides."""

    rows: Iterator[Row]
    visible: Decimal
    best: Decimal | None
    mid: Decimal | None
    per_order: bool


def _view(book: BookReader | BookSnapshot, side: Side) -> _View:
    buy = side is Side.BUY
    if not isinstance(book, BookSnapshot):
        units = book.top_units(Side.SELL if buy else Side.BUY)
        pp, ap = book.price_places, book.amount_places
        rows: Iterator[tuple[Decimal, Decimal]]
        rows = ((from_units(p, pp), from_units(a, ap)) for p, a in units)
        visible = from_units(sum(a for _, a in units), ap)
        bid, ask = book.best_bid(), book.best_ask()
        per_order = False
    else:
        taken = book.asks if buy else book.bids
        rows = iter(taken)
        visible = sum((a for _, a in taken), ZERO)
        bid = book.bids[0][0] if book.bids else None
        ask = book.asks[0][0] if book.asks else None
        per_order = book.bid_order_ids is not None and book.ask_order_ids is not None
    mid = EXACT.divide(bid + ask, 2) if bid is not None and ask is not None else None
    return _View(rows, visible, ask if buy else bid, mid, per_order)


def taker_rows(book: BookReader | BookSnapshot, side: Side) -> Iterator[Row]:
    """The ``(price, amount)`` rows a ``side`` taker meets, best first."""
    return _view(book, side).rows


def preview_market(
    book: BookReader | BookSnapshot,
    market: Market,
    side: Side,
    *,
    amount: Decimal | None = None,
    quote_amount: Decimal | None = None,
    fee_percent: Decimal,
) -> Preview:
    """Preview a market or instant order: a base ``amount``, or a ``quote_amount`` to spend
    (buy) or receive (sell) at most, as the exchange walks it (amounts floored to the lot).

    Args:
        book: the live book or a snapshot (``group=2`` for exact per-order fees).
        market: the pair's rules (lot, currencies).
        side: buy or sell.
        amount: base amount, a positive multiple of the lot.
        quote_amount: quote amount, positive (instant buy; instant sell in quote).
        fee_percent: the account's taker fee in percent (``fees/trading``, reference 4.2).

    Raises:
        ValueError: not exactly one of ``amount`` and ``quote_amount``, or a bad number.
    """
    if (amount is None) == (quote_amount is None):
        raise ValueError("give exactly one of amount and quote_amount")
    fee_rate(fee_percent)  # refuse a bad fee before walking
    view = _view(book, side)
    buy = side is Side.BUY
    if amount is not None:
        _check_step(amount, market.lot, "amount")
        walk = walk_amount(view.rows, amount, buy=buy)
    else:
        assert quote_amount is not None
        if not quote_amount.is_finite() or quote_amount <= 0:
            raise ValueError(f"quote amount must be positive, got {quote_amount}")
        walk = walk_quote(view.rows, quote_amount, lot=market.lot)
    warning = None
    if not walk.covered:
        warning = _shortfall(market, side, walk, amount, quote_amount)
    return _preview(view, market, side, walk, fee_percent, quote_amount is not None, warning)


def preview_limit(
    book: BookReader | BookSnapshot,
    market: Market,
    side: Side,
    *,
    amount: Decimal,
    price: Decimal,
    fee_percent: Decimal,
    tif: TimeInForce | str = TimeInForce.GTC,
    post_only: bool = False,
) -> LimitPreview:
    """Preview a limit order: what executes on arrival and what rests or is cancelled.

    Args:
        amount: base amount, a positive multiple of the lot.
        price: the limit, a positive multiple of the tick.
        fee_percent: the account's taker fee in percent; the immediate part pays it.
        tif: ``TimeInForce`` or its value (``"gtc"``, ``"daily"``, ``"gtd"``, ``"ioc"``,
            ``"fok"``, ``"moc"``).
        post_only: the same as ``tif="moc"`` (Bitstamp's ``moc_order``).

    Raises:
        ValueError: a bad number, an unknown ``tif``, or ``post_only`` with another flag.
    """
    tif = TimeInForce(tif)
    if post_only:
        if tif not in (TimeInForce.GTC, TimeInForce.MOC):
            raise ValueError(f"post-only cannot be combined with {tif.value}")
        tif = TimeInForce.MOC
    _check_step(amount, market.lot, "amount")
    _check_step(price, market.tick, "price")
    fee_rate(fee_percent)
    buy = side is Side.BUY
    view = _view(book, side)

    def cancelled(reason: str) -> LimitPreview:
        return LimitPreview(side, amount, price, tif, None, ZERO, ZERO, amount, True, reason)

    best = view.best
    crosses = best is not None and (best <= price if buy else best >= price)
    if tif is TimeInForce.MOC and crosses:
        assert best is not None
        touch = "ask" if buy else "bid"
        return cancelled(
            f"post-only: it would trade at once against the best {touch} "
            f"{format_decimal(best, market.quote_decimals)}, so the exchange would cancel it"
        )
    walk = walk_amount(view.rows, amount, buy=buy, limit=price)
    if tif is TimeInForce.FOK and not walk.covered:
        return cancelled(
            f"fill-or-kill: only {plain(walk.filled)} of {plain(amount)} {market.base} "
            f"available at {format_decimal(price, market.quote_decimals)} or better; "
            "nothing would execute"
        )
    immediate = None
    if walk.filled:
        immediate = _preview(view, market, side, walk, fee_percent, False, None)
    rest = walk.left
    if tif is TimeInForce.IOC and rest:
        reason = f"immediate-or-cancel: the other {plain(rest)} {market.base} would be cancelled"
        return LimitPreview(side, amount, price, tif, immediate, ZERO, ZERO, rest, False, reason)
    resting_value = EXACT.multiply(rest, price)
    return LimitPreview(side, amount, price, tif, immediate, rest, resting_value, ZERO, False)


def summary(preview: Preview, market: Market) -> tuple[tuple[str, str], ...]:
    """The ticket's lines, ``LABELS`` in order: prices at the market's decimals (the average
    rounded half-even, as the exchange reports it), money at its booked decimals, exact."""
    places = booking_places(market.quote)
    dash = "\N{EM DASH}"
    avg = preview.avg_price
    worst = preview.worst_price
    slip = preview.slippage_vs_best_bps
    mid = preview.slippage_vs_mid_bps
    slippage = dash if slip is None else f"{slip:f} bps"
    if slip is not None and mid is not None:
        slippage += f" ({mid:f} vs mid)"
    return (
        (LABELS[0], dash if avg is None else format_decimal(avg, market.quote_decimals)),
        (LABELS[1], dash if worst is None else format_decimal(worst, market.quote_decimals)),
        (LABELS[2], slippage),
        (LABELS[3], f"{format_decimal(preview.fee, places)} {market.quote}"),
        (LABELS[4], f"{format_decimal(preview.total, places)} {market.quote}"),
    )


# -- internals -------------------------------------------------------------------------------


def _preview(
    view: _View,
    market: Market,
    side: Side,
    walk: Walk,
    fee_percent: Decimal,
    in_quote: bool,
    warning: str | None,
) -> Preview:
    buy = side is Side.BUY
    avg = average_price(walk.value, walk.filled)
    booked, fee = charge(walk.fills, fee_percent, booking_places(market.quote))
    share = None
    if view.visible:
        share = EXACT.divide(walk.filled, view.visible).quantize(_SHARE, ROUND_HALF_UP)
    return Preview(
        side=side,
        filled_amount=walk.filled,
        value=walk.value,
        avg_price=avg,
        worst_price=walk.worst_price,
        best_price=view.best,
        mid=view.mid,
        slippage_vs_best_bps=_bps(avg, view.best, buy),
        slippage_vs_mid_bps=_bps(avg, view.mid, buy),
        levels_consumed=len(walk.levels),
        depth_share=share,
        booked_value=booked,
        fee=fee,
        total=booked + fee if buy else booked - fee,
        covered=walk.covered,
        unfilled=walk.left,
        unfilled_in_quote=in_quote,
        fills_known=view.per_order,
        takes=walk.levels,
        warning=warning,
    )


def _bps(avg: Decimal | None, reference: Decimal | None, buy: bool) -> Decimal | None:
    """Basis points the average is worse than ``reference`` (negative: better)."""
    if avg is None or not reference:
        return None
    worse = avg - reference if buy else reference - avg
    return EXACT.divide(worse * _TEN_THOUSAND, reference).quantize(_BPS, ROUND_HALF_UP)


def _shortfall(
    market: Market,
    side: Side,
    walk: Walk,
    amount: Decimal | None,
    quote_amount: Decimal | None,
) -> str:
    if not walk.levels:
        # The exchange's own refusal (reference 4.3).
        wanted = "sell" if side is Side.BUY else "buy"
        return f"No {wanted} orders for currency pair {market.name}"
    if amount is not None:
        return (
            f"visible depth covers only {plain(walk.filled)} of {plain(amount)} "
            f"{market.base}; the rest would not execute"
        )
    assert quote_amount is not None
    got = format_decimal(walk.value, market.quote_decimals, rounding=ROUND_DOWN)
    return (
        f"visible depth fills only {got} of {plain(quote_amount)} {market.quote}; "
        "the rest would not execute"
    )


def _check_step(value: Decimal, step: Decimal, name: str) -> None:
    if not value.is_finite() or value <= 0 or EXACT.remainder(value, step):
        raise ValueError(f"{name} {value} is not a positive multiple of {plain(step)}")
