"""Cancelling our orders: one, or all of them on a market (reference 4.6).

A cancel is allowed at any time, also while submits wait for a reconcile. Its reply is
journaled but never trusted alone: every cancel ends with ``order_status`` for each order it
touched, so a cancel that raced a fill ends in the fill's state (FILLED) with the fills, and
one whose reply was lost ends in whatever state the order is really in.
"""

from __future__ import annotations

import asyncio

from ..bitstamp.errors import BitstampError
from .journal import TrackState
from .order_model import TrackedOrder, error_detail
from .reconcile import Reconciler

__all__ = ["Canceller"]


class Canceller(Reconciler):
    """The cancels of :class:`~workstation.services.orders.OrderTracker`."""

    async def cancel(self, client_order_id: str) -> TrackedOrder:
        """Ask the exchange to cancel, then confirm the true state (and fills) by REST.

        Allowed while submits are blocked. A final order is returned unchanged. A cancel
        that races a fill ends in the fill's state (FILLED), with the fills.
        """
        order = self._load(client_order_id)
        if order.state.is_final:
            return order
        self.journal.record_event(
            client_order_id, "cancel", {"phase": "request", "order_id": order.order_id}
        )
        try:
            if order.order_id is not None:
                result = await self.rest.cancel_order(order_id=order.order_id)
            else:
                result = await self.rest.cancel_order(client_order_id=client_order_id)
        except BitstampError as error:  # not found (already final) or failed: ask the truth
            detail = {"phase": "failed", **error_detail(error)}
            self.journal.record_event(client_order_id, "cancel", detail)
        else:
            detail = {"phase": "ack", "status": result.status, "amount": result.amount}
            self.journal.record_event(client_order_id, "cancel", detail)
            if result.status in (None, "Canceled"):
                current = self._load(client_order_id)
                self._move(current, TrackState.CANCELLED, order_id=result.order_id)
        return await self.refresh(client_order_id)

    async def cancel_all(self, market: str | None = None) -> list[TrackedOrder]:
        """Cancel every open order on ``market`` (None: on every market) with one
        ``cancel_all_orders``, then confirm each of our affected orders by REST, so one that
        filled before the cancel reached it ends FILLED with its fills. Returns their
        snapshots, oldest first. Orders on the account that are not ours are cancelled too
        (that is what the endpoint does) but not tracked."""
        scope = [
            self._load(row.client_order_id)
            for row in self.journal.open_orders(self.env)
            if market is None or row.market == market
        ]
        for order in scope:
            detail = {"phase": "request", "all": market or "*", "order_id": order.order_id}
            self.journal.record_event(order.client_order_id, "cancel", detail)
        try:
            result = await self.rest.cancel_all_orders(market)
        except BitstampError as error:
            for order in scope:
                detail = {"phase": "failed", **error_detail(error)}
                self.journal.record_event(order.client_order_id, "cancel", detail)
        else:
            cancelled = {c.order_id: c for c in result.canceled}
            for order in scope:
                current = self._load(order.client_order_id)
                if (ack := cancelled.get(current.order_id or -1)) is None:
                    continue
                detail = {"phase": "ack", "status": ack.status, "amount": ack.amount}
                self.journal.record_event(order.client_order_id, "cancel", detail)
                self._move(current, TrackState.CANCELLED)
        return list(await asyncio.gather(*(self.refresh(o.client_order_id) for o in scope)))
