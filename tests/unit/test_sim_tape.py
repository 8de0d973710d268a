"""The simulator's compact trade tape answers exactly what the list of trades answered.

The tape keeps trades as integer columns with running day figures, and the ``transactions``
body is joined from items written once (issue 17, items 3 and 6). Each figure here is
checked against the plain computation over ``Trade`` objects that the simulator used before:
the ticker's day, the candles, the body's bytes, while trades come and go past the tape's
bounds (a small bound here, so rows are dropped and the columns compacted many times).
"""

from __future__ import annotations

import random
from decimal import ROUND_HALF_UP, Decimal

from workstation.domain.common import Side
from workstation.domain.market_data import Candle, Trade
from workstation.sim.clock import SimClock
from workstation.sim.exchange import SimExchange
from workstation.sim.history import history
from workstation.sim.participants import PROFILES
from workstation.sim.tape import DAY_US, TradeTape
from workstation.sim.transactions_body import BLOCK, TransactionsBody
from workstation.sim.wire.fields import dumps
from workstation.sim.wire.market_data import encode_transactions

START_US = 1_780_000_000_000_000


def trades(count: int, *, seed: int = 1, gap_us: int = 700_000) -> list[Trade]:
    rng = random.Random(seed)
    out, t_us, price = [], START_US, 6_000_000
    for i in range(count):
        t_us += rng.randrange(gap_us) // 1000 * 1000
        price = max(1, price + rng.randrange(-300, 301))
        out.append(
            Trade(
                market="btcusd",
                id=600_000_000 + i,
                price=Decimal(price).scaleb(-2),
                amount=Decimal(rng.randrange(1, 10**7)).scaleb(-8),
                side=Side.BUY if rng.random() < 0.5 else Side.SELL,
                timestamp_us=t_us,
                buy_order_id=1_900_000_000_000_000 + 2 * i,
                sell_order_id=1_900_000_000_000_001 + 2 * i,
            )
        )
    return out


def day_of(kept: list[Trade]) -> tuple[Decimal, ...]:
    """What the old ticker computed over a day's trades (newest first)."""
    day = list(reversed(kept))
    prices = [t.price for t in day]
    volume = sum((t.amount for t in day), Decimal(0))
    value = sum((t.price * t.amount for t in day), Decimal(0))
    vwap = (value / volume).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return day[0].price, max(prices), min(prices), day[-1].price, volume, vwap


def test_the_running_day_figures_match_the_trades_kept_as_they_come_and_go() -> None:
    tape = TradeTape(8, 2, keep_us=3_600_000_000, keep=500)
    made = trades(3_000)
    for n, trade in enumerate(made, 1):
        tape.append(trade)
        if n % 97 == 0:
            since = trade.timestamp_us - 3_600_000_000
            kept = [t for t in made[:n] if t.timestamp_us >= since][-500:]
            assert len(tape) == len(kept)
            figures = tape.figures()
            assert figures is not None
            vwap = (figures.value / figures.volume).quantize(Decimal("0.01"), ROUND_HALF_UP)
            got = (figures.last, figures.high, figures.low, figures.first, figures.volume, vwap)
            assert got == day_of(kept), n
            assert figures.last_side is kept[-1].side
    assert tape.first_seq > 2_000  # rows were dropped and the columns compacted


def test_a_stored_trade_comes_back_equal_and_the_tape_stays_small() -> None:
    tape = TradeTape(8, 2, keep=1_000)
    made = trades(5_000)
    for trade in made:
        tape.append(trade)
    first = tape.index(tape.first_seq)
    back = [tape.trade(i, "btcusd") for i in range(first, first + len(tape))]
    assert back == made[-1_000:]
    # 49 bytes a row: six 8-byte columns and the side; dropped rows wait for the next
    # compaction (after 4,096 of them), so at most that many more rows are held.
    assert tape.stored_bytes() <= 49 * (1_000 + 4_096)


def test_trades_older_than_a_day_are_dropped() -> None:
    tape = TradeTape(8, 2)
    made = trades(4_000, gap_us=60_000_000)  # about 30 s apart: 33 hours in all
    for trade in made:
        tape.append(trade)
    newest = made[-1].timestamp_us
    assert len(tape) == sum(1 for t in made if t.timestamp_us >= newest - DAY_US)
    assert len(tape) < len(made)


