"""Order REST replies: buy/sell, open orders and order status (reference 4.3-4.5).

Conventions as in ``codec_fields`` (read its docstring): ``parse_*`` take raw bytes and raise
``PayloadError``; ``encode_*`` return JSON-ready objects typed as Bitstamp types them, to be
serialised with ``codec_fields.dumps``. The replies that withdraw or amend an order (4.6) are
in ``codec_cancel``; the order stream (7.5) in ``codec_order_frames``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

# The cancel and replace encoders are re-exported for workstation/sim/routes.py, which reads
# them from here.
from workstation.bitstamp.codec_cancel import encode_cancel, encode_cancel_all, encode_replace
from workstation.bitstamp.codec_fields import (
    Names,
    Number,
    client_id,
    decoder,
    format_datetime,
    market_name,
    market_symbol,
    optional_decimal,
    padded,
    present,
    read,
    reply_market,
    text,
    to_datetime,
    to_decimal,
    to_int,
    to_side,
)
from workstation.bitstamp.codec_wire import PayloadError
from workstation.domain.order_vocabulary import Fill
from workstation.domain.orders import OpenOrder, OrderAck, OrderState, OrderStatus

__all__ = [
    "encode_cancel",
    "encode_cancel_all",
    "encode_open_orders",
    "encode_order_ack",
    "encode_order_status",
    "encode_replace",
    "parse_open_orders",
    "parse_order_ack",
    "parse_order_status",
]

#: Decimals of the price and of both amounts in ``order_status`` transactions, whatever the
#: market's: ccxt's fetchOrder sample shows ``"price": "4451.25000000"`` and
#: ``"usdt": "22.25625000"`` on ETH/USDT, whose counter decimals are 2 (reference 4.5).
ORDER_TRANSACTION_DECIMALS = 8


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
        market=market_symbol(name or ""),
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
