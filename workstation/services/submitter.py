"""Placing and amending our orders: the one submit discipline (architecture, "Orders are a
timeline").

Every order gets a ``client_order_id`` made here (uuid4 hex, well under Bitstamp's 180
characters, reference 4.3) and is journaled, durably, with the wire form it is sent with
(built by :mod:`workstation.bitstamp.orders`), before its request leaves. Limit, market and
instant orders and amends (``replace_order``, reference 4.6) all go through
:meth:`Submitter._submit`:

- an acknowledgement makes it OPEN, and one ``order_status`` confirms fills at once (a
  marketable limit, a market or an instant order has usually traded on arrival);
- a typed refusal makes it REJECTED with Bitstamp's reason (nothing was placed, section 6);
- no trustworthy reply (:class:`OutcomeUnknown`: timeout, dropped connection, 5xx, a reply we
  cannot read) makes it UNKNOWN, and the reconciler chases it by ``client_order_id``; it is
  **never resent**.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import msgspec

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
from ..bitstamp.rest import RestClient
from ..domain.order_request import OrderRequest
from ..domain.order_vocabulary import OrderKind, TrackState
from ..domain.tracked_order import TrackedOrder
from .journal import OrderTerms, error_detail
from .reachability import host_of
from .reconciler import Reconciler
from .refusals import AmendRefused
from .submit_gate import SubmitGate
from .tracked_orders import TrackedOrders

__all__ = ["Submitter", "new_client_order_id"]


def new_client_order_id() -> str:
    """A fresh id: 32 hex characters (Bitstamp takes up to 180, reference 4.3)."""
    return uuid.uuid4().hex


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


class _Placement(msgspec.Struct, frozen=True):
    """One order request, ready for :meth:`Submitter._submit`."""

    request: OrderRequest
    form: Callable[[str], SubmitForm]
    """The wire form for a ``client_order_id`` (built in ``workstation.bitstamp.orders``)."""
    send: Sender
    replaces: str | None = None


class Submitter:
    """The submits and amends of one environment's orders.

    Args:
        rest: the environment's REST client.
        orders: the environment's tracked orders.
        gate: refuses submits until open orders are reconciled.
        reconciler: confirms an acknowledged order, chases one of unknown outcome.
    """

    def __init__(
        self,
        rest: RestClient,
        orders: TrackedOrders,
        gate: SubmitGate,
        reconciler: Reconciler,
    ) -> None:
        self.rest = rest
        self.orders = orders
        self.gate = gate
        self.reconciler = reconciler

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

    async def _submit(
        self,
        p: _Placement,
        preview: dict[str, Any] | None,
        *,
        before_send: Callable[[str], None] | None = None,
    ) -> TrackedOrder:
        """The one submit discipline: gate, journal the intent and the request (on disk),
        send once, then the answer, a refusal, or the chase of a lost answer. The gate
        follows the submit from its check to its known outcome (a kill waits for it)."""
        self.gate.check()
        cid = new_client_order_id()
        self.gate.begin(cid)  # no await since the check: a halt cannot slip in between
        try:
            return await self._place(cid, p, preview, before_send)
        finally:
            self.gate.end(cid)

    async def _place(
        self,
        cid: str,
        p: _Placement,
        preview: dict[str, Any] | None,
        before_send: Callable[[str], None] | None,
    ) -> TrackedOrder:
        journal = self.orders.journal
        form = p.form(cid)
        request = p.request
        terms = OrderTerms(
            tif=request.tif,
            expire_ms=request.expire_ms,
            amount_in_quote=request.in_quote,
            replaces=p.replaces,
        )
        at = journal.record_intent(
            cid,
            env=self.orders.env,
            market=request.market,
            side=request.side,
            kind=request.kind,
            amount=request.amount,
            price=request.price,
            terms=terms,
            detail={"preview": preview or {}},
        )
        self.orders.publish(
            TrackedOrder(
                cid,
                self.orders.env,
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
        journal.record_event(cid, "request", {"path": form.path, "fields": form.fields})
        if before_send is not None:
            before_send(cid)
        self.gate.in_flight.add(cid)
        try:
            try:
                order_id, ack = await p.send(form)
            except TransportError as error:  # on a submit: could not connect, never left
                reason = f"not sent: cannot reach {host_of(self.rest.transport.base_url)}"
                journal.record_event(cid, "reject", {**error_detail(error), "why": reason})
                return self.orders.move(self.orders.get(cid), TrackState.REJECTED, reason=reason)
            except _NOT_PLACED as error:
                journal.record_event(cid, "reject", error_detail(error))
                rejected = self.orders.get(cid)
                return self.orders.move(rejected, TrackState.REJECTED, reason=error.message)
            except BitstampError as error:  # OutcomeUnknown, ProtocolError, 5xx: it may exist
                self.orders.mark_unknown(cid, error_detail(error))
                return await self.reconciler.chase(cid, since=journal.now())
            except asyncio.CancelledError:
                self.orders.mark_unknown(cid, {"error": "cancelled while in flight"})
                raise
        finally:
            self.gate.in_flight.discard(cid)
        journal.record_event(cid, "ack", ack)
        order = self.orders.get(cid)  # the private stream may have confirmed it already
        state = TrackState.OPEN if order.state is TrackState.PENDING else order.state
        self.orders.move(order, state, order_id=order_id)
        return await self.reconciler.refresh(cid)

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
        old = self.orders.get(client_order_id)
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
            self.orders.journal.record_event(client_order_id, "cancel", detail)

        request = OrderRequest(old.market, old.side, OrderKind.LIMIT, amount, price)
        placement = _Placement(request, form, send, replaces=client_order_id)
        new = await self._submit(placement, {"replaces": client_order_id}, before_send=journal_old)
        if new.state is TrackState.REJECTED:
            detail = {"phase": "failed", "replace_by": new.client_order_id, "reason": new.reason}
            self.orders.journal.record_event(client_order_id, "cancel", detail)
        elif new.state is not TrackState.UNKNOWN:
            self.orders.mark_replaced(client_order_id, new)
        await self.reconciler.refresh(client_order_id)  # the old order's fills, or its state
        return self.orders.get(new.client_order_id)


def _ack_detail(ack: Any) -> dict[str, Any]:
    return {k: getattr(ack, k) for k in ("order_id", "datetime", "price", "amount")}
