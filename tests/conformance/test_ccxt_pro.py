"""``ccxt.pro.bitstamp`` against the simulator's WebSocket and REST (reference 9.2).

Only the URLs change. Trades and book changes are made by the tests themselves through the
REST side (ccxt.pro's class inherits the REST methods), so nothing depends on the synthetic
participants; the order book is also followed on a live market, where their flow interleaves
with ours. Every wait is bounded by ``WATCH_TIMEOUT_S``.
"""

from __future__ import annotations

import asyncio
import time
from decimal import ROUND_DOWN, Decimal
from typing import Any

import pytest

from workstation.domain.common import Side
from workstation.sim.orderform import OrderForm
from workstation.sim.server import SimServer

from .conftest import WATCH_TIMEOUT_S, dec, stop_the_market, top_of_book, wait_for_condition

D = Decimal
DRIVE_PERIOD_S = 0.12
"""A little over the simulator's 100 ms book-frame period: one diff per change."""


def price_off_touch(sim: SimServer, symbol: str, side: str, fraction: str) -> str:
    bid, ask = top_of_book(sim, symbol)
    tick = sim.exchange.markets[symbol].tick
    ref = bid * (1 - D(fraction)) if side == "buy" else ask * (1 + D(fraction))
    return str(ref.quantize(tick, ROUND_DOWN))


async def until_subscribed(sim: SimServer, channel: str) -> None:
    await wait_for_condition(lambda: sim.hub.has_subscribers(channel), what=channel)


def cached(cache: Any) -> list[dict]:
    """What ccxt.pro has received so far. A watch call returns at the next message only, so
    frames that arrive between calls are read from its caches (``trades``, ``orders``,
    ``myTrades``, ``orderbooks``), which its reader task fills as they come in."""
    return list(cache) if cache is not None else []


# -- public channels -------------------------------------------------------------------------


async def test_watch_trades_delivers_our_fills(sim: SimServer, pro: Any) -> None:
    await pro.load_markets()
    first = asyncio.ensure_future(pro.watch_trades("BTC/USD"))
    await until_subscribed(sim, "live_trades_btcusd")
    placed = await pro.create_order("BTC/USD", "market", "buy", "0.03")
    order = await pro.fetch_order(placed["id"], "BTC/USD")
    fills = {f["id"]: f for f in order["trades"]}
    assert sum(dec(f["amount"]) for f in fills.values()) == D("0.03")

    assert (await asyncio.wait_for(first, WATCH_TIMEOUT_S))[0]["id"] in fills
    await wait_for_condition(
        lambda: fills.keys() <= {t["id"] for t in cached(pro.trades.get("BTC/USD"))},
        what="our fills on live_trades_btcusd",
    )
    streamed = {t["id"]: t for t in cached(pro.trades["BTC/USD"])}
    for trade_id, fill in fills.items():
        trade = streamed[trade_id]
        assert (trade["symbol"], trade["side"]) == ("BTC/USD", "buy")
        assert dec(trade["price"]) == dec(fill["price"])
        assert dec(trade["amount"]) == dec(fill["amount"])
        assert trade["info"]["buy_order_id"] == int(placed["id"])
        assert trade["timestamp"] == int(trade["info"]["microtimestamp"]) // 1000


async def test_live_trade_microtimestamps_are_whole_milliseconds(sim: SimServer, pro: Any) -> None:
    await pro.load_markets()
    watching = asyncio.ensure_future(pro.watch_trades("BTC/USD"))
    await until_subscribed(sim, "live_trades_btcusd")
    await pro.create_order("BTC/USD", "market", "sell", "0.01")
    trades = await asyncio.wait_for(watching, WATCH_TIMEOUT_S)
    assert all(t["info"]["microtimestamp"].endswith("000") for t in trades)


