"""The simulator's WebSocket v2 endpoint: subscriptions, control events, fan-out of frames.

Behaves as reference section 7 describes: no greeting, an ack per (un)subscribe, a reply to
``bts:heartbeat``, protocol pings answered (aiohttp's autoping), ``bts:error`` for input it
does not understand, code 4009 for a private channel without a valid token. Each connection has
its own bounded send queue so one slow reader never stalls the market; a reader that falls
that far behind is disconnected, as a real exchange would.

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

#: Frames queued for one connection before it counts as too slow and is dropped.
SEND_QUEUE_LIMIT = 50_000

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
    channels: set[str] = field(default_factory=set)
    queue: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)

    def push(self, frame: str) -> bool:
        if self.queue.qsize() >= SEND_QUEUE_LIMIT:
            return False
        self.queue.put_nowait(frame)
        return True


class StreamHub:
    """Every open WebSocket and what it subscribed to.

    Args:
        faults: consulted before each frame is sent.
        markets: market symbols the channels may name.
        check_token: validates private subscriptions.
        on_subscribe: called with a channel name after its first subscriber joined (the
            exchange starts snapshot publication for ``order_book_`` channels, say).
    """

    def __init__(
        self,
        faults: Faults,
        markets: set[str],
        check_token: TokenCheck,
        on_subscribe: Callable[[str], None] | None = None,
    ) -> None:
        self._faults = faults
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
            if not conn.push(frame):
                _log.warning(
                    "dropping a WebSocket client that fell %d frames behind", SEND_QUEUE_LIMIT
                )
                self._forget(conn)
                conn.queue.put_nowait(None)

    @property
    def connection_count(self) -> int:
        return len(self._connections)

    # -- faults ----------------------------------------------------------------------------

    async def drop_all(self) -> None:
        """Close every connection abruptly (as a network failure or server restart would)."""
        for conn in tuple(self._connections):
            self._forget(conn)
            transport = conn.ws._req.transport if conn.ws._req is not None else None
            if transport is not None:
                transport.abort()
            conn.queue.put_nowait(None)

    def request_reconnect(self) -> None:
        """Send ``bts:request_reconnect`` to everyone (the server is about to go away)."""
        frame = encode_reconnect_request()
        for conn in tuple(self._connections):
            conn.push(frame)

    def send_raw(self, frame: str, channel: str | None = None) -> None:
        """Send a frame as is (e.g. a malformed one) now: to the subscribers of ``channel``,
        or to every connection. Ignores stall and diff-drop faults; silence still applies."""
        targets = self._connections if channel is None else self._by_channel.get(channel, ())
        for conn in tuple(targets):
            conn.push(frame)

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
        conn = _Connection(ws)
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
