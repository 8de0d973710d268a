"""The REST client against the simulator over real loopback sockets: every endpoint, each
rejection kind, and the transport rules (coalescing, safe retries, never-retried submits)."""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal

import pytest

from workstation.bitstamp.errors import (
    AuthenticationError,
    BelowMinimum,
    ExchangeUnavailable,
    InsufficientBalance,
    InvalidNonce,
    NotFound,
    OrderNotFound,
    OutcomeUnknown,
    PrecisionError,
    PriceOutOfBand,
    RateLimited,
)
from workstation.bitstamp.request_auth import BitstampAuth
from workstation.bitstamp.rest import RestClient
from workstation.bitstamp.transport import RetryPolicy, Transport
from workstation.domain.common import Side
from workstation.domain.orders import OrderState
from workstation.sim.faults import HttpFault, HttpFaultKind
from workstation.sim.server import SimServer

from .conftest import credentials_for

D = Decimal


async def test_public_reads_match_the_exchange(sim: SimServer, rest: RestClient) -> None:
    engine = sim.exchange.engines["btcusd"]
    book = await rest.order_book("btcusd")
    assert book.bids[0] == (engine.best_bid(), engine.levels(Side.BUY, 1)[0][1])
    assert book.asks[0][0] == engine.best_ask()
    assert len(book.bids) == len(engine.levels(Side.BUY))
    ticker = await rest.ticker("btcusd")
    assert (ticker.bid, ticker.ask) == (engine.best_bid(), engine.best_ask())
    detailed = await rest.order_book("btcusd", group=2)
    assert detailed.bid_order_ids is not None
    assert len(detailed.bid_order_ids) == len(detailed.bids)
    markets = {m.symbol: m for m in await rest.markets()}
    legacy = {m.symbol: m for m in await rest.trading_pairs_info()}
    assert markets.keys() == legacy.keys() >= {"btcusd", "btceur", "ethusd", "ethbtc", "xrpusd"}
    assert markets["ethbtc"].quote_decimals == 8
    assert legacy["btcusd"].minimum_order_value == D("20")
    candles = await rest.ohlc("btcusd", step=60, limit=5)
    assert len(candles) == 5


async def test_unknown_market_is_an_html_404(rest: RestClient) -> None:
    with pytest.raises(NotFound):
        await rest.ticker("nosuch")


async def test_limit_order_lifecycle(sim: SimServer, rest: RestClient) -> None:
    balances = {b.currency: b for b in await rest.account_balances()}
    assert balances["usd"].available == D("100000")
    ack = await rest.place_limit(
        Side.BUY, "btcusd", amount=D("0.01"), price=D("60000"), client_order_id="life-1"
    )
    assert (ack.side, ack.amount, ack.price, ack.client_order_id) == (
        Side.BUY,
        D("0.01"),
        D("60000"),
        "life-1",
    )
    [order] = await rest.open_orders("btcusd")
    assert order.order_id == ack.order_id
    assert order.amount == D("0.01")
    usd = {b.currency: b for b in await rest.account_balances()}["usd"]
    assert usd.reserved == D("602.40")  # 600 + 0.4 % taker fee, held while the order rests
    status = await rest.order_status(client_order_id="life-1")
    assert status.state is OrderState.OPEN
    assert status.order_id == ack.order_id
    cancelled = await rest.cancel_order(order_id=ack.order_id)
    assert cancelled.amount == D("0.01")
    assert await rest.open_orders() == []
    with pytest.raises(OrderNotFound):
        await rest.cancel_order(order_id=ack.order_id)
    usd = {b.currency: b for b in await rest.account_balances()}["usd"]
    assert (usd.available, usd.reserved) == (D("100000"), D("0"))


async def test_marketable_limit_fills_and_is_booked(sim: SimServer, rest: RestClient) -> None:
    best_ask = sim.exchange.engines["btcusd"].best_ask()
    assert best_ask is not None
    ack = await rest.place_limit(
        Side.BUY, "btcusd", amount=D("0.05"), price=best_ask + 100, client_order_id="take-1"
    )
    status = await rest.order_status(order_id=ack.order_id)
    filled = sum((t.base_amount for t in status.transactions), D(0))
    assert status.transactions
    assert status.transactions[0].price == best_ask
    assert filled + (status.amount_remaining or 0) == D("0.05")
    trades = await rest.user_transactions("btcusd")
    assert {t.order_id for t in trades} == {ack.order_id}
    assert sum((t.amounts["btc"] for t in trades), D(0)) == filled
    tape = await rest.transactions("btcusd", "minute")
    assert tape
    assert tape[0].side is Side.BUY


