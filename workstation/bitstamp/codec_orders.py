"""Order payloads: REST replies (reference 4.3-4.6) and private stream frames (7.5).

Conventions as in ``codec_private`` (read its docstring): ``parse_*`` take raw bytes and raise
``PayloadError``; ``encode_*`` return JSON-ready objects typed as Bitstamp types them, to be
serialised with ``codec_private.dumps``. Import from either module; ``codec_private``
re-exports everything here.

REST replies name markets ``"BTC/USD"`` while the domain carries symbols (``"btcusd"``). The
REST encoders turn one into the other with ``market_name``: pass ``names`` (symbol -> name,
e.g. ``{m.symbol: f"{m.base}/{m.quote}" for m in markets}``) for markets whose quote currency
is not one of Bitstamp's usual ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import msgspec

from workstation.bitstamp.codec_private import (
    Number,
    PayloadError,
    decoder,
    dumps,
    format_datetime,
    market_name,
    market_symbol,
    number,
    optional_decimal,
    padded,
    present,
    read,
    text,
    to_datetime,
    to_decimal,
    to_int,
    to_side,
)
from workstation.domain.numbers import format_decimal, parse_decimal, plain
from workstation.domain.orders import (
    CancelAllResult,
    CancelResult,
    MyTrade,
    OpenOrder,
    OrderAck,
    OrderEvent,
    OrderEventKind,
    OrderState,
    OrderStatus,
    OrderTransaction,
    ReplaceResult,
)

__all__ = [
    "encode_cancel",
    "encode_cancel_all",
    "encode_my_trade_frame",
    "encode_open_orders",
    "encode_order_ack",
    "encode_order_event_frame",
    "encode_order_status",
    "encode_replace",
    "parse_cancel",
    "parse_cancel_all",
    "parse_my_trade",
    "parse_open_orders",
    "parse_order_ack",
    "parse_order_event",
    "parse_order_status",
    "parse_replace",
]

Names = Mapping[str, str] | None

#: Decimals of the price and of both amounts in ``order_status`` transactions, whatever the
#: market's: ccxt's fetchOrder sample shows ``"price": "4451.25000000"`` and
#: ``"usdt": "22.25625000"`` on ETH/USDT, whose counter decimals are 2 (reference 4.5).
ORDER_TRANSACTION_DECIMALS = 8


def _market(market: str | None, currency_pair: str | None) -> str:
    """The symbol from ``market``, or from ``currency_pair`` in older replies."""
    if market is None and currency_pair is None:
        raise PayloadError("market is missing")
    return market_symbol(market if market is not None else currency_pair or "")


def _client_id(value: str | int | None) -> str | None:
    return None if value is None else str(value)


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
        market=_market(w.market, w.currency_pair),
        datetime=to_datetime(w.datetime),
        side=to_side(w.type),
        price=to_decimal(w.price, "price"),
        amount=to_decimal(w.amount, "amount"),
        client_order_id=_client_id(w.client_order_id),
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
        market=_market(w.market, w.currency_pair),
        amount_at_create=optional_decimal(w.amount_at_create, "amount_at_create"),
        limit_price=optional_decimal(w.limit_price, "limit_price"),
        client_order_id=_client_id(w.client_order_id),
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
        client_order_id=_client_id(w.client_order_id),
        transactions=tuple(_transaction(tx, base, quote) for tx in w.transactions),
    )


def _transaction(tx: dict[str, Any], base: str, quote: str) -> OrderTransaction:
    return OrderTransaction(
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


# --- cancel, cancel all, replace (4.6) -----------------------------------------------------


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
        market=_market(w.market, w.currency_pair) if has_market else None,
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
        orig_client_order_id=_client_id(w.orig_client_order_id),
        market=None if w.market is None else market_symbol(w.market),
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


# --- private stream (7.5) ------------------------------------------------------------------


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


def _twin(string: str | None, value: Number, field: str) -> Decimal:
    """The ``*_str`` twin when present (exact as written: ``"0.00000001"``, not ``1e-8``),
    else the JSON number."""
    if string is not None:
        return parse_decimal(string, field=f"{field}_str")
    if value is None:
        raise PayloadError(f"{field} is missing")
    return to_decimal(value, field)


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
            price=_twin(w.price_str, w.price, "price"),
            amount=_twin(w.amount_str, w.amount, "amount"),
            timestamp_us=to_int(w.microtimestamp, "microtimestamp"),
            amount_traded=optional_decimal(w.amount_traded, "amount_traded"),
            amount_at_create=optional_decimal(w.amount_at_create, "amount_at_create"),
            client_order_id=_client_id(w.client_order_id),
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
            client_order_id=_client_id(w.client_order_id),
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
