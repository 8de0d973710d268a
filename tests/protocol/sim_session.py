"""A live simulator for the shape tests, and the scripted REST session they compare.

``rest_session`` drives a real SimServer on 127.0.0.1 through public reads, orders that rest,
fill (against each other: self-trades are allowed, reference 4.7) and get cancelled, and the
usual refusals, and returns every reply by name with its status, headers and raw text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx

from workstation.bitstamp.auth import Credentials
from workstation.bitstamp.request_auth import BitstampAuth
from workstation.bitstamp.secret import Secret
from workstation.sim.catalog import DEFAULT_MARKETS
from workstation.sim.exchange import SimExchange
from workstation.sim.server import SimServer

__all__ = [
    "API",
    "SHAPE_MARKETS",
    "Reply",
    "inside_spread",
    "reply",
    "rest_session",
    "signed_client",
    "small_sim",
]

#: Four markets with four decimal layouts (8/2, 8/8, 8/5, 5/5): enough for shapes, and a
#: fraction of the start-up time of the full catalog.
SHAPE_MARKETS = tuple(
    m for m in DEFAULT_MARKETS if m.symbol in ("btcusd", "ethbtc", "xrpeur", "usdcusd")
)
API = "/api/v2"


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Mapping[str, str]  # lowercase names
    text: str

    @property
    def body(self) -> Any:
        return json.loads(self.text)


def reply(response: httpx.Response) -> Reply:
    return Reply(response.status_code, dict(response.headers.items()), response.text)


def small_sim() -> SimServer:
    """A simulator with SHAPE_MARKETS only, seed 7 as the integration tests use, and no
    synthetic participants (``speed=0``): only the session's own orders move the book, so
    which order fills is certain."""
    return SimServer(SimExchange(SHAPE_MARKETS, seed=7, speed=0))


def signed_client(sim: SimServer, secret: str | None = None) -> httpx.AsyncClient:
    demo = sim.exchange.demo
    creds = Credentials(Secret(demo.api_key), Secret(secret or demo.secret), "sim", sim.host)
    return httpx.AsyncClient(base_url=sim.rest_url, auth=BitstampAuth(creds), timeout=10)


def inside_spread(bid: Decimal, ask: Decimal, tick: Decimal) -> Decimal:
    """A sell price one tick above the bid: the new best ask when the spread is wider than a
    tick (it is on the seeded books), else the ask itself."""
    price = bid + tick
    return price if price < ask else ask


async def rest_session(sim: SimServer) -> dict[str, Reply]:
    """Everything the scripted session got back, by name."""
    got: dict[str, Reply] = {}
    async with (
        httpx.AsyncClient(base_url=sim.rest_url, timeout=10) as public,
        signed_client(sim) as private,
        signed_client(sim, secret="0" * 64) as forged,
    ):

        async def post(name: str, path: str, **form: str) -> Any:
            got[name] = reply(await private.post(API + path, data=form or None))
            return got[name].body

        ticker = (await public.get(f"{API}/ticker/btcusd/")).json()
        tick = SHAPE_MARKETS[0].tick
        price = inside_spread(Decimal(ticker["bid"]), Decimal(ticker["ask"]), tick)
        below = (Decimal(ticker["bid"]) * Decimal("0.9")).quantize(tick)
        sell = await post("sell", "/sell/btcusd/", amount="0.01", price=f"{price}")
        await post("buy_market", "/buy/market/btcusd/", amount="0.004", client_order_id="t-1")
        await post("buy_market_2", "/buy/market/btcusd/", amount="0.02")
        buy = await post("buy", "/buy/btcusd/", amount="0.01", price=f"{below}")
        await post("buy_2", "/buy/btcusd/", amount="0.02", price=f"{below}", client_order_id="r")
        await post("open_orders_all", "/open_orders/all/")
        await post("open_orders_market", "/open_orders/btcusd/")
        await post("status_open", "/order_status/", id=buy["id"])
        await post("status_done", "/order_status/", id=sell["id"])
        await post("status_taker", "/order_status/", client_order_id="t-1")
        await post("cancel", "/cancel_order/", id=buy["id"])
        await post("cancel_again", "/cancel_order/", id=buy["id"])
        await post("cancel_all", "/cancel_all_orders/")
        await post("balances", "/account_balances/")
        await post("balance_btc", "/account_balances/btc/")
        await post("fees", "/fees/trading/")
        await post("fees_market", "/fees/trading/btcusd/")
        await post("user_transactions", "/user_transactions/")
        await post("too_large", "/user_transactions/", limit="5000")
        await post("websockets_token", "/websockets_token/")
        await post("reject_band", "/sell/btcusd/", amount="0.01", price="1.00")
        await post("reject_places", "/buy/btcusd/", amount="0.000000001", price=f"{below}")
        got["forged"] = reply(await forged.post(f"{API}/account_balances/"))
        for name, path in {
            "ticker": "/ticker/btcusd/",
            "tickers": "/ticker/",
            "book": "/order_book/btcusd/",
            "book_0": "/order_book/btcusd/?group=0",
            "book_2": "/order_book/btcusd/?group=2",
            "transactions": "/transactions/btcusd/",
            "ohlc": "/ohlc/btcusd/?step=60&limit=3",
            "markets": "/markets/",
            "pairs": "/trading-pairs-info/",
            "unknown_market": "/ticker/foobar/",
            "unknown_path": "/ticker_hour/foobar/",
        }.items():
            got[name] = reply(await public.get(API + path))
    return got
