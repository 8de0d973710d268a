"""Fuzzing the simulator over every endpoint and channel it serves (issue 17, "tests that must
exist").

Every REST v2 endpoint the simulator serves (reference sections 3 and 4; the table of
``workstation.sim.routes``) gets generated values for every documented parameter, and for
its path parts: digits of any length, signs, decimals, exponents, unicode, empty, 5,000
digits, or the parameter missing. Private calls are signed correctly, so the values reach the
handlers. The WebSocket gets generated frames for every field of every documented client
message (reference 7.2), over every channel family. Each answer must be Bitstamp-shaped and
the server must answer normally afterwards:

* REST: never a 5xx; an unknown path or market is the CDN's HTML 404; anything else is JSON,
  and an error is ``{"status": "error", "reason": str | {field: [str]}, ...}``.
* WebSocket: one text frame per message, ``bts:error`` or the documented reply, on a
  connection that stays open (a heartbeat still gets its reply): never a dropped connection.

The examples are derandomized (the same every run) and few, so ``make test`` spends seconds
here; ``SIM_FUZZ_EXAMPLES=2000`` (and optionally ``SIM_FUZZ_SEED`` for fresh randomness)
makes it a soak.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import quote

import aiohttp
import httpx
import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from tests.protocol.sim_session import API, SHAPE_MARKETS, signed_client
from workstation.sim.exchange import SimExchange
from workstation.sim.server import SimServer

pytestmark = pytest.mark.asyncio(loop_scope="module")

EXAMPLES = int(os.environ.get("SIM_FUZZ_EXAMPLES", "12"))
"""Examples per endpoint and per WebSocket message kind (``make test``: a few seconds)."""
_SEED = os.environ.get("SIM_FUZZ_SEED")

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=_SEED is None,
    database=None,
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)


def fuzz_seed(test: Any) -> Any:
    """Fresh randomness only when SIM_FUZZ_SEED asks for it (derandomized otherwise)."""
    return seed(int(_SEED))(test) if _SEED is not None else test


MARKETS = [m.symbol for m in SHAPE_MARKETS]

# -- generated values -------------------------------------------------------------------------

EXTREMES = [
    "",
    "9" * 5000,  # past Python's 4,300-digit int conversion limit
    "-" + "9" * 30,
    "-1",
    "0",
    "1e3",
    "NaN",
    "-Infinity",
    "0." + "0" * 5000 + "1",
    "²",  # str.isdigit() says yes, int() says no
    "٣",  # int() says 3
    "\x00",
    "x" * 1900,
    "true",
]
"""Values every parameter (and path part) gets once each, whatever the generator draws."""

VALUES = st.one_of(
    st.sampled_from(EXTREMES),
    st.text(alphabet="0123456789", min_size=1, max_size=40),  # digits of any length ...
    st.integers(min_value=1, max_value=5000).map(lambda n: "9" * n),  # ... up to 5,000
    st.integers(min_value=-(10**40), max_value=10**40).map(str),  # signs
    st.decimals(allow_nan=True, allow_infinity=True).map(str),  # decimals, NaN, 1E+999
    st.sampled_from(
        [
            "",
            " ",
            "0",
            "-0",
            "+1",
            "1e3",
            "0x10",
            "1_000",
            " 1",
            "1 ",
            "0.001",
            "0.00000001",
            "60000",
            "60000.00",
            "1." + "0" * 5000 + "1",
            "True",
            "true",
            "1",
            "False",
            "²",
            "٣",
            "𝟙",
            "\x00",
            "\ufeff1",
            "asc",
            "desc",
            "hour",
            "day",
            "btcusd",
            "BTC/USD",
        ]
    ),
    st.text(max_size=30),  # unicode of any kind
)
"""What a client might put in any parameter: documented values and everything around them."""

PATH_PARTS = st.one_of(
    st.sampled_from([*MARKETS, "BTCUSD", "btc", "", "foobar"]),
    st.text(max_size=20),
    VALUES,
)
"""What a client might put where a market (or currency) goes in a path."""


def params(*names: str) -> st.SearchStrategy[dict[str, str]]:
    """Each of ``names`` given a generated value or missing, plus maybe an unknown field."""
    return st.fixed_dictionaries({}, optional=dict.fromkeys((*names, "foo", "nonce"), VALUES))


# -- the endpoints ----------------------------------------------------------------------------

PUBLIC: dict[str, tuple[str, tuple[str, ...]]] = {
    # name: (path, with {market} for a generated market; the query parameters it documents)
    "ticker": ("ticker/{market}/", ()),
    "tickers": ("ticker/", ()),
    "order_book": ("order_book/{market}/", ("group",)),
    "transactions": ("transactions/{market}/", ("time",)),
    "ohlc": ("ohlc/{market}/", ("step", "limit", "start", "end", "exclude_current_candle")),
    "markets": ("markets/", ()),
    "trading_pairs_info": ("trading-pairs-info/", ()),
}

_ORDER_ID = ("id", "client_order_id")
_LIMIT_ORDER = (
    "amount",
    "price",
    "limit_price",
    "daily_order",
    "ioc_order",
    "fok_order",
    "moc_order",
    "gtd_order",
    "expire_time",
    "client_order_id",
)
PRIVATE: dict[str, tuple[str, tuple[str, ...]]] = {
    # name: (path, with {market} / {currency} / {side} generated; the form fields it documents)
    "account_balances": ("account_balances/", ()),
    "account_balance": ("account_balances/{currency}/", ()),
    "fees": ("fees/trading/", ("market_symbol",)),
    "fees_market": ("fees/trading/{market}/", ()),
    "user_transactions": (
        "user_transactions/",
        ("offset", "limit", "sort", "since_timestamp", "until_timestamp", "since_id"),
    ),
    "user_transactions_market": (
        "user_transactions/{market}/",
        ("offset", "limit", "sort", "since_timestamp", "until_timestamp", "since_id"),
    ),
    "open_orders_all": ("open_orders/all/", ()),
    "open_orders": ("open_orders/", ()),
    "open_orders_market": ("open_orders/{market}/", ()),
    "order_status": ("order_status/", (*_ORDER_ID, "omit_transactions")),
    "cancel_order": ("cancel_order/", _ORDER_ID),
    "cancel_all_orders": ("cancel_all_orders/", ()),
    "cancel_all_orders_market": ("cancel_all_orders/{market}/", ()),
    "replace_order": (
        "replace_order/",
        ("id", "orig_client_order_id", "amount", "price", "client_order_id"),
    ),
    "websockets_token": ("websockets_token/", ()),
    "limit_order": ("{side}/{market}/", _LIMIT_ORDER),
    "market_order": ("{side}/market/{market}/", ("amount", "client_order_id")),
    "instant_order": (
        "{side}/instant/{market}/",
        ("amount", "amount_in_counter", "client_order_id"),
    ),
}


@st.composite
def paths(draw: st.DrawFn, template: str) -> str:
    """``template`` with each of its path parts a documented value or a generated one."""
    parts = {
        "market": draw(st.one_of(st.sampled_from(MARKETS), PATH_PARTS)),
        "currency": draw(st.one_of(st.sampled_from(["btc", "usd", "eur", "BTC"]), PATH_PARTS)),
        "side": draw(st.one_of(st.sampled_from(["buy", "sell"]), PATH_PARTS)),
    }
    path = template.format(**{k: quote(v, safe="") for k, v in parts.items()})
    if draw(st.booleans()):
        path = path.rstrip("/")  # clients call with and without the trailing slash
    return f"{API}/{path}"


# -- the simulator --------------------------------------------------------------------------


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sim() -> AsyncIterator[SimServer]:
    server = SimServer(SimExchange(SHAPE_MARKETS, seed=7, speed=0), rate_limits=None)
    async with server:
        yield server


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def public(sim: SimServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sim.rest_url, timeout=30) as client:
        yield client


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def signed(sim: SimServer) -> AsyncIterator[httpx.AsyncClient]:
    async with signed_client(sim) as client:
        client.timeout = httpx.Timeout(30)
        yield client


@pytest.fixture(autouse=True)
def no_stack_traces(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """No input may make aiohttp log an unhandled exception (a 500 with a trace)."""
    yield
    errors = [r for r in caplog.records if r.name.startswith("aiohttp") and r.levelno >= 40]
    assert not errors, [r.getMessage() for r in errors]


# -- what a Bitstamp-shaped answer is ----------------------------------------------------------


def assert_bitstamp_shaped(response: httpx.Response) -> None:
    where = f"{response.request.method} {str(response.request.url)[:200]}"
    status = response.status_code
    assert status in (200, 400, 403, 404, 405, 413), (where, status, response.text[:300])
    content_type = response.headers.get("content-type", "")
    if status == 404 and content_type.startswith("text/html"):
        assert "404 Not Found" in response.text, where  # the CDN's page (reference 3)
        return
    assert content_type.startswith("application/json"), (where, status, response.text[:300])
    body = response.json()
    is_error = isinstance(body, dict) and body.get("status") == "error"
    if status != 200:
        assert is_error, (where, status, body)
    if is_error:
        reason = body.get("reason")
        assert isinstance(reason, str) or (
            isinstance(reason, dict)
            and all(
                isinstance(k, str) and isinstance(v, list) and all(isinstance(m, str) for m in v)
                for k, v in reason.items()
            )
        ), (where, body)
        assert set(body) <= {"status", "reason", "code", "response_code"}, (where, body)
    else:
        assert isinstance(body, dict | list), (where, body)


async def assert_alive(public: httpx.AsyncClient) -> None:
    response = await public.get(f"{API}/trading-pairs-info/")
    assert response.status_code == 200
    assert isinstance(response.json(), list)


# -- REST ------------------------------------------------------------------------------------


BASE = {
    "ohlc": {"step": "60", "limit": "2"},
    "order_status": {"id": "1"},
    "cancel_order": {"id": "1"},
    "replace_order": {"id": "1", "amount": "0.001", "price": "60000"},
    "limit_order": {"amount": "0.001", "price": "60000"},
    "market_order": {"amount": "0.001"},
    "instant_order": {"amount": "10"},
}
"""Valid values for the other parameters, so the one swept reaches the deeper checks."""
_VALID_PARTS = {"market": "btcusd", "currency": "btc", "side": "buy"}


def swept(name: str, template: str, names: tuple[str, ...]) -> Iterator[tuple[str, dict]]:
    """(path, parameters) with one parameter or path part at a time set to each extreme."""
    valid_path = f"{API}/" + template.format(**_VALID_PARTS)
    for part in _VALID_PARTS:
        if "{" + part + "}" in template:
            for value in EXTREMES:
                parts = {**_VALID_PARTS, part: quote(value, safe="")}
                yield f"{API}/" + template.format(**parts), BASE.get(name, {})
    for param in (*names, "foo"):
        for value in EXTREMES:
            yield valid_path, {**BASE.get(name, {}), param: value}


@pytest.mark.parametrize("name", PUBLIC)
async def test_every_public_parameter_takes_every_extreme(
    public: httpx.AsyncClient, name: str
) -> None:
    for path, query in swept(name, *PUBLIC[name]):
        assert_bitstamp_shaped(await public.get(path, params=query))
    await assert_alive(public)


@pytest.mark.parametrize("name", PRIVATE)
async def test_every_private_parameter_takes_every_extreme(
    signed: httpx.AsyncClient, public: httpx.AsyncClient, name: str
) -> None:
    for path, form in swept(name, *PRIVATE[name]):
        assert_bitstamp_shaped(await signed.post(path, data=form or None))
    await assert_alive(public)


@pytest.mark.parametrize("name", PUBLIC)
@FUZZ
@fuzz_seed
@given(data=st.data())
async def test_fuzz_public_endpoints(
    public: httpx.AsyncClient, name: str, data: st.DataObject
) -> None:
    path_template, names = PUBLIC[name]
    path = data.draw(paths(path_template), label="path")
    query = data.draw(params(*names), label="query")
    assert_bitstamp_shaped(await public.get(path, params=query))
    await assert_alive(public)


@pytest.mark.parametrize("name", PRIVATE)
@FUZZ
@fuzz_seed
@given(data=st.data())
async def test_fuzz_private_endpoints(
    signed: httpx.AsyncClient, public: httpx.AsyncClient, name: str, data: st.DataObject
) -> None:
    path_template, names = PRIVATE[name]
    path = data.draw(paths(path_template), label="path")
    form = data.draw(params(*names), label="form")
    assert_bitstamp_shaped(await signed.post(path, data=form or None))
    await assert_alive(public)


@FUZZ
@fuzz_seed
@given(
    name=st.sampled_from(sorted(PRIVATE)),
    body=st.one_of(
        st.binary(min_size=1, max_size=200),  # any bytes: not UTF-8, not a form
        st.lists(st.sampled_from([b"=", b"&", b"%", b"%ff", b"+", b"amount", b"\xff"]))
        .map(b"".join)
        .filter(bool),
    ),
)
async def test_fuzz_private_raw_bodies(
    signed: httpx.AsyncClient, public: httpx.AsyncClient, name: str, body: bytes
) -> None:
    """The body itself generated, signed as it is: the form decoder's own edge cases."""
    path = f"{API}/" + PRIVATE[name][0].format(**_VALID_PARTS)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    assert_bitstamp_shaped(await signed.post(path, content=body, headers=headers))
    await assert_alive(public)


