"""The guards a careful trader sets: how big an order, how far from mid, how much slippage.

Pure: given one order, its pair's rules, the live book's mid, the walked preview and the
environment's limits, ``breaches`` lists every guard the order is outside of, each naming
the config key that sets it and the file to change it in. The ticket shows them before
anything is sent; the services refuse an order outside a guard unless the trader accepted
that very guard on a LIVE venue's extra confirm step (``services/facade.py``).

- ``max_notional``: the order's value in its quote currency, by quote currency (a pair's
  limit is the one of its quote: ``USD`` covers btcusd and ethusd). A quote with no limit is
  itself a breach: an order nobody sized a limit for is not waved through.
- ``max_amount``: the order's amount in the base currency, by pair; a pair not listed has
  no amount limit (the notional still applies).
- ``price_band_bps``: a limit price this many basis points or more away from the mid.
- ``market_slippage_bps``: a market or instant order whose walked average is this much
  worse than the touch.

A limit order's notional is ``amount * price``; a market or instant order's is what the walk
of the live book fills (an instant order sized in the quote currency: that amount).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from .book_reader import BookReader
from .market_data import BookSnapshot
from .markets import Market
from .numbers import plain
from .order_vocabulary import OrderKind
from .walk import EXACT

if TYPE_CHECKING:  # the guards read these; the config (read at every start) needs neither
    from .order_request import OrderRequest
    from .preview import Preview

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_SOURCE",
    "Breach",
    "Guard",
    "GuardLimits",
    "breaches",
    "deviation_bps",
    "mid_of",
]

_TEN_THOUSAND = Decimal(10_000)
_BPS = Decimal("0.01")

DEFAULT_SOURCE = "the built-in defaults"
"""``GuardLimits.source`` when no config file set them."""


class Guard(enum.Enum):
    """One guard, by the name of its key in an environment's table of the config."""

    MAX_NOTIONAL = "max_notional"
    MAX_AMOUNT = "max_amount"
    PRICE_BAND = "price_band_bps"
    MARKET_SLIPPAGE = "market_slippage_bps"


@dataclass(frozen=True, slots=True)
class GuardLimits:
    """One environment's guards.

    Attributes:
        env: ``sim``, ``sandbox`` or ``live``: the config table they are set in.
        max_notional: the largest order value, by quote currency (upper case).
        max_amount: the largest order amount in the base currency, by pair symbol.
        price_band_bps: how far from the mid a limit price may be, in basis points.
        market_slippage_bps: how much worse than the touch a market or instant order's
            walked average may be, in basis points.
        confirm: the confirm step is shown (never off on live: the config refuses it).
        source: where to change them: the config file's path (or ``DEFAULT_SOURCE``).
    """

    env: str
    max_notional: Mapping[str, Decimal]
    max_amount: Mapping[str, Decimal]
    price_band_bps: Decimal
    market_slippage_bps: Decimal
    confirm: bool = True
    source: str = DEFAULT_SOURCE


@dataclass(frozen=True, slots=True)
class Breach:
    """An order outside one guard.

    Attributes:
        guard: which guard.
        key: the config key that sets it, e.g. ``live.max_notional.USD``.
        message: what is outside and by how much, for the trader.
        source: the file to change ``key`` in.
    """

    guard: Guard
    key: str
    message: str
    source: str = field(default=DEFAULT_SOURCE)

    def __str__(self) -> str:
        return f"{self.message} (guard {self.key}; change it in {self.source})"


def mid_of(book: BookReader | BookSnapshot | None) -> Decimal | None:
    """The middle of the touch the price band is centred on; None without both sides."""
    if book is None:
        return None
    if isinstance(book, BookSnapshot):
        bid = book.bids[0][0] if book.bids else None
        ask = book.asks[0][0] if book.asks else None
    else:
        bid, ask = book.best_bid(), book.best_ask()
    return None if bid is None or ask is None else (bid + ask) / 2


def deviation_bps(price: Decimal, mid: Decimal) -> Decimal:
    """How far ``price`` is from ``mid``, in basis points of the mid (always >= 0), rounded
    up to 0.01: a price just outside a band never rounds back into it."""
    exact = EXACT.divide(EXACT.multiply(abs(price - mid), _TEN_THOUSAND), mid)
    return exact.quantize(_BPS, rounding="ROUND_UP")


