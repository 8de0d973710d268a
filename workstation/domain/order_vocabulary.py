"""The words every layer uses about one of our orders: how it executes (``OrderKind``), how
long a limit order rests (``TimeInForce``), where it stands as we track it (``TrackState``)
and one fill of it (``Fill``).

They live here, free of any wire or storage detail, so the ticket, the tracker, the journal
and the panes share one vocabulary: the journal stores these values, ``workstation.bitstamp``
turns them into Bitstamp's form fields, and nothing reads a field name back into them.

``OrderKind`` and ``TimeInForce`` are string enums: their value is the text the journal has
always stored (``"limit"``, ``"ioc"``), so a stored row and a domain value compare directly.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from decimal import Decimal

__all__ = ["Fill", "OrderKind", "TimeInForce", "TrackState"]


class OrderKind(enum.StrEnum):
    """How an order executes (reference 4.3).

    LIMIT rests at a price; MARKET takes liquidity for a base amount; INSTANT takes liquidity
    for an amount that, on a buy, is in the quote currency (spend 100 USD) and, on a sell, is
    in the base currency unless ``amount_in_quote`` (Bitstamp's ``amount_in_counter``).
    """

    LIMIT = "limit"
    MARKET = "market"
    INSTANT = "instant"


class TimeInForce(enum.StrEnum):
    """A limit order's flag (reference 4.3). GTC, DAILY and GTD rest what does not execute."""

    GTC = "gtc"
    DAILY = "daily"
    GTD = "gtd"
    IOC = "ioc"
    FOK = "fok"
    MOC = "moc"
    """Maker-or-cancel (``moc_order``): post-only, cancelled whole if it would trade."""


class TrackState(enum.Enum):
    """Where one of our orders stands, as the tracker knows it.

    Different from :class:`workstation.domain.orders.OrderState`, which is what the exchange
    reports: PENDING (journaled, not yet acknowledged), UNKNOWN (sent, no trustworthy reply)
    and LOST (the venue no longer knows an order it had acknowledged: "Order not found"
    after the grace period, e.g. a venue restarted without its books) exist only on our side.
    """

    PENDING = "pending"
    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    REJECTED = "rejected"
    UNKNOWN = "unknown"
    LOST = "lost"

    @property
    def is_final(self) -> bool:
        """True once the order can no longer trade; the journal stops reconciling it."""
        return self in _FINAL


_FINAL = frozenset(
    {
        TrackState.FILLED,
        TrackState.CANCELLED,
        TrackState.EXPIRED,
        TrackState.REJECTED,
        TrackState.LOST,
    }
)


@dataclass(frozen=True, slots=True)
class Fill:
    """One fill of one of our orders, as ``order_status`` lists it (reference 4.5): base and
    quote amounts and the fee (quote). The tracker accounts an order's fills from these, once
    each by ``tid``; the journal stores them.

    ``type_code`` is the transaction type Bitstamp gives the fill (2: a trade).
    """

    tid: int
    price: Decimal
    base_amount: Decimal
    quote_amount: Decimal
    fee: Decimal
    datetime: dt.datetime
    type_code: int = 2
