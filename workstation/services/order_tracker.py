"""The order tracker: the one owner of our orders' timelines (architecture, "Orders are a
timeline").

Every order gets a ``client_order_id`` made by us and is journaled, durably, before its
request leaves. An acknowledgement makes it OPEN, a typed refusal REJECTED with Bitstamp's
reason, and no trustworthy reply (:class:`OutcomeUnknown`: timeout, dropped connection,
5xx, a reply we cannot read) UNKNOWN: it is then reconciled by ``client_order_id`` with
``order_status`` (reference 4.5) under capped backoff, and **never resent**. "Order not
found" is believed only after a grace period (a request can still be processed after we gave
up on its reply); then it is REJECTED as never placed.

Fills are accounted from ``order_status`` transactions (REST confirmation), de-duplicated by
``tid`` and journaled once each. The private stream (:mod:`workstation.services.private_feed`)
only prompts those confirmations.

Submits are gated: a new tracker, or one whose private stream dropped (``mark_stale``),
refuses new submits and amends with :class:`SubmitsBlocked` until :meth:`reconcile_open`
has brought every journaled open order to a definite state. Cancels are always allowed, and
always end with the order's true state by REST: a cancel that races a fill ends FILLED, with
the fills.

:class:`OrderTracker` is built from collaborators, each given what it needs:

- :class:`~workstation.services.tracked_orders.TrackedOrders`: the snapshots and the journal
  write behind each change (shared by the others);
- :class:`~workstation.services.submit_gate.SubmitGate`: whether submits may leave;
- :class:`~workstation.services.reconciler.Reconciler`: the exchange's truth (refresh,
  confirm, the chase of a lost submit, reconcile on start and reconnect, discovery);
- :class:`~workstation.services.submitter.Submitter`: submits and amends;
- :class:`~workstation.services.canceller.Canceller`: cancel and cancel-all.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from ..bitstamp.rest import RestClient
from ..domain.common import Side
from ..domain.order_request import OrderRequest
from ..domain.order_vocabulary import OrderKind, TimeInForce
from ..domain.orders import CancelResult, OpenOrder
from ..domain.tracked_order import CancelReport, TrackedOrder
from .canceller import Canceller
from .journal import Journal
from .reconciler import ReconcilePolicy, Reconciler
from .submit_gate import SubmitGate
from .submitter import Submitter
from .tracked_orders import TrackedOrders

__all__ = ["OrderTracker"]

_log = logging.getLogger(__name__)

RECONCILE_RETRY_CAP_S = 30.0
"""The longest wait between two reconcile attempts that left orders undecided."""


class OrderTracker:
    """The single order tracker of one environment.

    Args:
        rest: the environment's REST client.
        journal: the order journal (shared by environments; rows carry ``env``).
        env: ``"sim"``, ``"sandbox"`` or ``"live"`` (or a simulator's scope).
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
        self.tracked = TrackedOrders(journal, env, on_change=on_change)
        self.gate = SubmitGate(on_gate)
        self.reconciler = Reconciler(rest, self.tracked, self.gate, policy=policy, sleep=sleep)
        self.submitter = Submitter(rest, self.tracked, self.gate, self.reconciler)
        self.canceller = Canceller(rest, self.tracked, self.reconciler, self.gate)

    @property
    def policy(self) -> ReconcilePolicy:
        """How orders of unknown outcome are chased (the reconciler's)."""
        return self.reconciler.policy

    @policy.setter
    def policy(self, policy: ReconcilePolicy) -> None:
        self.reconciler.policy = policy

    # -- the gate -------------------------------------------------------------------------

    @property
    def submits_allowed(self) -> bool:
        return self.gate.reason is None

    @property
    def gate_reason(self) -> str | None:
        """Why new submits are refused right now, or None when they are allowed."""
        return self.gate.reason

    def mark_stale(self, reason: str = "private stream reconnected") -> None:
        """Block new submits until :meth:`reconcile_open` succeeds (cancels stay allowed).

        A reconcile that started before this call does not lift the block: only one that
        started after it has seen what the exchange did in the meantime.
        """
        self.gate.close(reason)

    # -- snapshots ------------------------------------------------------------------------

    @property
    def orders(self) -> dict[str, TrackedOrder]:
        """The orders this tracker has seen, by ``client_order_id`` (a copy)."""
        return self.tracked.snapshots()

    def get(self, client_order_id: str) -> TrackedOrder:
        """The current snapshot of one of our orders (from the journal if not yet loaded).
        Raises KeyError for an order this environment never journaled."""
        return self.tracked.get(client_order_id)

    def find(
        self, *, client_order_id: str | None = None, order_id: int | None = None
    ) -> str | None:
        """Our ``client_order_id`` for an order the exchange names, or None if not ours."""
        return self.tracked.find(client_order_id=client_order_id, order_id=order_id)

    def load_recent(self, limit: int) -> list[TrackedOrder]:
        """Load the newest ``limit`` journaled orders of this environment (the final ones
        too, for the recent orders view after a restart)."""
        return self.tracked.recent(limit)

    def adopt(self, seen: OpenOrder | CancelResult, source: str) -> TrackedOrder | None:
        """Journal an open order of the account placed elsewhere and publish it; None when
        it is ours or already known."""
        return self.tracked.adopt(seen, source)

    # -- submits and amends ---------------------------------------------------------------

    async def submit(
        self, request: OrderRequest, *, preview: dict[str, Any] | None = None
    ) -> TrackedOrder:
        """See :meth:`Submitter.submit`."""
        return await self.submitter.submit(request, preview=preview)

    async def submit_limit(
        self,
        market: str,
        side: Side,
        amount: Decimal,
        price: Decimal,
        *,
        tif: TimeInForce = TimeInForce.GTC,
        expire_ms: int | None = None,
        preview: dict[str, Any] | None = None,
    ) -> TrackedOrder:
        """:meth:`submit` a limit order."""
        request = OrderRequest(
            market, side, OrderKind.LIMIT, amount, price, tif=tif, expire_ms=expire_ms
        )
        return await self.submit(request, preview=preview)

    async def submit_market(
        self,
        market: str,
        side: Side,
        amount: Decimal,
        *,
        preview: dict[str, Any] | None = None,
    ) -> TrackedOrder:
        """:meth:`submit` a market order for a base ``amount``."""
        request = OrderRequest(market, side, OrderKind.MARKET, amount)
        return await self.submit(request, preview=preview)

    async def submit_instant(
        self,
        market: str,
        side: Side,
        amount: Decimal,
        *,
        amount_in_quote: bool = False,
        preview: dict[str, Any] | None = None,
    ) -> TrackedOrder:
        """:meth:`submit` an instant order. A buy's ``amount`` is always in the quote
        currency (spend 100 USD, reference 4.3); a sell's is in the base currency unless
        ``amount_in_quote`` (``amount_in_counter``)."""
        in_quote = side is Side.SELL and amount_in_quote
        request = OrderRequest(market, side, OrderKind.INSTANT, amount, amount_in_quote=in_quote)
        return await self.submit(request, preview=preview)

    async def replace(
        self, client_order_id: str, *, price: Decimal, amount: Decimal
    ) -> TrackedOrder:
        """See :meth:`Submitter.replace`."""
        return await self.submitter.replace(client_order_id, price=price, amount=amount)

    # -- cancels --------------------------------------------------------------------------

    async def cancel(self, client_order_id: str) -> TrackedOrder:
        """See :meth:`Canceller.cancel`."""
        return await self.canceller.cancel(client_order_id)

    async def cancel_all(self, market: str | None = None) -> CancelReport:
        """See :meth:`Canceller.cancel_all`."""
        return await self.canceller.cancel_all(market)

    async def kill(self) -> CancelReport:
        """See :meth:`Canceller.kill`."""
        return await self.canceller.kill()

    # -- the exchange's truth -------------------------------------------------------------

    async def refresh(self, client_order_id: str) -> TrackedOrder:
        """One ``order_status`` for the order; on error, the order unchanged."""
        return await self.reconciler.refresh(client_order_id)

    async def check(self, client_order_id: str) -> tuple[TrackedOrder, str | None]:
        """:meth:`refresh`, and why the exchange could not say (None: it did)."""
        return await self.reconciler.check(client_order_id)

    async def confirm(self, client_order_id: str) -> TrackedOrder:
        """See :meth:`Reconciler.confirm`."""
        return await self.reconciler.confirm(client_order_id)

    async def discover(self, market: str) -> list[TrackedOrder]:
        """See :meth:`Reconciler.discover`."""
        return await self.reconciler.discover(market)

    async def reconcile_open(self) -> list[TrackedOrder]:
        """See :meth:`Reconciler.reconcile_open`."""
        return await self.reconciler.reconcile_open()

    async def reconcile_until_allowed(
        self,
        *,
        first_retry_s: float,
        sleep: Callable[[float], Awaitable[None]],
        on_error: Callable[[str], None],
        after: str,
    ) -> None:
        """Reconcile until submits are allowed again, with doubling waits (capped) between
        attempts. A failed attempt is logged and told through ``on_error``, then tried again:
        trading stays blocked rather than opening on a guess. ``after`` names the occasion in
        the log (the private stream's reconnect, the REST poll's start)."""
        delay = first_retry_s
        while True:
            try:
                await self.reconcile_open()
            except Exception as exc:  # noqa: BLE001 - reported, then tried again
                _log.exception("reconcile of open orders after %s", after)
                on_error(f"reconciling open orders failed: {type(exc).__name__}: {exc}")
            if self.submits_allowed:
                return
            await sleep(delay)
            delay = min(delay * 2, RECONCILE_RETRY_CAP_S)
