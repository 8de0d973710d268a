"""Orders of the account placed elsewhere (the web, a phone, a bot), as the journal keeps them.

The exchange lists every open order of the account (``open_orders``, reference 4.4), not only
ours. One we did not place is *adopted*: journaled like one of ours, so the open orders pane
lists it, cancel-all counts it and its end is recorded, under the key ``ext-<order id>``
(its own ``client_order_id``, if it has one, may be another program's and is kept in the
intent's detail). Its intent says ``external`` and where it was seen; no request of ours
created it, so its timeline starts with that intent and a ``reconciled`` event.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..domain.order_vocabulary import OrderKind, TrackState
from ..domain.orders import CancelResult, OpenOrder
from .journal import Journal, OrderTerms

__all__ = ["EXTERNAL_PREFIX", "external_key", "journal_external"]

EXTERNAL_PREFIX = "ext-"
"""The journal key of an order placed elsewhere is this prefix and its exchange order id."""


def external_key(order_id: int) -> str:
    """The journal key of an order placed elsewhere."""
    return f"{EXTERNAL_PREFIX}{order_id}"


def journal_external(
    journal: Journal, env: str, seen: OpenOrder | CancelResult, source: str
) -> str:
    """Journal an order placed elsewhere as the exchange showed it (resting, or just
    cancelled by a cancel-all); returns its key. Its state is OPEN (the caller moves it on)."""
    cid = external_key(seen.order_id)
    if isinstance(seen, OpenOrder):
        amount = seen.amount_at_create if seen.amount_at_create is not None else seen.amount
        remaining, created, theirs = seen.amount, seen.datetime, seen.client_order_id
    else:
        amount = remaining = seen.amount
        created, theirs = None, None
    detail: dict[str, Any] = {"seen_in": source}
    if theirs is not None:
        detail["exchange_client_order_id"] = theirs
    journal.record_intent(
        cid,
        env=env,
        market=seen.market or "",
        side=seen.side,
        kind=OrderKind.LIMIT,
        amount=amount,
        price=seen.price,
        terms=OrderTerms(external=True),
        detail=detail,
        created_at=created,
    )
    journal.record_event(
        cid,
        "reconciled",
        {
            "source": source,
            "from": TrackState.PENDING,
            "state": TrackState.OPEN,
            "order_id": seen.order_id,
            "amount_remaining": remaining,
            "filled": Decimal(0),
        },
    )
    journal.set_state(cid, TrackState.OPEN, order_id=seen.order_id)
    return cid
