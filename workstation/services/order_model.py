"""The values the order tracker hands out: order snapshots, the reconcile policy, the
submit gate's exception and the client_order_id maker. Kept apart from the tracker's logic
so widgets and tests can use them without it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from decimal import Decimal

from ..domain.common import Side
from .journal import JournalOrder, TrackState

__all__ = ["ReconcilePolicy", "SubmitsBlocked", "TrackedOrder", "new_client_order_id"]


def new_client_order_id() -> str:
    """A fresh id: 32 hex characters (Bitstamp takes up to 180, reference 4.3)."""
    return uuid.uuid4().hex


class SubmitsBlocked(Exception):  # noqa: N818 - a state the UI shows, not a failure
    """New orders wait until open orders are reconciled (after start or a stream reconnect)."""


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
    """An immutable snapshot of one of our orders; the tracker replaces it on every change."""

    client_order_id: str
    env: str
    market: str
    side: Side
    kind: str
    amount: Decimal
    price: Decimal | None
    state: TrackState
    order_id: int | None = None
    filled: Decimal = Decimal(0)
    reason: str | None = None
    fill_tids: frozenset[int] = field(default=frozenset())

    @property
    def remaining(self) -> Decimal:
        return self.amount - self.filled

    @classmethod
    def from_journal(cls, row: JournalOrder, fill_tids: frozenset[int]) -> TrackedOrder:
        names = [f.name for f in fields(cls) if f.name != "fill_tids"]
        return cls(**{name: getattr(row, name) for name in names}, fill_tids=fill_tids)
