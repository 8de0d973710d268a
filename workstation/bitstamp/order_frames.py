"""Order stream frames (reference 7.5): order created/changed/deleted on ``live_orders_*``
and ``private-my_orders_*``, and the user's fills on ``private-my_trades_*``, read for the
workstation (the simulator writes them with ``workstation.sim.wire.order_frames``).

Separate from the REST order replies (``orders``): these arrive as WebSocket ``data``
with the market in the channel name and JSON numbers beside ``*_str`` twins.
``stream_frames.parse_frame`` hands their ``data`` here. Conventions as in ``fields``.
"""

from __future__ import annotations

import re

import msgspec

from workstation.bitstamp.fields import (
    MARKET_SYMBOL,
    Number,
    PayloadError,
    client_id,
    decoder,
    optional_decimal,
    read,
    to_decimal,
    to_int,
    to_side,
    twin_decimal,
)
from workstation.domain.orders import MyTrade, OrderEvent, OrderEventKind

__all__ = [
    "parse_my_trade",
    "parse_order_event",
]


class _OrderEventWire(msgspec.Struct):
    id: int | str
    order_type: int | str
    microtimestamp: int | str
    amount: Number = None
    amount_str: str | None = None
    price: Number = None
    price_str: str | None = None
    id_str: str | None = None
    amount_traded: Number = None
    amount_at_create: Number = None
    client_order_id: str | int | None = None
    order_subtype: int | None = None


class _MyTradeWire(msgspec.Struct):
    id: int | str
    order_id: int | str
    amount: Number
    price: Number
    fee: Number
    side: str | int
    microtimestamp: int | str
    client_order_id: str | int | None = None


_ORDER_EVENT = decoder(_OrderEventWire)
_MY_TRADE = decoder(_MyTradeWire)
# The market part is a symbol (MARKET_SYMBOL), never any run of dashes: it goes on into
# request paths (an order placed elsewhere is looked up by its market).
_ORDERS_CHANNEL = re.compile(
    rf"live_orders_({MARKET_SYMBOL})|private-my_orders_({MARKET_SYMBOL})-[0-9]+", re.ASCII
)
_TRADES_CHANNEL = re.compile(rf"private-my_trades_({MARKET_SYMBOL})-[0-9]+", re.ASCII)


def parse_order_event(event: str, channel: str, data: bytes | str) -> OrderEvent:
    """The ``data`` of an ``order_created``/``order_changed``/``order_deleted`` frame on
    ``live_orders_{market}`` or ``private-my_orders_{market}-{uid}``; the market comes from
    the channel. Other events (``order_replaced``, ...) raise PayloadError."""
    match = _ORDERS_CHANNEL.fullmatch(channel)
    if match is None:
        raise PayloadError(f"not an orders channel: {channel!r}")
    try:
        kind = OrderEventKind(event)
    except ValueError:
        raise PayloadError(f"{channel}: not an order event: {event!r}") from None

    def convert(w: _OrderEventWire) -> OrderEvent:
        return OrderEvent(
            kind=kind,
            market=match[1] or match[2],
            order_id=to_int(w.id_str if w.id_str is not None else w.id, "id"),
            side=to_side(w.order_type, "order_type"),
            price=twin_decimal(w.price_str, w.price, "price"),
            amount=twin_decimal(w.amount_str, w.amount, "amount"),
            timestamp_us=to_int(w.microtimestamp, "microtimestamp"),
            amount_traded=optional_decimal(w.amount_traded, "amount_traded"),
            amount_at_create=optional_decimal(w.amount_at_create, "amount_at_create"),
            client_order_id=client_id(w.client_order_id),
            order_subtype=w.order_subtype,
        )

    return read(_ORDER_EVENT, data, f"{channel} {event}", convert)


def parse_my_trade(channel: str, data: bytes | str) -> MyTrade:
    """The ``data`` of a ``trade`` frame on ``private-my_trades_{market}-{uid}``."""
    match = _TRADES_CHANNEL.fullmatch(channel)
    if match is None:
        raise PayloadError(f"not a my_trades channel: {channel!r}")

    def convert(w: _MyTradeWire) -> MyTrade:
        return MyTrade(
            trade_id=to_int(w.id, "id"),
            order_id=to_int(w.order_id, "order_id"),
            market=match[1],
            side=to_side(w.side, "side"),
            price=to_decimal(w.price, "price"),
            amount=to_decimal(w.amount, "amount"),
            fee=to_decimal(w.fee, "fee"),
            timestamp_us=to_int(w.microtimestamp, "microtimestamp"),
            client_order_id=client_id(w.client_order_id),
        )

    return read(_MY_TRADE, data, f"{channel} trade", convert)
