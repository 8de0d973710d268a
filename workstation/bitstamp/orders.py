"""Our orders on the REST API (reference 4.3-4.6): the forms that place and amend them, and
the replies about them: buy/sell acknowledgements, open orders, order status, cancel, cancel
all and replace.

The wire form of an order is built here and nowhere else: :func:`place_form` turns the domain
:class:`~workstation.domain.order_request.OrderRequest` (kind, side, time in force, expiry,
amount in quote) into Bitstamp's path and form fields, :func:`replace_form` does the same for
an amend. The tracker journals the form it gets from here and the REST client posts that
same form, so what the journal says was sent is what was sent.

Reply conventions as in ``fields`` (read its docstring): ``parse_*`` take raw bytes and
raise ``PayloadError``. Cancel sends its numbers as JSON numbers where every other order
reply sends strings, and replace is the 2026 endpoint whose types no recording confirms. The
order stream (7.5) is in ``order_frames``; the simulator writes these replies with
``workstation.sim.wire.orders``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

from workstation.bitstamp.fields import (
    Number,
    PayloadError,
    checked_market,
    client_id,
    decoder,
    optional_decimal,
    read,
    reply_market,
    to_datetime,
    to_decimal,
    to_int,
    to_market,
    to_side,
)
from workstation.domain.numbers import plain
from workstation.domain.order_request import OrderRequest
from workstation.domain.order_vocabulary import Fill, OrderKind, TimeInForce
from workstation.domain.orders import (
    CancelAllResult,
    CancelResult,
    OpenOrder,
    OrderAck,
    OrderState,
    OrderStatus,
    ReplaceResult,
)

__all__ = [
    "MAX_CLIENT_ORDER_ID",
    "SubmitForm",
    "checked_client_order_id",
    "parse_cancel",
    "parse_cancel_all",
    "parse_open_orders",
    "parse_order_ack",
    "parse_order_status",
    "parse_replace",
    "place_form",
    "replace_form",
]

MAX_CLIENT_ORDER_ID = 180
"""Bitstamp takes a ``client_order_id`` of up to 180 characters (reference 4.3)."""

#: A limit order's time in force as its form flag (GTC has none; GTD adds ``expire_time``).
_TIF_FLAGS = {
    TimeInForce.DAILY: "daily_order",
    TimeInForce.IOC: "ioc_order",
    TimeInForce.FOK: "fok_order",
    TimeInForce.MOC: "moc_order",
    TimeInForce.GTD: "gtd_order",
}


# --- the forms that place and amend orders (4.3, 4.6) ---------------------------------------


class SubmitForm(msgspec.Struct, frozen=True):
    """A request that may create an order, as it is posted: its path and its form fields,
    ``client_order_id`` included (every value text, as sent)."""

    path: str
    fields: dict[str, str]

    @property
    def client_order_id(self) -> str:
        return self.fields["client_order_id"]


def checked_client_order_id(value: str) -> str:
    """``value`` when Bitstamp would take it as a ``client_order_id``; ValueError otherwise."""
    if not value or len(value) > MAX_CLIENT_ORDER_ID:
        raise ValueError(f"client_order_id must be 1 to {MAX_CLIENT_ORDER_ID} characters")
    return value


def place_form(request: OrderRequest, client_order_id: str) -> SubmitForm:
    """The buy or sell that places ``request`` (reference 4.3): ``/api/v2/{side}/{market}/``
    for a limit order with its time-in-force flag (GTD with ``expire_time``),
    ``/{side}/market/{market}/`` and ``/{side}/instant/{market}/`` for the others; an instant
    sell sized in the quote currency says ``amount_in_counter``."""
    market, side = checked_market(request.market), request.side.value
    fields = {"amount": plain(request.amount)}
    if request.kind is OrderKind.LIMIT:
        assert request.price is not None  # OrderRequest guarantees it
        path = f"/api/v2/{side}/{market}/"
        fields["price"] = plain(request.price)
        if (flag := _TIF_FLAGS.get(request.tif)) is not None:
            fields[flag] = "True"
        if request.expire_ms is not None:
            fields["expire_time"] = str(request.expire_ms)
    else:
        path = f"/api/v2/{side}/{request.kind.value}/{market}/"
        if request.amount_in_quote:  # an instant sell only (OrderRequest guarantees it)
            fields["amount_in_counter"] = "True"
    fields["client_order_id"] = checked_client_order_id(client_order_id)
    return SubmitForm(path, fields)


def replace_form(
    *,
    order_id: int | None = None,
    orig_client_order_id: str | None = None,
    amount: Decimal,
    price: Decimal,
    client_order_id: str,
) -> SubmitForm:
    """``replace_order/`` (2026, reference 4.6): the order named by exactly one of
    ``order_id`` and ``orig_client_order_id`` becomes a new one of ``amount`` at ``price``."""
    if (order_id is None) == (orig_client_order_id is None):
        raise ValueError("give exactly one of order_id and orig_client_order_id")
    fields = {"amount": plain(amount), "price": plain(price)}
    if order_id is not None:
        fields["id"] = str(order_id)
    else:
        fields["orig_client_order_id"] = checked_client_order_id(orig_client_order_id or "")
    fields["client_order_id"] = checked_client_order_id(client_order_id)
    return SubmitForm("/api/v2/replace_order/", fields)


# --- buy / sell (4.3) ----------------------------------------------------------------------


class _OrderAckWire(msgspec.Struct):
    id: int | str
    datetime: str
    type: int | str
    price: Number
    amount: Number
    market: str | None = None
    currency_pair: str | None = None
    client_order_id: str | int | None = None


_ORDER_ACK = decoder(_OrderAckWire)


def parse_order_ack(body: bytes | str) -> OrderAck:
    """A buy/sell reply: ``id``, ``type``, ``price`` and ``amount`` are strings (4.3)."""
    return read(_ORDER_ACK, body, "order", _order_ack)


def _order_ack(w: _OrderAckWire) -> OrderAck:
    return OrderAck(
        order_id=to_int(w.id, "id"),
        market=reply_market(w.market, w.currency_pair),
        datetime=to_datetime(w.datetime),
        side=to_side(w.type),
        price=to_decimal(w.price, "price"),
        amount=to_decimal(w.amount, "amount"),
        client_order_id=client_id(w.client_order_id),
    )


# --- open orders (4.4) ---------------------------------------------------------------------


class _OpenOrderWire(msgspec.Struct):
    id: int | str
    datetime: str
    type: int | str
    price: Number
    amount: Number
    amount_at_create: Number = None
    market: str | None = None
    currency_pair: str | None = None
    limit_price: Number = None
    client_order_id: str | int | None = None


_OPEN_ORDERS = decoder(list[_OpenOrderWire])


def parse_open_orders(body: bytes | str) -> list[OpenOrder]:
    """``open_orders/`` (also ``/all/``) or ``open_orders/{market}/``: strings throughout."""
    return read(_OPEN_ORDERS, body, "open_orders", lambda rows: [_open_order(w) for w in rows])


def _open_order(w: _OpenOrderWire) -> OpenOrder:
    return OpenOrder(
        order_id=to_int(w.id, "id"),
        datetime=to_datetime(w.datetime),
        side=to_side(w.type),
        price=to_decimal(w.price, "price"),
        amount=to_decimal(w.amount, "amount"),
        market=reply_market(w.market, w.currency_pair),
        amount_at_create=optional_decimal(w.amount_at_create, "amount_at_create"),
        limit_price=optional_decimal(w.limit_price, "limit_price"),
        client_order_id=client_id(w.client_order_id),
    )


# --- order status (4.5) --------------------------------------------------------------------


class _OrderStatusWire(msgspec.Struct):
    id: int | str
    datetime: str
    type: int | str
    status: str
    market: str | None = None
    currency_pair: str | None = None
    amount_remaining: Number = None
    client_order_id: str | int | None = None
    transactions: list[dict[str, Any]] = msgspec.field(default_factory=list)


_ORDER_STATUS = decoder(_OrderStatusWire)


def parse_order_status(body: bytes | str) -> OrderStatus:
    """``order_status/``. Transaction amounts are keyed by lowercase currency codes, found from
    the ``"BTC/USD"`` market name; ``amount_remaining`` may be absent in older replies."""
    return read(_ORDER_STATUS, body, "order_status", _order_status)


def _order_status(w: _OrderStatusWire) -> OrderStatus:
    name = w.market if w.market is not None else w.currency_pair
    base, slash, quote = (name or "").lower().partition("/")
    if not (base and slash and quote):
        raise PayloadError(f"market must look like 'BTC/USD', not {name!r}")
    return OrderStatus(
        order_id=to_int(w.id, "id"),
        datetime=to_datetime(w.datetime),
        side=to_side(w.type),
        state=OrderState.from_wire(w.status),
        market=to_market(name or ""),
        amount_remaining=optional_decimal(w.amount_remaining, "amount_remaining"),
        client_order_id=client_id(w.client_order_id),
        transactions=tuple(_transaction(tx, base, quote) for tx in w.transactions),
    )


def _transaction(tx: dict[str, Any], base: str, quote: str) -> Fill:
    return Fill(
        tid=to_int(tx["tid"], "tid"),
        price=to_decimal(tx["price"], "price"),
        base_amount=to_decimal(tx[base], base),
        quote_amount=to_decimal(tx[quote], quote),
        fee=to_decimal(tx["fee"], "fee"),
        datetime=to_datetime(tx["datetime"]),
        type_code=to_int(tx.get("type", 2), "type"),
    )


# --- cancel, cancel all and replace (4.6) -------------------------------------------------


class _CancelWire(msgspec.Struct):
    id: int | str
    amount: Number
    price: Number
    type: int | str
    market: str | None = None
    currency_pair: str | None = None
    status: str | None = None


class _CancelAllWire(msgspec.Struct):
    canceled: list[_CancelWire]
    success: bool


_CANCEL = decoder(_CancelWire)
_CANCEL_ALL = decoder(_CancelAllWire | bool)


def parse_cancel(body: bytes | str) -> CancelResult:
    """``cancel_order/``: ``id``, ``amount``, ``price``, ``type`` are JSON numbers here."""
    return read(_CANCEL, body, "cancel_order", _cancel)


def _cancel(w: _CancelWire) -> CancelResult:
    has_market = w.market is not None or w.currency_pair is not None
    return CancelResult(
        order_id=to_int(w.id, "id"),
        amount=to_decimal(w.amount, "amount"),
        price=to_decimal(w.price, "price"),
        side=to_side(w.type),
        market=reply_market(w.market, w.currency_pair) if has_market else None,
        status=w.status,
    )


def parse_cancel_all(body: bytes | str) -> CancelAllResult:
    """``cancel_all_orders/``; a bare ``true``/``false`` (the v1 reply) lists nothing."""
    return read(_CANCEL_ALL, body, "cancel_all_orders", _cancel_all)


def _cancel_all(w: _CancelAllWire | bool) -> CancelAllResult:
    if isinstance(w, bool):
        return CancelAllResult(canceled=(), success=w)
    return CancelAllResult(canceled=tuple(_cancel(c) for c in w.canceled), success=w.success)


class _ReplaceWire(msgspec.Struct):
    order_id: int | str
    orig_order_id: int | str | None = None
    orig_client_order_id: str | int | None = None
    market: str | None = None
    order_type: int | str | None = None
    amount: Number = None
    price: Number = None
    datetime: str | None = None
    status: str | None = None


_REPLACE = decoder(_ReplaceWire)


def parse_replace(body: bytes | str) -> ReplaceResult:
    """``replace_order/`` (2026). No recording confirms its types, so ids and numbers are read
    as strings or numbers; ``order_type`` 0/1 becomes the side, anything else None."""
    return read(_REPLACE, body, "replace_order", _replace)


def _replace(w: _ReplaceWire) -> ReplaceResult:
    return ReplaceResult(
        order_id=to_int(w.order_id, "order_id"),
        orig_order_id=None if w.orig_order_id is None else to_int(w.orig_order_id, "orig_id"),
        orig_client_order_id=client_id(w.orig_client_order_id),
        market=None if w.market is None else to_market(w.market),
        side=to_side(w.order_type) if w.order_type in (0, 1, "0", "1") else None,
        amount=optional_decimal(w.amount, "amount"),
        price=optional_decimal(w.price, "price"),
        datetime=None if w.datetime is None else to_datetime(w.datetime),
        status=w.status,
    )