async def test_market_and_instant_orders(rest: RestClient) -> None:
    sell = await rest.place_market(Side.SELL, "btcusd", amount=D("0.01"), client_order_id="m-1")
    assert sell.amount == D("0.01")
    buy = await rest.place_instant(Side.BUY, "btcusd", amount=D("100"), client_order_id="i-1")
    status = await rest.order_status(order_id=buy.order_id)
    spent = sum((t.quote_amount for t in status.transactions), D(0))
    assert D("99") < spent <= D("100")


@pytest.mark.parametrize(
    ("amount", "price", "error"),
    [
        (D("0.0001"), D("60000"), BelowMinimum),
        (D("0.000000001"), D("60000"), PrecisionError),
        (D("0.01"), D("99999"), PriceOutOfBand),
        (D("4"), D("60000"), InsufficientBalance),
    ],
)
async def test_rejections_are_typed(
    sim: SimServer, rest: RestClient, amount: Decimal, price: Decimal, error: type
) -> None:
    with pytest.raises(error):
        await rest.place_limit(Side.BUY, "btcusd", amount=amount, price=price, client_order_id="r")
    assert sim.exchange.open_orders("demo", None) == []


async def test_wrong_secret_is_an_authentication_error(sim: SimServer) -> None:
    client = RestClient.for_url(sim.rest_url, credentials=credentials_for(sim, secret="wrong"))
    async with client:
        with pytest.raises(AuthenticationError) as caught:
            await client.account_balances()
    assert caught.value.code == "API0005"


async def test_replayed_nonce_is_refused(sim: SimServer) -> None:
    auth = BitstampAuth(
        credentials_for(sim), nonce_factory=lambda: "0" * 8 + "-aaaa-4aaa-8aaa-" + "0" * 12
    )
    retry = RetryPolicy(attempts=1)
    async with RestClient(Transport(sim.rest_url, auth=auth, retry=retry)) as client:
        await client.account_balances()
        with pytest.raises(InvalidNonce):
            await client.account_balances()


async def test_identical_public_reads_are_coalesced(sim: SimServer, rest: RestClient) -> None:
    sim.faults.fail_next("/api/v2/order_book/", HttpFault(HttpFaultKind.DELAY, seconds=0.2))
    books = await asyncio.gather(*(rest.order_book("btcusd") for _ in range(10)))
    assert len({b.timestamp_us for b in books}) == 1
    assert sim.requests["GET /api/v2/order_book/btcusd/"] == 1


@pytest.mark.parametrize(
    "fault",
    [
        HttpFault(HttpFaultKind.RATE_LIMIT, retry_after=0.05),
        HttpFault(HttpFaultKind.RATE_LIMIT),
        HttpFault(HttpFaultKind.SERVER_ERROR, status=503),
        HttpFault(HttpFaultKind.HTML_ERROR, status=502),
        HttpFault(HttpFaultKind.RATE_LIMIT_TEXT, retry_after=0.05),
    ],
)
async def test_safe_calls_are_retried(sim: SimServer, rest: RestClient, fault: HttpFault) -> None:
    sim.faults.fail_next("/api/v2/ticker/", fault)
    ticker = await rest.ticker("btcusd")
    assert ticker.market == "btcusd"
    assert sim.requests["GET /api/v2/ticker/btcusd/"] == 2
    sim.faults.fail_next("/api/v2/account_balances/", fault)
    assert await rest.account_balances()
    assert sim.requests["POST /api/v2/account_balances/"] == 2


async def test_retries_give_up_and_say_why(sim: SimServer, rest: RestClient) -> None:
    sim.faults.fail_next("/api/v2/ticker/", HttpFault(HttpFaultKind.SERVER_ERROR), times=5)
    with pytest.raises(ExchangeUnavailable):
        await rest.ticker("btcusd")
    assert sim.requests["GET /api/v2/ticker/btcusd/"] == 3  # the policy's attempts


