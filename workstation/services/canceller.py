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

:meth:`Canceller.kill` is the kill switch's cancel-all: every market, and the submits on
their way too. It halts the submit gate from its start to its end (new submits and amends
are refused), sends the cancel-all at once, then waits (bounded) for the submits already past
the gate to learn their outcome, never sending them again, and cancels each that landed
open. A submit the exchange receives after the cancel-all would otherwise rest there after
the trader was told everything was cancelled.
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
from .submit_gate import SubmitGate
from .tracked_orders import TrackedOrders

__all__ = ["CANCEL_ATTEMPTS", "KILL_SETTLE_S", "Canceller", "why"]

CANCEL_ATTEMPTS = 4
"""A cancel refused by a 429 is sent this many times in all before the refusal is shown."""

KILL_SETTLE_S = 30.0
"""How long a kill waits for the submits on their way to learn their outcome: a lost reply
is chased by ``client_order_id`` (the REST timeout, then at most the not-found grace)."""

_UNDECIDED = (TrackState.PENDING, TrackState.UNKNOWN)

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
        gate: halted by a kill; knows the submits on their way.
    """

    def __init__(
        self, rest: RestClient, orders: TrackedOrders, reconciler: Reconciler, gate: SubmitGate
    ) -> None:
        self.rest = rest
        self.orders = orders
        self.reconciler = reconciler
        self.gate = gate

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

    async def cancel_all(
        self, market: str | None = None, settle_s: float = KILL_SETTLE_S
    ) -> CancelReport:
        """Cancel every open order on ``market`` (None: on every market) with one
        ``cancel_all_orders``, then confirm each affected order by REST, so one that filled
        before the cancel reached it ends FILLED with its fills. The endpoint cancels the
        account's orders placed elsewhere too: one not yet known is adopted (journaled as
        placed elsewhere) and counted. Submits on that market already on their way are
        awaited (at most ``settle_s``; never resent) and each that landed open is cancelled
        too, as the kill does, so no order is left behind a "cancelled all". New submits stay
        allowed meanwhile: only the kill halts trading. Returns the report, orders oldest
        first."""
        on_its_way = tuple(
            cid
            for cid in self.gate.unsettled
            if market is None or self.orders.get(cid).market == market
        )
        return await self._cancel_all(market, on_its_way, settle_s)

    async def kill(self, settle_s: float = KILL_SETTLE_S) -> CancelReport:
        """The kill switch: :meth:`cancel_all` on every market, with the submit gate halted
        from start to end (new submits and amends refused; lifted when the kill ends, so the
        trader may trade again). Submits already on their way are awaited, at most
        ``settle_s`` (never resent: a lost reply is reconciled by ``client_order_id``), and
        each that landed open is cancelled too; all of them are in the report."""
        self.gate.halt()
        try:
            return await self._cancel_all(None, self.gate.unsettled, settle_s)
        finally:
            self.gate.resume()

    async def _cancel_all(
        self, market: str | None, on_its_way: tuple[str, ...] = (), settle_s: float = 0.0
    ) -> CancelReport:
        """The cancel-all; ``on_its_way``: submits not yet settled, left to themselves until
        they are (their exchange id known, so the cancel-all's list does not take one of
        them for an order placed elsewhere), then each still live cancelled alone."""
        scope = [
            self.orders.get(row.client_order_id)
            for row in self.orders.journaled_open()
            if (market is None or row.market == market) and row.client_order_id not in on_its_way
        ]
        detail: dict[str, Any]
        for order in scope:
            detail = {"phase": "request", "all": market or "*", "order_id": order.order_id}
            self.orders.journal.record_event(order.client_order_id, "cancel", detail)
        failure: str | None = None
        result = None
        try:
            result = await self._send_cancel(
                [o.client_order_id for o in scope], lambda: self.rest.cancel_all_orders(market)
            )
        except BitstampError as error:
            failure = why(error)
            for order in scope:
                detail = {"phase": "failed", **error_detail(error)}
                self.orders.journal.record_event(order.client_order_id, "cancel", detail)
        await self.gate.settled(on_its_way, settle_s)
        if result is not None:
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
        late = await asyncio.gather(*(self._cancel_late(cid) for cid in on_its_way))
        for order, why_not in late:
            if why_not is not None:
                failed[order.client_order_id] = why_not
        orders = tuple(order for order, _ in checks) + tuple(order for order, _ in late)
        return CancelReport(orders, failed)

    async def _cancel_late(self, client_order_id: str) -> tuple[TrackedOrder, str | None]:
        """A submit that was on its way when the cancel-all (or the kill) fired, now settled
        (or waited for long enough): cancelled alone when it is not final; why not, when that
        failed."""
        order = self.orders.get(client_order_id)
        if order.state.is_final:
            return order, None
        undecided = order.state in _UNDECIDED
        try:
            order = await self.cancel(client_order_id)
        except CancelFailed as error:
            order, reason = error.order, error.reason
            if not error.confirmed:
                reason += " (state not confirmed)"
        else:
            if order.state.is_final:
                return order, None
            reason = "the exchange did not cancel it"
        if undecided:
            reason = f"sent as the cancel-all fired, no outcome yet ({reason}): it may still land"
        return order, reason

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
