"""Cancelling orders: one, or all of them on a market (reference 4.6), ours and those of the
account placed elsewhere alike (both by exchange order id once it is known).

A cancel is allowed at any time, also while submits wait for a reconcile. Its reply is
journaled but never trusted alone: every cancel ends with ``order_status`` for each order it
touched, so a cancel that raced a fill ends in the fill's state (FILLED) with the fills, and
one whose reply was lost ends in whatever state the order is really in.

A cancel refused by a 429 is sent again once the rate budget's pause is over (a repeated
cancel is harmless: "Order not found" or "Cancel pending" at worst). Any other failure is
never swallowed: :meth:`Canceller.cancel` raises :class:`CancelFailed` with the reason and the
order's true state when the order is still live, and :meth:`Canceller.cancel_all` reports
what it really cancelled and why each of the others was not.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, TypeVar

from ..bitstamp.errors import BitstampError, RateLimited
from ..bitstamp.rest import RestClient
from ..domain.order_vocabulary import TrackState
from ..domain.tracked_order import CancelReport, TrackedOrder
from .journal import error_detail
from .reconciler import Reconciler
from .refusals import CancelFailed
from .tracked_orders import TrackedOrders

__all__ = ["CANCEL_ATTEMPTS", "Canceller", "why"]

CANCEL_ATTEMPTS = 4
"""A cancel refused by a 429 is sent this many times in all before the refusal is shown."""

_T = TypeVar("_T")


def why(error: BitstampError) -> str:
    """The reason shown for a failed request: the error's headline and message."""
    if error.message == error.title:
        return error.message
    return f"{error.title}: {error.message}"


class Canceller:
    """The cancels of one environment's orders.

    Args:
        rest: the environment's REST client.
        orders: the environment's tracked orders.
        reconciler: confirms each cancelled order's true state.
    """

    def __init__(self, rest: RestClient, orders: TrackedOrders, reconciler: Reconciler) -> None:
        self.rest = rest
        self.orders = orders
        self.reconciler = reconciler

    async def cancel(self, client_order_id: str) -> TrackedOrder:
        """Ask the exchange to cancel, then confirm the true state (and fills) by REST.

        Allowed while submits are blocked. A final order is returned unchanged. A cancel
        that races a fill ends in the fill's state (FILLED), with the fills. Raises
        :class:`CancelFailed` when the cancel failed and the order is not final.
        """
        order = self.orders.get(client_order_id)
        if order.state.is_final:
            return order
        self.orders.journal.record_event(
            client_order_id, "cancel", {"phase": "request", "order_id": order.order_id}
        )
        failure: str | None = None
        try:
            if order.order_id is not None:
                order_id = order.order_id
                result = await self._send_cancel(
                    [client_order_id], lambda: self.rest.cancel_order(order_id=order_id)
                )
            else:
                result = await self._send_cancel(
                    [client_order_id],
                    lambda: self.rest.cancel_order(client_order_id=client_order_id),
                )
        except BitstampError as error:  # not found (already final) or failed: ask the truth
            failure = why(error)
            detail = {"phase": "failed", **error_detail(error)}
            self.orders.journal.record_event(client_order_id, "cancel", detail)
        else:
            detail = {"phase": "ack", "status": result.status, "amount": result.amount}
            self.orders.journal.record_event(client_order_id, "cancel", detail)
            if result.status in (None, "Canceled"):
                current = self.orders.get(client_order_id)
                self.orders.move(current, TrackState.CANCELLED, order_id=result.order_id)
        order, unconfirmed = await self.reconciler.check(client_order_id)
        if failure is not None and not order.state.is_final:
            raise CancelFailed(order, failure, confirmed=unconfirmed is None)
        return order

    async def cancel_all(self, market: str | None = None) -> CancelReport:
        """Cancel every open order on ``market`` (None: on every market) with one
        ``cancel_all_orders``, then confirm each affected order by REST, so one that filled
        before the cancel reached it ends FILLED with its fills. The endpoint cancels the
        account's orders placed elsewhere too: one not yet known is adopted (journaled as
        placed elsewhere) and counted. Returns the report, orders oldest first."""
        scope = [
            self.orders.get(row.client_order_id)
            for row in self.orders.journaled_open()
            if market is None or row.market == market
        ]
        detail: dict[str, Any]
        for order in scope:
            detail = {"phase": "request", "all": market or "*", "order_id": order.order_id}
            self.orders.journal.record_event(order.client_order_id, "cancel", detail)
        failure: str | None = None
        try:
            result = await self._send_cancel(
                [o.client_order_id for o in scope], lambda: self.rest.cancel_all_orders(market)
            )
        except BitstampError as error:
            failure = why(error)
            for order in scope:
                detail = {"phase": "failed", **error_detail(error)}
                self.orders.journal.record_event(order.client_order_id, "cancel", detail)
        else:
            ours = {o.order_id for o in scope}
            for listed in result.canceled:  # placed elsewhere and not seen before: adopt it
                if listed.order_id not in ours:
                    seen = replace(listed, market=listed.market or market)
                    if (adopted := self.orders.adopt(seen, "cancel_all_orders")) is not None:
                        scope.append(adopted)
            cancelled = {c.order_id: c for c in result.canceled}
            for order in scope:
                current = self.orders.get(order.client_order_id)
                if (acked := cancelled.get(current.order_id or -1)) is None:
                    continue
                detail = {"phase": "ack", "status": acked.status, "amount": acked.amount}
                self.orders.journal.record_event(order.client_order_id, "cancel", detail)
                self.orders.move(current, TrackState.CANCELLED)
        checks = await asyncio.gather(*(self.reconciler.check(o.client_order_id) for o in scope))
        failed: dict[str, str] = {}
        for order, unconfirmed in checks:
            if not order.state.is_final:
                reason = failure or "the exchange did not cancel it"
                if unconfirmed is not None:
                    reason += f" (state not confirmed: {unconfirmed})"
                failed[order.client_order_id] = reason
        return CancelReport(tuple(order for order, _ in checks), failed)

    async def _send_cancel(self, cids: list[str], send: Callable[[], Awaitable[_T]]) -> _T:
        """``send()``, again after a 429 (the transport paused the rate budget, so the next
        attempt waits for the pause) up to :data:`CANCEL_ATTEMPTS` times in all."""
        for attempt in range(1, CANCEL_ATTEMPTS + 1):
            try:
                return await send()
            except RateLimited as error:
                if attempt == CANCEL_ATTEMPTS:
                    raise
                for cid in cids:
                    detail = {"phase": "retry", "attempt": attempt, **error_detail(error)}
                    self.orders.journal.record_event(cid, "cancel", detail)
        raise AssertionError("unreachable")
