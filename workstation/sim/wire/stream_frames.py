"""WebSocket v2 frames the simulator sends: market data and control frames, in the keys,
key order and JSON types of recorded Bitstamp frames (reference 7.3, 7.4).

Kept apart from ``workstation.bitstamp.stream_frames``, which the workstation uses to read
frames: only the server side writes these, and the hot encoders (trade, book, diff frames)
build their text directly.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

from ...domain.market_data import BookDiff, BookSnapshot, Trade
from ...domain.numbers import format_decimal, plain
from .market_data import book_side_rows

__all__ = [
    "BOOK_FRAME_DEPTH",
    "encode_ack",
    "encode_book_frame",
    "encode_diff_frame",
    "encode_error",
    "encode_heartbeat_reply",
    "encode_reconnect_request",
    "encode_trade_frame",
    "encode_unsubscribe_ack",
]

#: Levels per side in an ``order_book_*`` frame (reference 7.4).
BOOK_FRAME_DEPTH = 100

_encode = msgspec.json.encode


def _json_number(text: str) -> str:
    """A formatted price/amount as the JSON number Bitstamp writes beside its ``*_str`` twin.

    Real frames use the shortest form (as JavaScript or Go print a double): ``0.0792``,
    ``3800.8``, integral values without a point (``"price":25862``, ``"amount":0``) and an
    exponent below 1e-6 (``"amount":1e-8``), per the recorded live_trades frames and
    gocryptotrader's wsMyOrders.json. Built from the decimal text, never via float.
    """
    value = Decimal(text)
    if value.is_zero():
        return "0"
    if value >= _EXPONENT_BELOW:
        return plain(value)
    digits = plain(value.scaleb(-value.adjusted()))  # 1.5E-7 -> "1.5"
    return f"{digits}e{value.adjusted()}"


_EXPONENT_BELOW = Decimal("0.000001")


def _str(value: str) -> str:
    return _encode(value).decode()


def _id(value: int | None) -> str:
    return "null" if value is None else str(value)


def encode_trade_frame(trade: Trade, base_decimals: int, quote_decimals: int) -> str:
    """A ``live_trades_{market}`` ``trade`` frame with real frames' keys, order and types.

    ``amount``/``price`` are JSON numbers written from the formatted decimal text, with
    ``amount_str``/``price_str`` twins; ids and ``type`` are ints, timestamps strings.
    """
    amount = format_decimal(trade.amount, base_decimals)
    price = format_decimal(trade.price, quote_decimals)
    return (
        f'{{"data":{{"id":{trade.id},"timestamp":"{trade.timestamp}",'
        f'"amount":{_json_number(amount)},"amount_str":"{amount}",'
        f'"price":{_json_number(price)},"price_str":"{price}",'
        f'"type":{trade.side.code},"microtimestamp":"{trade.timestamp_us}",'
        f'"buy_order_id":{_id(trade.buy_order_id)},"sell_order_id":{_id(trade.sell_order_id)}}},'
        f'"channel":{_str("live_trades_" + trade.market)},"event":"trade"}}'
    )


def _data_frame(channel: str, data: dict[str, Any]) -> str:
    return _encode({"data": data, "channel": channel, "event": "data"}).decode()


def encode_book_frame(snapshot: BookSnapshot, base_decimals: int, quote_decimals: int) -> str:
    """An ``order_book_{market}`` frame: the top 100 price levels per side, as strings."""
    depth = BOOK_FRAME_DEPTH
    return _data_frame(
        "order_book_" + snapshot.market,
        {
            "timestamp": str(snapshot.timestamp),
            "microtimestamp": str(snapshot.timestamp_us),
            "bids": book_side_rows(
                snapshot.bids, None, base_decimals, quote_decimals, 1, limit=depth
            ),
            "asks": book_side_rows(
                snapshot.asks, None, base_decimals, quote_decimals, 1, limit=depth
            ),
        },
    )


def encode_diff_frame(diff: BookDiff, base_decimals: int, quote_decimals: int) -> str:
    """A ``diff_order_book_{market}`` frame; a zero amount is written ``"0.00000000"``."""
    return _data_frame(
        "diff_order_book_" + diff.market,
        {
            "timestamp": str(diff.timestamp),
            "microtimestamp": str(diff.timestamp_us),
            "bids": book_side_rows(diff.bids, None, base_decimals, quote_decimals, 0),
            "asks": book_side_rows(diff.asks, None, base_decimals, quote_decimals, 0),
        },
    )


def _control_frame(event: str, channel: str, data: object) -> str:
    # Control frames put event first (recorded acks): {"event":..,"channel":..,"data":..}.
    return _encode({"event": event, "channel": channel, "data": data}).decode()


def encode_ack(channel: str) -> str:
    return _control_frame("bts:subscription_succeeded", channel, {})


def encode_unsubscribe_ack(channel: str) -> str:
    return _control_frame("bts:unsubscription_succeeded", channel, {})


def encode_heartbeat_reply() -> str:
    return _control_frame("bts:heartbeat", "", {"status": "success"})


def encode_reconnect_request() -> str:
    return _control_frame("bts:request_reconnect", "", "")


def encode_error(message: str, code: int | None = None) -> str:
    """``bts:error``; e.g. ``"Incorrect JSON format."`` or code 4009 for unauthorized."""
    return _control_frame("bts:error", "", {"code": code, "message": message})
