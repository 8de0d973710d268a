"""replace_order: a new amount and price for an open order, all or nothing.

Bitstamp documents it as cancel + new order. The simulator makes the pair atomic as far as
the trader can see: when the new order is refused (funds, band, decimals) the original is
put back exactly as it was, except for its place in the queue, which is lost (as on any
venue that implements replace as cancel + new).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..domain.orders import OrderState, ReplaceResult
from .orderform import OrderForm, SimRejection
from .orderlog import not_found

if TYPE_CHECKING:
    from .exchange import SimExchange

__all__ = ["replace_order"]


def replace_order(ex: SimExchange, owner: str, fields: Mapping[str, str]) -> ReplaceResult:
    """Cancel an open order and place a new one with the new amount and price, atomically
    as far as the caller can see: if the new order is refused, the old one stays."""
    record = ex.orders.find(
        owner, fields.get("id") or None, fields.get("orig_client_order_id") or None
    )
    if record.state is not OrderState.OPEN:
        raise not_found()
    engine = ex.engines[record.market]
    resting = engine.cancel(record.order_id)
    if resting is None:
        raise not_found()
    held = ex.ledger.release_order(record.order_id)
    new_fields = {k: fields[k] for k in ("amount", "price", "client_order_id") if k in fields}
    try:
        ack = ex.place(owner, OrderForm("limit", record.side, record.market, new_fields))
    except SimRejection:
        # Put the original back exactly as it was (its place in the queue is lost, as on
        # any venue that implements replace as cancel + new).
        market = ex.markets[record.market]
        ex.ledger.reserve_limit(
            record.order_id,
            owner,
            market,
            record.side,
            resting.remaining,
            record.price,
            fee_percent=ex.accounts.by_owner(owner).taker_percent,  # type: ignore[union-attr]
        )
        del held
        engine.submit_limit(
            record.order_id,
            owner,
            record.side,
            resting.remaining,
            record.price,
            now_us=ex.clock.now_us(),
            client_order_id=record.client_order_id,
        )
        raise
    ex.cancelled(record, resting)
    return ReplaceResult(
        order_id=ack.order_id,
        orig_order_id=record.order_id,
        orig_client_order_id=record.client_order_id,
        market=record.market,
        side=record.side,
        amount=ack.amount,
        price=ack.price,
        datetime=ack.datetime,
        status="Open",
    )
