"""What the ticket asks the exchange for: one order, already checked against the market.

The ticket (ui) builds it from the trader's text; the trading service (services) sends it. It
says nothing about how it is sent (client_order_id, retries): that is the tracker's business.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .common import Side
from .markets import amount_in_quote_currency
from .order_vocabulary import OrderKind, TimeInForce

__all__ = ["OrderRequest"]


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """One order to place (reference 4.3).

    Attributes:
        market: Bitstamp's symbol, e.g. ``"btcusd"``.
        side: buy or sell.
        kind: limit, market or instant.
        amount: in the base currency, except instant buys and instant sells with
            ``amount_in_quote`` (then in the quote currency).
        price: the limit; required for LIMIT, None otherwise.
        tif: a limit order's flag: GTC (none), DAILY, GTD (with ``expire_ms``), IOC, FOK, MOC
            (post-only). Always GTC for market and instant orders.
        expire_ms: GTD expiry in Unix milliseconds.
        amount_in_quote: an instant sell sized in the quote currency (``amount_in_counter``).
    """

    market: str
    side: Side
    kind: OrderKind
    amount: Decimal
    price: Decimal | None = None
    tif: TimeInForce = TimeInForce.GTC
    expire_ms: int | None = None
    amount_in_quote: bool = False

    def __post_init__(self) -> None:
        if not self.amount.is_finite() or self.amount <= 0:
            raise ValueError(f"amount must be positive, got {self.amount}")
        if self.kind is OrderKind.LIMIT:
            if self.price is None or not self.price.is_finite() or self.price <= 0:
                raise ValueError("a limit order needs a positive price")
        elif self.price is not None or self.tif is not TimeInForce.GTC:
            raise ValueError(f"a {self.kind.value} order takes no price and no time in force")
        if (self.tif is TimeInForce.GTD) != (self.expire_ms is not None):
            raise ValueError("a GTD order needs expire_ms, and only a GTD order takes it")
        if self.amount_in_quote and not (self.kind is OrderKind.INSTANT and self.side is Side.SELL):
            raise ValueError("only an instant sell can be sized in the quote currency")

    @property
    def in_quote(self) -> bool:
        """The amount is in the quote currency (instant buys, instant sells in quote)."""
        return amount_in_quote_currency(self.kind, self.side, self.amount_in_quote)
