"""What the matching engine hands its callers: resting orders, fills, executions, previews.

Kept apart from ``engine.py`` because these records travel: the exchange facade turns them
into REST replies and WebSocket events, and the ledger settles ``Fill`` values, without
either needing the matcher itself. Import them from here.

``RestingOrder`` objects are live: the engine mutates ``remaining`` as the order fills. Copy
what you need; a ``Fill`` records ``maker_remaining_after`` for exactly that reason. The
other records are frozen.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Context, Decimal

from workstation.domain.common import Side

__all__ = ["Execution", "Fill", "RestingOrder", "Walk"]

ZERO = Decimal(0)

#: Quote walks multiply and divide; enough digits that a product of a price and an amount is
#: exact. Shared with the engine so an ``Execution``'s value and the matcher's quote
#: accounting use the same arithmetic.
WIDE = Context(prec=80)


@dataclass(slots=True)
class RestingOrder:
    """A limit order on the book. Mutable: ``remaining`` shrinks as it fills.

    ``expire_us`` is set for GTD orders; ``daily`` for orders cancelled at 00:00 UTC.
    """

    order_id: int
    owner: str
    side: Side
    price: Decimal
    remaining: Decimal
    amount_at_create: Decimal
    created_us: int
    client_order_id: str | None = None
    expire_us: int | None = None
    daily: bool = False

    @property
    def filled(self) -> Decimal:
        return self.amount_at_create - self.remaining


@dataclass(frozen=True, slots=True)
class Fill:
    """One trade: a taker against one maker order, at the maker's price."""

    trade_id: int
    price: Decimal
    amount: Decimal
    taker_side: Side
    maker_order_id: int
    taker_order_id: int
    maker_owner: str
    taker_owner: str
    timestamp_us: int
    maker_remaining_after: Decimal

    @property
    def buy_order_id(self) -> int:
        return self.taker_order_id if self.taker_side is Side.BUY else self.maker_order_id

    @property
    def sell_order_id(self) -> int:
        return self.maker_order_id if self.taker_side is Side.BUY else self.taker_order_id

    @property
    def self_trade(self) -> bool:
        return self.maker_owner == self.taker_owner


@dataclass(frozen=True, slots=True)
class Execution:
    """What happened to one submission.

    Attributes:
        order_id: the submitted order's id.
        fills: trades in the order they happened.
        rested: the part left on the book (a live ``RestingOrder``), or ``None``.
        cancelled: base amount neither filled nor rested (IOC remainder, FOK or MOC whole,
            market order leftover). Zero for quote-sized market orders: see ``quote_left``.
        rejected: Bitstamp's error text when the order was refused outright (nothing
            happened, no order exists); ``None`` when it was accepted.
        reason: why an accepted order was (partly) cancelled, for logs and order status.
        quote_left: for quote-sized market orders, the quote amount not spent (or received).
    """

    order_id: int
    fills: tuple[Fill, ...]
    rested: RestingOrder | None
    cancelled: Decimal
    rejected: str | None = None
    reason: str | None = None
    quote_left: Decimal | None = None

    @property
    def filled(self) -> Decimal:
        return sum((f.amount for f in self.fills), ZERO)

    @property
    def value(self) -> Decimal:
        """Quote amount traded: sum of price times amount over the fills, exact."""
        return sum((WIDE.multiply(f.price, f.amount) for f in self.fills), ZERO)

    @property
    def average_price(self) -> Decimal | None:
        filled = self.filled
        return self.value / filled if filled else None


@dataclass(frozen=True, slots=True)
class Walk:
    """Preview of a market order against the current book (nothing changes)."""

    amount: Decimal
    value: Decimal
    worst_price: Decimal | None
    complete: bool

    @property
    def average_price(self) -> Decimal | None:
        return self.value / self.amount if self.amount else None
