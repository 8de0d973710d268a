"""Order stream frames written for the simulator to send (reference 7.5): order
created/changed/deleted on ``live_orders_*`` and ``private-my_orders_*``, and the user's
fills on ``private-my_trades_*``.

Kept apart from ``workstation.bitstamp.order_frames``, which reads them: only the server
side writes these. Conventions as in ``fields``.
"""

from __future__ import annotations

from ...domain.numbers import format_decimal, plain
from ...domain.orders import MyTrade, OrderEvent, OrderEventKind
from .fields import dumps, number, present, text

__all__ = ["encode_my_trade_frame", "encode_order_event_frame"]


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
