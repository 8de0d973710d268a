"""The preflight's two stream checks: the book stream kept in sync by the app's own
:class:`~.hub.MarketHub`, and the private stream accepting a fresh ``websockets_token``.

Both give the stream a bounded time (``wait_s``) and say, when it fails, which step did:
no connection, no acknowledgement, no snapshot, or a book that synced and then heard
nothing (a stalled channel)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from ..bitstamp.errors import BitstampError
from ..bitstamp.rest import RestClient
from ..bitstamp.stream import ConnectionStateChanged, StreamClient
from ..bitstamp.stream_frames import StreamErrorEvent, SubscriptionSucceeded
from ..domain.account import WebsocketToken
from ..domain.markets import Market
from .check_result import CheckResult, Verdict, said
from .events import ConnectionChanged, MarketDataError, MarketEvent
from .feed import FeedState, MarketFeed
from .hub import MarketHub
from .reachability import host_of
from .venue import Venue

__all__ = ["DIFFS_NEEDED", "STREAM_WAIT_S", "check_book_stream", "check_private_stream"]

STREAM_WAIT_S = 10.0
"""How long each stream gets to show it works."""
DIFFS_NEEDED = 3
"""Diff frames applied on the synced book before the book stream passes: one could be a
frame that was already on its way; three mean the channel flows."""


async def check_book_stream(
    rest: RestClient, venue: Venue, market: Market, wait_s: float = STREAM_WAIT_S
) -> CheckResult:
    """Subscribe ``market``'s book, sync it from a REST snapshot and hear ``DIFFS_NEEDED``
    diff frames applied on it, within ``wait_s``."""
    name, pair = "book stream", market.symbol
    channel = f"diff_order_book_{pair}"
    events: list[MarketEvent] = []
    stream = StreamClient(venue.ws_url, open_timeout_s=wait_s)
    hub = MarketHub(rest, stream, {pair: market}, listener=events.append)
    await hub.start()
    try:
        feed = await hub.watch(pair)
        frames = await _diffs_on_synced_book(feed, wait_s)
    finally:
        await hub.close()
    host = host_of(venue.ws_url)
    if frames >= DIFFS_NEEDED:
        resyncs = f"; resynced {feed.health.resyncs}x" if feed.health.resyncs else ""
        return CheckResult(
            name,
            Verdict.PASS,
            f"{channel} on {host}: snapshot synced, {frames} diff frames applied{resyncs}",
        )
    errors = [e.detail for e in events if isinstance(e, MarketDataError)]
    if feed.state is FeedState.LIVE:
        detail = (
            f"{channel}: the book synced from a REST snapshot, but only {frames} diff "
            f"frame{'s' if frames != 1 else ''} came in {wait_s:g} s"
        )
        fix = (
            "the stream connects but does not deliver the book: the app would show it "
            "STALE; check the exchange's status page and run preflight again"
        )
    elif not feed.health.connected:
        last = [e.detail for e in events if isinstance(e, ConnectionChanged)]
        detail = f"no connection to {venue.ws_url} in {wait_s:g} s" + (
            f" ({last[-1]})" if last else ""
        )
        fix = (
            f"check that this machine reaches {host} over WebSocket (a proxy or firewall "
            "may block it)"
        )
    else:
        reason = feed.stale_reason or feed.state.value
        detail = f"{channel}: not in sync after {wait_s:g} s ({reason})"
        fix = "the stream or the REST snapshot is failing; see the log and run preflight again"
    if errors:
        detail += f"; {errors[-1]}"
    return CheckResult(name, Verdict.FAIL, detail, fix)


async def _diffs_on_synced_book(feed: MarketFeed, wait_s: float) -> int:
    """Diff frames heard on ``feed`` while its book was in sync, waiting up to ``wait_s``
    for ``DIFFS_NEEDED`` of them (a resync starts the count again)."""
    deadline = time.monotonic() + wait_s
    synced_at: float | None = None
    heard: set[float] = set()
    while time.monotonic() < deadline:
        if feed.state is FeedState.LIVE and not feed.stale:
            if synced_at is None:
                synced_at = time.monotonic()
            last = feed.diffs.last_frame_at
            if last is not None and last > synced_at:
                heard.add(last)
            if len(heard) >= DIFFS_NEEDED:
                break
        elif feed.state is not FeedState.LIVE:
            synced_at, heard = None, set()
        await asyncio.sleep(0.02)
    return len(heard)


async def check_private_stream(
    rest: RestClient,
    venue: Venue,
    pair: str,
    key_fix: Callable[[BitstampError], str],
    wait_s: float = STREAM_WAIT_S,
) -> CheckResult:
    """Get a ``websockets_token`` and have the stream acknowledge the account's order
    channel of ``pair`` with it; ``key_fix`` says what to do when the token is refused."""
    name = "private stream"
    try:
        token = await rest.websockets_token()
    except BitstampError as exc:
        return CheckResult(name, Verdict.FAIL, f"websockets_token: {said(exc)}", key_fix(exc))
    issued = f"token issued (valid {token.valid_sec} s)"
    if not venue.orders_stream:
        return CheckResult(
            name,
            Verdict.PASS,
            f"{issued}; not sent: sandbox has no WebSocket host of its own, so the app "
            "follows sandbox orders over REST",
        )
    base = f"private-my_orders_{pair}"
    first: list[WebsocketToken] = [token]

    async def tokens() -> WebsocketToken:
        return first.pop() if first else await rest.websockets_token()

    stream = StreamClient(venue.ws_url, token_provider=tokens, open_timeout_s=wait_s)
    await stream.subscribe_private(base)
    stream.start()
    last_state = ""
    try:
        async with asyncio.timeout(wait_s):
            while True:
                event = await stream.next_event()
                if isinstance(event, SubscriptionSucceeded) and event.channel.startswith(base):
                    return CheckResult(
                        name, Verdict.PASS, f"{issued} and accepted on {event.channel}"
                    )
                if isinstance(event, StreamErrorEvent):
                    code = f" (code {event.code})" if event.code is not None else ""
                    return CheckResult(
                        name,
                        Verdict.FAIL,
                        f"{issued}, but the stream refused it: {event.message}{code}",
                        "run preflight again (a token lives seconds); if it persists, "
                        "the key may lack the right to the account's private channels",
                    )
                if isinstance(event, ConnectionStateChanged):
                    last_state = f"{event.state.value}: {event.reason}"
    except TimeoutError:
        return CheckResult(
            name,
            Verdict.FAIL,
            f"{issued}, but {base} was not acknowledged in {wait_s:g} s"
            + (f" ({last_state})" if last_state else ""),
            f"check that this machine reaches {host_of(venue.ws_url)} over WebSocket",
        )
    finally:
        await stream.close()