def breaches(
    request: OrderRequest,
    market: Market,
    *,
    mid: Decimal | None,
    preview: Preview | None,
    limits: GuardLimits,
) -> tuple[Breach, ...]:
    """Every guard of ``limits`` that ``request`` is outside of, in the order above.

    Args:
        request: the order as it would be sent.
        market: its pair's rules (the quote and base currencies).
        mid: the live book's mid; None without a live book (a limit order then breaches the
            price band: there is nothing to check it against).
        preview: the order's walk of the live book (market and instant orders; a limit
            order's is not used); None without a live book (a market or instant order then
            breaches the slippage guard: its cost is unknown).
        limits: the environment's guards.
    """
    found: list[Breach] = []
    env, source = limits.env, limits.source

    def breach(guard: Guard, key: str, message: str) -> None:
        found.append(Breach(guard, f"{env}.{key}", message, source))

    taker = request.kind is not OrderKind.LIMIT
    walked = preview if taker else None
    notional = _notional(request, walked)
    amount = _base_amount(request, walked)

    quote = market.quote.upper()
    cap = limits.max_notional.get(quote)
    if cap is None:
        breach(
            Guard.MAX_NOTIONAL,
            f"max_notional.{quote}",
            f"no maximum order value is set for {quote}",
        )
    elif notional is not None and notional > cap:
        breach(
            Guard.MAX_NOTIONAL,
            f"max_notional.{quote}",
            f"order value {_money(notional)} {quote} is over the {plain(cap)} {quote} maximum",
        )

    most = limits.max_amount.get(market.symbol)
    if most is not None and amount is not None and amount > most:
        breach(
            Guard.MAX_AMOUNT,
            f"max_amount.{market.symbol}",
            f"amount {plain(amount)} {market.base} is over the {plain(most)} {market.base} "
            f"maximum for {market.name}",
        )

    if request.kind is OrderKind.LIMIT:
        assert request.price is not None
        band = limits.price_band_bps
        if mid is None or mid <= 0:
            breach(
                Guard.PRICE_BAND,
                Guard.PRICE_BAND.value,
                "no live mid price to check the limit price against",
            )
        elif (away := deviation_bps(request.price, mid)) > band:
            side = "above" if request.price > mid else "below"
            breach(
                Guard.PRICE_BAND,
                Guard.PRICE_BAND.value,
                f"price {plain(request.price)} is {plain(away)} bps {side} the mid "
                f"{plain(mid)}; the band is {plain(band)} bps",
            )
    else:
        most_slip = limits.market_slippage_bps
        slip = None if preview is None else preview.slippage_vs_best_bps
        if preview is None or slip is None:
            breach(
                Guard.MARKET_SLIPPAGE,
                Guard.MARKET_SLIPPAGE.value,
                f"no live book to walk: the {request.kind.value} order's slippage is unknown",
            )
        elif slip > most_slip:
            breach(
                Guard.MARKET_SLIPPAGE,
                Guard.MARKET_SLIPPAGE.value,
                f"walked slippage {plain(slip)} bps vs the best price is over the "
                f"{plain(most_slip)} bps market-order protection",
            )
    return tuple(found)


def _notional(request: OrderRequest, preview: Preview | None) -> Decimal | None:
    """The order's value in the quote currency; None when it cannot be known (no walk)."""
    if request.in_quote:
        return request.amount
    if request.kind is OrderKind.LIMIT:
        assert request.price is not None
        return EXACT.multiply(request.amount, request.price)
    return None if preview is None else preview.value


def _base_amount(request: OrderRequest, preview: Preview | None) -> Decimal | None:
    """The order's amount in the base currency; None when it cannot be known (no walk)."""
    if not request.in_quote:
        return request.amount
    return None if preview is None else preview.filled_amount


def _money(value: Decimal) -> str:
    """A value for a message: to the cent when that is exact enough, else as it is."""
    rounded = value.quantize(_BPS, rounding="ROUND_UP") if value >= 1 else value
    return plain(rounded)


#: Defaults a careful trader accepts (docs/decisions.md says why each): the same guards on
#: every venue (practice as you trade), a quarter-ish of a typical account per order.
_NOTIONAL_DEFAULTS: Mapping[str, Decimal] = {
    "USD": Decimal(10_000),
    "EUR": Decimal(10_000),
    "GBP": Decimal(10_000),
    "USDT": Decimal(10_000),
    "USDC": Decimal(10_000),
    "BTC": Decimal("0.1"),
    "ETH": Decimal(3),
}
_AMOUNT_DEFAULTS: Mapping[str, Decimal] = {
    "btcusd": Decimal("0.25"),
    "btceur": Decimal("0.25"),
    "btcgbp": Decimal("0.25"),
    "ethusd": Decimal(5),
    "etheur": Decimal(5),
    "ethbtc": Decimal(5),
}

DEFAULT_LIMITS: Mapping[str, GuardLimits] = {
    env: GuardLimits(
        env=env,
        max_notional=_NOTIONAL_DEFAULTS,
        max_amount=_AMOUNT_DEFAULTS,
        price_band_bps=Decimal(500),
        market_slippage_bps=Decimal(50),
        confirm=True,
    )
    for env in ("sim", "sandbox", "live")
}
"""The built-in guards of each environment, before any config file."""