async def test_rate_limited_submit_is_not_retried(sim: SimServer, rest: RestClient) -> None:
    sim.faults.fail_next("/api/v2/buy/", HttpFault(HttpFaultKind.RATE_LIMIT, retry_after=0.01))
    with pytest.raises(RateLimited) as caught:
        await rest.place_limit(
            Side.BUY, "btcusd", amount=D("0.01"), price=D("60000"), client_order_id="rl-1"
        )
    assert caught.value.retry_after == pytest.approx(0.01)
    assert sim.requests["POST /api/v2/buy/btcusd/"] == 1


@pytest.mark.parametrize(
    "fault",
    [
        HttpFault(HttpFaultKind.HANG_AFTER_ACCEPT, seconds=30),
        HttpFault(HttpFaultKind.DROP_AFTER_ACCEPT),
        HttpFault(HttpFaultKind.SERVER_ERROR, status=500),
    ],
)
async def test_submit_without_a_reply_is_outcome_unknown(sim: SimServer, fault: HttpFault) -> None:
    # The hang needs a timeout shorter than itself; a short one elsewhere made a slow connect
    # on a loaded machine a connect timeout (TransportError: never sent), not the fault.
    timeout_s = 1.0 if fault.kind is HttpFaultKind.HANG_AFTER_ACCEPT else 10.0
    client = RestClient.for_url(sim.rest_url, credentials=credentials_for(sim), timeout_s=timeout_s)
    sim.faults.fail_next("/api/v2/buy/", fault)
    async with client:
        with pytest.raises(OutcomeUnknown) as caught:
            await client.place_limit(
                Side.BUY, "btcusd", amount=D("0.01"), price=D("60000"), client_order_id="unk-1"
            )
        assert caught.value.client_order_id == "unk-1"
        assert sim.requests["POST /api/v2/buy/btcusd/"] == 1  # never resent
        if fault.kind is not HttpFaultKind.SERVER_ERROR:
            # The exchange did take it: reconciliation by client_order_id finds exactly one.
            status = await client.order_status(client_order_id="unk-1")
            assert status.state is OrderState.OPEN
            assert len(await client.open_orders("btcusd")) == 1


async def test_request_log_never_holds_key_or_secret(
    sim: SimServer, rest: RestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sim.faults.fail_next("/api/v2/account_balances/", HttpFault(HttpFaultKind.SERVER_ERROR))
    await rest.account_balances()
    await rest.ticker("btcusd")
    records = list(rest.transport.log)
    assert [r.outcome for r in records] == ["ExchangeUnavailable", "ok", "ok"]
    assert records[0].nonce
    assert records[0].nonce != records[1].nonce
    demo = sim.exchange.demo
    text = caplog.text + repr(records) + repr(rest.transport)
    assert demo.api_key not in text
    assert demo.secret not in text


async def test_replace_and_cancel_all(sim: SimServer, rest: RestClient) -> None:
    ack = await rest.place_limit(
        Side.BUY, "btcusd", amount=D("0.01"), price=D("60000"), client_order_id="rep-1"
    )
    replaced = await rest.replace_order(
        order_id=ack.order_id, amount=D("0.02"), price=D("61000"), client_order_id="rep-2"
    )
    assert replaced.orig_order_id == ack.order_id
    [order] = await rest.open_orders("btcusd")
    assert (order.order_id, order.amount, order.price) == (replaced.order_id, D("0.02"), D("61000"))
    assert order.client_order_id == "rep-2"
    await rest.place_limit(
        Side.SELL, "ethusd", amount=D("0.1"), price=D("3500"), client_order_id="ca-1"
    )
    per_pair = await rest.cancel_all_orders("btcusd")
    assert [c.order_id for c in per_pair.canceled] == [replaced.order_id]
    assert [o.market for o in await rest.open_orders()] == ["ethusd"]
    everything = await rest.cancel_all_orders()
    assert len(everything.canceled) == 1
    assert await rest.open_orders() == []
