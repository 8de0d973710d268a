"""The simulator's living market: synthetic participants, manual stepping, speed, history
and expiries, checked on the exchange object itself (no sockets needed)."""

from __future__ import annotations

import datetime as dt
import statistics
from decimal import Decimal

import pytest

from workstation.domain.common import Side
from workstation.domain.orders import OrderState
from workstation.sim.clock import SimClock
from workstation.sim.exchange import SimExchange
from workstation.sim.orderform import OrderForm

D = Decimal
START_US = 1_780_000_000_000_000  # 2026-05-28 20:26:40 UTC


def manual(seed: int = 3, speed: float = 1.0, start_us: int = START_US, **kw) -> SimExchange:
    return SimExchange(seed=seed, speed=speed, clock=SimClock(manual_start_us=start_us), **kw)


def state(ex: SimExchange, symbol: str = "btcusd") -> tuple:
    engine = ex.engines[symbol]
    trades = ex.transactions(symbol, 86_400)
    return (
        tuple(engine.levels(Side.BUY, 50)),
        tuple(engine.levels(Side.SELL, 50)),
        tuple((t.id, t.price, t.amount, t.side) for t in trades[:100]),
    )


def test_books_are_hundreds_of_levels_deep_and_never_crossed() -> None:
    ex = manual()
    for step in range(40):
        ex.advance(15)  # ten minutes in all
        for symbol, engine in ex.engines.items():
            bid, ask = engine.best_bid(), engine.best_ask()
            assert bid is not None, (symbol, step)
            assert ask is not None, (symbol, step)
            assert bid < ask, (symbol, step)
    engine = ex.engines["btcusd"]
    assert len(engine.levels(Side.BUY)) >= 300
    assert len(engine.levels(Side.SELL)) >= 300
    mid = (engine.best_bid() + engine.best_ask()) / 2
    spread_bps = (engine.best_ask() - engine.best_bid()) / mid * 10_000
    assert spread_bps < 25
    # Dense near the top, spread out far away, like the recorded books.
    prices = [p for p, _ in engine.levels(Side.BUY)]
    assert prices[20] > mid * D("0.995")
    assert prices[-1] < mid * D("0.9")


def test_the_market_moves_only_when_a_manual_clock_is_stepped() -> None:
    ex = manual()
    before = state(ex)
    ex.data.publish_book_changes()
    assert state(ex) == before
    ex.advance(30)
    after = state(ex)
    assert after[0] != before[0] or after[1] != before[1]
    assert after[2] != before[2], "trades happened in 30 s of a busy market"


def test_a_seed_replays_the_same_market() -> None:
    a, b, c = manual(seed=11), manual(seed=11), manual(seed=12)
    for ex in (a, b, c):
        ex.advance(20)
    assert state(a) == state(b)
    assert state(a) != state(c)
    assert state(a, "xrpeur") == state(b, "xrpeur")


def test_speed_zero_is_still_and_speed_multiplies_activity() -> None:
    still = manual(speed=0, history_s=0)
    before = state(still)
    still.advance(60)
    assert state(still) == before

    counts = {}
    for speed in (1, 10):
        ex = manual(seed=5, speed=speed, history_s=0)
        ex.advance(60)
        counts[speed] = sum(len(ex.transactions(s, 3600)) for s in ex.markets)
    assert counts[1] > 0
    assert counts[10] > 4 * counts[1], counts


def test_a_day_of_history_is_there_at_start() -> None:
    ex = manual()
    trades = list(reversed(ex.transactions("btcusd", 86_400)))
    assert len(trades) > 10_000
    assert trades[0].timestamp_us > START_US - 86_400 * 1_000_000
    assert trades[0].timestamp_us < START_US - 23 * 3600 * 1_000_000
    stamps = [t.timestamp_us for t in trades]
    assert stamps == sorted(stamps)
    assert all(us % 1000 == 0 for us in stamps), "whole milliseconds, as Bitstamp sends"
    ids = [t.id for t in trades]
    assert ids == sorted(ids)
    engine = ex.engines["btcusd"]
    mid = (engine.best_bid() + engine.best_ask()) / 2
    assert abs(trades[-1].price - mid) / mid < D("0.002"), "the tape meets the live book"
    # Heavy-tailed sizes: most trades small, a few very large.
    amounts = sorted(t.amount for t in trades)
    assert amounts[-1] > 50 * statistics.median(amounts)
    ticker = ex.ticker("btcusd")
    assert ticker.volume > 0
    assert ticker.high > ticker.low
    candles = ex.candles("btcusd", step=3600, limit=24, start=None, end=None)
    assert sum(1 for c in candles if c.volume > 0) >= 23
    # Quiet markets have history too, and live trades follow it with higher ids.
    ex.advance(120)
    tape = ex.transactions("ltcusd", 86_400)
    live = [t.id for t in tape if t.timestamp_us > START_US]
    old = [t.id for t in tape if t.timestamp_us < START_US]
    assert len(old) > 1000
    assert live
    assert min(live) > max(old)


