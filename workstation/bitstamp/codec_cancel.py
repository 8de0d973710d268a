"""Replies to the commands that withdraw or amend orders: cancel, cancel all and replace
(reference 4.6), parsed and encoded for the simulator.

Separate from ``codec_orders`` because these replies have their own shapes: cancel sends its
numbers as JSON numbers where every other order reply sends strings, and replace is the 2026
endpoint whose types no recording confirms. Conventions as in ``codec_fields``.
"""

from __future__ import annotations

from typing import Any

import msgspec

from workstation.bitstamp.fields import (
    Names,
    Number,
    client_id,
    decoder,
    format_datetime,
    market_name,
    number,
    optional_decimal,
    present,
    read,
    reply_market,
    text,
    to_datetime,
    to_decimal,
    to_int,
    to_market,
    to_side,
)
from workstation.domain.orders import CancelAllResult, CancelResult, ReplaceResult

__all__ = [
    "encode_cancel",
    "encode_cancel_all",
    "encode_replace",
    "parse_cancel",
    "parse_cancel_all",
    "parse_replace",
]


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


def _encode_cancel(result: CancelResult, names: Names, *, pair: bool) -> dict[str, Any]:
    name = None if result.market is None else market_name(result.market, names)
    return present(
        {
            "id": result.order_id,
            "amount": number(result.amount),
            "price": number(result.price),
            "type": result.side.code,
            "currency_pair": name if pair else None,
            "market": name,
            "status": result.status,
        }
    )


def encode_cancel(result: CancelResult, *, names: Names = None) -> dict[str, Any]:
    """``{"id": 1, "amount": 0.02, "price": 2100.45, "type": 0, "market": …, "status": …}``."""
    return _encode_cancel(result, names, pair=False)


def encode_cancel_all(result: CancelAllResult, *, names: Names = None) -> dict[str, Any]:
    """``{"canceled": [...], "success": true}``; items carry ``currency_pair`` and ``market``."""
    items = [_encode_cancel(c, names, pair=True) for c in result.canceled]
    return {"canceled": items, "success": result.success}


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


def encode_replace(result: ReplaceResult, *, names: Names = None) -> dict[str, Any]:
    """Our reading of ``replace_order/`` (types unconfirmed): int ids, string numbers."""
    r = result
    return present(
        {
            "order_id": r.order_id,
            "order_type": None if r.side is None else r.side.code,
            "market": None if r.market is None else market_name(r.market, names),
            "amount": None if r.amount is None else text(r.amount),
            "price": None if r.price is None else text(r.price),
            "datetime": None if r.datetime is None else format_datetime(r.datetime, micros=True),
            "orig_order_id": r.orig_order_id,
            "orig_client_order_id": r.orig_client_order_id,
            "status": r.status,
        }
    )
