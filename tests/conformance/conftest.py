"""ccxt, a Bitstamp client nobody here wrote, pointed at a simulator on 127.0.0.1.

Only the base URLs change (reference 9.1 for REST, 9.2 for ccxt.pro's WebSocket); keys are
the simulator's demo key and secret. Every HTTP request ccxt makes goes through a guard that
fails the test before anything leaves for a host other than the simulator, and ccxt.pro's
WebSocket clients are checked to be loopback at teardown: ccxt loads nothing remote.

The sync ``ccxt.bitstamp`` blocks, so its calls run in a worker thread (``asyncio.to_thread``)
while the simulator keeps serving on the test's event loop. :class:`Ccxt` gives both flavours
the same awaitable surface, so one scenario runs against either.
"""

from __future__ import annotations

import asyncio
import decimal
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from decimal import Decimal
from typing import Any

import ccxt
import ccxt.async_support as ccxt_async
import ccxt.pro as ccxt_pro
import pytest

from workstation.sim.exchange import SimExchange
from workstation.sim.server import SimServer

CALL_TIMEOUT_S = 30.0
"""Upper bound on one ccxt call (ccxt's own HTTP timeout is set to 10 s below)."""
WATCH_TIMEOUT_S = 20.0
"""Upper bound on waiting for a WebSocket result (several 100 ms book frames, a 2-core box)."""
SEED = 11
HISTORY_S = 900
"""Boot history: enough for non-empty trades and candles, far cheaper than the default day."""


@pytest.fixture(autouse=True)
def ccxt_decimal_context() -> Iterator[None]:
    """ccxt's ``decimal_to_precision`` sets the thread's current decimal context to round
    half up and trap underflow, and leaves it so (``ccxt/base/decimal_to_precision.py``); its
    worker threads and tasks share the test's context object. Each ccxt test gets a copy of
    the context, and the test's own is put back after it."""
    kept = decimal.getcontext().copy()
    decimal.setcontext(kept.copy())
    yield
    decimal.setcontext(kept)


@pytest.fixture
def market_speed() -> float:
    """The synthetic participants' activity: 0 is a still market, where every trade and book
    change is the test's own. A module that wants a live market overrides this fixture."""
    return 0.0


@pytest.fixture
async def sim(market_speed: float) -> AsyncIterator[SimServer]:
    async with SimServer(SimExchange(seed=SEED, speed=market_speed, history_s=HISTORY_S)) as server:
        yield server


def stop_the_market(sim: SimServer) -> None:
    """Stop the synthetic participants (speed 0): every later book change is the test's."""
    sim.exchange.activity.speed = 0.0


def dec(value: object) -> Decimal:
    """A ccxt number (float) or string as the Decimal it prints as, for exact comparisons."""
    assert value is not None
    return Decimal(str(value))


def top_of_book(sim: SimServer, symbol: str) -> tuple[Decimal, Decimal]:
    """The simulator's own best bid and best ask right now."""
    book = sim.exchange.book(symbol)
    return book.bids[0][0], book.asks[0][0]


def options(sim: SimServer, **overrides: Any) -> dict[str, Any]:
    """ccxt constructor options: the demo account, no client-side throttle, 10 s timeout."""
    demo = sim.exchange.demo
    return {
        "apiKey": demo.api_key,
        "secret": demo.secret,
        "enableRateLimit": False,
        "timeout": 10_000,
        **overrides,
    }


class LoopbackGuard:
    """Replaces an exchange's ``fetch`` so only the simulator's URLs can be requested.

    ccxt routes every REST call through ``self.fetch(url, method, headers, body)``; the
    instance attribute shadows the class method. A foreign URL raises before any I/O.
    """

    def __init__(self, exchange: Any, prefix: str) -> None:
        self.prefix = prefix
        self.urls: list[str] = []
        original = exchange.fetch
        if asyncio.iscoroutinefunction(original):

            async def fetch_async(
                url: str, method: str = "GET", headers: Any = None, body: Any = None
            ) -> Any:
                self._check(url)
                return await original(url, method, headers, body)

            exchange.fetch = fetch_async
        else:

            def fetch_sync(
                url: str, method: str = "GET", headers: Any = None, body: Any = None
            ) -> Any:
                self._check(url)
                return original(url, method, headers, body)

            exchange.fetch = fetch_sync

    def _check(self, url: str) -> None:
        self.urls.append(url)
        if not url.startswith(self.prefix):
            raise AssertionError(f"ccxt tried to reach {url!r}, outside the simulator")