def test_synthetic_flow_fills_a_resting_order_and_funds_add_up() -> None:
    ex = manual(seed=2)
    engine = ex.engines["btcusd"]
    price = engine.best_bid()
    ack = ex.place(
        "demo", OrderForm("limit", Side.BUY, "btcusd", {"amount": "0.5", "price": f"{price}"})
    )
    for _ in range(600):
        ex.advance(1)
        status = ex.order_status("demo", order_id=str(ack.order_id), client_order_id=None)
        if status.transactions:
            break
    assert status.transactions, "a synthetic seller hit the bid within ten minutes"
    filled = sum(t.base_amount for t in status.transactions)
    assert filled + status.amount_remaining == D("0.5")
    balances = {b.currency: b for b in ex.balances("demo")}
    assert balances["btc"].total == D(5) + filled
    for currency in ("BTC", "USD"):
        assert ex.ledger.total(currency) == ex.ledger.issued(currency)


def test_gtd_orders_expire_at_their_time_and_release_funds() -> None:
    ex = manual()
    bid = ex.engines["btcusd"].best_bid() - 500
    expire_ms = START_US // 1000 + 2_000
    fields = {
        "amount": "0.1",
        "price": f"{bid}",
        "gtd_order": "True",
        "expire_time": str(expire_ms),
    }
    ack = ex.place("demo", OrderForm("limit", Side.BUY, "btcusd", fields))
    usd = {b.currency: b for b in ex.balances("demo")}["usd"]
    assert usd.reserved > 0
    ex.advance(1)
    assert ex.open_orders("demo", "btcusd")
    ex.advance(2)
    assert not ex.open_orders("demo", "btcusd")
    status = ex.order_status("demo", order_id=str(ack.order_id), client_order_id=None)
    assert status.state is OrderState.EXPIRED
    usd = {b.currency: b for b in ex.balances("demo")}["usd"]
    assert usd.reserved == 0
    assert usd.available == D(100_000)


def test_daily_orders_end_at_midnight_utc() -> None:
    midnight = dt.datetime(2026, 6, 1, tzinfo=dt.UTC).timestamp()
    ex = manual(start_us=int(midnight - 10) * 1_000_000, history_s=0)
    bid = ex.engines["btcusd"].best_bid() - 500
    fields = {"amount": "0.1", "price": f"{bid}", "daily_order": "True", "client_order_id": "d"}
    ex.place("demo", OrderForm("limit", Side.BUY, "btcusd", fields))
    plain = {"amount": "0.1", "price": f"{bid}", "client_order_id": "gtc"}
    ex.place("demo", OrderForm("limit", Side.BUY, "btcusd", plain))
    ex.advance(5)
    assert len(ex.open_orders("demo", "btcusd")) == 2
    ex.advance(10)
    [left] = ex.open_orders("demo", "btcusd")
    assert left.client_order_id == "gtc"
    assert left.amount == D("0.1")


def test_advance_needs_a_manual_clock_and_speed_must_be_sane() -> None:
    ex = SimExchange(seed=1, history_s=0)
    with pytest.raises(RuntimeError, match="manual clock"):
        ex.advance(1)
    with pytest.raises(ValueError, match="speed"):
        SimExchange(speed=-1, history_s=0)


def test_limit_price_places_the_opposite_order_once_executed() -> None:
    ex = manual(history_s=0)
    ask = ex.engines["btcusd"].best_ask()
    target = ask + 500
    fields = {"amount": "0.01", "price": f"{ask}", "limit_price": f"{target}"}
    ack = ex.place("demo", OrderForm("limit", Side.BUY, "btcusd", fields))
    status = ex.order_status("demo", order_id=str(ack.order_id), client_order_id=None)
    assert status.state is OrderState.FINISHED
    [follow_up] = ex.open_orders("demo", "btcusd")
    assert follow_up.side is Side.SELL
    assert follow_up.price == target
    assert follow_up.amount == D("0.01")
    balances = {b.currency: b for b in ex.balances("demo")}
    assert balances["btc"].reserved == D("0.01")
