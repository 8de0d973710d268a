"""The simulator's WebSocket frames have Bitstamp's keys and JSON types, checked end to end.

A real SimServer on 127.0.0.1 gets a WebSocket client subscribed to every channel family we
serve for btcusd, public and private, while a signed REST client places orders that rest, fill
and get deleted. The frames it receives are compared by shape (``shapes.py``) with:

* the recorded frames (``recorded`` fixture; skipped without it): subscription acks,
  ``live_trades``, ``diff_order_book`` (and ``order_book``, whose payload has the same shape,
  reference 7.4), and gocryptotrader's 2023 ``private-my_orders`` frames;
* the shapes reference sections 7.3-7.5 document for the rest: ``private-my_trades``,
  ``live_orders``, the heartbeat reply, ``bts:error``, ``bts:request_reconnect`` and the
  unsubscribe ack.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from websockets.asyncio.client import ClientConnection, connect

from workstation.bitstamp.stream_frames import (
    encode_heartbeat,
    encode_subscribe,
    encode_unsubscribe,
)
from workstation.sim.server import SimServer

from .shapes import assert_same, shape, union
from .sim_session import API, SHAPE_MARKETS, inside_spread, signed_client, small_sim

Frame = dict[str, Any]
WAIT_S = 10.0


def _kind(frame: Frame) -> tuple[str, str]:
    """(event, channel family): ``("trade", "live_trades")``, ``("data", "order_book")``."""
    return frame["event"], frame["channel"].rpartition("_")[0]  # "" for control frames


EXPECTED = {
    ("bts:subscription_succeeded", ""),
    ("bts:unsubscription_succeeded", ""),
    ("bts:heartbeat", ""),
    ("bts:error", ""),
    ("bts:request_reconnect", ""),
    ("trade", "live_trades"),
    ("data", "order_book"),
    ("data", "diff_order_book"),
    ("order_created", "live_orders"),
    ("order_created", "private-my_orders"),
    ("order_changed", "private-my_orders"),  # the resting sell, partly filled
    ("order_deleted", "private-my_orders"),
    ("trade", "private-my_trades"),
}


def _seen(frames: list[Frame]) -> set[tuple[str, str]]:
    kinds = {_kind(f) for f in frames}
    return {(e, "" if e.startswith("bts:") else c) for e, c in kinds}


class _Inbox:
    """Frames as they arrive, and a bounded wait for the ones a step needs."""

    def __init__(self) -> None:
        self.frames: list[Frame] = []
        self._arrived = asyncio.Event()

    async def read(self, ws: ClientConnection) -> None:
        async for text in ws:
            self.frames.append(json.loads(text))
            self._arrived.set()

    async def until(self, done: Callable[[list[Frame]], bool]) -> None:
        """Wait at most WAIT_S for ``done(frames)``; the tests report what is still missing."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(WAIT_S):
                while not done(self.frames):
                    self._arrived.clear()
                    await self._arrived.wait()


def _diff_sides(frames: list[Frame]) -> set[str]:
    return {
        side for f in frames if _kind(f) == ("data", "diff_order_book") for side in ("bids", "asks")
        if f["data"][side]
    }  # fmt: skip


async def _orders(sim: SimServer, private: httpx.AsyncClient) -> None:
    """A sell resting inside the spread, two market buys that fill it, a bid far below."""
    async with httpx.AsyncClient(base_url=sim.rest_url, timeout=10) as public:
        ticker = (await public.get(f"{API}/ticker/btcusd/")).json()
    bid, tick = Decimal(ticker["bid"]), SHAPE_MARKETS[0].tick
    price = inside_spread(bid, Decimal(ticker["ask"]), tick)
    for path, form in (
        ("/sell/btcusd/", {"amount": "0.01", "price": f"{price}", "client_order_id": "s-1"}),
        ("/buy/market/btcusd/", {"amount": "0.004", "client_order_id": "t-1"}),
        ("/buy/market/btcusd/", {"amount": "0.02"}),
        ("/buy/btcusd/", {"amount": "0.01", "price": f"{(bid * Decimal('0.9')).quantize(tick)}"}),
    ):
        reply = (await private.post(API + path, data=form)).json()
        assert "id" in reply, reply


