"""The order tracker's hold on the exchange's truth: its snapshots, the submit gate, and every
way an order is brought in line with what the exchange says (architecture, "Orders are a
timeline"). :class:`~workstation.services.orders.OrderTracker` builds its submits and
cancels on this base.

- ``refresh``: one ``order_status`` (reference 4.5) applied to the order: new fills journaled
  once each (by ``tid``), the state moved to what the exchange reports.
- ``confirm``: the same, coalesced per order: while one ``order_status`` for an order is in
  flight, further callers wait for a single trailing request instead of adding their own.
  The private stream asks for this on every event, so a burst of events costs one request
  in flight per order and the last event is never missed.
- ``_reconcile``: chase an order of unknown outcome by ``client_order_id`` under capped
  backoff; "Order not found" is believed only after a grace period. Never resends.
- ``reconcile_open``: on start and after a private-stream reconnect, bring every journaled
  open order to a definite state, and adopt every open order of the account placed elsewhere
  (:mod:`~workstation.services.external_orders`); only then are submits allowed again.
- ``discover``: the private stream named an order we do not know: list the market's open
  orders (coalesced per market) and adopt the new ones.

"Order not found" for an order the exchange had acknowledged means, once the grace period
since its creation is over, that the venue no longer knows it (a venue restarted without its
books, or an order older than the 30 days ``order_status`` covers): it ends LOST, journaled
as a ``reconciled`` event, and is never again shown as open.

Applying a status is monotonic: fills only ever add up (a tid is counted once), and a reply
that says "Open" for an order we saw final (a stale read racing a newer one) does not reopen
it, except a REJECTED that was only our inference from "Order not found".
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from ..bitstamp.errors import BitstampError, OrderNotFound
from ..bitstamp.rest import RestClient
from ..domain.order_vocabulary import TrackState
from ..domain.orders import CancelResult, OpenOrder, OrderState, OrderStatus
from .coalesce import Coalesced
from .external_orders import external_key, journal_external
from .journal import Journal
from .logs import log_order
from .order_model import ReconcilePolicy, TrackedOrder

__all__ = ["START_REASON", "Reconciler"]

_EXCHANGE_STATE = {
    OrderState.FINISHED: TrackState.FILLED,
    OrderState.CANCELED: TrackState.CANCELLED,
    OrderState.EXPIRED: TrackState.EXPIRED,
}
_UNDECIDED = (TrackState.PENDING, TrackState.UNKNOWN)
START_REASON = "open orders not yet reconciled since start"


class Reconciler:
    """Order snapshots, the submit gate and reconciliation for one environment.

    Args:
        rest: the environment's REST client.
        journal: the order journal (shared by environments; rows carry ``env``).
        env: ``"sim"``, ``"sandbox"`` or ``"live"``.
        policy: reconciliation backoff and grace.
        on_change: called with each new snapshot (the UI service turns it into a message).
        on_gate: called with the gate's reason (None: submits allowed) when it changes.
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
        on_gate: Callable[[str | None], None] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.rest = rest
        self.journal = journal
        self.env = env
        self.policy = policy or ReconcilePolicy()
        self._on_change = on_change
        self._on_gate = on_gate
        self._sleep = sleep
        self._orders: dict[str, TrackedOrder] = {}
        self._by_order_id: dict[int, str] = {}
        self._stale_reason: str | None = START_REASON
        self._stale_epoch = 0
        self._in_flight: set[str] = set()
        """Submits awaiting their reply: they resolve themselves, reconcile_open skips them."""
        self._confirms = Coalesced(self._refresh_patiently, self._load)
        self._discoveries = Coalesced(self._discover_once, lambda _market: [])
        self.confirm_attempts = 3
        """How often :meth:`confirm` asks when the exchange fails to answer."""

    # -- the gate -------------------------------------------------------------------------

    @property
    def submits_allowed(self) -> bool:
        return self._stale_reason is None

    @property
    def gate_reason(self) -> str | None:
        """Why new submits are refused right now, or None when they are allowed."""
        return self._stale_reason

    def mark_stale(self, reason: str = "private stream reconnected") -> None:
        """Block new submits until :meth:`reconcile_open` succeeds (cancels stay allowed).

        A reconcile that started before this call does not lift the block: only one that
        started after it has seen what the exchange did in the meantime.
        """
        self._stale_epoch += 1
        self._set_gate(reason)

    def _set_gate(self, reason: str | None) -> None:
        if reason == self._stale_reason:
            return
        self._stale_reason = reason
        if self._on_gate is not None:
            self._on_gate(reason)

    # -- snapshots ------------------------------------------------------------------------

    @property
    def orders(self) -> dict[str, TrackedOrder]:
        """The orders this tracker has seen, by ``client_order_id`` (a copy)."""
        return dict(self._orders)

    def get(self, client_order_id: str) -> TrackedOrder:
        """The current snapshot of one of our orders (from the journal if not yet loaded).
        Raises KeyError for an order this environment never journaled."""
        return self._load(client_order_id)

    def find(
        self, *, client_order_id: str | None = None, order_id: int | None = None
    ) -> str | None:
        """Our ``client_order_id`` for an order the exchange names, or None if not ours."""
        if client_order_id is not None:
            if client_order_id in self._orders:
                return client_order_id
            row = self.journal.order(client_order_id)
            if row is not None and row.env == self.env:
                return client_order_id
        if order_id is not None:
            if (cid := self._by_order_id.get(order_id)) is not None:
                return cid
            row = self.journal.order(external_key(order_id))
            if row is not None and row.env == self.env:
                return row.client_order_id
        return None

    def load_recent(self, limit: int) -> list[TrackedOrder]:
        """Load the newest ``limit`` journaled orders of this environment (the final ones
        too, for the recent orders view after a restart)."""
        # Columns as in the journal's schema: client_order_id, env, ..., created_at (12th).
        rows = [r for r in self.journal.raw_rows("orders") if r[1] == self.env]
        rows.sort(key=lambda r: (r[11], r[0]))
        return [self._load(r[0]) for r in rows[-limit:]] if limit > 0 else []

    def _set(self, order: TrackedOrder) -> TrackedOrder:
        log_order(order)
        self._orders[order.client_order_id] = order
        if order.order_id is not None:
            self._by_order_id[order.order_id] = order.client_order_id
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
        order = TrackedOrder.from_timeline(row, self.journal.events(client_order_id))
        self._orders[client_order_id] = order
        if order.order_id is not None:
            self._by_order_id[order.order_id] = client_order_id
        return order

    def _mark_unknown(self, client_order_id: str, detail: dict[str, Any]) -> TrackedOrder:
        """Journal a lost reply; the order is UNKNOWN unless the exchange already showed it."""
        self.journal.record_event(client_order_id, "unknown", detail)
        order = self._load(client_order_id)
        if order.state is TrackState.PENDING:
            return self._move(order, TrackState.UNKNOWN)
        return order

    def _mark_replaced(self, old_cid: str, new: TrackedOrder) -> TrackedOrder:
        """The exchange holds ``new``, so the order it replaced was cancelled by it."""
        old = self._load(old_cid)
        reason = f"replaced by {new.client_order_id}"
        if old.state is TrackState.CANCELLED and old.reason == reason:
            return old
        detail = {"phase": "replaced", "by": new.client_order_id, "new_order_id": new.order_id}
        self.journal.record_event(old_cid, "cancel", detail)
        return self._move(old, TrackState.CANCELLED, reason=reason)

    # -- exchange truth -------------------------------------------------------------------

    def _apply_status(self, cid: str, status: OrderStatus, source: str) -> TrackedOrder:
        """Journal new fills and move the order to the state ``order_status`` reports."""
        order = self._load(cid)
        tids = set(order.fill_tids)
        filled, quote, fee = order.filled, order.filled_quote, order.fee
        for tx in status.transactions:
            if tx.tid in tids:
                continue
            tids.add(tx.tid)
            self.journal.record_fill(cid, tx)
            filled += tx.base_amount
            quote += tx.quote_amount
            fee += tx.fee
        state = _EXCHANGE_STATE.get(status.state)
        if state is None:  # Open or Cancel pending: still able to trade
            state = TrackState.PARTIALLY_FILLED if filled > 0 else TrackState.OPEN
            if order.state.is_final and order.state is not TrackState.REJECTED:
                state = order.state  # a stale read does not reopen a finished order
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
        order = self._move(
            order,
            state,
            order_id=status.order_id,
            filled=filled,
            filled_quote=quote,
            fee=fee,
            fill_tids=frozenset(tids),
        )
        if order.replaces is not None and order.state not in _UNDECIDED:
            self._mark_replaced(order.replaces, order)
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
            order = self._not_found(client_order_id, error)
            return order, None if order.state is TrackState.LOST else error.message
        except BitstampError as error:
            return self._load(client_order_id), error.message
        theirs = status.client_order_id
        if theirs not in (None, client_order_id) and not self._load(client_order_id).external:
            # A venue that restarted hands our order's id to another order: ours is gone.
            order = self._not_found(client_order_id, OrderNotFound("its id names another order"))
            return order, None if order.state is TrackState.LOST else "its id names another order"
        return self._apply_status(client_order_id, status, "order_status"), None

    def _not_found(self, cid: str, error: BitstampError) -> TrackedOrder:
        """ "Order not found" for an order the exchange had acknowledged: LOST once the grace
        period since its creation is over (before that, the order unchanged)."""
        order = self._load(cid)
        if order.order_id is None or order.state.is_final or order.state in _UNDECIDED:
            return order  # never acknowledged: the chase of a lost submit decides
        if self._within_grace(order):
            return order
        reason = f"the venue no longer knows this order ({error.message})"
        self.journal.record_event(
            cid,
            "reconciled",
            {"source": "order_status", "from": order.state, "state": TrackState.LOST,
             "order_id": order.order_id, "reason": reason},
        )  # fmt: skip
        return self._move(order, TrackState.LOST, reason=reason)

    def _within_grace(self, order: TrackedOrder) -> bool:
        if order.created_at is None:
            return False
        age = (self.journal.now() - order.created_at).total_seconds()
        return age < self.policy.not_found_grace_s

    async def _check_settled(self, cid: str) -> TrackedOrder:
        """:meth:`check`, asked again once the grace period is over when the exchange said
        "not found" too early to believe it (a reconcile must not leave it open for ever)."""
        order, failure = await self.check(cid)
        if failure is None or order.created_at is None or not self._within_grace(order):
            return order
        age = (self.journal.now() - order.created_at).total_seconds()
        await self._sleep(max(0.0, self.policy.not_found_grace_s - age))
        return (await self.check(cid))[0]

    # -- orders placed elsewhere ----------------------------------------------------------

    def adopt(self, seen: OpenOrder | CancelResult, source: str) -> TrackedOrder | None:
        """Journal an open order of the account that is not ours (placed elsewhere) and
        publish it; None when it is ours or already known."""
        theirs = getattr(seen, "client_order_id", None)
        if self.find(client_order_id=theirs, order_id=seen.order_id) is not None:
            return None
        cid = journal_external(self.journal, self.env, seen, source)
        return self._set(self._load(cid))

    async def discover(self, market: str) -> list[TrackedOrder]:
        """List ``market``'s open orders and adopt those placed elsewhere (each then asked
        for its fills so far); coalesced per market like :meth:`confirm`."""
        return await self._discoveries(market)

    async def _discover_once(self, market: str) -> list[TrackedOrder]:
        adopted = []
        for seen in await self.rest.open_orders(market):
            if (order := self.adopt(seen, "open_orders")) is not None:
                adopted.append(await self.refresh(order.client_order_id))
        return adopted

    async def _status(self, client_order_id: str) -> OrderStatus:
        order = self._load(client_order_id)
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
        return self._load(client_order_id)

    async def confirm(self, client_order_id: str) -> TrackedOrder:
        """:meth:`refresh`, coalesced: at most one ``order_status`` in flight per order.

        A call made while one is in flight asks for one more request after it (so what
        prompted the call is seen) and returns with that request's result; any number of
        such calls share that one request.
        """
        return await self._confirms(client_order_id)

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

    async def reconcile_open(self) -> list[TrackedOrder]:
        """Bring every journaled open order of this env to the exchange's truth, after
        adopting the account's open orders placed elsewhere.

        Acknowledged orders still resting with nothing new filled are confirmed from one
        ``open_orders`` call; the rest are asked by ``order_status``; PENDING and UNKNOWN ones
        are chased like a lost submit; one the exchange no longer knows ends LOST (after the
        grace period, waited out if need be). Submits in flight are left to their own reply.
        Submits are allowed again once no order is left PENDING or UNKNOWN, unless the
        tracker was marked stale again meanwhile. Returns the orders' new snapshots.
        """
        epoch = self._stale_epoch
        rows = [
            row
            for row in self.journal.open_orders(self.env)
            if row.client_order_id not in self._in_flight
        ]
        try:
            listed = await self.rest.open_orders()
        except BitstampError:
            listed = []
        resting = {o.order_id: o for o in listed}
        results = []
        for seen in listed:
            if (adopted := self.adopt(seen, "open_orders")) is not None:
                results.append(await self.refresh(adopted.client_order_id))
        for row in rows:
            cid = row.client_order_id
            if cid in self._in_flight:  # submitted while we were waiting
                continue
            order = self._load(cid)
            if order.state in _UNDECIDED:
                if order.state is TrackState.PENDING:
                    self._mark_unknown(cid, {"error": "no answer journaled before a restart"})
                results.append(await self._reconcile(cid, since=row.updated_at))
                continue
            open_order = resting.get(order.order_id or -1)
            if open_order is not None and open_order.amount == order.remaining:
                results.append(self._set(order))  # still resting, nothing new: confirmed
                continue
            results.append(await self._check_settled(cid))
        undecided = [o for o in results if o.state in _UNDECIDED]
        if not undecided and epoch == self._stale_epoch:
            self._set_gate(None)
        return results