@pytest.mark.parametrize("market_speed", [0.0, 1.0], ids=["still", "live"])
async def test_watch_order_book_merges_diffs_into_the_exact_book(
    sim: SimServer, pro: Any, market_speed: float
) -> None:
    """ccxt.pro buffers 6 diffs before it fetches the REST snapshot (reference 7.6), and the
    simulator sends a diff only when the book changed: we change it every ~120 ms until the
    watcher returns. Then the market is stopped, one marker order is placed, and once ccxt's
    book shows the marker it must equal the simulator's book level for level."""
    await pro.load_markets()
    watching = asyncio.ensure_future(pro.watch_order_book("BTC/USD"))
    await until_subscribed(sim, "diff_order_book_btcusd")
    resting: list[str] = []
    deadline = time.monotonic() + WATCH_TIMEOUT_S
    step = 0
    while not watching.done():
        if time.monotonic() > deadline:
            watching.cancel()
            raise AssertionError(f"watch_order_book did not return after {step} book changes")
        side = "buy" if step % 2 else "sell"
        price = price_off_touch(sim, "btcusd", side, str(D("0.02") + D(step % 50) / 10_000))
        resting.append((await pro.create_order("BTC/USD", "limit", side, "0.001", price))["id"])
        if len(resting) > 4:
            await pro.cancel_order(resting.pop(0), "BTC/USD")
        step += 1
        await asyncio.wait({watching}, timeout=DRIVE_PERIOD_S)
    book = watching.result()
    assert book["symbol"] == "BTC/USD"
    assert book["bids"][0][0] < book["asks"][0][0]
    bid, ask = top_of_book(sim, "btcusd")
    assert abs(dec(book["bids"][0][0]) - bid) <= bid * D("0.005")
    assert abs(dec(book["asks"][0][0]) - ask) <= ask * D("0.005")

    stop_the_market(sim)
    marker = price_off_touch(sim, "btcusd", "buy", "0.015")
    await pro.create_order("BTC/USD", "limit", "buy", "0.00321", marker)

    book = pro.orderbooks["BTC/USD"]
    await wait_for_condition(
        lambda: any(dec(p) == D(marker) for p, _ in book["bids"]), what="the marker in the book"
    )
    snapshot = sim.exchange.book("btcusd")
    assert [(dec(p), dec(a)) for p, a in book["bids"]] == list(snapshot.bids)
    assert [(dec(p), dec(a)) for p, a in book["asks"]] == list(snapshot.asks)
    # The nonce is the last frame's microtimestamp; ccxt's timestamp is its whole seconds.
    assert book["nonce"] // 1_000_000 * 1000 == book["timestamp"]


async def test_watch_order_book_drops_a_level_gone_right_after_the_snapshot(
    sim: SimServer, pro: Any
) -> None:
    """Deterministic version of a race the live market hits now and then: an order placed
    just before ccxt.pro's REST snapshot and cancelled just after it, within one frame period.
    """
    await pro.load_markets()
    bid, ask = top_of_book(sim, "btcusd")
    flicker = str((bid * D("0.97")).quantize(D("0.01")))
    snapshot_book = sim.exchange.book
    flickered: list[bool] = []

    def book_with_a_flicker(symbol: str, **kwargs: Any) -> Any:
        if flickered or symbol != "btcusd":
            return snapshot_book(symbol, **kwargs)
        flickered.append(True)
        form = OrderForm("limit", Side.BUY, "btcusd", {"amount": "0.001", "price": flicker})
        ack = sim.exchange.place("demo", form)
        try:
            return snapshot_book(symbol, **kwargs)
        finally:
            sim.exchange.cancel("demo", order_id=str(ack.order_id), client_order_id=None)

    watching = asyncio.ensure_future(pro.watch_order_book("BTC/USD"))
    await until_subscribed(sim, "diff_order_book_btcusd")
    sim.exchange.book = book_with_a_flicker  # the next snapshot is ccxt.pro's
    step = 0
    deadline = time.monotonic() + WATCH_TIMEOUT_S
    while not watching.done():
        assert time.monotonic() < deadline, "watch_order_book did not return"
        price = str((ask * (D("1.02") + D(step) / 10_000)).quantize(D("0.01")))
        await pro.create_order("BTC/USD", "limit", "sell", "0.001", price)
        step += 1
        await asyncio.wait({watching}, timeout=DRIVE_PERIOD_S)
    assert flickered, "ccxt.pro's snapshot did not go through the hook"
    marker = str((bid * D("0.98")).quantize(D("0.01")))
    await pro.create_order("BTC/USD", "limit", "buy", "0.00321", marker)
    book = pro.orderbooks["BTC/USD"]
    await wait_for_condition(
        lambda: any(dec(p) == D(marker) for p, _ in book["bids"]), what="the marker in the book"
    )
    assert D(flicker) not in {dec(p) for p, _ in book["bids"]}
    assert [(dec(p), dec(a)) for p, a in book["bids"]] == list(snapshot_book("btcusd").bids)


# -- private channels ------------------------------------------------------------------------


def my_channel(sim: SimServer, family: str) -> str:
    return f"private-{family}_btcusd-{sim.exchange.demo.user_id}"


def latest(pro: Any, order_id: str) -> dict | None:
    """ccxt.pro's current view of one order (its cache keeps the newest state per id)."""
    return next((o for o in cached(pro.orders) if o["id"] == order_id), None)


def deleted(pro: Any, order_id: str) -> bool:
    order = latest(pro, order_id)
    return order is not None and order["info"]["event"] == "order_deleted"