# -- WebSocket -------------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10) | VALUES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=6,
)
"""Any JSON value a field might carry instead of the documented one."""

FAMILIES = [
    "live_trades_",
    "live_orders_",
    "order_book_",
    "detail_order_book_",
    "diff_order_book_",
    "private-my_orders_",
    "private-my_trades_",
]


@st.composite
def channels(draw: st.DrawFn) -> str:
    """A channel of a documented family for a generated market, a private one for a
    generated user id, or any text."""
    family = draw(st.sampled_from(FAMILIES))
    market = draw(st.one_of(st.sampled_from(MARKETS), PATH_PARTS))
    name = family + market
    if family.startswith("private-"):
        name += "-" + draw(VALUES)
    return draw(st.one_of(st.just(name), st.text(max_size=40)))


EVENTS = st.one_of(
    st.sampled_from(["bts:subscribe", "bts:unsubscribe", "bts:heartbeat"]),
    st.sampled_from(["bts:request_reconnect", "bts:error", "subscribe", "BTS:SUBSCRIBE"]),
    st.text(max_size=20),
    JSON_VALUES,
)

FRAMES = st.one_of(
    # the documented messages, each field generated or missing (reference 7.2)
    st.builds(
        lambda event, data: {"event": event, **data},
        EVENTS,
        st.fixed_dictionaries(
            {},
            optional={
                "data": st.one_of(
                    st.fixed_dictionaries(
                        {},
                        optional={
                            "channel": st.one_of(channels(), JSON_VALUES),
                            "auth": st.one_of(st.text(max_size=40), JSON_VALUES),
                        },
                    ),
                    JSON_VALUES,
                ),
                "channel": st.one_of(channels(), JSON_VALUES),
            },
        ),
    ).map(json.dumps),
    JSON_VALUES.map(json.dumps),  # valid JSON of any other shape
    st.text(max_size=60),  # text that is mostly not JSON
)