def point_at(exchange: Any, sim: SimServer) -> LoopbackGuard:
    """Reference 9.1/9.2: ccxt appends ``/v2/<path>`` to these roots itself."""
    api = f"{sim.rest_url}/api"
    exchange.urls["api"]["public"] = api
    exchange.urls["api"]["private"] = api
    if "ws" in exchange.urls["api"]:
        exchange.urls["api"]["ws"] = f"ws://{sim.host}:{sim.port}"  # plain ws:// is accepted
    return LoopbackGuard(exchange, f"{api}/v2/")


class Ccxt:
    """A ccxt exchange (sync or async) behind one awaitable surface.

    ``await client.fetch_ticker("BTC/USD")`` calls the method of the same name: directly for
    ``ccxt.async_support``, in a worker thread for the blocking ``ccxt`` class. Attributes
    that are not methods are read from ``client.exchange``.
    """

    def __init__(self, exchange: Any, sim: SimServer) -> None:
        self.exchange = exchange
        self.threaded = not asyncio.iscoroutinefunction(exchange.fetch)
        self.guard = point_at(exchange, sim)

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        method = getattr(self.exchange, name)
        if not callable(method):
            raise AttributeError(name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            if self.threaded:
                work = asyncio.to_thread(method, *args, **kwargs)
            else:
                work = method(*args, **kwargs)
            return await asyncio.wait_for(work, CALL_TIMEOUT_S)

        return call

    async def aclose(self) -> None:
        if self.threaded:
            await asyncio.to_thread(self.exchange.close)
        else:
            await self.exchange.close()


class ClientPool:
    """Builds ccxt clients of one class on the simulator and closes every one of them."""

    def __init__(self, sim: SimServer, cls: type) -> None:
        self._sim = sim
        self._cls = cls
        self._made: list[Ccxt] = []

    def __call__(self, **overrides: Any) -> Ccxt:
        client = Ccxt(self._cls(options(self._sim, **overrides)), self._sim)
        self._made.append(client)
        return client

    async def aclose(self) -> None:
        for client in self._made:
            await client.aclose()


@pytest.fixture
async def make_async_client(sim: SimServer) -> AsyncIterator[ClientPool]:
    """``make_async_client(**options)`` builds ``ccxt.async_support.bitstamp`` clients."""
    pool = ClientPool(sim, ccxt_async.bitstamp)
    yield pool
    await pool.aclose()


@pytest.fixture
async def make_sync_client(sim: SimServer) -> AsyncIterator[ClientPool]:
    """``make_sync_client(**options)`` builds blocking ``ccxt.bitstamp`` clients."""
    pool = ClientPool(sim, ccxt.bitstamp)
    yield pool
    await pool.aclose()


@pytest.fixture
def client(make_client: ClientPool) -> Ccxt:
    """A ccxt REST client on the simulator; each test module says which class via
    ``make_client`` (``make_async_client`` or ``make_sync_client``)."""
    return make_client()


@pytest.fixture
async def pro(sim: SimServer) -> AsyncIterator[Any]:
    """A ``ccxt.pro.bitstamp`` on the simulator's REST and WebSocket; closed at teardown."""
    exchange = ccxt_pro.bitstamp(options(sim))
    point_at(exchange, sim)
    try:
        yield exchange
    finally:
        # Keys without a scheme (ccxt's "authenticationFlights") only hold futures, never dial.
        ws_urls = [url for url in exchange.clients or {} if "://" in url]
        await exchange.close()
    assert all(url.startswith(f"ws://{sim.host}:{sim.port}") for url in ws_urls), ws_urls


async def wait_for_condition(
    predicate: Callable[[], bool], timeout_s: float = WATCH_TIMEOUT_S, what: str = "condition"
) -> None:
    """Poll ``predicate`` every 20 ms until true; fail the test after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        await asyncio.sleep(0.02)