async def test_watch_orders_follows_a_resting_order_until_cancelled(
    sim: SimServer, pro: Any
) -> None:
    await pro.load_markets()
    first = asyncio.ensure_future(pro.watch_orders("BTC/USD"))
    await until_subscribed(sim, my_channel(sim, "my_orders"))
    price = price_off_touch(sim, "btcusd", "buy", "0.1")
    placed = await pro.create_order(
        "BTC/USD", "limit", "buy", "0.002", price, {"client_order_id": "pro-1"}
    )
    [created] = await asyncio.wait_for(first, WATCH_TIMEOUT_S)
    assert created["info"]["event"] == "order_created"
    # ccxt.pro leaves status unset until an order is filled or deleted (parse_ws_order).
    assert (created["id"], created["status"], created["side"]) == (placed["id"], None, "buy")
    assert (dec(created["filled"]), dec(created["remaining"])) == (0, D("0.002"))
    assert (created["symbol"], created["type"], created["clientOrderId"]) == (
        "BTC/USD",
        "limit",
        "pro-1",
    )
    assert (dec(created["price"]), dec(created["amount"])) == (D(price), D("0.002"))

    await pro.cancel_order(placed["id"], "BTC/USD")
    await wait_for_condition(lambda: deleted(pro, placed["id"]), what="order_deleted")
    final = latest(pro, placed["id"])
    assert final is not None
    assert (final["status"], dec(final["filled"]), final["clientOrderId"]) == (
        "canceled",
        0,
        "pro-1",
    )


async def _self_trade(sim: SimServer, pro: Any, *takes: str) -> tuple[dict, list[dict]]:
    """Rest a 0.004 sell inside the spread, then take it with our own market buys of
    ``takes`` (Bitstamp allows self-trades). Returns ccxt.pro's final view of the maker and
    of each taker, once every one of them was deleted."""
    await pro.load_markets()
    first = asyncio.ensure_future(pro.watch_orders("BTC/USD"))
    await until_subscribed(sim, my_channel(sim, "my_orders"))
    bid, ask = top_of_book(sim, "btcusd")
    inside = str(ask - sim.exchange.markets["btcusd"].tick)
    assert D(inside) > bid
    maker = await pro.create_order("BTC/USD", "limit", "sell", "0.004", inside)
    takers = [await pro.create_order("BTC/USD", "market", "buy", take) for take in takes]
    await asyncio.wait_for(first, WATCH_TIMEOUT_S)
    ids = [maker["id"], *(t["id"] for t in takers)]
    await wait_for_condition(lambda: all(deleted(pro, i) for i in ids), what="all deleted")
    final = [latest(pro, i) for i in ids]
    assert None not in final
    return final[0], final[1:]  # type: ignore[return-value]


async def test_watch_orders_reports_a_maker_order_filled_at_once_closed(
    sim: SimServer, pro: Any
) -> None:
    maker, _ = await _self_trade(sim, pro, "0.004")
    assert (maker["status"], maker["side"], maker["type"]) == ("closed", "sell", "limit")
    assert (dec(maker["filled"]), dec(maker["remaining"])) == (D("0.004"), 0)


async def test_watch_orders_reports_a_filled_taker_order_closed(sim: SimServer, pro: Any) -> None:
    _, [taker] = await _self_trade(sim, pro, "0.004")
    assert (taker["status"], taker["side"], taker["type"]) == ("closed", "buy", "market")
    assert dec(taker["filled"]) == D("0.004")


async def test_watch_orders_reports_a_maker_order_filled_in_parts_closed(
    sim: SimServer, pro: Any
) -> None:
    maker, _ = await _self_trade(sim, pro, "0.0015", "0.0025")
    assert (maker["status"], dec(maker["filled"]), dec(maker["remaining"])) == (
        "closed",
        D("0.004"),
        0,
    )


async def test_watch_my_trades_delivers_our_fills_with_fees(sim: SimServer, pro: Any) -> None:
    await pro.load_markets()
    first = asyncio.ensure_future(pro.watch_my_trades("BTC/USD"))
    await until_subscribed(sim, my_channel(sim, "my_trades"))
    placed = await pro.create_order("BTC/USD", "market", "sell", "0.03")
    order = await pro.fetch_order(placed["id"], "BTC/USD")
    fills = {f["id"]: f for f in order["trades"]}
    assert (await asyncio.wait_for(first, WATCH_TIMEOUT_S))[0]["id"] in fills
    await wait_for_condition(
        lambda: fills.keys() <= {t["id"] for t in cached(pro.myTrades)},
        what="our fills on private-my_trades",
    )
    for trade in cached(pro.myTrades):
        fill = fills[trade["id"]]
        assert (trade["order"], trade["side"], trade["symbol"]) == (placed["id"], "sell", "BTC/USD")
        assert dec(trade["price"]) == dec(fill["price"])
        assert dec(trade["amount"]) == dec(fill["amount"])
        assert trade["fee"]["currency"] == "USD"
        assert dec(trade["fee"]["cost"]) == dec(fill["fee"]["cost"])
