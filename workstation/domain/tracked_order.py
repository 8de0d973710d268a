"""One of our orders as the trader sees it: an immutable snapshot, and what a cancel-all did.

The tracker (in services) replaces a snapshot on every change and builds the first one from
the journal; the panes, the ticket's notices and the log read them. Plain values: no journal,
no wire, no event loop.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from .common import Side
from .order_vocabulary import OrderKind, TimeInForce, TrackState

__all__ = ["CancelReport", "TrackedOrder"]


@dataclass(frozen=True, slots=True)
class TrackedOrder:
    """An immutable snapshot of one of our orders; the tracker replaces it on every change.

    ``amount`` is in the base currency, except for an instant order sized in the quote
    currency (``amount_in_quote``: every instant buy, and instant sells in quote), where it is
    the quote amount to spend or receive. ``filled`` is always base, ``filled_quote`` the
    quote value of the fills and ``fee`` their fees (quote), all summed over the fills
    journaled once each (by ``tid``).
    """

    client_order_id: str
    env: str
    market: str
    side: Side
    kind: OrderKind
    amount: Decimal
    price: Decimal | None
    state: TrackState
    order_id: int | None = None
    filled: Decimal = Decimal(0)
    reason: str | None = None
    fill_tids: frozenset[int] = field(default=frozenset())
    created_at: dt.datetime | None = None
    """When the intent was journaled (UTC): the open orders pane's age column."""
    filled_quote: Decimal = Decimal(0)
    fee: Decimal = Decimal(0)
    amount_in_quote: bool = False
    tif: TimeInForce = TimeInForce.GTC
    """A limit order's time in force (GTC for market and instant orders)."""
    replaces: str | None = None
    """The ``client_order_id`` of the order this one replaced (an amend), if any."""
    external: bool = False
    """Placed elsewhere (the web, a phone, a bot) and adopted from what the exchange listed:
    its key is ``ext-<order id>``; it is cancelled and amended by its exchange order id."""

    @property
    def remaining(self) -> Decimal:
        """What is left to trade, in the unit of ``amount``."""
        if self.amount_in_quote:
            return max(Decimal(0), self.amount - self.filled_quote)
        return self.amount - self.filled

    @property
    def avg_price(self) -> Decimal | None:
        """The average fill price (quote per base), None before the first fill (or when the
        fills' quote value is not known)."""
        if self.filled <= 0 or self.filled_quote <= 0:
            return None
        return self.filled_quote / self.filled


@dataclass(frozen=True, slots=True)
class CancelReport:
    """What a cancel-all did: every order it was about, in its true state afterwards, and
    the reason for each one still live (or unconfirmed) after it."""

    orders: tuple[TrackedOrder, ...]
    failed: dict[str, str]
    """``client_order_id`` -> why it was not cancelled."""

    @property
    def cancelled(self) -> list[TrackedOrder]:
        """The orders it really cancelled (the exchange says so)."""
        return [o for o in self.orders if o.state is TrackState.CANCELLED]

    @property
    def ended_otherwise(self) -> list[TrackedOrder]:
        """Orders that ended another way first (filled, expired, lost)."""
        return [o for o in self.orders if o.state.is_final and o.state is not TrackState.CANCELLED]
