"""The simulator's WebSocket v2 endpoint: subscriptions, control events, fan-out of frames.

Behaves as reference section 7 describes: no greeting, an ack per (un)subscribe, a reply to
``bts:heartbeat``, protocol pings answered (aiohttp's autoping), ``bts:error`` for input it
does not understand, code 4009 for a private channel without a valid token. Each connection has
its own send queue so one slow reader never stalls the market; a reader whose backlog passes
a bound in frames or in bytes is disconnected, as a real exchange would: its transport is
aborted (as the drop fault does) and its backlog freed, so neither it nor its memory lingers.

The WebSocket faults of :class:`~workstation.sim.faults.Faults` act here, in the publish path:
stalled channels and silence withhold frames, armed diff drops skip ``diff_order_book``
frames (a gap no client can see: there are no sequence numbers, reference 7.4), and armed
corruptions replace a channel's next frame with a malformed one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

import msgspec
from aiohttp import WSMsgType, web

from .digits import read_digits
from .faults import DIFF_PREFIX, Faults, MalformedFrame
from .wire.stream_frames import (
    encode_ack,
    encode_error,
    encode_heartbeat_reply,
    encode_reconnect_request,
    encode_unsubscribe_ack,
)

__all__ = ["StreamHub", "is_channel"]

_log = logging.getLogger("workstation.sim.ws")

SEND_QUEUE_LIMIT = 50_000
"""Frames queued for one connection before it counts as too slow and is dropped."""

SEND_QUEUE_BYTES = 16 << 20
"""Characters (bytes: frames are ASCII JSON) queued for one connection before it counts as too
slow and is dropped. 16 MiB is over two minutes of every channel of a market at speed 100
(about 110 kB/s): a reader that far behind is not catching up, and a few of them must not cost
the process hundreds of megabytes (issue 17: three took it from 132 to 270 MB)."""

# The public channel families the simulator serves (reference 7.4).
PUBLIC_PREFIXES = (
    "live_trades_",
    "live_orders_",
    "order_book_",
    "detail_order_book_",
    "diff_order_book_",
)
PRIVATE_PREFIXES = ("private-my_orders_", "private-my_trades_")

#: The longest channel (or event) name a client may send; the longest real one is ~50.
MAX_CHANNEL_LENGTH = 100

_FRAME_DECODER = msgspec.json.Decoder()

TokenCheck = Callable[[str, int], bool]
"""(token, user_id) -> whether the token was issued to that user and is still valid."""


@dataclass(eq=False)
class _Connection:
    ws: web.WebSocketResponse
    max_frames: int
    max_bytes: int
    channels: set[str] = field(default_factory=set)
    queue: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)
    queued_bytes: int = 0
    """What the frames in ``queue`` weigh (their length: ASCII JSON)."""

    def push(self, frame: str) -> bool:
        """Queue ``frame``; False when that would put the backlog past a bound."""
        if self.queue.qsize() >= self.max_frames or (
            self.queued_bytes + len(frame) > self.max_bytes
        ):
            return False
        self.queue.put_nowait(frame)
        self.queued_bytes += len(frame)
        return True

    def take(self, frame: str) -> None:
        """``frame`` left the queue for the socket."""
        self.queued_bytes -= len(frame)

    def abort(self) -> None:
        """Close the TCP connection now, without a close frame, and free the backlog: the
        writer may be stuck on a full socket, and would never reach an end-of-queue marker."""
        request = self.ws._req
        transport = request.transport if request is not None else None
        if transport is not None:
            transport.abort()
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queued_bytes = 0
        self.queue.put_nowait(None)


class StreamHub:
    """Every open WebSocket and what it subscribed to.

    Args:
        faults: consulted before each frame is sent.
        markets: market symbols the channels may name.
        check_token: validates private subscriptions.
        on_subscribe: called with a channel name after its first subscriber joined (the
            exchange starts snapshot publication for ``order_book_`` channels, say).
        backlog_frames, backlog_bytes: how far one connection may fall behind before it is
            dropped (tests make them small).
    """

    def __init__(
        self,
        faults: Faults,
        markets: set[str],
        check_token: TokenCheck,
        on_subscribe: Callable[[str], None] | None = None,
        *,
        backlog_frames: int = SEND_QUEUE_LIMIT,
        backlog_bytes: int = SEND_QUEUE_BYTES,
    ) -> None:
        self._faults = faults
        self._backlog_frames = backlog_frames
        self._backlog_bytes = backlog_bytes
        self._markets = markets
        self._check_token = check_token
        self._on_subscribe = on_subscribe
        self._connections: set[_Connection] = set()
        self._by_channel: dict[str, set[_Connection]] = {}
        self.frames_sent = 0
        self.diff_frames_dropped = 0
        """Diff frames skipped by the ``drop_diff_frames`` fault."""
        self.frames_malformed = 0
        """Frames replaced by the ``malform_next`` fault."""
        self.slow_readers_dropped = 0
        """Connections dropped for falling too far behind."""
        self.private_asked = 0
        """Subscriptions to a private channel asked for, allowed or not (with a token or
        without), for tests: a stream that must never see a token sees none asked."""

    # -- publishing ------------------------------------------------------------------------

    def has_subscribers(self, channel: str) -> bool:
        return bool(self._by_channel.get(channel))

    def subscribed_channels(self) -> list[str]:
        """Every channel someone is subscribed to now."""
        return [channel for channel, subscribers in self._by_channel.items() if subscribers]

    def publish(self, channel: str, frame: str) -> None:
        """Queue ``frame`` for every subscriber of ``channel``, unless a fault withholds,
        drops or corrupts it. Faults are consumed only by frames someone would receive."""
        subscribers = self._by_channel.get(channel)
        if not subscribers or self._faults.withholds(channel):
            return
        if channel.startswith(DIFF_PREFIX) and self._faults.take_diff_drop(channel):
            self.diff_frames_dropped += 1
            _log.info("fault: dropped a frame of %s", channel)
            return
        corruption = self._faults.take_malformed(channel)
        if corruption is not None:
            frame = malformed(frame, channel, corruption)
            self.frames_malformed += 1
        for conn in tuple(subscribers):
            self._send(conn, frame)

    def _send(self, conn: _Connection, frame: str) -> None:
        """Queue ``frame`` for ``conn``, or drop ``conn`` if its backlog is full."""
        if conn.push(frame):
            return
        _log.warning(
            "dropping a WebSocket client that fell %d frames (%d bytes) behind",
            conn.queue.qsize(),
            conn.queued_bytes,
        )
        self.slow_readers_dropped += 1
        self._forget(conn)
        conn.abort()

    @property
    def connection_count(self) -> int:
        return len(self._connections)

    @property
    def backlog_bytes(self) -> int:
        """What every open connection has queued and not yet written, in bytes."""
        return sum(conn.queued_bytes for conn in self._connections)

    # -- faults ----------------------------------------------------------------------------

    async def drop_all(self) -> None:
        """Close every connection abruptly (as a network failure or server restart would)."""
        for conn in tuple(self._connections):
            self._forget(conn)
            conn.abort()

    def request_reconnect(self) -> None:
        """Send ``bts:request_reconnect`` to everyone (the server is about to go away)."""
        frame = encode_reconnect_request()
        for conn in tuple(self._connections):
            self._send(conn, frame)

    def send_raw(self, frame: str, channel: str | None = None) -> None:
        """Send a frame as is (e.g. a malformed one) now: to the subscribers of ``channel``,
        or to every connection. Ignores stall and diff-drop faults; silence still applies."""
        targets = self._connections if channel is None else self._by_channel.get(channel, ())
        for conn in tuple(targets):
            self._send(conn, frame)

    async def close(self) -> None:
        for conn in tuple(self._connections):
            self._forget(conn)
            with contextlib.suppress(Exception):
                await conn.ws.close()
            conn.queue.put_nowait(None)

    # -- one connection ---------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True, heartbeat=None, max_msg_size=1 << 20)
        await ws.prepare(request)
        conn = _Connection(ws, self._backlog_frames, self._backlog_bytes)
        self._connections.add(conn)
        writer = asyncio.create_task(self._write(conn), name="sim-ws-writer")
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    self._on_text(conn, msg.data)
                elif msg.type is WSMsgType.BINARY:
                    conn.push(encode_error("Incorrect JSON format."))
                elif msg.type is WSMsgType.ERROR:
                    break
        finally:
            self._forget(conn)
            conn.queue.put_nowait(None)
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await writer
        return ws

    async def _write(self, conn: _Connection) -> None:
        while (frame := await conn.queue.get()) is not None:
            conn.take(frame)
            if self._faults.ws_silent:
                continue
            try:
                await conn.ws.send_str(frame)
            except (ConnectionError, RuntimeError):
                return
            self.frames_sent += 1

    def _forget(self, conn: _Connection) -> None:
        self._connections.discard(conn)
        for channel in conn.channels:
            subscribers = self._by_channel.get(channel)
            if subscribers is not None:
                subscribers.discard(conn)
                if not subscribers:
                    del self._by_channel[channel]
        conn.channels.clear()

    def _on_text(self, conn: _Connection, text: str) -> None:
        message = read_frame(text)
        if not isinstance(message, dict) or not isinstance(message.get("event"), str):
            conn.push(encode_error("Incorrect JSON format."))
            return
        event = message["event"]
        data = message.get("data")
        if event == "bts:heartbeat":
            conn.push(encode_heartbeat_reply())
            return
        if event not in ("bts:subscribe", "bts:unsubscribe"):
            shown = event if is_channel_text(event) else "(unreadable)"
            conn.push(encode_error(f"Unsupported event: {shown}"))
            return
        channel = data.get("channel") if isinstance(data, dict) else None
        if not isinstance(channel, str) or not channel:
            conn.push(encode_error("Missing channel."))
            return
        if not is_channel_text(channel):
            conn.push(encode_error("Bad subscription: invalid channel name"))
            return
        if event == "bts:unsubscribe":
            conn.channels.discard(channel)
            subscribers = self._by_channel.get(channel)
            if subscribers is not None:
                subscribers.discard(conn)
            conn.push(encode_unsubscribe_ack(channel))
            return
        if channel.startswith(PRIVATE_PREFIXES):
            self.private_asked += 1
            token = data.get("auth") if isinstance(data, dict) else None
            if not self._private_allowed(channel, token):
                conn.push(encode_error("Connection is unauthorized.", code=4009))
                return
        elif not is_channel(channel, self._markets):
            conn.push(encode_error(f"Bad subscription: unknown channel {channel}"))
            return
        first = not self._by_channel.get(channel)
        conn.channels.add(channel)
        self._by_channel.setdefault(channel, set()).add(conn)
        conn.push(encode_ack(channel))
        if first and self._on_subscribe is not None:
            self._on_subscribe(channel)

    def _private_allowed(self, channel: str, token: object) -> bool:
        name, _, user = channel.rpartition("-")
        market = name.split("_")[-1]
        user_id = read_digits(user)
        if not isinstance(token, str) or user_id is None or market not in self._markets:
            return False
        return self._check_token(token, user_id)


def is_channel(channel: str, markets: Collection[str]) -> bool:
    """Whether ``channel`` names a channel this hub serves for one of ``markets``: a public
    one (``live_trades_btcusd``) or a private one (``private-my_orders_btcusd-42``)."""
    if channel.startswith(PRIVATE_PREFIXES):
        name, _, user = channel.rpartition("-")
        return read_digits(user) is not None and name.split("_")[-1] in markets
    for prefix in PUBLIC_PREFIXES:
        if channel.startswith(prefix):
            return channel[len(prefix) :] in markets
    return False


def read_frame(text: str) -> object:
    """A client frame decoded, or None when it is not JSON this hub can read: malformed,
    a lone surrogate (which no reply could echo), or nested too deep for the decoder
    (msgspec bounds the depth and says so instead of exhausting the stack)."""
    try:
        return _FRAME_DECODER.decode(text)
    except (msgspec.DecodeError, RecursionError):
        return None


def is_channel_text(text: str) -> bool:
    """Whether ``text`` can be a channel (or event) name at all: printable ASCII, short.
    Checked before a name is echoed in a reply or kept as a subscription key."""
    return 0 < len(text) <= MAX_CHANNEL_LENGTH and text.isascii() and text.isprintable()


def malformed(frame: str, channel: str, how: MalformedFrame | str) -> str:
    """The corrupted stand-in for ``frame``: cut in half (not JSON), the right event and
    channel around a ``data`` that is not an object, or a given text as is."""
    if isinstance(how, str):
        return how
    if how is MalformedFrame.TRUNCATED:
        return frame[: max(1, len(frame) // 2)]
    try:
        event = json.loads(frame).get("event", "data")
    except (ValueError, AttributeError):
        event = "data"
    return json.dumps({"data": ["unexpected"], "channel": channel, "event": event})
