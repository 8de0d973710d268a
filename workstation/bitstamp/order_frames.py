"""Order stream frames (reference 7.5): order created/changed/deleted on ``live_orders_*``
and ``private-my_orders_*``, and the user's fills on ``private-my_trades_*``, parsed and
encoded for the simulator.

Separate from the REST order replies (``orders``): these arrive as WebSocket ``data``
with the market in the channel name and JSON numbers beside ``*_str`` twins.
``stream_frames.parse_frame`` hands their ``data`` here. Conventions as in ``fields``.
"""

from __future__ import annotations

import re

import msgspec

from workstation.bitstamp.fields import (
    Number,
    PayloadError,
    client_id,
    decoder,
    dumps,
    number,
    optional_decimal,
    present,
    read,
    text,
    to_decimal,
    to_int,
    to_side,
    twin_decimal,
)
from workstation.domain.numbers import format_decimal, plain
from workstation.domain.orders import MyTrade, OrderEvent, OrderEventKind

__all__ = [
    "encode_my_trade_frame",
    "encode_order_event_frame",
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
_ORDERS_CHANNEL = re.compile(r"live_orders_([a-z0-9-]+)|private-my_orders_([a-z0-9-]+)-[0-9]+")
_TRADES_CHANNEL = re.compile(r"private-my_trades_([a-z0-9-]+)-[0-9]+")


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


def encode_order_event_frame(
    event_name: str | OrderEventKind,
    channel: str,
    order_event: OrderEvent,
    base_decimals: int,
    quote_decimals: int,
) -> str:
    """A whole ``live_orders``/``private-my_orders`` frame, keys in Bitstamp's order.

    ``amount``/``price`` are JSON numbers with ``*_str`` twins formatted to the market's
    decimals (the 2026 shape); ``datetime`` is the microtimestamp rounded to whole seconds, as
    recorded. Private channels add ``trade_account_id`` (0, the main account) and the
    ``client_order_id``, which the public feed never shows.
    """
    ev, private = order_event, channel.startswith("private-")
    data = {
        "id": ev.order_id,
        "id_str": str(ev.order_id),
        "order_type": ev.side.code,
        "order_subtype": ev.order_subtype,
        "datetime": str((ev.timestamp_us + 500_000) // 1_000_000),
        "microtimestamp": str(ev.timestamp_us),
        "amount": number(ev.amount),
        "amount_str": format_decimal(ev.amount, base_decimals),
        "amount_traded": None if ev.amount_traded is None else plain(ev.amount_traded),
        "amount_at_create": None if ev.amount_at_create is None else plain(ev.amount_at_create),
        "price": number(ev.price),
        "price_str": format_decimal(ev.price, quote_decimals),
        "is_liquidation": False,
        "trade_account_id": 0 if private else None,
        "client_order_id": ev.client_order_id if private else None,
    }
    event = event_name.value if isinstance(event_name, OrderEventKind) else event_name
    return dumps({"data": present(data), "channel": channel, "event": event}).decode()


def encode_my_trade_frame(
    channel: str, my_trade: MyTrade, base_decimals: int, quote_decimals: int
) -> str:
    """A ``private-my_trades`` ``trade`` frame: ``id`` int, ``order_id`` string, amount and
    price strings formatted to the market's decimals, ``fee`` a string in its own scale."""
    t = my_trade
    data = {
        "id": t.trade_id,
        "order_id": str(t.order_id),
        "client_order_id": t.client_order_id,
        "amount": format_decimal(t.amount, base_decimals),
        "price": format_decimal(t.price, quote_decimals),
        "fee": text(t.fee),
        "side": t.side.value,
        "microtimestamp": str(t.timestamp_us),
        "trade_account_id": 0,
    }
    return dumps({"data": present(data), "channel": channel, "event": "trade"}).decode()