async def ws_exchange(sim: SimServer, frame: str | bytes) -> dict[str, Any]:
    """Send ``frame`` on a fresh connection and return the answer; then check the
    connection is still open and answers a heartbeat."""
    async with aiohttp.ClientSession() as session, session.ws_connect(sim.ws_url) as ws:
        if isinstance(frame, bytes):
            await ws.send_bytes(frame)
        else:
            await ws.send_str(frame)
        answer = await ws.receive(timeout=10)
        assert answer.type is aiohttp.WSMsgType.TEXT, (frame[:200], answer)
        await ws.send_str('{"event": "bts:heartbeat"}')
        while True:  # data frames of a channel just subscribed may come first
            heartbeat = await ws.receive(timeout=10)
            assert heartbeat.type is aiohttp.WSMsgType.TEXT, (frame[:200], heartbeat)
            if json.loads(heartbeat.data)["event"] == "bts:heartbeat":
                break
        body = json.loads(answer.data)
        assert isinstance(body, dict), body
        return body


def assert_stream_answer(answer: dict[str, Any]) -> None:
    event = answer.get("event")
    assert event in {
        "bts:error",
        "bts:subscription_succeeded",
        "bts:unsubscription_succeeded",
        "bts:heartbeat",
    }, answer
    assert isinstance(answer.get("channel"), str), answer
    if event == "bts:error":
        assert isinstance(answer["data"]["message"], str), answer
        assert answer["data"]["code"] in (None, 4009), answer


