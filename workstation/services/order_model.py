"""The order tracker's own values: the client_order_id maker (and the key of an order
placed elsewhere), the reconcile policy, and what the journal keeps of an error. The
snapshots it hands out are the domain's (:mod:`workstation.domain.tracked_order`); the
refusals its commands raise are :mod:`.refusals`."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..bitstamp.errors import BitstampError

__all__ = ["EXTERNAL_PREFIX", "ReconcilePolicy", "error_detail", "new_client_order_id"]

EXTERNAL_PREFIX = "ext-"
"""The journal key of an order placed elsewhere is this prefix and its exchange order id."""


def new_client_order_id() -> str:
    """A fresh id: 32 hex characters (Bitstamp takes up to 180, reference 4.3)."""
    return uuid.uuid4().hex


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


def error_detail(error: BitstampError) -> dict[str, Any]:
    """What the journal keeps of an error: its type, message and codes (never a request)."""
    detail: dict[str, Any] = {"error": type(error).__name__, "reason": error.message}
    for name in ("http_status", "code", "response_code", "endpoint"):
        if getattr(error, name) is not None:
            detail[name] = getattr(error, name)
    return detail
