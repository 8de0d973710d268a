"""``ccxt.async_support.bitstamp`` against the simulator, only the base URL changed (ref. 9.1).

Each scenario talks to a fresh simulator through the ``client`` fixture. The same scenarios
run with the blocking ``ccxt.bitstamp`` in ``test_ccxt_sync.py``, which imports them and
supplies its own ``make_client``. The market is still (``speed=0``): every trade is one these
tests make, so prices, amounts, balances and fees are compared exactly, ccxt's parsed numbers
against the simulator's own state and against the raw strings ccxt kept in ``info``.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

import ccxt
import pytest

from workstation.sim.server import SimServer

from .conftest import Ccxt, ClientPool, dec, top_of_book

D = Decimal
EXPECTED_MARKETS = {
    # symbol: (id, amount step, price step, minimum order value in the quote currency)
    "BTC/USD": ("btcusd", D("1e-8"), D("0.01"), D("20")),
    "ETH/USD": ("ethusd", D("1e-8"), D("0.01"), D("20")),
    "ETH/BTC": ("ethbtc", D("1e-8"), D("1e-8"), D("0.0002")),
    "XRP/USD": ("xrpusd", D("1e-8"), D("1e-5"), D("20")),
}


@pytest.fixture
def make_client(make_async_client: ClientPool) -> ClientPool:
    """What ``client`` is built with; ``test_ccxt_sync.py`` supplies the blocking class."""
    return make_async_client


def away(sim: SimServer, symbol: str, side: str, fraction: str = "0.10") -> str:
    """A limit price ``fraction`` behind the touch (inside the 20 % band, never filled)."""
    bid, ask = top_of_book(sim, symbol)
    tick = sim.exchange.markets[symbol].tick
    if side == "buy":
        return str((bid * (1 - D(fraction))).quantize(tick, ROUND_DOWN))
    return str((ask * (1 + D(fraction))).quantize(tick, ROUND_DOWN))


async def market_order(client: Ccxt, side: str, amount: str, symbol: str = "BTC/USD") -> dict:
    """Place a market order and return ccxt's ``fetch_order`` view of it (with its fills)."""
    placed = await client.create_order(symbol, "market", side, amount)
    return await client.fetch_order(placed["id"], symbol)


async def test_the_guard_refuses_any_host_but_the_simulator(client: Ccxt) -> None:
    # What keeps every other test off the internet: a real Bitstamp URL never gets dialled.
    await client.load_markets()
    client.exchange.urls["api"]["public"] = "https://www.bitstamp.net/api"
    with pytest.raises(AssertionError, match="outside the simulator"):
        await client.fetch_ticker("BTC/USD")
    assert client.guard.urls[-1] == "https://www.bitstamp.net/api/v2/ticker/btcusd/"


# -- public ---------------------------------------------------------------------------------


async def test_load_markets_lists_the_simulator_markets_with_precision_and_minimums(
    sim: SimServer, client: Ccxt
) -> None:
    markets = await client.load_markets()
    assert set(markets) == {m.name for m in sim.exchange.markets.values()}
    for symbol, (market_id, amount_step, price_step, min_cost) in EXPECTED_MARKETS.items():
        market = markets[symbol]
        base, quote = symbol.split("/")
        assert (market["id"], market["base"], market["quote"]) == (market_id, base, quote)
        assert (market["type"], market["spot"], market["active"]) == ("spot", True, True)
        assert dec(market["precision"]["amount"]) == amount_step
        assert dec(market["precision"]["price"]) == price_step
        assert dec(market["limits"]["cost"]["min"]) == min_cost
    # ccxt derives currencies from the markets' descriptions ("Bitcoin / U.S. dollar").
    assert {"BTC", "ETH", "USD", "XRP"} <= set(client.exchange.currencies)
    assert client.guard.urls.count(f"{sim.rest_url}/api/v2/markets/") >= 1


async def test_fetch_ticker_matches_the_book_and_the_last_trade(
    sim: SimServer, client: Ccxt
) -> None:
    order = await market_order(client, "buy", "0.01")
    last_fill = order["trades"][-1]
    ticker = await client.fetch_ticker("BTC/USD")
    bid, ask = top_of_book(sim, "btcusd")
    assert ticker["symbol"] == "BTC/USD"
    assert (dec(ticker["bid"]), dec(ticker["ask"])) == (bid, ask)
    assert dec(ticker["last"]) == dec(last_fill["price"]) == D(ticker["info"]["last"])
    assert dec(ticker["high"]) >= dec(ticker["last"]) >= dec(ticker["low"])
    assert dec(ticker["baseVolume"]) >= D("0.01")
    assert ticker["timestamp"] == int(ticker["info"]["timestamp"]) * 1000