async def _stream_session(sim: SimServer) -> list[Frame]:
    inbox = _Inbox()
    async with signed_client(sim) as private, connect(sim.ws_url) as ws:
        token = (await private.post(f"{API}/websockets_token/")).json()
        reader = asyncio.create_task(inbox.read(ws))
        for family in ("live_trades", "order_book", "diff_order_book", "live_orders"):
            await ws.send(encode_subscribe(f"{family}_btcusd"))
        for family in ("private-my_orders", "private-my_trades"):
            channel = f"{family}_btcusd-{token['user_id']}"
            await ws.send(encode_subscribe(channel, token["token"]))
        await ws.send(encode_heartbeat())
        await ws.send("not json")  # bts:error, code null
        await ws.send(encode_subscribe(f"private-my_orders_btcusd-{token['user_id']}", "forged"))
        acked = lambda fs: sum(f["event"] == "bts:subscription_succeeded" for f in fs) == 6  # noqa: E731
        await inbox.until(acked)
        await _orders(sim, private)
        wanted = EXPECTED - {("bts:unsubscription_succeeded", ""), ("bts:request_reconnect", "")}
        await inbox.until(lambda fs: _seen(fs) >= wanted and len(_diff_sides(fs)) == 2)
        await ws.send(encode_unsubscribe("live_orders_btcusd"))
        sim.hub.request_reconnect()
        await inbox.until(lambda fs: _seen(fs) >= EXPECTED)
        reader.cancel()
    return inbox.frames


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sim_frames() -> AsyncIterator[list[Frame]]:
    async with small_sim() as sim:
        yield await _stream_session(sim)


def _of(frames: list[Frame], event: str, family: str | None = None) -> list[Frame]:
    """The frames of ``event`` (on a channel of ``family`` when given); at least one."""
    found = [f for f in frames if f["event"] == event and family in (None, _kind(f)[1])]
    assert found, f"no {event} frame on {family or 'any channel'}"
    return found


def test_the_session_saw_every_kind_of_frame(sim_frames: list[Frame]) -> None:
    assert _seen(sim_frames) >= EXPECTED
    assert _diff_sides(sim_frames) == {"bids", "asks"}
    errors = [f["data"]["code"] for f in _of(sim_frames, "bts:error")]
    assert sorted(errors, key=str) == [4009, None]


# --- recorded frames -----------------------------------------------------------------------


def _recorded_frames(recorded: Path) -> list[Frame]:
    """Server-to-client frames of cryptofeed's capture (``<time>: <json>`` lines)."""
    lines = (recorded / "cryptofeed" / "BITSTAMP.ws.1.0").read_text().splitlines()
    return [json.loads(line.split(": ", 1)[1]) for line in lines if not line.startswith("wss:")]


def _recorded_my_orders(recorded: Path) -> list[Frame]:
    lines = (recorded / "gocryptotrader" / "wsMyOrders.json").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _same_as_recorded(
    ours: list[Frame], theirs: list[Frame], **allowed: Any
) -> None:  # one union each side
    assert theirs, "nothing recorded"
    assert_same(union(map(shape, ours)), union(map(shape, theirs)), **allowed)


def test_acks_match_the_recorded_acks(recorded: Path, sim_frames: list[Frame]) -> None:
    theirs = _of(_recorded_frames(recorded), "bts:subscription_succeeded")
    ours = _of(sim_frames, "bts:subscription_succeeded")
    _same_as_recorded(ours, theirs)
    assert [list(f) for f in ours + theirs] == [["event", "channel", "data"]] * (
        len(ours) + len(theirs)
    )


def test_live_trades_match_the_recorded_trades(recorded: Path, sim_frames: list[Frame]) -> None:
    theirs = _of(_recorded_frames(recorded), "trade", "live_trades")
    _same_as_recorded(_of(sim_frames, "trade", "live_trades"), theirs)


@pytest.mark.parametrize("family", ["diff_order_book", "order_book"])
def test_book_frames_match_the_recorded_diffs(
    recorded: Path, sim_frames: list[Frame], family: str
) -> None:
    theirs = _of(_recorded_frames(recorded), "data", "diff_order_book")
    ours = _of(sim_frames, "data", family)
    _same_as_recorded(ours, theirs)
    assert {tuple(f) for f in ours + theirs} == {("data", "channel", "event")}


