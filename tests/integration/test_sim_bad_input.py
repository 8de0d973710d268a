"""Issue 17 item 4: every bad input gets Bitstamp's answer, never a crash.

Each input the issue lists (and the rest of its family) is sent to one simulator on 127.0.0.1;
the answer must be a Bitstamp-shaped JSON error (``{"status": "error", "reason": ...}``) and
the server must still answer afterwards. WebSocket inputs must be answered with a
``bts:error`` frame on a connection that stays usable (a heartbeat still gets its reply).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import httpx
import pytest
import pytest_asyncio

from tests.protocol.sim_session import API, SHAPE_MARKETS, signed_client
from workstation.sim.exchange import SimExchange
from workstation.sim.server import SimServer

pytestmark = pytest.mark.asyncio(loop_scope="module")

HUGE = "9" * 5000  # past Python's 4,300-digit int conversion limit
LIMIT_ORDER = {"amount": "0.001", "price": "60000"}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sim() -> AsyncIterator[SimServer]:
    server = SimServer(SimExchange(SHAPE_MARKETS, seed=7, speed=0), rate_limits=None)
    async with server:
        yield server


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def signed(sim: SimServer) -> AsyncIterator[httpx.AsyncClient]:
    async with signed_client(sim) as client:
        yield client


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def public(sim: SimServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sim.rest_url, timeout=10) as client:
        yield client


@pytest.fixture(autouse=True)
def no_stack_traces(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """No input may make aiohttp log an unhandled exception (the old 500 with a trace)."""
    yield
    errors = [r for r in caplog.records if r.name.startswith("aiohttp") and r.levelno >= 40]
    assert not errors, [r.getMessage() for r in errors]


def assert_bitstamp_error(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"].startswith("application/json"), response.text[:200]
    body = response.json()
    assert isinstance(body, dict), body
    assert body.get("status") == "error", body
    assert isinstance(body.get("reason"), str | dict), body
    assert response.status_code in (200, 400, 403, 404), response.status_code
    return body


async def assert_alive(public: httpx.AsyncClient) -> None:
    response = await public.get(f"{API}/ticker/btcusd/")
    assert response.status_code == 200
    assert "last" in response.json()


# -- REST ---------------------------------------------------------------------------------

OHLC_CASES = {
    "limit huge": {"step": "60", "limit": HUGE},
    "step huge": {"step": HUGE, "limit": "10"},
    "start huge": {"step": "60", "limit": "10", "start": HUGE},
    "end huge": {"step": "60", "limit": "10", "end": HUGE},
    "limit superscript": {"step": "60", "limit": "²"},
}


@pytest.mark.parametrize("query", OHLC_CASES.values(), ids=OHLC_CASES.keys())
async def test_ohlc_bad_integers_answer_bitstamp_error(
    public: httpx.AsyncClient, query: dict[str, str]
) -> None:
    assert_bitstamp_error(await public.get(f"{API}/ohlc/btcusd/", params=query))
    await assert_alive(public)


async def test_ohlc_start_after_end_never_answers_negative_timestamps(
    public: httpx.AsyncClient,
) -> None:
    query = {"step": "60", "limit": "10", "start": "1000", "end": "100"}
    response = await public.get(f"{API}/ohlc/btcusd/", params=query)
    assert response.status_code == 200
    candles = response.json()["data"]["ohlc"]
    assert all(int(c["timestamp"]) >= 0 for c in candles), candles


SIGNED_CASES: dict[str, tuple[str, dict[str, str]]] = {
    "order_status id": ("order_status/", {"id": HUGE}),
    "cancel_order id": ("cancel_order/", {"id": HUGE}),
    "replace_order id": ("replace_order/", {"id": HUGE, **LIMIT_ORDER}),
    "order_status id superscript": ("order_status/", {"id": "²"}),
    "user_transactions offset": ("user_transactions/", {"offset": HUGE}),
    "user_transactions limit": ("user_transactions/", {"limit": HUGE}),
    "user_transactions since_id": ("user_transactions/", {"since_id": HUGE}),
    "user_transactions since_timestamp": ("user_transactions/", {"since_timestamp": HUGE}),
    "gtd expire_time huge": (
        "buy/btcusd/",
        {**LIMIT_ORDER, "gtd_order": "True", "expire_time": HUGE},
    ),
    "gtd expire_time zero": (
        "buy/btcusd/",
        {**LIMIT_ORDER, "gtd_order": "True", "expire_time": "0"},
    ),
    "gtd expire_time past": (
        "buy/btcusd/",
        {**LIMIT_ORDER, "gtd_order": "True", "expire_time": "1000000000000"},
    ),
}


@pytest.mark.parametrize(("path", "form"), SIGNED_CASES.values(), ids=SIGNED_CASES.keys())
async def test_signed_bad_inputs_answer_bitstamp_error(
    signed: httpx.AsyncClient, public: httpx.AsyncClient, path: str, form: dict[str, str]
) -> None:
    assert_bitstamp_error(await signed.post(f"{API}/{path}", data=form))
    await assert_alive(public)


@pytest.mark.parametrize("path", ["buy/btcusd/", "fees/trading/", "user_transactions/"])
async def test_signed_body_not_utf8_answers_bitstamp_error(
    signed: httpx.AsyncClient, public: httpx.AsyncClient, path: str
) -> None:
    response = await signed.post(
        f"{API}/{path}",
        content=b"amount=\xff\xfe&price=60000",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_bitstamp_error(response)
    await assert_alive(public)


# -- long URLs ----------------------------------------------------------------------------

API0021 = {"status": "error", "reason": "URL longer than 2000 chars", "code": "API0021"}


def padded_target(path: str, length: int, query: str = "") -> str:
    """``path`` and ``query`` padded to a request target of exactly ``length`` characters."""
    prefix = f"{path}?{query}pad="
    return prefix + "a" * (length - len(prefix))


@pytest.mark.parametrize("length", [2001, 8190, 9000, 60_000])
@pytest.mark.parametrize("path", [f"{API}/ticker/btcusd/", f"{API}/ohlc/btcusd/", "/nowhere/"])
async def test_a_url_longer_than_2000_chars_answers_api0021(
    public: httpx.AsyncClient, path: str, length: int
) -> None:
    """Bitstamp's API0021 (reference 6), past aiohttp's own 8,190-byte request line too
    (which used to answer a plain-text 400 before the application saw the request)."""
    response = await public.get(padded_target(path, length))
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/json"
    assert response.json() == API0021
    await assert_alive(public)


async def test_a_signed_url_longer_than_2000_chars_answers_api0021(
    signed: httpx.AsyncClient, public: httpx.AsyncClient
) -> None:
    response = await signed.post(padded_target(f"{API}/account_balances/", 2001))
    assert response.status_code == 403
    assert response.json() == API0021
    await assert_alive(public)


async def test_a_url_of_2000_chars_is_served(public: httpx.AsyncClient) -> None:
    target = padded_target(f"{API}/ohlc/btcusd/", 2000, query="step=60&limit=2&")
    assert len(target) == 2000
    response = await public.get(target)
    assert response.status_code == 200
    assert len(response.json()["data"]["ohlc"]) == 2


# -- WebSocket ----------------------------------------------------------------------------


async def ws_answer(sim: SimServer, frame: str) -> dict[str, Any]:
    """Send ``frame`` on a fresh connection; return the reply, after checking the
    connection still answers a heartbeat."""
    async with aiohttp.ClientSession() as session, session.ws_connect(sim.ws_url) as ws:
        await ws.send_str(frame)
        answer = await ws.receive(timeout=5)
        assert answer.type is aiohttp.WSMsgType.TEXT, answer
        await ws.send_str('{"event": "bts:heartbeat"}')
        while True:  # data frames of a channel just subscribed may come first
            heartbeat = await ws.receive(timeout=5)
            assert heartbeat.type is aiohttp.WSMsgType.TEXT, heartbeat
            if json.loads(heartbeat.data)["event"] == "bts:heartbeat":
                break
        return json.loads(answer.data)


def subscribe(channel: str, **extra: object) -> str:
    return json.dumps({"event": "bts:subscribe", "data": {"channel": channel, **extra}})


WS_CASES = {
    "private user superscript": subscribe("private-my_orders_btcusd-²", auth="x" * 32),
    "private user huge": subscribe(f"private-my_orders_btcusd-{HUGE}", auth="x" * 32),
    "channel lone surrogate": '{"event": "bts:subscribe", "data": {"channel": "\\ud800"}}',
    "event lone surrogate": '{"event": "\\ud800", "data": {}}',
    "open brackets": "[" * 100_000,
    "data nested deep": '{"event": "bts:subscribe", "data": '
    + '{"a": ' * 50_000
    + "1"
    + "}" * 50_001,
    "channel long": subscribe("live_trades_" + "x" * 100_000),
}


@pytest.mark.parametrize("frame", WS_CASES.values(), ids=WS_CASES.keys())
async def test_ws_bad_frames_answer_bts_error(sim: SimServer, frame: str) -> None:
    answer = await ws_answer(sim, frame)
    assert answer["event"] == "bts:error", answer
    assert isinstance(answer["data"]["message"], str)


async def test_ws_frame_over_one_mib_is_closed_with_a_close_frame(sim: SimServer) -> None:
    """Past aiohttp's 1 MiB message limit the connection ends, but with a close frame (1009,
    message too big), never dropped without one; the server serves the next client."""
    async with aiohttp.ClientSession() as session, session.ws_connect(sim.ws_url) as ws:
        await ws.send_str(subscribe("x" * (1 << 20)))
        answer = await ws.receive(timeout=10)
        assert answer.type is aiohttp.WSMsgType.CLOSE, answer
        assert answer.data == aiohttp.WSCloseCode.MESSAGE_TOO_BIG
    reply = await ws_answer(sim, '{"event": "bts:heartbeat"}')
    assert reply["event"] == "bts:heartbeat"
