"""Our orders as the tracker holds them: one immutable snapshot per order, and the journal
write behind every change of one (architecture, "Orders are a timeline").

The submitter, the canceller and the reconciler share one :class:`TrackedOrders` of their
environment. A snapshot is replaced, never changed: :meth:`TrackedOrders.move` journals the
new state, then publishes the new snapshot (to the log and the ``on_change`` listener). An
order not yet seen since start is loaded from its journaled timeline on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ..domain.order_vocabulary import TrackState
from ..domain.orders import CancelResult, OpenOrder
from ..domain.tracked_order import TrackedOrder
from .external_orders import external_key, journal_external
from .journal import Journal, JournalOrder, tracked_order_of
from .logs import log_order

__all__ = ["TrackedOrders"]


class TrackedOrders:
    """The snapshots of one environment's orders, by ``client_order_id``.

    Args:
        journal: the order journal (shared by environments; rows carry ``env``).
        env: the venue scope, e.g. ``"sim"`` or ``"live"``.
        on_change: called with each new snapshot (the UI service turns it into a message).
    """

    def __init__(
        self,
        journal: Journal,
        env: str,
        *,
        on_change: Callable[[TrackedOrder], None] | None = None,
    ) -> None:
        self.journal = journal
        self.env = env
        self._on_change = on_change
        self._orders: dict[str, TrackedOrder] = {}
        self._by_order_id: dict[int, str] = {}

    # -- reads ----------------------------------------------------------------------------

    def snapshots(self) -> dict[str, TrackedOrder]:
        """The orders seen so far, by ``client_order_id`` (a copy)."""
        return dict(self._orders)

    def get(self, client_order_id: str) -> TrackedOrder:
        """The current snapshot (from the journal if not yet loaded). Raises KeyError for an
        order this environment never journaled."""
        if (order := self._orders.get(client_order_id)) is not None:
            return order
        row = self.journal.order(client_order_id)
        if row is None or row.env != self.env:
            raise KeyError(client_order_id)
        order = tracked_order_of(row, self.journal.events(client_order_id))
        self._orders[client_order_id] = order
        if order.order_id is not None:
            self._by_order_id[order.order_id] = client_order_id
        return order

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

    def recent(self, limit: int) -> list[TrackedOrder]:
        """Load the newest ``limit`` journaled orders of this environment (the final ones
        too, for the recent orders view after a restart)."""
        # Columns as in the journal's schema: client_order_id, env, ..., created_at (12th).
        rows = [r for r in self.journal.raw_rows("orders") if r[1] == self.env]
        rows.sort(key=lambda r: (r[11], r[0]))
        return [self.get(r[0]) for r in rows[-limit:]] if limit > 0 else []

    def journaled_open(self) -> list[JournalOrder]:
        """The journal's rows of this environment's orders not in a final state."""
        return self.journal.open_orders(self.env)

    # -- changes --------------------------------------------------------------------------

    def publish(self, order: TrackedOrder) -> TrackedOrder:
        """Hold ``order`` as the current snapshot and tell the log and the listener."""
        log_order(order)
        self._orders[order.client_order_id] = order
        if order.order_id is not None:
            self._by_order_id[order.order_id] = order.client_order_id
        if self._on_change is not None:
            self._on_change(order)
        return order

    def move(self, order: TrackedOrder, state: TrackState, **changes: Any) -> TrackedOrder:
        """Journal the order's new state (and fields), then publish it; nothing new: no
        write, no notification."""
        changed = replace(order, state=state, **changes)
        if changed == order:
            return order
        self.journal.set_state(
            changed.client_order_id,
            state,
            order_id=changed.order_id,
            filled=changed.filled,
            reason=changed.reason,
        )
        return self.publish(changed)

    def mark_unknown(self, client_order_id: str, detail: dict[str, Any]) -> TrackedOrder:
        """Journal a lost reply; the order is UNKNOWN unless the exchange already showed it."""
        self.journal.record_event(client_order_id, "unknown", detail)
        order = self.get(client_order_id)
        if order.state is TrackState.PENDING:
            return self.move(order, TrackState.UNKNOWN)
        return order

    def mark_replaced(self, old_cid: str, new: TrackedOrder) -> TrackedOrder:
        """The exchange holds ``new``, so the order it replaced was cancelled by it."""
        old = self.get(old_cid)
        reason = f"replaced by {new.client_order_id}"
        if old.state is TrackState.CANCELLED and old.reason == reason:
            return old
        detail = {"phase": "replaced", "by": new.client_order_id, "new_order_id": new.order_id}
        self.journal.record_event(old_cid, "cancel", detail)
        return self.move(old, TrackState.CANCELLED, reason=reason)

    def adopt(self, seen: OpenOrder | CancelResult, source: str) -> TrackedOrder | None:
        """Journal an open order of the account that is not ours (placed elsewhere) and
        publish it; None when it is ours or already known."""
        theirs = getattr(seen, "client_order_id", None)
        if self.find(client_order_id=theirs, order_id=seen.order_id) is not None:
            return None
        cid = journal_external(self.journal, self.env, seen, source)
        return self.publish(self.get(cid))
