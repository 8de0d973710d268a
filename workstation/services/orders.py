"""The order tracker: the one owner of our orders' timelines (architecture, "Orders are a
timeline").

Every order gets a ``client_order_id`` made here (uuid4 hex, well under Bitstamp's 180
characters, reference 4.3) and is journaled, durably, before its request leaves. Then:

- an acknowledgement makes it OPEN, and one ``order_status`` confirms fills at once (a
  marketable limit may have traded on arrival);
- a typed refusal makes it REJECTED with Bitstamp's reason (nothing was placed, section 6);
- no trustworthy reply (:class:`OutcomeUnknown`: timeout, dropped connection, 5xx, a reply we
  cannot read) makes it UNKNOWN. It is then reconciled by ``client_order_id`` with
  ``order_status`` (reference 4.5) under capped backoff, and **never resent**. Found: its true
  state. "Order not found" is believed only after a grace period (a request can still be
  processed after we gave up on its reply); then it is REJECTED as never placed.

Fills are accounted from ``order_status`` transactions (REST confirmation), de-duplicated by
``tid`` and journaled once each. The private stream (``private-my_orders`` / ``my_trades``)
is not consumed yet: see :meth:`OrderTracker.mark_stale` for the hook its reconnects call.

Submits are gated: a new tracker, or one whose private stream reconnected (``mark_stale``),
refuses new submits with :class:`SubmitsBlocked` until :meth:`OrderTracker.reconcile_open`
has brought every journaled open order to a definite state. Cancels are always allowed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import replace
from decimal import Decimal
from typing import Any

from ..bitstamp.errors import (
    AuthenticationError,
    BadRequest,
    BitstampError,
    NotFound,
    OrderNotFound,
    OrderRejected,
    RateLimited,
    TransportError,
)
from ..bitstamp.rest import LimitOptions, RestClient
from ..domain.common import Side
from ..domain.orders import OrderState, OrderStatus
from .journal import Journal, TrackState
from .order_model import ReconcilePolicy, SubmitsBlocked, TrackedOrder, new_client_order_id

__all__ = [
    "ReconcilePolicy",
    "SubmitsBlocked",
    "TrackState",
    "TrackedOrder",
    "OrderTracker",
    "new_client_order_id",
]

# A refusal that proves the order was never placed: the request was answered, or never sent.
_NOT_PLACED = (
    OrderRejected,
    AuthenticationError,
    RateLimited,
    BadRequest,
    NotFound,
    TransportError,
)
_EXCHANGE_STATE = {
    OrderState.FINISHED: TrackState.FILLED,
    OrderState.CANCELED: TrackState.CANCELLED,
    OrderState.EXPIRED: TrackState.EXPIRED,
}


def _error_detail(error: BitstampError) -> dict[str, Any]:
    detail: dict[str, Any] = {"error": type(error).__name__, "reason": error.message}
    for name in ("http_status", "code", "response_code", "endpoint"):
        if getattr(error, name) is not None:
            detail[name] = getattr(error, name)
    return detail


class OrderTracker:
    """The single order tracker of one environment.

    Args:
        rest: the environment's REST client.
        journal: the order journal (shared by environments; rows carry ``env``).
        env: ``"sim"``, ``"sandbox"`` or ``"live"``.
        policy: reconciliation backoff and grace.
        on_change: called with each new snapshot (the UI service turns it into a message).
        sleep: the backoff sleep, injected by tests.
    """

    def __init__(
        self,
        rest: RestClient,
        journal: Journal,
        env: str,
        *,
        policy: ReconcilePolicy | None = None,
        on_change: Callable[[TrackedOrder], None] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.rest = rest
        self.journal = journal
        self.env = env
        self.policy = policy or ReconcilePolicy()
        self._on_change = on_change
        self._sleep = sleep
        self._orders: dict[str, TrackedOrder] = {}
        self._stale_reason: str | None = "open orders not yet reconciled since start"

    # -- state ----------------------------------------------------------------------------

    @property
    def submits_allowed(self) -> bool:
        return self._stale_reason is None

    @property
    def orders(self) -> dict[str, TrackedOrder]:
        """The orders this tracker has seen, by ``client_order_id`` (a copy)."""
        return dict(self._orders)

    def mark_stale(self, reason: str = "private stream reconnected") -> None:
        """Block new submits until :meth:`reconcile_open` succeeds (cancels stay allowed)."""
        self._stale_reason = reason

    def _set(self, order: TrackedOrder) -> TrackedOrder:
        self._orders[order.client_order_id] = order
        if self._on_change is not None:
            self._on_change(order)
        return order

    def _move(self, order: TrackedOrder, state: TrackState, **changes: Any) -> TrackedOrder:
        changed = replace(order, state=state, **changes)
        if changed == order:
            return order  # nothing new: no write, no notification
        order = changed
        self.journal.set_state(
            order.client_order_id,
            state,
            order_id=order.order_id,
            filled=order.filled,
            reason=order.reason,
        )
        return self._set(order)

    def _load(self, client_order_id: str) -> TrackedOrder:
        if (order := self._orders.get(client_order_id)) is not None:
            return order
        row = self.journal.order(client_order_id)
        if row is None or row.env != self.env:
            raise KeyError(client_order_id)
        tids = frozenset(
            int(e.detail["tid"])
            for e in self.journal.events(client_order_id)
            if e.kind == "fill" and "tid" in e.detail
        )
        order = TrackedOrder.from_journal(row, tids)
        self._orders[client_order_id] = order
        return order

    # -- submit ---------------------------------------------------------------------------

    async def submit_limit(
        self,
        market: str,
        side: Side,
        amount: Decimal,
        price: Decimal,
        *,
        preview: dict[str, Any] | None = None,
        **flags: Any,
    ) -> TrackedOrder:
        """Journal, then place a limit order; never resent. ``flags`` are :class:`LimitOptions`
        fields (``ioc=True``, ``moc=True``, ...); ``preview`` holds the numbers the trader saw.

        Returns the order in its state once the exchange's answer (or the reconciliation of
        a lost answer) is known: OPEN, PARTIALLY_FILLED, FILLED, REJECTED, or UNKNOWN when
        reconciliation gave up for now. Raises :class:`SubmitsBlocked` while the tracker is
        stale, ValueError for contradictory flags (before anything is journaled).
        """
        if self._stale_reason is not None:
            raise SubmitsBlocked(self._stale_reason)
        options = LimitOptions(**flags)
        form = options.form()
        cid = new_client_order_id()
        self.journal.record_intent(
            cid,
            env=self.env,
            market=market,
            side=side,
            kind="limit",
            amount=amount,
            price=price,
            detail={"preview": preview or {}, "options": form},
        )
        order = self._set(
            TrackedOrder(cid, self.env, market, side, "limit", amount, price, TrackState.PENDING)
        )
        request = {"amount": amount, "price": price, "client_order_id": cid, **form}
        self.journal.record_event(
            cid, "request", {"path": f"/api/v2/{side.value}/{market}/", "fields": request}
        )
        try:
            ack = await self.rest.place_limit(
                side, market, amount=amount, price=price, client_order_id=cid, options=options
            )
        except _NOT_PLACED as error:
            detail = _error_detail(error)
            self.journal.record_event(cid, "reject", detail)
            return self._move(order, TrackState.REJECTED, reason=error.message)
        except BitstampError as error:  # OutcomeUnknown, ProtocolError, 5xx: it may exist
            self._mark_unknown(order, _error_detail(error))
            return await self._reconcile(cid, since=self.journal.now())
        except asyncio.CancelledError:
            self._mark_unknown(order, {"error": "cancelled while in flight"})
            raise
        ack_fields = ("order_id", "datetime", "price", "amount")
        self.journal.record_event(cid, "ack", {k: getattr(ack, k) for k in ack_fields})
        self._move(order, TrackState.OPEN, order_id=ack.order_id)
        return await self.refresh(cid)

    def _mark_unknown(self, order: TrackedOrder, detail: dict[str, Any]) -> None:
        self.journal.record_event(order.client_order_id, "unknown", detail)
        self._move(order, TrackState.UNKNOWN)

    # -- exchange truth -------------------------------------------------------------------

    def _apply_status(self, cid: str, status: OrderStatus, source: str) -> TrackedOrder:
        """Journal new fills and move the order to the state ``order_status`` reports."""
        order = self._load(cid)
        tids = set(order.fill_tids)
        for tx in status.transactions:
            if tx.tid in tids:
                continue
            tids.add(tx.tid)
            tx_fields = ("tid", "price", "base_amount", "quote_amount", "fee", "datetime")
            self.journal.record_event(cid, "fill", {k: getattr(tx, k) for k in tx_fields})
        filled = status.filled if status.transactions else order.filled
        state = _EXCHANGE_STATE.get(status.state)
        if state is None:  # Open or Cancel pending: still able to trade
            state = TrackState.PARTIALLY_FILLED if filled > 0 else TrackState.OPEN
        if (state, status.order_id, filled) != (order.state, order.order_id, order.filled):
            self.journal.record_event(
                cid,
                "reconciled",
                {
                    "source": source,
                    "from": order.state,
                    "state": state,
                    "exchange_status": status.state,
                    "order_id": status.order_id,
                    "filled": filled,
                    "amount_remaining": status.amount_remaining,
                },
            )
        return self._move(
            order, state, order_id=status.order_id, filled=filled, fill_tids=frozenset(tids)
        )

    async def refresh(self, client_order_id: str) -> TrackedOrder:
        """One ``order_status`` for an order the exchange acknowledged; on error, unchanged."""
        order = self._load(client_order_id)
        try:
            if order.order_id is not None:
                status = await self.rest.order_status(order_id=order.order_id)
            else:
                status = await self.rest.order_status(client_order_id=client_order_id)
        except BitstampError:
            return order
        return self._apply_status(client_order_id, status, "order_status")

    async def _reconcile(self, cid: str, *, since: dt.datetime) -> TrackedOrder:
        """Chase an order of unknown outcome by ``client_order_id`` until the answer is definite.

        Never resends. ``since`` is when the outcome became unknown: "Order not found" is
        final only ``not_found_grace_s`` after it.
        """
        policy = self.policy
        for delay in policy.delays():
            try:
                status = await self.rest.order_status(client_order_id=cid)
            except OrderNotFound as error:
                waited = (self.journal.now() - since).total_seconds()
                if waited >= policy.not_found_grace_s:
                    reason = f"not placed: the exchange has no such order ({error.message})"
                    detail = {"reason": reason, "waited_s": str(round(waited, 3))}
                    self.journal.record_event(cid, "reject", detail)
                    return self._move(self._load(cid), TrackState.REJECTED, reason=reason)
            except BitstampError:
                pass  # transient: ask again after the delay
            else:
                return self._apply_status(cid, status, "reconcile")
            if (self.journal.now() - since).total_seconds() >= policy.give_up_after_s:
                break
            await self._sleep(delay)
        return self._load(cid)  # still UNKNOWN: the next reconcile_open tries again

    # -- cancel ---------------------------------------------------------------------------

    async def cancel(self, client_order_id: str) -> TrackedOrder:
        """Ask the exchange to cancel, then confirm the true state (and fills) by REST.

        Allowed while submits are blocked. A final order is returned unchanged.
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
            detail = {"phase": "failed", **_error_detail(error)}
            self.journal.record_event(client_order_id, "cancel", detail)
        else:
            detail = {"phase": "ack", "status": result.status, "amount": result.amount}
            self.journal.record_event(client_order_id, "cancel", detail)
            if result.status in (None, "Canceled"):
                order = self._move(order, TrackState.CANCELLED, order_id=result.order_id)
        return await self.refresh(client_order_id)

    # -- start-up and reconnects ----------------------------------------------------------

    async def reconcile_open(self) -> list[TrackedOrder]:
        """Bring every journaled open order of this env to the exchange's truth.

        Acknowledged orders still resting with nothing new filled are confirmed from one
        ``open_orders`` call; the rest are asked by ``order_status``; PENDING and UNKNOWN ones
        are chased like a lost submit. Submits are allowed again once no order is left
        PENDING or UNKNOWN. Returns the orders' new snapshots.
        """
        rows = self.journal.open_orders(self.env)
        for row in rows:
            self._orders.pop(row.client_order_id, None)  # the journal is the truth on start
        try:
            resting = {o.client_order_id: o for o in await self.rest.open_orders()}
        except BitstampError:
            resting = {}
        results = []
        for row in rows:
            cid = row.client_order_id
            order = self._load(cid)
            if order.state in (TrackState.PENDING, TrackState.UNKNOWN):
                if order.state is TrackState.PENDING:
                    self._mark_unknown(order, {"error": "no answer journaled before a restart"})
                results.append(await self._reconcile(cid, since=row.updated_at))
                continue
            open_order = resting.get(cid)
            if open_order is not None and open_order.amount == order.remaining:
                results.append(self._set(order))  # still resting, nothing new: confirmed
                continue
            results.append(await self.refresh(cid))
        undecided = [o for o in results if o.state in (TrackState.PENDING, TrackState.UNKNOWN)]
        if not undecided:
            self._stale_reason = None
        return results