async def test_fetch_tickers_covers_every_market(sim: SimServer, client: Ccxt) -> None:
    tickers = await client.fetch_tickers()
    assert set(tickers) == {m.name for m in sim.exchange.markets.values()}
    for symbol, market in sim.exchange.markets.items():
        ticker = tickers[market.name]
        assert (dec(ticker["bid"]), dec(ticker["ask"])) == top_of_book(sim, symbol)


async def test_fetch_order_book_is_the_full_book(sim: SimServer, client: Ccxt) -> None:
    mine = away(sim, "btcusd", "buy", "0.05")
    await client.create_order("BTC/USD", "limit", "buy", "0.00123", mine)
    book = await client.fetch_order_book("BTC/USD")
    snapshot = sim.exchange.book("btcusd")
    assert [(dec(p), dec(a)) for p, a in book["bids"]] == list(snapshot.bids)
    assert [(dec(p), dec(a)) for p, a in book["asks"]] == list(snapshot.asks)
    assert book["bids"][0][0] < book["asks"][0][0]
    assert [dec(a) for p, a in book["bids"] if dec(p) == D(mine)] == [D("0.00123")]
    # ccxt needs the microtimestamp (its book sequence); the timestamp is the same instant.
    assert book["timestamp"] == book["nonce"] // 1000


async def test_fetch_trades_contains_our_fills(client: Ccxt) -> None:
    order = await market_order(client, "sell", "0.03")
    trades = {t["id"]: t for t in await client.fetch_trades("BTC/USD")}
    assert order["trades"]
    for fill in order["trades"]:
        public = trades[fill["id"]]
        assert public["symbol"] == "BTC/USD"
        assert public["side"] == "sell"  # the taker's side
        assert dec(public["price"]) == dec(fill["price"])
        assert dec(public["amount"]) == dec(fill["amount"])
    assert sum(dec(trades[f["id"]]["amount"]) for f in order["trades"]) == D("0.03")


async def test_fetch_ohlcv_candle_holds_our_trade(client: Ccxt) -> None:
    order = await market_order(client, "buy", "0.02")
    candles = await client.fetch_ohlcv("BTC/USD", "1m", limit=5)
    assert len(candles) == 5
    starts = [c[0] for c in candles]
    assert all(b - a == 60_000 for a, b in zip(starts, starts[1:], strict=False))
    fill_ms = order["trades"][0]["timestamp"]
    [candle] = [c for c in candles if c[0] <= fill_ms < c[0] + 60_000]
    _, open_, high, low, close, volume = candle
    prices = [dec(f["price"]) for f in order["trades"]]
    assert dec(low) <= min(prices) <= max(prices) <= dec(high)
    assert dec(low) <= dec(open_) <= dec(high)
    assert dec(low) <= dec(close) <= dec(high)
    assert dec(volume) >= D("0.02")


# -- private reads ------------------------------------------------------------------------------


async def test_fetch_balance_shows_the_demo_funds_and_reservations(
    sim: SimServer, client: Ccxt
) -> None:
    balance = await client.fetch_balance()
    expected = {"USD": "100000", "EUR": "100000", "BTC": "5", "ETH": "50", "XRP": "50000"}
    for currency, amount in expected.items():
        assert dec(balance[currency]["total"]) == D(amount)
        assert dec(balance[currency]["free"]) == D(amount)
        assert dec(balance[currency]["used"]) == 0
    price = away(sim, "btcusd", "buy")
    await client.create_order("BTC/USD", "limit", "buy", "0.01", price)
    usd = (await client.fetch_balance())["USD"]
    held = dec(usd["used"])
    # The order holds its value plus the taker fee (0.4 %), rounded up to cents or better.
    assert D("0.01") * D(price) < held <= D("0.01") * D(price) * D("1.004") + D("0.01")
    assert dec(usd["total"]) == D("100000")
    assert dec(usd["free"]) + held == D("100000")


async def test_fetch_trading_fee_is_the_account_fee_in_percent(
    sim: SimServer, client: Ccxt
) -> None:
    fee = await client.fetch_trading_fee("BTC/USD")
    assert fee["symbol"] == "BTC/USD"
    # Bitstamp states fees in percent and ccxt passes them through unchanged.
    assert dec(fee["maker"]) == sim.exchange.demo.maker_percent == D("0.30")
    assert dec(fee["taker"]) == sim.exchange.demo.taker_percent == D("0.40")


# -- orders -------------------------------------------------------------------------------------


