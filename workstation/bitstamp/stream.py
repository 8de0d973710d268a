"""The Bitstamp WebSocket v2 client: one connection, kept alive, yielding typed events.

What it does (reference section 7):

- Connects in a loop with capped exponential backoff and jitter. The websockets library backs
  off only failed *opens*; a server that closes an open connection would get an instant
  reconnect, so the delay here applies to every reconnect. ``bts:request_reconnect`` is obeyed
  at once (the server gives only seconds before it drops us).
- Replays every subscription after a reconnect. Private channels are subscribed with a fresh
  ``websockets_token`` each time (a token is short-lived and a reconnect invalidates it), and
  their names get the ``-{user_id}`` suffix from that token.
- Sends ``bts:heartbeat`` periodically (quiet channels otherwise trip idle timeouts) and
  reconnects when nothing at all arrives for ``idle_timeout_s``.
- Yields typed events from :mod:`stream_frames` plus :class:`ConnectionStateChanged` and
  :class:`FrameRejected`; never a raw dict. A frame that fails to parse is reported, not
  raised: the book service resyncs on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable

import msgspec
import websockets
from websockets.asyncio.client import ClientConnection

from ..domain.account import WebsocketToken
from . import stream_frames
from .stream_frames import FrameError, HeartbeatReply, ReconnectRequested, StreamEvent

__all__ = [
    "Backoff",
    "ConnectionState",
    "ConnectionStateChanged",
    "FrameRejected",
    "StreamClient",
]

_log = logging.getLogger("workstation.bitstamp.stream")

TokenProvider = Callable[[], Awaitable[WebsocketToken]]
_YIELD_EVERY = 32


class ConnectionState(enum.Enum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    CLOSED = "closed"


class ConnectionStateChanged(msgspec.Struct, frozen=True):
    """The stream connected, dropped, or closed for good. ``reconnects`` counts re-opens."""

    state: ConnectionState
    reason: str
    reconnects: int


class FrameRejected(msgspec.Struct, frozen=True):
    """A frame arrived that could not be parsed; books fed by this stream must resync.

    ``channel`` is set when the envelope was readable: only that channel's book is in doubt.
    """

    error: str
    channel: str | None = None


ClientEvent = StreamEvent | ConnectionStateChanged | FrameRejected


_MAX_DOUBLINGS = 64
"""More doublings than any base and cap need (2 ** 64 times a millisecond is 584 million years)."""


class Backoff(msgspec.Struct, frozen=True):
    """Capped exponential backoff with full jitter between reconnects."""

    base_s: float = 0.5
    cap_s: float = 30.0
    stable_after_s: float = 30.0
    """A connection that lived this long resets the backoff."""

    def delay(self, failures: int, rng: random.Random) -> float:
        if failures <= 0:
            return 0.0
        # The exponent stops growing long before the cap is reached: a link that drops every
        # few seconds piles up failures for hours, and 2 ** 1024 is past any float.
        doubling = min(failures - 1, _MAX_DOUBLINGS)
        return rng.uniform(self.base_s / 2, min(self.cap_s, self.base_s * 2**doubling))


class _Reconnect(Exception):  # noqa: N818 - control flow, not an error
    def __init__(self, reason: str, *, at_once: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.at_once = at_once


class _IdleWatch:
    """Expires a connection's ``asyncio.timeout`` once nothing has arrived for ``idle_s``.

    A timeout around each ``recv()`` costs a timer scheduled and cancelled per frame: at
    ``--speed 100`` (hundreds of trade frames a second) that was a tenth of the stream's
    loop time. Here a frame only notes the time (:meth:`heard`); one timer, at the last
    frame's time plus ``idle_s``, checks and either moves itself on or expires the
    connection's timeout (which raises ``TimeoutError`` in the pump, exactly as before).
    """

    def __init__(self, idle_s: float, expiry: asyncio.Timeout) -> None:
        self._loop = asyncio.get_running_loop()
        self._idle_s = idle_s
        self._expiry = expiry
        self._last = self._loop.time()
        self._timer: asyncio.TimerHandle | None = self._loop.call_at(
            self._last + idle_s, self._check
        )

    def heard(self) -> None:
        """A frame arrived now."""
        self._last = self._loop.time()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _check(self) -> None:
        due = self._last + self._idle_s
        if self._loop.time() >= due:
            self._timer = None
            self._expiry.reschedule(self._loop.time())  # expires at once: TimeoutError
        else:
            self._timer = self._loop.call_at(due, self._check)


class StreamClient:
    """One WebSocket connection to one environment, shared by every feed.

    Use ``subscribe``/``subscribe_private`` any time; ``async for event in client`` to read.
    ``run()`` (or ``start()``) drives the connection until ``close()``.
    """

    def __init__(
        self,
        url: str,
        *,
        token_provider: TokenProvider | None = None,
        heartbeat_s: float = 8.0,
        idle_timeout_s: float = 20.0,
        backoff: Backoff | None = None,
        open_timeout_s: float = 10.0,
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.url = url
        self._token_provider = token_provider
        self.heartbeat_s = heartbeat_s
        self.idle_timeout_s = idle_timeout_s
        self.backoff = backoff or Backoff()
        self.open_timeout_s = open_timeout_s
        self._rng = rng or random.Random()
        self._sleep = sleep
        self._public: dict[str, None] = {}  # insertion-ordered set
        self._private: dict[str, str | None] = {}  # base channel -> full name on this connection
        self._events: asyncio.Queue[ClientEvent] = asyncio.Queue()
        self._ws: ClientConnection | None = None
        self._closed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.reconnects = 0
        self.state = ConnectionState.DISCONNECTED

    # -- subscriptions ----------------------------------------------------------------------

    async def subscribe(self, channel: str) -> None:
        """Subscribe to a public channel now (if connected) and after every reconnect."""
        if channel in self._public:
            return
        self._public[channel] = None
        await self._send_if_open(stream_frames.encode_subscribe(channel))

    async def subscribe_private(self, base_channel: str) -> None:
        """Subscribe to e.g. ``private-my_orders_btcusd``; the ``-{user_id}`` suffix and the
        token come from a fresh ``websockets_token`` on every (re)connect."""
        if self._token_provider is None:
            raise ValueError("private channels need a token provider (API credentials)")
        if base_channel in self._private:
            return
        self._private[base_channel] = None
        if self._ws is not None:
            await self._subscribe_private_now([base_channel])

    async def unsubscribe(self, channel: str) -> None:
        """Leave a public channel, or a private one by its base name."""
        if channel in self._public:
            del self._public[channel]
            await self._send_if_open(stream_frames.encode_unsubscribe(channel))
        elif channel in self._private:
            full = self._private.pop(channel)
            if full is not None:
                await self._send_if_open(stream_frames.encode_unsubscribe(full))

    @property
    def channels(self) -> list[str]:
        """Channels wanted, public then private (base names)."""
        return [*self._public, *self._private]

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> asyncio.Task[None]:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name="bitstamp-stream")
        return self._task

    async def close(self) -> None:
        """Stop for good: close the socket, end the loop, end iteration."""
        self._closed.set()
        ws = self._ws
        if ws is not None:
            await ws.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._set_state(ConnectionState.CLOSED, "closed by the client")

    def __aiter__(self) -> AsyncIterator[ClientEvent]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[ClientEvent]:
        while True:
            event = await self._events.get()
            yield event
            if isinstance(event, ConnectionStateChanged) and event.state is ConnectionState.CLOSED:
                return

    async def next_event(self) -> ClientEvent:
        return await self._events.get()

    async def run(self) -> None:
        """The connect loop; returns only after ``close()``.

        Every failure of a connection is handled inside :meth:`_connect_loop`. A failure of
        the loop itself (a bug, as the backoff's overflow was) is logged, shown as the
        connection's state, and the loop starts again after the backoff's cap: a stream that
        silently stopped reconnecting would leave a trader reading a book frozen in time."""
        while not self._closed.is_set():
            try:
                await self._connect_loop()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - logged, shown, and the loop restarted
                _log.exception("stream %s: the connect loop failed; starting it again", self.url)
                reason = f"connect loop failed ({type(exc).__name__}: {exc}); starting again"
                self._set_state(ConnectionState.DISCONNECTED, reason)
                await self._sleep(self.backoff.cap_s)

    async def _connect_loop(self) -> None:
        failures = 0
        loop = asyncio.get_running_loop()
        while not self._closed.is_set():
            self._set_state(ConnectionState.CONNECTING, "connecting")
            opened_at: float | None = None
            at_once = False
            reason = "connection closed"
            try:
                async with websockets.connect(
                    self.url,
                    open_timeout=self.open_timeout_s,
                    ping_interval=20,
                    ping_timeout=20,
                    max_size=2**24,
                    close_timeout=2,
                ) as ws:
                    self._ws = ws
                    opened_at = loop.time()
                    self._set_state(ConnectionState.CONNECTED, "connected")
                    await self._replay(ws)
                    await self._pump(ws)
            except _Reconnect as exc:
                reason, at_once = exc.reason, exc.at_once
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - any failure means: reconnect later
                reason = f"{type(exc).__name__}: {exc}"
            finally:
                self._ws = None
                for base in self._private:
                    self._private[base] = None
            if self._closed.is_set():
                break
            self._set_state(ConnectionState.DISCONNECTED, reason)
            lived = loop.time() - opened_at if opened_at is not None else 0.0
            failures = 0 if lived >= self.backoff.stable_after_s else failures + 1
            delay = 0.0 if at_once else self.backoff.delay(failures, self._rng)
            _log.info("stream %s; reconnecting in %.2f s", reason, delay)
            if delay:
                await self._sleep(delay)
            self.reconnects += 1

    # -- internals ------------------------------------------------------------------------------

    async def _replay(self, ws: ClientConnection) -> None:
        for channel in self._public:
            await ws.send(stream_frames.encode_subscribe(channel))
        if self._private:
            await self._subscribe_private_now(list(self._private))

    async def _subscribe_private_now(self, bases: list[str]) -> None:
        assert self._token_provider is not None
        ws = self._ws
        if ws is None:
            return
        token = await self._token_provider()  # fresh: tokens are single-connection, short-lived
        for base in bases:
            full = f"{base}-{token.user_id}"
            self._private[base] = full
            await ws.send(stream_frames.encode_subscribe(full, auth=token.token))

    async def _pump(self, ws: ClientConnection) -> None:
        heartbeat = asyncio.create_task(self._heartbeats(ws), name="bitstamp-heartbeat")
        received = 0
        try:
            async with asyncio.timeout(None) as expiry:
                idle = _IdleWatch(self.idle_timeout_s, expiry)
                try:
                    while True:
                        received += 1
                        if received % _YIELD_EVERY == 0:
                            # recv() returns buffered frames without suspending: let the rest
                            # of the loop (a UI) run between bursts.
                            await asyncio.sleep(0)
                        frame = await ws.recv()
                        idle.heard()
                        try:
                            event = stream_frames.parse_frame(frame)
                        except FrameError as exc:
                            self._events.put_nowait(FrameRejected(str(exc), exc.channel))
                            continue
                        if isinstance(event, HeartbeatReply):
                            continue
                        self._events.put_nowait(event)
                        if isinstance(event, ReconnectRequested):
                            raise _Reconnect("server requested reconnect", at_once=True)
                finally:
                    idle.stop()
        except TimeoutError:
            raise _Reconnect(f"no message for {self.idle_timeout_s:g} s") from None
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat

    async def _heartbeats(self, ws: ClientConnection) -> None:
        frame = stream_frames.encode_heartbeat()
        while True:
            await asyncio.sleep(self.heartbeat_s)
            try:
                await ws.send(frame)
            except websockets.ConnectionClosed:
                return

    async def _send_if_open(self, frame: str) -> None:
        ws = self._ws
        if ws is None:
            return
        with contextlib.suppress(websockets.ConnectionClosed):
            await ws.send(frame)

    def _set_state(self, state: ConnectionState, reason: str) -> None:
        if state is self.state and state is not ConnectionState.DISCONNECTED:
            return
        self.state = state
        _log.info("%s %s: %s (reconnects %d)", self.url, state.value, reason, self.reconnects)
        self._events.put_nowait(ConnectionStateChanged(state, reason, self.reconnects))