def test_my_orders_match_the_recorded_private_frames(
    recorded: Path, sim_frames: list[Frame]
) -> None:
    ours = [
        f
        for f in sim_frames
        if _kind(f)[1] == "private-my_orders" and not f["event"].startswith("bts:")
    ]
    assert {f["event"] for f in ours} == {"order_created", "order_changed", "order_deleted"}
    _same_as_recorded(
        ours,
        _recorded_my_orders(recorded),
        # Every recorded price happens to be whole (25862, 999999999, 0); fractional prices
        # are JSON numbers with a fraction ("price": 58356.1, reference 7.4).
        numbers=["$.data.price"],
        extra_ok={
            "$.data.order_subtype": "2026 frames carry it (reference 7.4, 7.5); 2023 did not",
            "$.data.is_liquidation": "2026 frames carry it (reference 7.4); 2023 did not",
        },
    )


# --- documented frames (reference 7.3-7.5), placeholder values of the documented types -----

_MY_TRADE = {
    "data": {
        "id": 635698396, "order_id": "2050558851342339", "client_order_id": "c",
        "amount": "0.005000", "price": "2468.04", "fee": "0.04936", "side": "buy",
        "microtimestamp": "1789459694223000", "trade_account_id": 0,
    },
    "channel": "private-my_trades_ethusd-1", "event": "trade",
}  # fmt: skip
_LIVE_ORDER = {
    "data": {
        "id": 2037493297635328, "id_str": "2037493297635328", "order_type": 0,
        "order_subtype": 5, "datetime": "1786269862", "microtimestamp": "1786269861947000",
        "amount": 0.00171371, "amount_str": "0.00171371", "amount_traded": "0",
        "amount_at_create": "0.00171371", "price": 58356.1, "price_str": "58356.10",
        "is_liquidation": False,
    },
    "channel": "live_orders_btcusd", "event": "order_deleted",
    "event_id": "0006589a-5c98-2678-0000-000101000020",
    "pre_event_id": "0006589a-5c97-f798-0000-000100000020", "order_source": "orderbook",
}  # fmt: skip
_NO_GAP_RECOVERY = "chains events for /api/v2/order_data/ gap recovery (2026), not simulated"


def _control(event: str, data: Any, channel: str = "") -> Frame:
    return {"event": event, "channel": channel, "data": data}


DOCUMENTED: list[tuple[str, str, str | None, list[Frame], dict[str, Any]]] = [
    ("7.5 my_trades", "trade", "private-my_trades", [_MY_TRADE], {}),
    (
        "7.4 live_orders",
        "order_created",
        "live_orders",
        [_LIVE_ORDER],
        {
            "missing_ok": {
                "$.event_id": _NO_GAP_RECOVERY,
                "$.pre_event_id": _NO_GAP_RECOVERY,
                "$.order_source": "2026 addition naming the order's origin; not simulated",
            }
        },
    ),  # fmt: skip
    (
        "7.3 heartbeat",
        "bts:heartbeat",
        None,
        [_control("bts:heartbeat", {"status": "success"})],
        {},
    ),  # fmt: skip
    (
        "7.3 errors",
        "bts:error",
        None,
        [
            _control("bts:error", {"code": None, "message": "Incorrect JSON format."}),
            _control("bts:error", {"code": 4009, "message": "Connection is unauthorized."}),
        ],
        {},
    ),  # fmt: skip
    (
        "7.3 reconnect",
        "bts:request_reconnect",
        None,
        [_control("bts:request_reconnect", "")],
        {},
    ),  # fmt: skip
    (
        "7.3 unsubscribe ack",
        "bts:unsubscription_succeeded",
        None,
        [_control("bts:unsubscription_succeeded", {}, "live_trades_btcusd")],
        {},
    ),  # fmt: skip
]


@pytest.mark.parametrize(
    ("event", "family", "documented", "allowed"),
    [pytest.param(e, f, doc, allowed, id=what) for what, e, f, doc, allowed in DOCUMENTED],
)
def test_documented_frames(
    sim_frames: list[Frame],
    event: str,
    family: str | None,
    documented: list[Frame],
    allowed: dict[str, Any],
) -> None:
    ours = _of(sim_frames, event, family)
    assert_same(union(map(shape, ours)), union(map(shape, documented)), **allowed)
    assert {tuple(f)[0] for f in ours} == {tuple(documented[0])[0]}  # data or event first