async def test_limit_order_with_client_order_id_lives_and_is_cancelled(
    sim: SimServer, client: Ccxt
) -> None:
    price = away(sim, "btcusd", "buy")
    placed = await client.create_order(
        "BTC/USD", "limit", "buy", "0.01", price, {"client_order_id": "conf-1"}
    )
    assert placed["id"].isdigit()
    assert (placed["symbol"], placed["type"], placed["side"]) == ("BTC/USD", "limit", "buy")
    assert placed["clientOrderId"] == "conf-1"
    assert (dec(placed["price"]), dec(placed["amount"])) == (D(price), D("0.01"))

    [listed] = await client.fetch_open_orders("BTC/USD")
    assert (listed["id"], listed["status"], listed["clientOrderId"]) == (
        placed["id"],
        "open",
        "conf-1",
    )
    assert (dec(listed["price"]), dec(listed["amount"]), listed["side"]) == (
        D(price),
        D("0.01"),
        "buy",
    )
    assert [o["id"] for o in await client.fetch_open_orders()] == [placed["id"]]

    status = await client.fetch_order(placed["id"], "BTC/USD")
    assert (status["id"], status["status"], status["side"]) == (placed["id"], "open", "buy")
    assert status["clientOrderId"] == "conf-1"
    assert D(status["info"]["amount_remaining"]) == D("0.01")
    by_client_id = await client.fetch_order(None, "BTC/USD", {"client_order_id": "conf-1"})
    assert by_client_id["id"] == placed["id"]

    cancelled = await client.cancel_order(placed["id"], "BTC/USD")
    assert (cancelled["id"], cancelled["status"], cancelled["side"]) == (
        placed["id"],
        "canceled",
        "buy",
    )
    assert (dec(cancelled["price"]), dec(cancelled["amount"])) == (D(price), D("0.01"))
    assert (await client.fetch_order(placed["id"], "BTC/USD"))["status"] == "canceled"
    assert await client.fetch_open_orders() == []
    assert dec((await client.fetch_balance())["USD"]["used"]) == 0
    with pytest.raises(ccxt.ExchangeError, match="Order not found"):
        await client.cancel_order(placed["id"], "BTC/USD")


async def test_edit_order_replaces_it_through_replace_order(sim: SimServer, client: Ccxt) -> None:
    first = away(sim, "btcusd", "buy")
    second = away(sim, "btcusd", "buy", "0.11")
    original = await client.create_order("BTC/USD", "limit", "buy", "0.01", first)
    edited = await client.edit_order(original["id"], "BTC/USD", "limit", "buy", "0.02", second)
    assert edited["id"] != original["id"]
    assert (edited["status"], edited["side"], edited["symbol"]) == ("open", "buy", "BTC/USD")
    assert (dec(edited["price"]), dec(edited["amount"])) == (D(second), D("0.02"))
    assert edited["info"]["orig_order_id"] == int(original["id"])
    [listed] = await client.fetch_open_orders("BTC/USD")
    assert (listed["id"], dec(listed["price"]), dec(listed["amount"])) == (
        edited["id"],
        D(second),
        D("0.02"),
    )
    assert (await client.fetch_order(original["id"], "BTC/USD"))["status"] == "canceled"
    assert f"{sim.rest_url}/api/v2/replace_order/" in client.guard.urls


async def test_market_order_fills_and_reports_its_trades(client: Ccxt) -> None:
    placed = await client.create_order("BTC/USD", "market", "buy", "0.05")
    assert (placed["type"], placed["side"], dec(placed["amount"])) == ("market", "buy", D("0.05"))
    order = await client.fetch_order(placed["id"], "BTC/USD")
    assert order["status"] == "closed"
    assert (dec(order["filled"]), dec(order["remaining"])) == (D("0.05"), 0)
    fills = order["trades"]
    assert sum(dec(f["amount"]) for f in fills) == D("0.05")
    cost = sum(D(f["info"]["usd"]) for f in fills)
    fees = sum(D(f["info"]["fee"]) for f in fills)
    assert {f["fee"]["currency"] for f in fills} == {"USD"}
    assert dec(order["fee"]["cost"]) == fees
    # Taker fee 0.4 %, each fill's fee rounded to the USD booking precision (5 places).
    assert abs(fees - cost * D("0.004")) <= D("0.00001") * len(fills)
    # The placement reply's price is the average fill price at the market's tick.
    assert dec(placed["price"]) == (cost / D("0.05")).quantize(D("0.01"))
    balance = await client.fetch_balance()
    assert dec(balance["BTC"]["total"]) == D("5.05")
    assert dec(balance["USD"]["total"]) == D("100000") - cost - fees


