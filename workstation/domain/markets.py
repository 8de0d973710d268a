"""Market rules: what a Bitstamp pair allows, and whether an order fits them.

A ``Market`` holds the per-pair facts Bitstamp publishes in ``GET /api/v2/markets/``
(reference 3.6): decimals for amounts and prices, the minimum order value in the quote
currency, and whether trading and market/instant orders are enabled. ``validate_order``
checks an order as the trader typed it (text, not numbers) and returns every problem at
once, in words fit for the order ticket, so the UI never has to send an order just to learn
it breaks a rule Bitstamp would reject (reference 4.3 and the 400.0xx codes in section 6).

Pure: no I/O, no wire formats (those live in ``workstation.bitstamp.markets``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_UP, Decimal

from workstation.domain.common import Side
from workstation.domain.numbers import (
    NumberFormatError,
    decimal_places,
    format_decimal,
    parse_decimal,
    plain,
    quantum,
)
from workstation.domain.order_vocabulary import OrderKind

__all__ = [
    "PRICE_BAND",
    "Market",
    "Problem",
    "amount_currency",
    "amount_decimals",
    "amount_in_quote_currency",
    "parse_minimum_order",
    "validate_order",
]

#: Bitstamp rejects a limit price more than 20 % away from the market price (reference 4.3,
#: "Price is more than 20% above market price."; response code 400.021).
PRICE_BAND = Decimal("0.20")

_CURRENCY = re.compile(r"[A-Z0-9]{1,16}", re.ASCII)

#: Rounds a value to a number of decimals and formats it, for suggestions.
_Rounder = Callable[[Decimal, int], str]


@dataclass(frozen=True, slots=True)
class Market:
    """One trading pair and its rules, as ``GET /api/v2/markets/`` describes it (ref. 3.6).

    Attributes:
        symbol: the lowercase id used in URLs and channels (``"btcusd"``).
        base: the currency bought or sold (``"BTC"``).
        quote: the currency prices are in (``"USD"``; Bitstamp's "counter" currency).
        base_decimals: decimals allowed in an amount of ``base``.
        quote_decimals: decimals allowed in a price (Bitstamp's ``counter_decimals``).
        instant_quote_decimals: decimals allowed in an instant order amount given in the quote
            currency (``instant_order_counter_decimals``).
        minimum_order_value: smallest order value, in ``quote``.
        trading_enabled: ``trading == "Enabled"``.
        instant_and_market_enabled: ``instant_and_market_orders == "Enabled"``.
        description: ``"Bitcoin / U.S. dollar"``.
        market_type: ``"SPOT"`` (or ``"PERPETUAL"`` for derivatives, which we only list).
    """

    symbol: str
    base: str
    quote: str
    base_decimals: int
    quote_decimals: int
    instant_quote_decimals: int
    minimum_order_value: Decimal
    trading_enabled: bool
    instant_and_market_enabled: bool
    description: str
    market_type: str = "SPOT"

    def __post_init__(self) -> None:
        # Catch nonsense at construction, so a bad row never reaches the validator.
        for label, text in (("symbol", self.symbol), ("base", self.base), ("quote", self.quote)):
            if not text:
                raise ValueError(f"market {label} is empty")
        for label, places in (
            ("base_decimals", self.base_decimals),
            ("quote_decimals", self.quote_decimals),
            ("instant_quote_decimals", self.instant_quote_decimals),
        ):
            if isinstance(places, bool) or not isinstance(places, int) or places < 0:
                raise ValueError(f"{self.symbol}: {label} must be a whole number >= 0")
        value = self.minimum_order_value
        if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
            raise ValueError(f"{self.symbol}: minimum_order_value must be a Decimal >= 0")

    @property
    def name(self) -> str:
        """The display name traders know: ``"BTC/USD"``."""
        return f"{self.base}/{self.quote}"

    @property
    def tick(self) -> Decimal:
        """The smallest price step: ``0.01`` for 2 quote decimals."""
        return quantum(self.quote_decimals)

    @property
    def lot(self) -> Decimal:
        """The smallest amount step: ``0.00000001`` for 8 base decimals."""
        return quantum(self.base_decimals)


def parse_minimum_order(text: str) -> tuple[Decimal, str]:
    """Split the legacy ``minimum_order`` text (``"20.0 USD"``, ref. 3.7) into value and currency.

    Strict: exactly one space between a plain decimal number and an upper-case currency code.

    Raises:
        ValueError: with a message that quotes the text and the expected form.
    """
    if not isinstance(text, str):
        raise ValueError(f"minimum order must be text like '20.0 USD', not {type(text).__name__}")
    parts = text.split(" ")
    if len(parts) != 2:
        raise ValueError(f"minimum order must look like '20.0 USD', not {text!r}")
    number, currency = parts
    try:
        value = parse_decimal(number, field="minimum order")
    except NumberFormatError as exc:
        raise ValueError(f"{exc} (in {text!r})") from None
    if _CURRENCY.fullmatch(currency) is None:
        raise ValueError(
            f"minimum order currency must be an upper-case code like 'USD', not {currency!r}"
        )
    return value, currency


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason an order breaks a market rule.

    Attributes:
        field: what to fix: ``"amount"``, ``"price"`` or ``"order"`` (the order as a whole).
        message: a sentence fit to show a trader, starting with the field's name.
        suggestion: a value the field could take instead (text, formatted for the market), or
            ``None`` when there is no obvious fix.
    """

    field: str
    message: str
    suggestion: str | None = None


def amount_in_quote_currency(kind: OrderKind, side: Side, amount_in_quote: bool = False) -> bool:
    """Whether the amount is in the quote currency: instant buys, and instant sells on request."""
    return kind is OrderKind.INSTANT and (side is Side.BUY or amount_in_quote)


def amount_decimals(
    market: Market, kind: OrderKind, side: Side, amount_in_quote: bool = False
) -> int:
    """Decimals allowed in the amount of such an order on ``market``."""
    if amount_in_quote_currency(kind, side, amount_in_quote):
        return market.instant_quote_decimals
    return market.base_decimals


def amount_currency(
    market: Market, kind: OrderKind, side: Side, amount_in_quote: bool = False
) -> str:
    """The currency the amount of such an order is in (for the ticket's label)."""
    if amount_in_quote_currency(kind, side, amount_in_quote):
        return market.quote
    return market.base


def validate_order(
    market: Market,
    *,
    kind: OrderKind,
    side: Side,
    amount: str,
    price: str | None = None,
    amount_in_quote: bool = False,
    reference_price: Decimal | None = None,
) -> list[Problem]:
    """Every way the order breaks ``market``'s rules; ``[]`` when Bitstamp should accept it.

    Never raises: bad text becomes a Problem with ``parse_decimal``'s message. Checks, in
    this order: market enabled, amount (syntax, > 0, decimals), price for limit orders
    (required, syntax, > 0, decimals, 20 % band around ``reference_price``), then the
    minimum order value.

    Args:
        market: the pair's rules.
        kind: limit, market or instant.
        side: buy or sell.
        amount: as typed. In the base currency, except instant buys and instant sells with
            ``amount_in_quote`` (then in the quote currency, with ``instant_quote_decimals``).
        price: as typed; required for limit orders and ignored for market and instant orders
            (Bitstamp takes no price for those, reference 4.3).
        amount_in_quote: instant sell of a quote amount (Bitstamp's ``amount_in_counter``);
            only meaningful for instant orders.
        reference_price: the current market price (last trade or mid). Enables the price band
            for limit orders and the minimum value check for orders sized in the base
            currency without a price (market, instant sell); those checks are skipped without it.
    """
    problems: list[Problem] = []
    name = market.name

    if not market.trading_enabled:
        problems.append(Problem("order", f"trading is disabled on {name}"))
    if kind is not OrderKind.LIMIT and not market.instant_and_market_enabled:
        problems.append(Problem("order", f"market and instant orders are disabled on {name}"))
    if amount_in_quote and kind is not OrderKind.INSTANT:
        problems.append(
            Problem("order", f"only instant orders can take the amount in {market.quote}")
        )

    in_quote = amount_in_quote_currency(kind, side, amount_in_quote)
    places = amount_decimals(market, kind, side, amount_in_quote)
    amount_value = _check_number(problems, "amount", amount, places, name, _toward_zero)

    price_value: Decimal | None = None
    if kind is OrderKind.LIMIT:
        if price is None:
            problems.append(Problem("price", "price is required for a limit order"))
        else:
            rounding = _toward_zero if side is Side.BUY else _away_from_zero
            price_value = _check_number(
                problems, "price", price, market.quote_decimals, name, rounding
            )
        if price_value is not None and _usable(reference_price):
            _check_band(problems, market, price_value, reference_price)

    _check_minimum(problems, market, kind, in_quote, amount_value, price_value, reference_price)
    return problems


def _usable(reference: Decimal | None) -> bool:
    return reference is not None and reference.is_finite() and reference > 0


def _toward_zero(value: Decimal, places: int) -> str:
    """Round down, but never to zero: a suggestion of 0 is no suggestion."""
    text = format_decimal(value, places, rounding=ROUND_DOWN)
    if Decimal(text).is_zero():
        return format_decimal(value, places, rounding=ROUND_UP)
    return text


def _away_from_zero(value: Decimal, places: int) -> str:
    return format_decimal(value, places, rounding=ROUND_UP)


def _check_number(
    problems: list[Problem],
    field: str,
    text: str,
    places: int,
    market_name: str,
    suggest: _Rounder,
) -> Decimal | None:
    """Parse ``text`` and check it is positive with at most ``places`` decimals.

    Returns the value when it parsed and is positive (even with too many decimals, so the
    later checks still run), else ``None``.

    The suggestion rounds so the order never gets worse for the trader: amounts down (never
    more than intended or than the balance), buy prices down and sell prices up.
    """
    try:
        value = parse_decimal(text, field=field)
    except NumberFormatError as exc:
        problems.append(Problem(field, str(exc)))
        return None
    if value.is_zero():
        problems.append(Problem(field, f"{field} must be greater than zero"))
        return None
    found = decimal_places(value)
    if found > places:
        problems.append(
            Problem(
                field,
                f"{field} has {_count(found, 'decimal')}; {market_name} allows {places}",
                suggest(value, places),
            )
        )
    return value


def _check_band(
    problems: list[Problem],
    market: Market,
    price: Decimal,
    reference: Decimal | None,
) -> None:
    """Bitstamp's 20 % band around the market price (reference 4.3, code 400.021)."""
    assert reference is not None
    percent = plain(PRICE_BAND * 100)
    high = reference * (1 + PRICE_BAND)
    low = reference * (1 - PRICE_BAND)
    # Suggest the band edge rounded inward, so the suggestion itself is inside the band.
    if price > high:
        problems.append(
            Problem(
                "price",
                f"price is more than {percent}% above the market price",
                format_decimal(high, market.quote_decimals, rounding=ROUND_DOWN),
            )
        )
    elif price < low:
        problems.append(
            Problem(
                "price",
                f"price is more than {percent}% below the market price",
                format_decimal(low, market.quote_decimals, rounding=ROUND_UP),
            )
        )


def _check_minimum(
    problems: list[Problem],
    market: Market,
    kind: OrderKind,
    in_quote: bool,
    amount: Decimal | None,
    price: Decimal | None,
    reference: Decimal | None,
) -> None:
    """Order value in the quote currency against ``minimum_order_value`` (code 400.020)."""
    if amount is None or market.minimum_order_value.is_zero():
        return
    if in_quote:
        value = amount
    elif kind is OrderKind.LIMIT:
        if price is None:
            return
        value = amount * price
    elif _usable(reference):
        assert reference is not None
        value = amount * reference
    else:
        return  # a base amount with no price to value it at: Bitstamp will judge
    if value < market.minimum_order_value:
        # Round the shown value down so "9.999" never reads as "10.00 is below 10".
        shown = format_decimal(value, market.quote_decimals, rounding=ROUND_DOWN)
        problems.append(
            Problem(
                "order",
                f"order value {shown} {market.quote} is below the {market.name} minimum of "
                f"{plain(market.minimum_order_value)} {market.quote}",
            )
        )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
