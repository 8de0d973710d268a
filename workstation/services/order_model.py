"""The values the order tracker hands out: order snapshots, the reconcile policy, the
submit gate's and the amend's exceptions and the client_order_id maker, plus what the journal
keeps of an error. Kept apart from the tracker's logic so widgets and tests can use them
without it."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal
from typing import Any

from ..bitstamp.errors import BitstampError
from ..domain.common import Side
from ..domain.order_vocabulary import OrderKind, TimeInForce, TrackState
from .journal import JournalEvent, JournalOrder, OrderTerms, fill_of, intent_terms

__all__ = [
    "EXTERNAL_PREFIX",
    "AmendRefused",
    "CancelFailed",
    "CancelReport",
    "ReconcilePolicy",
    "SubmitsBlocked",
    "TrackedOrder",
    "error_detail",
    "new_client_order_id",
]

EXTERNAL_PREFIX = "ext-"
"""The journal key of an order placed elsewhere is this prefix and its exchange order id."""


def new_client_order_id() -> str:
    """A fresh id: 32 hex characters (Bitstamp takes up to 180, reference 4.3)."""
    return uuid.uuid4().hex


class SubmitsBlocked(Exception):  # noqa: N818 - a state the UI shows, not a failure
    """New orders wait until open orders are reconciled (after start or a stream reconnect)."""


class AmendRefused(ValueError):  # noqa: N818 - an answer to the trader, not a crash
    """An amend that cannot be sent (the order is final, not yet confirmed, not a limit
    order, or nothing would change). Raised before anything is journaled or sent."""


@dataclass(frozen=True, slots=True)
class ReconcilePolicy:
    """How an UNKNOWN order is chased: capped exponential delays, then give up for now.

    ``not_found_grace_s``: "Order not found" is trusted only this long after the outcome
    became unknown. ``give_up_after_s`` / ``max_attempts``: the order then stays UNKNOWN (and
    submits stay blocked) until the next :meth:`OrderTracker.reconcile_open`.
    """

    first_s: float = 0.2
    factor: float = 2.0
    cap_s: float = 5.0
    not_found_grace_s: float = 15.0
    give_up_after_s: float = 120.0
    max_attempts: int = 60

    def delays(self) -> Iterator[float]:
        delay = self.first_s
        for _ in range(self.max_attempts):
            yield delay
            delay = min(self.cap_s, delay * self.factor)


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

    @classmethod
    def from_timeline(cls, row: JournalOrder, events: list[JournalEvent]) -> TrackedOrder:
        """The snapshot of a journaled order: its row, its fills summed once each (by
        ``tid``; they are the truth, even if a crash came before the row's update) and the
        flags its intent recorded."""
        tids: set[int] = set()
        base = quote = fee = Decimal(0)
        terms = OrderTerms()
        for event in events:
            if event.kind == "intent":
                terms = intent_terms(event.detail)
            elif (fill := fill_of(event)) is not None:
                tids.add(fill.tid)
                base += fill.base_amount
                quote += fill.quote_amount
                fee += fill.fee
        if tids:
            row = replace(row, filled=base)
        return cls.from_journal(
            row,
            frozenset(tids),
            filled_quote=quote,
            fee=fee,
            amount_in_quote=terms.amount_in_quote,
            tif=terms.tif,
            replaces=terms.replaces,
            external=terms.external,
        )

    @classmethod
    def from_journal(
        cls, row: JournalOrder, fill_tids: frozenset[int], **extra: Any
    ) -> TrackedOrder:
        """The snapshot of a journal row; ``extra`` sets the fields the row has no column
        for (``filled_quote``, ``fee``, ``amount_in_quote``, ``tif``, ``replaces``,
        ``external``)."""
        mine = {f.name for f in fields(cls)}
        names = [f.name for f in fields(JournalOrder) if f.name in mine]
        values = {name: getattr(row, name) for name in names}
        return cls(**values, fill_tids=fill_tids, **extra)


class CancelFailed(Exception):  # noqa: N818 - an answer to the trader, not a crash
    """A cancel the exchange did not carry out, and the order is still live (or its state
    could not be confirmed). ``order`` is its snapshot after asking the exchange."""

    def __init__(self, order: TrackedOrder, reason: str, *, confirmed: bool) -> None:
        self.order = order
        self.reason = reason
        self.confirmed = confirmed
        """Whether ``order.state`` was confirmed by the exchange after the failure."""
        if confirmed:
            state = f"the order is still {order.state.value}"
        else:
            state = f"its state is not confirmed (last known: {order.state.value})"
        super().__init__(f"{reason}; {state}")


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


def error_detail(error: BitstampError) -> dict[str, Any]:
    """What the journal keeps of an error: its type, message and codes (never a request)."""
    detail: dict[str, Any] = {"error": type(error).__name__, "reason": error.message}
    for name in ("http_status", "code", "response_code", "endpoint"):
        if getattr(error, name) is not None:
            detail[name] = getattr(error, name)
    return detail
