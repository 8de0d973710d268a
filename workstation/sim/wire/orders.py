"""Our orders' REST replies written for the simulator to serve: buy/sell acknowledgements,
open orders, order status, cancel, cancel all and replace (reference 4.3-4.6).

Kept apart from ``workstation.bitstamp.orders``, which builds the order forms and reads these
replies: only the server side writes them. Conventions (keys in Bitstamp's order, values of
the JSON type it uses, serialised with ``fields.dumps``) as in ``fields``. Cancel sends its
numbers as JSON numbers where every other order reply sends strings, and replace is the 2026
endpoint whose types no recording confirms. The order stream's frames are in
``order_frames``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ...bitstamp.fields import market_name
from ...domain.orders import (
    CancelAllResult,
    CancelResult,
    OpenOrder,
    OrderAck,
    OrderStatus,
    ReplaceResult,
)
from .fields import Names, format_datetime, number, padded, present, text

__all__ = [
    "ORDER_TRANSACTION_DECIMALS",
    "encode_cancel",
    "encode_cancel_all",
    "encode_open_orders",
    "encode_order_ack",
    "encode_order_status",
    "encode_replace",
]

#: Decimals of the price and of both amounts in ``order_status`` transactions, whatever the
#: market's: ccxt's fetchOrder sample shows ``"price": "4451.25000000"`` and
#: ``"usdt": "22.25625000"`` on ETH/USDT, whose counter decimals are 2 (reference 4.5).
ORDER_TRANSACTION_DECIMALS = 8


# --- buy / sell (4.3) ----------------------------------------------------------------------


def encode_order_ack(
    ack: OrderAck,
    *,
    names: Names = None,
    base_decimals: int | None = None,
    quote_decimals: int | None = None,
) -> dict[str, Any]:
    """``{"id": "…", "market": "BTC/USD", "datetime": "….ffffff", "type": "0", …}``.

    Pass the market's decimals to pad as Bitstamp does (``"price": "2211.00"``,
    ``"amount": "45.00000000"``, reference 4.3); without them numbers keep their own scale.
    """
    return present(
        {
            "id": str(ack.order_id),
            "market": market_name(ack.market, names),
            "datetime": format_datetime(ack.datetime, micros=True),
            "type": str(ack.side.code),
            "price": padded(ack.price, quote_decimals),
            "amount": padded(ack.amount, base_decimals),
            "client_order_id": ack.client_order_id,
        }
    )


# --- open orders (4.4) ---------------------------------------------------------------------


def encode_open_orders(
    orders: Iterable[OpenOrder],
    *,
    names: Names = None,
    all_markets: bool = True,
    decimals: Mapping[str, tuple[int, int]] | None = None,
) -> list[dict[str, Any]]:
    """Open orders, every value a string. ``all_markets`` adds the deprecated ``currency_pair``
    only the all-markets endpoint sends. Times have second precision on this endpoint.

    ``decimals`` (symbol -> (base, quote) decimals) pads amounts and prices as Bitstamp does
    (``"amount": "15.00000000"``, reference 4.4); markets it does not list are not padded.
    """
    rows = []
    for o in orders:
        name = market_name(o.market, names)
        base, quote = (None, None) if decimals is None else decimals.get(o.market, (None, None))
        at_create, limit = o.amount_at_create, o.limit_price
        row = {
            "id": str(o.order_id),
            "datetime": format_datetime(o.datetime, micros=False),
            "type": str(o.side.code),
            "price": padded(o.price, quote),
            "amount": padded(o.amount, base),
            "amount_at_create": None if at_create is None else padded(at_create, base),
            "currency_pair": name if all_markets else None,
            "market": name,
            "limit_price": None if limit is None else padded(limit, quote),
            "client_order_id": o.client_order_id,
        }
        rows.append(present(row))
    return rows


# --- order status (4.5) --------------------------------------------------------------------


def encode_order_status(
    status: OrderStatus,
    *,
    names: Names = None,
    base_decimals: int | None = None,
    quote_decimals: int | None = None,
) -> dict[str, Any]:
    """``id`` int, ``type`` string, string amounts, transactions with int ``tid``/``type``.

    With the market's decimals, ``amount_remaining`` is padded to the base decimals
    (``"0.00000000"``) and each transaction's price and amounts to at least
    ``ORDER_TRANSACTION_DECIMALS``, as Bitstamp writes them (reference 4.5); fees keep their
    own scale. Without them, numbers keep their own scale.
    """
    name = market_name(status.market, names)
    base, _, quote = name.lower().partition("/")
    tx_base, tx_quote = (
        None if places is None else max(places, ORDER_TRANSACTION_DECIMALS)
        for places in (base_decimals, quote_decimals)
    )
    transactions = [
        {
            "tid": tx.tid,
            "price": padded(tx.price, tx_quote),
            base: padded(tx.base_amount, tx_base),
            quote: padded(tx.quote_amount, tx_quote),
            "fee": text(tx.fee),
            "datetime": format_datetime(tx.datetime, micros=True),
            "type": tx.type_code,
        }
        for tx in status.transactions
    ]
    remaining = status.amount_remaining
    return present(
        {
            "id": status.order_id,
            "datetime": format_datetime(status.datetime, micros=False),
            "type": str(status.side.code),
            "status": status.state.value,
            "market": name,
            "amount_remaining": None if remaining is None else padded(remaining, base_decimals),
            "client_order_id": status.client_order_id,
            "transactions": transactions,
        }
    )


# --- cancel, cancel all and replace (4.6) -------------------------------------------------


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