WS_EXTREMES = [*EXTREMES, "\ud800", "private-my_orders_btcusd-1", 7, None, [], {"a": 1}]
"""What each frame field gets once each: the REST extremes, a lone surrogate (which JSON can
escape but no reply can echo), a plausible channel where another field goes, non-strings."""


def swept_frames() -> Iterator[str]:
    """Every field of every documented client message (reference 7.2), one at a time set to
    each extreme, with the others valid."""
    for value in WS_EXTREMES:
        yield json.dumps({"event": value, "data": {"channel": "live_trades_btcusd"}})
        yield json.dumps({"event": "bts:subscribe", "data": value})
        yield json.dumps({"event": "bts:subscribe", "data": {"channel": value}})
        yield json.dumps({"event": "bts:unsubscribe", "data": {"channel": value}})
        auth = {"channel": "private-my_orders_btcusd-1", "auth": value}
        yield json.dumps({"event": "bts:subscribe", "data": auth})
        yield json.dumps({"event": "bts:heartbeat", "data": value})
        if not isinstance(value, str):
            continue
        for family in FAMILIES:
            suffix = "btcusd-" + value if family.startswith("private-") else value
            channel = {"channel": family + suffix, "auth": "x" * 32}
            yield json.dumps({"event": "bts:subscribe", "data": channel})
    yield "[" * 100_000
    yield '{"event": "bts:subscribe", "data": ' + '{"a": ' * 50_000 + "1" + "}" * 50_001


async def test_every_frame_field_takes_every_extreme(sim: SimServer) -> None:
    for frame in swept_frames():
        assert_stream_answer(await ws_exchange(sim, frame))


@FUZZ
@fuzz_seed
@given(frame=FRAMES)
async def test_fuzz_websocket_frames(sim: SimServer, frame: str) -> None:
    assert_stream_answer(await ws_exchange(sim, frame))


@FUZZ
@fuzz_seed
@given(frame=st.binary(max_size=100))
async def test_fuzz_websocket_binary_frames(sim: SimServer, frame: bytes) -> None:
    answer = await ws_exchange(sim, frame)
    assert answer["event"] == "bts:error", answer