async def test_cancel_all_orders_per_market_then_everywhere(sim: SimServer, client: Ccxt) -> None:
    btc = [
        await client.create_order("BTC/USD", "limit", "buy", "0.001", away(sim, "btcusd", "buy")),
        await client.create_order("BTC/USD", "limit", "sell", "0.001", away(sim, "btcusd", "sell")),
    ]
    eth = await client.create_order("ETH/USD", "limit", "buy", "0.01", away(sim, "ethusd", "buy"))
    cancelled = await client.cancel_all_orders("BTC/USD")
    assert sorted(o["id"] for o in cancelled) == sorted(o["id"] for o in btc)
    assert {(o["symbol"], o["status"]) for o in cancelled} == {("BTC/USD", "canceled")}
    assert [o["id"] for o in await client.fetch_open_orders()] == [eth["id"]]
    rest = await client.cancel_all_orders()
    assert [(o["id"], o["symbol"]) for o in rest] == [(eth["id"], "ETH/USD")]
    assert await client.fetch_open_orders() == []


async def test_fetch_my_trades_lists_both_sides_of_our_trading(client: Ccxt) -> None:
    bought = await market_order(client, "buy", "0.01")
    sold = await market_order(client, "sell", "0.01")
    mine = await client.fetch_my_trades("BTC/USD", limit=10)
    by_order: dict[str, list[dict]] = {}
    for trade in mine:
        assert trade["symbol"] == "BTC/USD"
        by_order.setdefault(trade["order"], []).append(trade)
    assert set(by_order) == {bought["id"], sold["id"]}
    for order, side in ((bought, "buy"), (sold, "sell")):
        trades = by_order[order["id"]]
        assert {t["side"] for t in trades} == {side}
        assert sum(dec(t["amount"]) for t in trades) == D("0.01")
        assert sorted((dec(t["price"]), dec(t["fee"]["cost"])) for t in trades) == sorted(
            (dec(f["price"]), dec(f["fee"]["cost"])) for f in order["trades"]
        )
        assert {t["fee"]["currency"] for t in trades} == {"USD"}


# -- errors -------------------------------------------------------------------------------------


async def test_wrong_secret_or_unknown_key_is_an_authentication_error(
    make_client: ClientPool,
) -> None:
    impostor = make_client(secret="0" * 64)
    with pytest.raises(ccxt.AuthenticationError, match="invalid signature"):  # API0005
        await impostor.fetch_balance()
    stranger = make_client(apiKey="0123456789abcdef0123456789abcdef")
    with pytest.raises(ccxt.AuthenticationError, match="API0001"):
        await stranger.fetch_balance()


async def test_replayed_nonce_is_an_invalid_nonce(client: Ccxt) -> None:
    # ccxt takes X-Auth-Nonce from uuid(); a constant makes it replay the first request's.
    client.exchange.uuid = lambda: "6f1c2a4e-8d3b-4f7a-9c1e-2b5d7e9f0a13"
    balance = await client.fetch_balance()
    assert dec(balance["USD"]["total"]) == D("100000")
    with pytest.raises(ccxt.InvalidNonce, match="API0004"):
        await client.fetch_balance()


async def test_order_below_the_minimum_is_an_invalid_order(sim: SimServer, client: Ccxt) -> None:
    with pytest.raises(ccxt.InvalidOrder, match=r"Minimum order size is 20\.0 USD\."):
        await client.create_order("BTC/USD", "limit", "buy", "0.0001", away(sim, "btcusd", "buy"))
    with pytest.raises(ccxt.InvalidOrder, match=r"Minimum order size is 0\.0002 BTC\."):
        await client.create_order("ETH/BTC", "limit", "sell", "0.001", away(sim, "ethbtc", "sell"))
    with pytest.raises(ccxt.InvalidOrder, match="Minimum order size"):
        await client.create_order("BTC/USD", "market", "buy", "0.0001")
    assert await client.fetch_open_orders() == []
    assert await client.fetch_my_trades("BTC/USD") == []


async def test_other_refusals_map_to_ccxt_errors(sim: SimServer, client: Ccxt) -> None:
    with pytest.raises(ccxt.InvalidOrder, match="Price is more than 20% below market price"):
        await client.create_order(
            "BTC/USD", "limit", "buy", "0.01", away(sim, "btcusd", "buy", "0.3")
        )
    with pytest.raises(ccxt.InsufficientFunds, match="Check your account balance"):
        await client.create_order("BTC/USD", "limit", "buy", "5", away(sim, "btcusd", "buy"))
    with pytest.raises(ccxt.OrderNotFound):
        await client.fetch_order("1234", "BTC/USD")
    assert await client.fetch_open_orders() == []
