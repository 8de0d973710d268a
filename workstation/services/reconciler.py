"""The order tracker's hold on the exchange's truth: every way one of our orders is brought in
line with what the exchange says (architecture, "Orders are a timeline").

- ``refresh``: one ``order_status`` (reference 4.5) applied to the order: new fills journaled
  once each (by ``tid``), the state moved to what the exchange reports.
- ``confirm``: the same, coalesced per order: while one ``order_status`` for an order is in
  flight, further callers wait for a single trailing request instead of adding their own.
  The private stream asks for this on every event, so a burst of events costs one request
  in flight per order and the last event is never missed.
- ``chase``: an order of unknown outcome, by ``client_order_id`` under capped backoff; "Order
  not found" is believed only after a grace period. Never resends.
- ``reconcile_open``: on start and after a private-stream reconnect, bring every journaled
  open order to a definite state, and adopt every open order of the account placed elsewhere
  (:mod:`~workstation.services.external_orders`); only then does the submit gate open.
- ``discover``: the private stream named an order we do not know: list the market's open
  orders (coalesced per market) and adopt the new ones.

"Order not found" for an order the exchange had acknowledged means, once the grace period
since its creation is over, that the venue no longer knows it (a venue restarted without its
books): it ends LOST, journaled as a ``reconciled`` event, and is no longer shown as open.
``order_status`` only covers 30 days, though, so an older order is "not found" there while it
still rests: one of ours that ``open_orders`` lists (by its ``client_order_id``, which no other
order can carry) is open again, journaled likewise.

Applying a status is monotonic: fills only ever add up (a tid is counted once), and a reply
that says "Open" for an order we saw final (a stale read racing a newer one) does not reopen
it, except a REJECTED that was only our inference from "Order not found".
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Iterator

import msgspec

from ..bitstamp.errors import BitstampError, OrderNotFound
from ..bitstamp.rest import RestClient
from ..domain.order_vocabulary import TrackState
from ..domain.orders import OpenOrder, OrderState, OrderStatus
from ..domain.tracked_order import TrackedOrder
from .coalesce import Coalesced
from .submit_gate import SubmitGate
from .tracked_orders import TrackedOrders

__all__ = ["ReconcilePolicy", "Reconciler"]


class ReconcilePolicy(msgspec.Struct, frozen=True):
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


_EXCHANGE_STATE = {
    OrderState.FINISHED: TrackState.FILLED,
    OrderState.CANCELED: TrackState.CANCELLED,
    OrderState.EXPIRED: TrackState.EXPIRED,
}
_UNDECIDED = (TrackState.PENDING, TrackState.UNKNOWN)


class Reconciler:
    """Reconciliation of one environment's orders with the exchange.

    Args:
        rest: the environment's REST client.
        orders: the environment's tracked orders.
        gate: the submit gate, opened by :meth:`reconcile_open`.
        policy: reconciliation backoff and grace.
        sleep: the backoff sleep, injected by tests.
    """

    def __init__(
        self,
        rest: RestClient,
        orders: TrackedOrders,
        gate: SubmitGate,
        *,
        policy: ReconcilePolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.rest = rest
        self.orders = orders
        self.gate = gate
        self.policy = policy or ReconcilePolicy()
        self._sleep = sleep
        self._confirms = Coalesced(self._refresh_patiently, orders.get)
        self._discoveries = Coalesced(self._discover_once, lambda _market: [])
        self.confirm_attempts = 3
        """How often :meth:`confirm` asks when the exchange fails to answer."""

    # -- exchange truth -------------------------------------------------------------------

    def _apply_status(self, cid: str, status: OrderStatus, source: str) -> TrackedOrder:
        """Journal new fills and move the order to the state ``order_status`` reports."""
        order = self.orders.get(cid)
        tids = set(order.fill_tids)
        filled, quote, fee = order.filled, order.filled_quote, order.fee
        for tx in status.transactions:
            if tx.tid in tids:
                continue
            tids.add(tx.tid)
            self.orders.journal.record_fill(cid, tx)
            filled += tx.base_amount
            quote += tx.quote_amount
            fee += tx.fee
        state = _EXCHANGE_STATE.get(status.state)
        if state is None:  # Open or Cancel pending: still able to trade
            state = TrackState.PARTIALLY_FILLED if filled > 0 else TrackState.OPEN
            if order.state.is_final and order.state is not TrackState.REJECTED:
                state = order.state  # a stale read does not reopen a finished order
        if (state, status.order_id, filled) != (order.state, order.order_id, order.filled):
            self.orders.journal.record_event(
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
        order = self.orders.move(
            order,
            state,
            order_id=status.order_id,
            filled=filled,
            filled_quote=quote,
            fee=fee,
            fill_tids=frozenset(tids),
        )
        if order.replaces is not None and order.state not in _UNDECIDED:
            self.orders.mark_replaced(order.replaces, order)
        return order

    async def refresh(self, client_order_id: str) -> TrackedOrder:
        """One ``order_status`` for the order; on error, the order unchanged."""
        order, _ = await self.check(client_order_id)
        return order

    async def check(self, client_order_id: str) -> tuple[TrackedOrder, str | None]:
        """:meth:`refresh`, and why the exchange could not say (None: it did)."""
        try:
            status = await self._status(client_order_id)
        except OrderNotFound as error:
            order = await self._not_found(client_order_id, error)
            return order, None if order.state is TrackState.LOST else error.message
        except BitstampError as error:
            return self.orders.get(client_order_id), error.message
        theirs = status.client_order_id
        if theirs not in (None, client_order_id) and not self.orders.get(client_order_id).external:
            # A venue that restarted hands our order's id to another order: ours is gone.
            gone = OrderNotFound("its id names another order")
            order = await self._not_found(client_order_id, gone)
            return order, None if order.state is TrackState.LOST else "its id names another order"
        return self._apply_status(client_order_id, status, "order_status"), None

    async def _not_found(self, cid: str, error: BitstampError) -> TrackedOrder:
        """ "Order not found" for an order the exchange had acknowledged: LOST once the grace
        period since its creation is over (before that, the order unchanged), unless the
        market's open orders still list it (``order_status`` covers 30 days only) or cannot
        be read (then the order unchanged: a live order shown lost is the worse mistake)."""
        order = self.orders.get(cid)
        if order.order_id is None or order.state.is_final or order.state in _UNDECIDED:
            return order  # never acknowledged: the chase of a lost submit decides
        if self._within_grace(order):
            return order
        try:
            listed = await self.rest.open_orders(order.market or None)
        except BitstampError:
            return order
        if any(self._lists(seen, order) for seen in listed):
            return order
        reason = f"the venue no longer knows this order ({error.message})"
        self.orders.journal.record_event(
            cid,
            "reconciled",
            {"source": "order_status", "from": order.state, "state": TrackState.LOST,
             "order_id": order.order_id, "reason": reason},
        )  # fmt: skip
        return self.orders.move(order, TrackState.LOST, reason=reason)

    @staticmethod
    def _lists(seen: OpenOrder, order: TrackedOrder) -> bool:
        """Whether a listed open order is ``order``: ours by our ``client_order_id`` (which
        no other order can carry), one placed elsewhere by its exchange id."""
        if order.external:
            return seen.order_id == order.order_id
        return seen.client_order_id == order.client_order_id

    def _reopen_if_listed(self, seen: OpenOrder) -> TrackedOrder | None:
        """One of our orders made LOST by "not found" that ``open_orders`` lists (by our
        ``client_order_id``): the venue still holds it, so it is open again."""
        cid = seen.client_order_id
        if cid is None or self.orders.find(client_order_id=cid) is None:
            return None
        order = self.orders.get(cid)
        if order.state is not TrackState.LOST or order.external:
            return None
        state = TrackState.PARTIALLY_FILLED if order.filled > 0 else TrackState.OPEN
        reason = "open_orders lists it: the venue still holds it"
        self.orders.journal.record_event(
            cid,
            "reconciled",
            {"source": "open_orders", "from": order.state, "state": state,
             "order_id": seen.order_id, "amount_remaining": seen.amount, "reason": reason},
        )  # fmt: skip
        return self.orders.move(order, state, order_id=seen.order_id, reason=reason)

    def _within_grace(self, order: TrackedOrder) -> bool:
        if order.created_at is None:
            return False
        age = (self.orders.journal.now() - order.created_at).total_seconds()
        return age < self.policy.not_found_grace_s

    async def _check_settled(self, cid: str) -> TrackedOrder:
        """:meth:`check`, asked again once the grace period is over when the exchange said
        "not found" too early to believe it (a reconcile must not leave it open for ever)."""
        order, failure = await self.check(cid)
        if failure is None or order.created_at is None or not self._within_grace(order):
            return order
        age = (self.orders.journal.now() - order.created_at).total_seconds()
        await self._sleep(max(0.0, self.policy.not_found_grace_s - age))
        return (await self.check(cid))[0]

    # -- orders placed elsewhere ----------------------------------------------------------

    async def discover(self, market: str) -> list[TrackedOrder]:
        """List ``market``'s open orders and adopt those placed elsewhere (each then asked
        for its fills so far); coalesced per market like :meth:`confirm`."""
        return await self._discoveries(market)

    async def _discover_once(self, market: str) -> list[TrackedOrder]:
        adopted = []
        for seen in await self.rest.open_orders(market):
            if (order := self.orders.adopt(seen, "open_orders")) is not None:
                adopted.append(await self.refresh(order.client_order_id))
        return adopted

    async def _status(self, client_order_id: str) -> OrderStatus:
        order = self.orders.get(client_order_id)
        if order.order_id is not None:
            return await self.rest.order_status(order_id=order.order_id)
        return await self.rest.order_status(client_order_id=client_order_id)

    async def _refresh_patiently(self, client_order_id: str) -> TrackedOrder:
        """:meth:`refresh`, asked again (``confirm_attempts`` in all, on the policy's delays)
        when the exchange fails to answer: an event said the order changed, and a missed
        final fill would otherwise show only at the next reconcile."""
        delays = self.policy.delays()
        for attempt in range(self.confirm_attempts):
            order, failure = await self.check(client_order_id)
            if failure is None:
                return order
            if attempt + 1 < self.confirm_attempts:
                await self._sleep(next(delays, self.policy.cap_s))
        return self.orders.get(client_order_id)

    async def confirm(self, client_order_id: str) -> TrackedOrder:
        """:meth:`refresh`, coalesced: at most one ``order_status`` in flight per order.

        A call made while one is in flight asks for one more request after it (so what
        prompted the call is seen) and returns with that request's result; any number of
        such calls share that one request.
        """
        return await self._confirms(client_order_id)

    async def chase(self, cid: str, *, since: dt.datetime) -> TrackedOrder:
        """Chase an order of unknown outcome by ``client_order_id`` until the answer is definite.

        Never resends. ``since`` is when the outcome became unknown: "Order not found" is
        final only ``not_found_grace_s`` after it.
        """
        policy = self.policy
        for delay in policy.delays():
            try:
                status = await self.rest.order_status(client_order_id=cid)
            except OrderNotFound as error:
                waited = (self.orders.journal.now() - since).total_seconds()
                if waited >= policy.not_found_grace_s:
                    reason = f"not placed: the exchange has no such order ({error.message})"
                    detail = {"reason": reason, "waited_s": str(round(waited, 3))}
                    self.orders.journal.record_event(cid, "reject", detail)
                    return self.orders.move(
                        self.orders.get(cid), TrackState.REJECTED, reason=reason
                    )
            except BitstampError:
                pass  # transient: ask again after the delay
            else:
                return self._apply_status(cid, status, "reconcile")
            if (self.orders.journal.now() - since).total_seconds() >= policy.give_up_after_s:
                break
            await self._sleep(delay)
        return self.orders.get(cid)  # still UNKNOWN: the next reconcile_open tries again

    async def reconcile_open(self) -> list[TrackedOrder]:
        """Bring every journaled open order of this env to the exchange's truth, after
        adopting the account's open orders placed elsewhere.

        Acknowledged orders still resting with nothing new filled are confirmed from one
        ``open_orders`` call; the rest are asked by ``order_status``; PENDING and UNKNOWN ones
        are chased like a lost submit; one the exchange no longer knows ends LOST (after the
        grace period, waited out if need be), unless ``open_orders`` lists it. Submits in
        flight are left to their own reply. The gate opens once no order is left PENDING or
        UNKNOWN, unless it was closed again meanwhile. Returns the orders' new snapshots.
        """
        epoch = self.gate.epoch
        in_flight = self.gate.in_flight
        rows = [row for row in self.orders.journaled_open() if row.client_order_id not in in_flight]
        try:
            listed = await self.rest.open_orders()
        except BitstampError:
            listed = []
        resting = {o.order_id: o for o in listed}
        results = []
        for seen in listed:
            if (adopted := self.orders.adopt(seen, "open_orders")) is not None:
                results.append(await self.refresh(adopted.client_order_id))
        for row in rows:
            cid = row.client_order_id
            if cid in in_flight:  # submitted while we were waiting
                continue
            order = self.orders.get(cid)
            if order.state in _UNDECIDED:
                if order.state is TrackState.PENDING:
                    self.orders.mark_unknown(cid, {"error": "no answer journaled before a restart"})
                results.append(await self.chase(cid, since=row.updated_at))
                continue
            open_order = resting.get(order.order_id or -1)
            if open_order is not None and open_order.amount == order.remaining:
                results.append(self.orders.publish(order))  # still resting, nothing new
                continue
            results.append(await self._check_settled(cid))
        for seen in listed:
            if (reopened := self._reopen_if_listed(seen)) is not None:
                cid = reopened.client_order_id
                results = [o for o in results if o.client_order_id != cid] + [reopened]
        undecided = [o for o in results if o.state in _UNDECIDED]
        if not undecided:
            self.gate.open_after(epoch)
        return results
