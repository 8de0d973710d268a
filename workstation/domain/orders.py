"""What the exchange tells us about our orders: acks, open orders, status, cancels, events, fills.

Plain immutable values, free of wire details (the JSON shapes live in ``workstation.bitstamp``).
Every ``market`` is the lowercase symbol Bitstamp uses in URLs and channel names (``"btcusd"``),
whichever form the payload carried (``"BTC/USD"`` in REST replies, the channel name on the
WebSocket), so REST answers and stream events about one order compare directly.

Times: REST replies carry a ``datetime`` (UTC, second or microsecond precision) and become
timezone-aware ``datetime`` values in UTC; stream frames carry ``microtimestamp`` and keep it as
integer microseconds since the epoch (``timestamp_us``), which is exact and cheap to compare.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from decimal import Decimal

from workstation.domain.common import Side
from workstation.domain.order_vocabulary import Fill

__all__ = [
    "CancelAllResult",
    "CancelResult",
    "MyTrade",
    "OpenOrder",
    "OrderAck",
    "OrderEvent",
    "OrderEventKind",
    "OrderState",
    "OrderStatus",
    "ReplaceResult",
]


class OrderState(enum.Enum):
    """An order's state as ``order_status`` reports it (reference section 4.5).

    The values are Bitstamp's status texts. ``"In Queue"`` is read as OPEN (ccxt does the same);
    ``"Cancel pending"`` (a cancel in flight, section 4.6) has its own member.
    """

    OPEN = "Open"
    FINISHED = "Finished"
    EXPIRED = "Expired"
    CANCELED = "Canceled"
    CANCEL_PENDING = "Cancel pending"

    @classmethod
    def from_wire(cls, text: str) -> OrderState:
        """Map a status text to a state; raises ValueError for a status Bitstamp never sends."""
        if text == "In Queue":
            return cls.OPEN
        try:
            return cls(text)
        except ValueError:
            raise ValueError(f"unknown order status {text!r}") from None

    @property
    def is_final(self) -> bool:
        """True once the order can no longer trade (finished, expired or canceled)."""
        return self in (OrderState.FINISHED, OrderState.EXPIRED, OrderState.CANCELED)


@dataclass(frozen=True, slots=True)
class OrderAck:
    """The exchange accepted a buy or sell (reference 4.3): the order exists from now on."""

    order_id: int
    market: str
    datetime: dt.datetime
    side: Side
    price: Decimal
    amount: Decimal
    client_order_id: str | None = None


@dataclass(frozen=True, slots=True)
class OpenOrder:
    """One resting order from ``open_orders`` (reference 4.4); ``amount`` is what remains."""

    order_id: int
    datetime: dt.datetime
    side: Side
    price: Decimal
    amount: Decimal
    market: str
    amount_at_create: Decimal | None = None
    limit_price: Decimal | None = None
    client_order_id: str | None = None


@dataclass(frozen=True, slots=True)
class OrderStatus:
    """An order looked up by id or client order id (reference 4.5).

    ``amount_remaining`` is None when the reply omits it (older payloads); ``transactions`` is
    empty when the request asked to omit them.
    """

    order_id: int
    datetime: dt.datetime
    side: Side
    state: OrderState
    market: str
    amount_remaining: Decimal | None
    client_order_id: str | None = None
    transactions: tuple[Fill, ...] = ()

    @property
    def filled(self) -> Decimal:
        """Base amount traded so far, summed over the listed transactions."""
        return sum((tx.base_amount for tx in self.transactions), Decimal(0))


@dataclass(frozen=True, slots=True)
class CancelResult:
    """A cancel reply (reference 4.6); ``amount`` is the cancelled (remaining) amount.

    ``status`` is ``"Canceled"`` or ``"Cancel pending"`` (added 2025), None when absent.
    """

    order_id: int
    amount: Decimal
    price: Decimal
    side: Side
    market: str | None = None
    status: str | None = None


@dataclass(frozen=True, slots=True)
class CancelAllResult:
    """The reply to ``cancel_all_orders``: what was cancelled and whether all went well."""

    canceled: tuple[CancelResult, ...]
    success: bool


@dataclass(frozen=True, slots=True)
class ReplaceResult:
    """The reply to ``replace_order`` (2026, reference 4.6): the new order and the one it replaced.

    The endpoint is recent and its field types are not confirmed by a recording, so everything
    but the new order id is optional.
    """

    order_id: int
    orig_order_id: int | None = None
    orig_client_order_id: str | None = None
    market: str | None = None
    side: Side | None = None
    amount: Decimal | None = None
    price: Decimal | None = None
    datetime: dt.datetime | None = None
    status: str | None = None


class OrderEventKind(enum.Enum):
    """The three order events of ``live_orders_*`` and ``private-my_orders_*`` (section 7.5)."""

    CREATED = "order_created"
    CHANGED = "order_changed"
    DELETED = "order_deleted"


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """An order was created, changed (partly filled) or deleted (filled or cancelled).

    ``amount`` is the remaining amount; ``amount_traded`` and ``amount_at_create`` are None on
    older public frames that do not carry them. Whether ``amount_traded`` is per event or
    cumulative is not settled (reference 7.5); it is passed on as sent. A market order's
    ``order_created`` carries placeholder prices (999999999 for a buy, 0 for a sell).
    """

    kind: OrderEventKind
    market: str
    order_id: int
    side: Side
    price: Decimal
    amount: Decimal
    timestamp_us: int
    amount_traded: Decimal | None = None
    amount_at_create: Decimal | None = None
    client_order_id: str | None = None
    order_subtype: int | None = None


@dataclass(frozen=True, slots=True)
class MyTrade:
    """One fill of one of our orders from ``private-my_trades_*`` (reference 7.5)."""

    trade_id: int
    order_id: int
    market: str
    side: Side
    price: Decimal
    amount: Decimal
    fee: Decimal
    timestamp_us: int
    client_order_id: str | None = None
