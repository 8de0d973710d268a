"""The order tracker: the one owner of our orders' timelines (architecture, "Orders are a
timeline").

Every order gets a ``client_order_id`` made here (uuid4 hex, well under Bitstamp's 180
characters, reference 4.3) and is journaled, durably, before its request leaves. Limit,
market and instant orders and amends (``replace_order``, reference 4.6) all go through one
submit path, :meth:`OrderTracker._submit`:

- an acknowledgement makes it OPEN, and one ``order_status`` confirms fills at once (a
  marketable limit, a market or an instant order has usually traded on arrival);
- a typed refusal makes it REJECTED with Bitstamp's reason (nothing was placed, section 6);
- no trustworthy reply (:class:`OutcomeUnknown`: timeout, dropped connection, 5xx, a reply we
  cannot read) makes it UNKNOWN. It is then reconciled by ``client_order_id`` with
  ``order_status`` (reference 4.5) under capped backoff, and **never resent**. Found: its true
  state. "Order not found" is believed only after a grace period (a request can still be
  processed after we gave up on its reply); then it is REJECTED as never placed.

Fills are accounted from ``order_status`` transactions (REST confirmation), de-duplicated by
``tid`` and journaled once each; see :mod:`workstation.services.reconcile`. The private
stream (:mod:`workstation.services.private_feed`) only prompts those confirmations.

Submits are gated: a new tracker, or one whose private stream dropped (``mark_stale``),
refuses new submits and amends with :class:`SubmitsBlocked` until
:meth:`OrderTracker.reconcile_open` has brought every journaled open order to a definite
state. Cancels (:mod:`workstation.services.cancels`) are always allowed, and always end
with the order's true state by REST: a cancel that races a fill ends FILLED, with the fills.

The tracker is split by concern: snapshots, the gate and reconciliation in
:mod:`~workstation.services.reconcile`, cancels in :mod:`~workstation.services.cancels`,
submits and amends here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..bitstamp.errors import (
    AuthenticationError,
    BadRequest,
    BitstampError,
    NotFound,
    OrderRejected,
    RateLimited,
    TransportError,
)
from ..bitstamp.orders import SubmitForm, place_form, replace_form
from ..domain.common import Side
from ..domain.order_request import OrderRequest
from ..domain.order_vocabulary import OrderKind, TimeInForce, TrackState
from .cancels import Canceller
from .journal import OrderTerms
from .order_model import (
    AmendRefused,
    ReconcilePolicy,
    SubmitsBlocked,
    TrackedOrder,
    error_detail,
    new_client_order_id,
)
from .reachability import host_of

__all__ = [
    "AmendRefused",
    "OrderTracker",
    "ReconcilePolicy",
    "SubmitsBlocked",
    "TrackedOrder",
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

Sender = Callable[[SubmitForm], Awaitable[tuple[int, dict[str, Any]]]]
"""Posts the form; returns the new order id and the ack to journal."""


@dataclass(frozen=True, slots=True)
class _Placement:
    """One order request, ready for :meth:`OrderTracker._submit`."""

    request: OrderRequest
    form: Callable[[str], SubmitForm]
    """The wire form for a ``client_order_id`` (built in ``workstation.bitstamp.orders``)."""
    send: Sender
    replaces: str | None = None


class OrderTracker(Canceller):
    """The single order tracker of one environment; built with :class:`Reconciler`'s
    arguments (REST client, journal, env, policy, callbacks)."""

    # -- submit ---------------------------------------------------------------------------

    async def submit(
        self, request: OrderRequest, *, preview: dict[str, Any] | None = None
    ) -> TrackedOrder:
        """Journal, then place what the ticket asks for: a limit order with its time in force
        (GTD with its expiry), a market order, or an instant order (in quote when it says
        so); never resent. ``preview`` holds the numbers the trader saw.

        Returns the order in its state once the exchange's answer (or the reconciliation of
        a lost answer) is known: OPEN, PARTIALLY_FILLED, FILLED, CANCELLED (IOC, FOK,
        post-only), REJECTED, or UNKNOWN when reconciliation gave up for now. Raises
        :class:`SubmitsBlocked` while the tracker is stale.
        """

        async def send(form: SubmitForm) -> tuple[int, dict[str, Any]]:
            ack = await self.rest.place(form)
            return ack.order_id, _ack_detail(ack)

        return await self._submit(
            _Placement(request, lambda cid: place_form(request, cid), send), preview
        )

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

    async def _submit(
        self,
        p: _Placement,
        preview: dict[str, Any] | None,
        *,
        before_send: Callable[[str], None] | None = None,
    ) -> TrackedOrder:
        """The one submit discipline: gate, journal the intent and the request (on disk),
        send once, then the answer, a refusal, or the chase of a lost answer."""
        if self._stale_reason is not None:
            raise SubmitsBlocked(self._stale_reason)
        cid = new_client_order_id()
        form = p.form(cid)
        request = p.request
        terms = OrderTerms(
            tif=request.tif,
            expire_ms=request.expire_ms,
            amount_in_quote=request.in_quote,
            replaces=p.replaces,
        )
        at = self.journal.record_intent(
            cid,
            env=self.env,
            market=request.market,
            side=request.side,
            kind=request.kind,
            amount=request.amount,
            price=request.price,
            terms=terms,
            detail={"preview": preview or {}},
        )
        self._set(
            TrackedOrder(
                cid,
                self.env,
                request.market,
                request.side,
                request.kind,
                request.amount,
                request.price,
                TrackState.PENDING,
                created_at=at,
                amount_in_quote=request.in_quote,
                tif=request.tif,
                replaces=p.replaces,
            )
        )
        self.journal.record_event(cid, "request", {"path": form.path, "fields": form.fields})
        if before_send is not None:
            before_send(cid)
        self._in_flight.add(cid)
        try:
            try:
                order_id, ack = await p.send(form)
            except TransportError as error:  # on a submit: could not connect, never left
                reason = f"not sent: cannot reach {host_of(self.rest.transport.base_url)}"
                self.journal.record_event(cid, "reject", {**error_detail(error), "why": reason})
                return self._move(self._load(cid), TrackState.REJECTED, reason=reason)
            except _NOT_PLACED as error:
                self.journal.record_event(cid, "reject", error_detail(error))
                return self._move(self._load(cid), TrackState.REJECTED, reason=error.message)
            except BitstampError as error:  # OutcomeUnknown, ProtocolError, 5xx: it may exist
                self._mark_unknown(cid, error_detail(error))
                return await self._reconcile(cid, since=self.journal.now())
            except asyncio.CancelledError:
                self._mark_unknown(cid, {"error": "cancelled while in flight"})
                raise
        finally:
            self._in_flight.discard(cid)
        self.journal.record_event(cid, "ack", ack)
        order = self._load(cid)  # the private stream may have confirmed it already
        state = TrackState.OPEN if order.state is TrackState.PENDING else order.state
        self._move(order, state, order_id=order_id)
        return await self.refresh(cid)

    # -- amend ----------------------------------------------------------------------------

    async def replace(
        self, client_order_id: str, *, price: Decimal, amount: Decimal
    ) -> TrackedOrder:
        """Amend a resting limit order with ``replace_order`` (cancel + new in one call).

        The new order is journaled with a new ``client_order_id`` before the request, like
        any submit, and returned. Once the exchange holds it, the old order ends CANCELLED
        with the reason ``"replaced by <new cid>"`` (its fills kept). A refused replace
        leaves the old order as it was and returns the new one REJECTED with the reason.
        ``amount`` is the new order's whole amount.

        Raises AmendRefused (nothing journaled, nothing sent) when the order is not a
        resting limit order or nothing would change; SubmitsBlocked while stale.
        """
        old = self._load(client_order_id)
        if old.kind is not OrderKind.LIMIT:
            raise AmendRefused(f"only a limit order can be amended, not a {old.kind.value} order")
        if old.state.is_final or old.state in (TrackState.PENDING, TrackState.UNKNOWN):
            raise AmendRefused(f"the order is {old.state.value}, it cannot be amended")
        if not (price > 0 and amount > 0):
            raise AmendRefused("price and amount must be positive")
        if (price, amount) == (old.price, old.remaining):
            raise AmendRefused("nothing to change")

        async def send(form: SubmitForm) -> tuple[int, dict[str, Any]]:
            result = await self.rest.replace(form)
            names = ("order_id", "orig_order_id", "price", "amount", "datetime", "status")
            return result.order_id, {n: getattr(result, n) for n in names}

        def form(cid: str) -> SubmitForm:
            if old.order_id is not None:
                return replace_form(
                    order_id=old.order_id, amount=amount, price=price, client_order_id=cid
                )
            return replace_form(
                orig_client_order_id=client_order_id,
                amount=amount,
                price=price,
                client_order_id=cid,
            )

        def journal_old(new_cid: str) -> None:
            detail = {"phase": "request", "replace_by": new_cid, "order_id": old.order_id}
            self.journal.record_event(client_order_id, "cancel", detail)

        request = OrderRequest(old.market, old.side, OrderKind.LIMIT, amount, price)
        placement = _Placement(request, form, send, replaces=client_order_id)
        new = await self._submit(placement, {"replaces": client_order_id}, before_send=journal_old)
        if new.state is TrackState.REJECTED:
            detail = {"phase": "failed", "replace_by": new.client_order_id, "reason": new.reason}
            self.journal.record_event(client_order_id, "cancel", detail)
        elif new.state is not TrackState.UNKNOWN:
            self._mark_replaced(client_order_id, new)
        await self.refresh(client_order_id)  # fills the old order had, or its true state
        return self._load(new.client_order_id)


def _ack_detail(ack: Any) -> dict[str, Any]:
    return {k: getattr(ack, k) for k in ("order_id", "datetime", "price", "amount")}
