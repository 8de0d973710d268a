"""Reading an order request's form fields the way Bitstamp does, with Bitstamp's refusals.

Each refusal is a :class:`SimRejection` carrying the exact body Bitstamp sends (reference 4.3
and section 6): field errors keyed by field name, general ones under ``__all__``, plus the
``response_code``. Validation errors are answered with HTTP 200, as in the recorded traffic
(``{"status": "error", "reason": "Limit too large."}`` came with a 200); every client checks
the body, so this is the tolerant choice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from ..domain.common import Side
from ..domain.markets import Market
from ..domain.numbers import NumberFormatError, decimal_places, parse_decimal
from .digits import read_digits
from .wire.error_bodies import error_body

__all__ = ["OrderForm", "ParsedOrder", "SimRejection", "parse_order_form"]

TRUE = {"True", "true", "1"}
"""Booleans arrive as True, true or 1 (reference section 2)."""
_FLAGS = ("daily_order", "ioc_order", "fok_order", "moc_order", "gtd_order")


class SimRejection(Exception):  # noqa: N818 - it is an answer, not a failure of the simulator
    """A request the exchange refuses; ``body`` is the JSON Bitstamp would send."""

    def __init__(self, body: dict, status: int = 200) -> None:
        super().__init__(str(body.get("reason")))
        self.body = body
        self.status = status

    @classmethod
    def general(cls, message: str, response_code: str | None = None, status: int = 200):
        return cls(error_body({"__all__": [message]}, response_code=response_code), status)

    @classmethod
    def field(cls, name: str, message: str, response_code: str | None = None):
        return cls(error_body({name: [message], "__all__": [""]}, response_code=response_code))


@dataclass(frozen=True, slots=True)
class OrderForm:
    """An order request as it arrived: kind from the path, fields from the form body."""

    kind: str  # "limit" | "market" | "instant"
    side: Side
    market: str
    fields: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class ParsedOrder:
    kind: str
    side: Side
    market: str
    amount: Decimal
    """Base amount; for an instant buy (or sell with amount_in_counter), the quote amount."""
    amount_in_quote: bool
    price: Decimal | None
    tif: str  # "gtc" | "ioc" | "fok" | "moc"
    daily: bool
    expire_ms: int | None
    limit_price: Decimal | None
    client_order_id: str | None


def _number(fields: Mapping[str, str], name: str, places: int, code: str) -> Decimal:
    text = fields.get(name)
    if text is None or text == "":
        raise SimRejection.field(
            name, "This field is required.", "400.005" if name == "amount" else "400.006"
        )
    try:
        value = parse_decimal(text.strip(), field=name)
    except NumberFormatError:
        raise SimRejection.field(
            name, 'Enter a number. Use "." as a decimal point.', code
        ) from None
    if decimal_places(value) > places:
        raise SimRejection.field(
            name, f"Ensure that there are no more than {places} decimal places.", code
        )
    if value <= 0:
        raise SimRejection.field(name, "Ensure this value is greater than 0.", code)
    return value


def parse_order_form(form: OrderForm, market: Market, *, now_ms: int) -> ParsedOrder:
    """Check an order against the market's rules and return it typed, or raise SimRejection.
    ``now_ms`` is the exchange clock, which a GTD order's ``expire_time`` must be after."""
    fields = form.fields
    if not market.trading_enabled:
        raise SimRejection.general("Trading is currently unavailable for this market.", "400.003")
    if form.kind != "limit" and not market.instant_and_market_enabled:
        raise SimRejection.general(
            "Instant and market orders are disabled for this market.", "400.003"
        )
    in_quote = form.kind == "instant" and (
        form.side is Side.BUY or fields.get("amount_in_counter") in TRUE
    )
    places = market.instant_quote_decimals if in_quote else market.base_decimals
    amount = _number(fields, "amount", places, "400.026")
    price = limit_price = None
    tif, daily, expire_ms = "gtc", False, None
    if form.kind == "limit":
        price = _number(fields, "price", market.quote_decimals, "400.041")
        flags = [name for name in _FLAGS if fields.get(name) in TRUE]
        if "limit_price" in fields and fields["limit_price"] != "":
            limit_price = _number(fields, "limit_price", market.quote_decimals, "400.041")
            if flags:
                raise SimRejection.general(
                    "Both limit_price and any optional parameter cannot be set.", "400.025"
                )
            if form.side is Side.BUY and limit_price <= price:
                raise SimRejection.general("Sell if executed price must be higher than buy price.")
            if form.side is Side.SELL and limit_price >= price:
                raise SimRejection.general("Buy if executed price must be lower than sell price.")
        if len(flags) > 1:
            raise SimRejection.general("Only one of the optional parameters can be set.", "400.024")
        flag = flags[0] if flags else None
        tif = {"ioc_order": "ioc", "fok_order": "fok", "moc_order": "moc"}.get(flag or "", "gtc")
        daily = flag == "daily_order"
        if flag == "gtd_order":
            expire_ms = _expire_time(fields.get("expire_time"), now_ms)
    client_order_id = fields.get("client_order_id") or None
    if client_order_id is not None and len(client_order_id) > 180:
        raise SimRejection.field(
            "client_order_id", "Ensure this field has no more than 180 characters."
        )
    return ParsedOrder(
        kind=form.kind,
        side=form.side,
        market=market.symbol,
        amount=amount,
        amount_in_quote=in_quote,
        price=price,
        tif=tif,
        daily=daily,
        expire_ms=expire_ms,
        limit_price=limit_price,
        client_order_id=client_order_id,
    )


def _expire_time(text: str | None, now_ms: int) -> int:
    """A GTD order's expiry in epoch milliseconds; it must be in the future (reference 4.3:
    400.022 missing, 400.023 invalid; the message for a past one is ours, 400.031)."""
    if text is None or text == "":
        raise SimRejection.general("Missing expire_time parameter for GTD order.", "400.022")
    expire_ms = read_digits(text)
    if expire_ms is None:
        raise SimRejection.general("Invalid expire_time parameter.", "400.023")
    if expire_ms <= now_ms:
        raise SimRejection.general("expire_time must be in the future.", "400.031")
    return expire_ms
