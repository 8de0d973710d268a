"""WebSocket v2 frames: client requests, and server frames parsed into typed events
(reference 7.2-7.4). What the simulator sends lives in ``workstation.sim.wire.stream_frames``.

``parse_frame`` is pure and total over valid JSON: every Bitstamp event becomes a
``StreamEvent``; an event it does not know becomes ``UnknownEvent``. Only text that is not a
JSON frame, or a known frame whose payload is malformed (a bad number, a missing field),
raises ``FrameError``; its ``channel`` says which subscription to resync.

Speed matters on ``diff_order_book_*`` (the busiest channel): its frames are decoded in one
pass with each book side left as JSON text, checked later by whoever reads it (the book's
one-pass check, or ``BookDiffEvent.bid_rows``, which raises ``FrameError``). Other frames:
the envelope is decoded once with ``data`` left raw, then ``data`` is decoded with the struct
chosen by channel prefix.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import msgspec

from workstation.bitstamp.errors import ProtocolError
from workstation.bitstamp.fields import TOO_DEEP, levels, to_int, to_side, twin_decimal
from workstation.bitstamp.market_data import parse_order_book
from workstation.domain.market_data import BookDiff, BookSnapshot, Trade
from workstation.domain.orderbook import OrderBook

if TYPE_CHECKING:
    from workstation.domain.orders import MyTrade, OrderEvent

__all__ = [
    "BookDiffEvent",
    "BookTopEvent",
    "BookSnapshotEvent",
    "FrameError",
    "HeartbeatReply",
    "MyTradeFrame",
    "OrderEventFrame",
    "ReconnectRequested",
    "StreamErrorEvent",
    "StreamEvent",
    "SubscriptionSucceeded",
    "TradeEvent",
    "UnknownEvent",
    "UnsubscriptionSucceeded",
    "encode_heartbeat",
    "encode_subscribe",
    "encode_unsubscribe",
    "parse_frame",
]

_ORDER_EVENTS = frozenset({"order_created", "order_changed", "order_deleted"})


class FrameError(ProtocolError):
    """A frame is not JSON, not a Bitstamp frame, or carries a payload that does not parse.

    ``channel``/``event`` are set when the envelope could be read, so the stream client can
    resync just that channel (a bad ``diff_order_book`` frame means the book is now unknown).
    """

    def __init__(self, message: str, *, channel: str | None = None, event: str | None = None):
        super().__init__(message, endpoint=channel)
        self.channel = channel
        self.event = event


# --- events ------------------------------------------------------------------------------


class TradeEvent(msgspec.Struct, frozen=True):
    """A public fill on ``live_trades_{market}``."""

    trade: Trade


class BookSnapshotEvent(msgspec.Struct, frozen=True):
    """A top-100 book on ``order_book_{market}`` (or ``detail_order_book_*``, with ids)."""

    snapshot: BookSnapshot


class _BookRows(msgspec.Struct, frozen=True):
    """Book rows as the wire's exact text (``("3805.44", "0.50000000")``). The feed compares
    them with its book in scaled integers without a Decimal in between; the typed views
    parse them strictly, raising ``NumberFormatError`` on a malformed number.

    A frozen ``msgspec.Struct`` rather than a frozen dataclass: one is built per frame on the
    busiest channel, and a frozen dataclass's ``__init__`` took about 1 µs on the bench
    machine (a sixth of a small frame's whole path), the Struct about 0.14 µs."""

    market: str
    timestamp_us: int
    bid_rows: list[tuple[str, str]]
    ask_rows: list[tuple[str, str]]


class BookTopEvent(_BookRows, frozen=True):
    """The venue's top 100 on ``order_book_{market}`` (a feed reads it at most once a second,
    for its cross-check; most of these frames are never parsed further)."""

    @property
    def snapshot(self) -> BookSnapshot:
        return BookSnapshot(
            self.market, self.timestamp_us, levels(self.bid_rows), levels(self.ask_rows)
        )


class BookDiffEvent(msgspec.Struct, frozen=True):
    """Changed levels on ``diff_order_book_{market}``; merge per reference 7.6.

    ``bids`` and ``asks`` are each side's JSON text exactly as received
    (``[["3805.44","0.50000000"],...]``, a ``msgspec.Raw``, checked as JSON but not yet as
    rows): the book takes them packed (:meth:`~workstation.domain.orderbook.OrderBook.
    apply_packed`) without building a Python object per row, and most of them are merged
    away before they are ever parsed. ``bid_rows``/``ask_rows`` decode a side to text pairs
    and raise ``FrameError`` when it is not a list of them."""

    market: str
    timestamp_us: int
    bids: msgspec.Raw
    asks: msgspec.Raw

    def apply_to(self, book: OrderBook) -> None:
        """Apply this frame to ``book``: packed (checked in one pass, staged), or, when the
        one-pass check refuses a side, as text rows through the strict parser.

        Raises:
            FrameError: a side is not a list of text pairs.
            NumberFormatError: a number is malformed or finer than the book's decimals.
        """
        if not book.apply_packed(self.bids, self.asks, self.timestamp_us):
            book.apply_rows(self.bid_rows, self.ask_rows, self.timestamp_us)

    @property
    def bid_rows(self) -> list[tuple[str, str]]:
        return _side_rows(self.bids, self.market)

    @property
    def ask_rows(self) -> list[tuple[str, str]]:
        return _side_rows(self.asks, self.market)

    @property
    def diff(self) -> BookDiff:
        return BookDiff(
            self.market, self.timestamp_us, levels(self.bid_rows), levels(self.ask_rows)
        )


class OrderEventFrame(msgspec.Struct, frozen=True):
    """An order created/changed/deleted on ``live_orders_*`` or ``private-my_orders_*``."""

    order_event: OrderEvent


class MyTradeFrame(msgspec.Struct, frozen=True):
    """One of the user's own fills on ``private-my_trades_*``."""

    trade: MyTrade


class SubscriptionSucceeded(msgspec.Struct, frozen=True):
    channel: str


class UnsubscriptionSucceeded(msgspec.Struct, frozen=True):
    channel: str


class HeartbeatReply(msgspec.Struct, frozen=True):
    """The answer to ``bts:heartbeat``; proof the connection is alive."""

    status: str = "success"


class ReconnectRequested(msgspec.Struct, frozen=True):
    """``bts:request_reconnect``: reconnect within seconds, then resync (reference 7.3)."""


class StreamErrorEvent(msgspec.Struct, frozen=True):
    """``bts:error`` (bad request, unauthorized private channel: code 4009)."""

    code: int | None
    message: str


class UnknownEvent(msgspec.Struct, frozen=True):
    """A well-formed frame this codec does not interpret; log it, do not fail."""

    event: str
    channel: str


StreamEvent = (
    TradeEvent
    | BookSnapshotEvent
    | BookDiffEvent
    | BookTopEvent
    | OrderEventFrame
    | MyTradeFrame
    | SubscriptionSucceeded
    | UnsubscriptionSucceeded
    | HeartbeatReply
    | ReconnectRequested
    | StreamErrorEvent
    | UnknownEvent
)

# --- client -> server (reference 7.2) ----------------------------------------------------

_encode = msgspec.json.encode


def encode_subscribe(channel: str, auth: str | None = None) -> str:
    """``{"event":"bts:subscribe","data":{"channel":...}}``; private channels add ``auth``."""
    data = {"channel": channel} if auth is None else {"channel": channel, "auth": auth}
    return _encode({"event": "bts:subscribe", "data": data}).decode()


def encode_unsubscribe(channel: str) -> str:
    return _encode({"event": "bts:unsubscribe", "data": {"channel": channel}}).decode()


def encode_heartbeat() -> str:
    """The application-level keep-alive; the server answers with ``HeartbeatReply``."""
    return '{"event":"bts:heartbeat"}'


# --- server -> client: parsing -----------------------------------------------------------


class _Envelope(msgspec.Struct):
    event: str
    channel: str = ""
    data: msgspec.Raw = msgspec.Raw(b"")


class _DiffWire(msgspec.Struct):
    microtimestamp: str
    bids: msgspec.Raw
    asks: msgspec.Raw


class _TopWire(msgspec.Struct):
    microtimestamp: str
    bids: list[tuple[str, str]]
    asks: list[tuple[str, str]]


class _DiffFrame(msgspec.Struct):
    """A whole ``diff_order_book`` frame, decoded in one pass (the busiest frame by far)."""

    data: _DiffWire
    channel: str
    event: str


class _TradeWire(msgspec.Struct, kw_only=True):
    id: int
    # Standalone JSON numbers decode exactly to Decimal (never float); the *_str twin wins.
    amount: Decimal | None = None
    amount_str: str | None = None
    price: Decimal | None = None
    price_str: str | None = None
    type: int | str
    microtimestamp: str | None = None
    timestamp: str | None = None
    buy_order_id: int | None = None
    sell_order_id: int | None = None


_ENVELOPE = msgspec.json.Decoder(_Envelope)
_DIFF = msgspec.json.Decoder(_DiffWire)
_TOP = msgspec.json.Decoder(_TopWire)
_DIFF_FRAME = msgspec.json.Decoder(_DiffFrame)
_TRADE = msgspec.json.Decoder(_TradeWire)
_SIDE_ROWS = msgspec.json.Decoder(list[tuple[str, str]])
_ANY = msgspec.json.Decoder()


def _trade(data: msgspec.Raw, market: str) -> Trade:
    w = _TRADE.decode(data)
    if w.microtimestamp is not None:
        us = to_int(w.microtimestamp, "microtimestamp", unsigned=True)
    elif w.timestamp is not None:
        us = to_int(w.timestamp, "timestamp", unsigned=True) * 1_000_000
    else:
        raise ValueError("trade without microtimestamp or timestamp")
    return Trade(
        market=market,
        id=w.id,
        price=twin_decimal(w.price_str, w.price, "price"),
        amount=twin_decimal(w.amount_str, w.amount, "amount"),
        side=to_side(w.type, codes_only=True),
        timestamp_us=us,
        buy_order_id=w.buy_order_id,
        sell_order_id=w.sell_order_id,
    )


def _diff(data: msgspec.Raw, market: str) -> BookDiffEvent:
    w = _DIFF.decode(data)
    return BookDiffEvent(
        market, to_int(w.microtimestamp, "microtimestamp", unsigned=True), w.bids, w.asks
    )


def _side_rows(side: msgspec.Raw, market: str) -> list[tuple[str, str]]:
    try:
        return _SIDE_ROWS.decode(side)
    except msgspec.DecodeError as exc:
        channel = "diff_order_book_" + market
        raise FrameError(f"data on {channel!r}: {exc}", channel=channel, event="data") from exc


def _control(event: str, channel: str, data: msgspec.Raw) -> StreamEvent:
    """``bts:*`` events; tolerant of odd ``data`` so a control frame never kills the stream."""
    if event == "bts:subscription_succeeded":
        return SubscriptionSucceeded(channel)
    if event == "bts:unsubscription_succeeded":
        return UnsubscriptionSucceeded(channel)
    if event == "bts:request_reconnect":
        return ReconnectRequested()  # data seen as "" and as {} (reference 7.3)
    body = _ANY.decode(data) if data else None
    fields = body if isinstance(body, dict) else {}
    if event == "bts:heartbeat":
        status = fields.get("status")
        return HeartbeatReply(status if isinstance(status, str) else "")
    if event == "bts:error":
        code = fields.get("code")
        message = fields.get("message", body if isinstance(body, str) else "")
        return StreamErrorEvent(
            code if isinstance(code, int) and not isinstance(code, bool) else None,
            message if isinstance(message, str) else str(message),
        )
    return UnknownEvent(event, channel)


def _dispatch(event: str, channel: str, data: msgspec.Raw) -> StreamEvent:
    if event == "data":
        if channel.startswith("diff_order_book_"):
            return _diff(data, channel[16:])
        if channel.startswith("order_book_"):
            w = _TOP.decode(data)  # a diff's shape, but rows: a feed compares them as such
            market = channel[11:]
            return BookTopEvent(
                market, to_int(w.microtimestamp, "microtimestamp", unsigned=True), w.bids, w.asks
            )
        if channel.startswith("detail_order_book_"):
            return BookSnapshotEvent(parse_order_book(data, channel[18:]))
    elif event == "trade":
        if channel.startswith("live_trades_"):
            return TradeEvent(_trade(data, channel[12:]))
        if channel.startswith("private-my_trades_"):
            # Imported on use: the public feed must not depend on the order codec loading.
            from workstation.bitstamp.order_frames import parse_my_trade

            return MyTradeFrame(parse_my_trade(channel, bytes(data)))
    elif event in _ORDER_EVENTS:
        if channel.startswith(("live_orders_", "private-my_orders_")):
            from workstation.bitstamp.order_frames import parse_order_event

            return OrderEventFrame(parse_order_event(event, channel, bytes(data)))
    elif event.startswith("bts:"):
        return _control(event, channel, data)
    return UnknownEvent(event, channel)


def parse_frame(frame: str | bytes) -> StreamEvent:
    """One server text frame -> a StreamEvent.

    Raises:
        FrameError: the text is not a JSON object with an ``event``, or a known payload
            (trade, book, order) does not parse.
    """
    if ("diff_order_book_" in frame) if isinstance(frame, str) else (b"diff_order_book_" in frame):
        try:
            diff = _DIFF_FRAME.decode(frame)
        except (msgspec.DecodeError, RecursionError):
            pass  # not the usual shape: the general path below says what is wrong
        else:
            # Inlined (per frame): anything unusual goes the general way, which names it.
            channel, data = diff.channel, diff.data
            stamp = data.microtimestamp
            if (
                diff.event == "data"
                and channel[:16] == "diff_order_book_"
                and stamp.isdigit()
                and stamp.isascii()
                and len(stamp) < 20
            ):
                return BookDiffEvent(channel[16:], int(stamp), data.bids, data.asks)
    try:
        env = _ENVELOPE.decode(frame)
    except msgspec.DecodeError as exc:
        raise FrameError(f"not a Bitstamp frame: {exc}") from exc
    except RecursionError as exc:  # msgspec past the interpreter's depth
        raise FrameError(f"not a Bitstamp frame: {TOO_DEEP}") from exc
    try:
        return _dispatch(env.event, env.channel, env.data)
    except (msgspec.DecodeError, ValueError, ProtocolError) as exc:
        raise FrameError(
            f"{env.event} on {env.channel!r}: {exc}", channel=env.channel, event=env.event
        ) from exc
    except RecursionError as exc:
        raise FrameError(
            f"{env.event} on {env.channel!r}: {TOO_DEEP}", channel=env.channel, event=env.event
        ) from exc