async def test_the_transactions_body_is_the_encoders_bytes_for_every_window() -> None:
    clock = SimClock(manual_start_us=START_US)
    tape = TradeTape(8, 2, keep=3 * BLOCK + 17)
    body = TransactionsBody(tape, clock)
    made = trades(2_000, gap_us=3_000_000)
    for n, trade in enumerate(made, 1):
        tape.append(trade)
        if n % 111 and n != len(made):
            continue
        clock.advance((trade.timestamp_us - clock.peek_us()) / 1e6 + 1)
        for window_s in (60, 600, 3_600, 86_400):
            since = clock.peek_us() - window_s * 1_000_000
            kept = made[:n][-len(tape) :]
            expected = dumps(
                encode_transactions(reversed([t for t in kept if t.timestamp_us >= since]), 8, 2)
            )
            assert await body.body(window_s * 1_000_000) == expected, (n, window_s)
            assert await body.body(window_s * 1_000_000) == expected  # served from the cache


def old_candles(ex: SimExchange, symbol: str, **query: int | None) -> list[Candle]:
    """The candles as the simulator computed them from Trade objects."""
    step, limit, start, end = query["step"], query["limit"], query["start"], query["end"]
    assert step is not None
    assert limit is not None
    now_s = ex.clock.peek_us() // 1_000_000
    if end is None:
        end = now_s if start is None else min(now_s, start + step * (limit - 1))
    last_bucket = end - end % step
    first_bucket = last_bucket - step * (limit - 1)
    if start is not None and end is None:  # as it was: never true (end is set by now)
        first_bucket = start - start % step
    first_bucket = max(first_bucket, 0)
    kept = list(reversed(ex.data.trades_since(symbol, first_bucket * 1_000_000)))
    close = kept[0].price if kept else ex.data.reference_price(symbol)
    out, i = [], 0
    for bucket in range(first_bucket, last_bucket + 1, step):
        in_bucket = []
        while i < len(kept) and kept[i].timestamp_us < (bucket + step) * 1_000_000:
            in_bucket.append(kept[i])
            i += 1
        if in_bucket:
            prices = [t.price for t in in_bucket]
            volume = sum((t.amount for t in in_bucket), Decimal(0))
            out.append(Candle(bucket, prices[0], max(prices), min(prices), prices[-1], volume))
            close = prices[-1]
        else:
            assert close is not None
            out.append(Candle(bucket, close, close, close, close, Decimal(0)))
    return out


def test_candles_from_the_columns_are_the_candles_from_the_trades() -> None:
    ex = SimExchange(seed=4, speed=20, clock=SimClock(manual_start_us=START_US))
    ex.advance(30)
    now_s = ex.clock.peek_us() // 1_000_000
    for step, limit, start, end in (
        (60, 1000, None, None),
        (3600, 24, None, None),
        (300, 50, now_s - 7200, None),
        (900, 10, None, now_s - 40_000),
        (86400, 3, now_s - 200_000, now_s),
        (60, 5, now_s + 600, None),
    ):
        query = {"step": step, "limit": limit, "start": start, "end": end}
        assert ex.candles("btcusd", **query) == old_candles(ex, "btcusd", **query), query


def test_history_made_in_slices_is_the_generators_day_oldest_first() -> None:
    ex = SimExchange(seed=9, speed=0, clock=SimClock(manual_start_us=START_US))
    market = ex.markets["btceur"]
    made = [
        (
            Decimal(rows.prices[i]).scaleb(-market.quote_decimals),
            Decimal(rows.amounts[i]).scaleb(-market.base_decimals),
            rows.sides[i],
            rows.times[i],
        )
        for rows in history(
            market,
            PROFILES["btceur"],
            random.Random("9:btceur:history"),
            end_price=ex.activity.flows["btceur"].anchor,
            end_us=START_US,
            last_trade_id=0,
            seconds=86_400,
        )
        for i in range(len(rows))
    ]
    kept = list(reversed(ex.transactions("btceur", 86_400)))
    assert [(t.price, t.amount, t.side.code, t.timestamp_us) for t in kept] == list(reversed(made))
