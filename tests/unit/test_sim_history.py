"""The simulator's day of history, made in integers, is the day the Decimal formula makes.

``sim/history.py`` works prices in integer ticks and writes integer columns (no ``Trade``
objects); ``TradeTape.append_reversed`` adds a slice of them in bulk. Both were made faster
without changing a seed's day: here the integer generator is held to the formula written
trade by trade in Decimals (what the simulator ran before), and the bulk append to
``append_row`` called row by row, over markets, seeds, start prices and tape bounds.
"""

from __future__ import annotations

import math
import random
from decimal import ROUND_DOWN, Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from workstation.domain.common import Side
from workstation.domain.markets import Market
from workstation.sim.catalog import DEFAULT_MARKETS
from workstation.sim.history import history
from workstation.sim.participants import ACTIVE, BUSY, QUIET, STABLE, Profile, taker_notional
from workstation.sim.tape import TradeRows, TradeTape

END_US = 1_780_000_000_000_000
_MICRO = Decimal("0.000001")

Row = tuple[int, int, Decimal, Decimal, int, int, int]


def decimal_day(
    market: Market,
    profile: Profile,
    rng: random.Random,
    *,
    end_price: Decimal,
    end_us: int,
    last_trade_id: int,
    seconds: int,
) -> list[Row]:
    """The history formula trade by trade in Decimals, newest first: the oracle."""
    rate = profile.trades_per_s
    tick, lot = market.tick, market.lot
    half_spread = max(tick, (end_price * Decimal("0.00008")).quantize(tick))
    min_amount = (market.minimum_order_value / end_price).quantize(lot, ROUND_DOWN) + lot
    log_units, trade_id = 0, last_trade_id
    t_us, start_us = end_us - 1_000_000, end_us - seconds * 1_000_000
    out: list[Row] = []
    while True:
        gap_s = rng.expovariate(rate)
        t_us -= max(1, int(gap_s * 1_000_000))
        if t_us <= start_us:
            return out
        log_units += round(rng.gauss(0.0, profile.vol_bps * 100 * math.sqrt(gap_s)))
        fair = end_price * (1 + Decimal(log_units) * _MICRO)
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        levels = Decimal(int(rng.expovariate(1.2)))
        if side is Side.BUY:
            price = (fair + half_spread + tick * levels).quantize(tick)
        else:
            price = (fair - half_spread - tick * levels).quantize(tick)
        notional = taker_notional(rng, market.minimum_order_value)
        amount = max(min_amount, (notional / fair).quantize(lot, ROUND_DOWN))
        if price <= 0:
            continue
        out.append(
            (
                t_us // 1000 * 1000,
                trade_id,
                price,
                amount,
                side.code,
                1_800_000_000_000_000 + 2 * trade_id,
                1_800_000_000_000_001 + 2 * trade_id,
            )
        )
        trade_id -= 1


def rows_of(chunks: list[TradeRows], market: Market) -> list[Row]:
    return [
        (
            rows.times[i],
            rows.ids[i],
            Decimal(rows.prices[i]).scaleb(-market.quote_decimals),
            Decimal(rows.amounts[i]).scaleb(-market.base_decimals),
            rows.sides[i],
            rows.buy_order_ids[i],
            rows.sell_order_ids[i],
        )
        for rows in chunks
        for i in range(len(rows))
    ]


end_prices = st.builds(
    lambda digits, places: Decimal(digits).scaleb(-places),
    st.integers(1, 10**9),
    st.integers(0, 8),
)


@settings(max_examples=60, deadline=None)
@given(
    market=st.sampled_from(DEFAULT_MARKETS),
    profile=st.sampled_from((BUSY, ACTIVE, QUIET, STABLE, Profile(1, 5.0, 40.0, 10))),
    seed=st.integers(0, 2**32),
    end_price=end_prices,
    seconds=st.integers(1, 1_200),
    chunk=st.integers(1, 120),
)
def test_the_integer_day_is_the_decimal_formulas_day(
    market: Market, profile: Profile, seed: int, end_price: Decimal, seconds: int, chunk: int
) -> None:
    """Every trade, price to the tick, amount to the lot, side, time and ids; chunks of at
    most ``chunk`` rows, none empty. A wild profile (5 trades a second, 40 bp moves) and tiny
    or odd start prices reach the rounding ties and the prices that fall to zero."""
    args: dict[str, Any] = {
        "end_price": end_price,
        "end_us": END_US,
        "last_trade_id": 10**9,
        "seconds": seconds,
    }
    chunks = list(history(market, profile, random.Random(seed), chunk=chunk, **args))
    assert all(0 < len(rows) <= chunk for rows in chunks)
    assert rows_of(chunks, market) == decimal_day(market, profile, random.Random(seed), **args)


def a_tape(keep: int, keep_s: int) -> TradeTape:
    return TradeTape(8, 2, keep=keep, keep_us=keep_s * 1_000_000)


@st.composite
def rows_and_cuts(draw: st.DrawFn) -> tuple[TradeRows, list[int]]:
    """Rows newest first (times falling), and where a history's slices end."""
    count = draw(st.integers(1, 300))
    rows, t_us = TradeRows(), END_US
    for n in range(count):
        rows.add(
            t_us,
            10**6 - n,
            draw(st.integers(1, 40)),  # few prices: equal highs and lows, ties in the deques
            draw(st.integers(1, 10**6)),
            draw(st.sampled_from((0, 1))),
            2 * n,
            2 * n + 1,
        )
        t_us -= draw(st.integers(0, 3)) * 1_000_000
    cuts = sorted(set(draw(st.lists(st.integers(0, count), max_size=8))) | {0, count})
    return rows, cuts


@settings(max_examples=150, deadline=None)
@given(rows_and_cuts(), st.integers(1, 80), st.integers(1, 200), st.lists(st.integers(1, 40)))
def test_a_bulk_append_is_the_rows_appended_one_by_one(
    made: tuple[TradeRows, list[int]], keep: int, keep_s: int, later: list[int]
) -> None:
    """Slices appended oldest first (as the simulator does) leave the tape as ``append_row``
    row by row does: the rows kept, their sequence numbers, the day's figures; and live
    trades after it move the figures alike (the running highs and lows agree too)."""
    rows, cuts = made
    bulk, single = a_tape(keep, keep_s), a_tape(keep, keep_s)
    for start, end in reversed(list(zip(cuts, cuts[1:], strict=False))):
        bulk.append_reversed(rows, start, end)
        for i in range(end - 1, start - 1, -1):
            single.append_row(
                rows.times[i],
                rows.ids[i],
                rows.prices[i],
                rows.amounts[i],
                rows.sides[i],
                rows.buy_order_ids[i],
                rows.sell_order_ids[i],
            )
        assert kept(bulk) == kept(single)
    for n, price in enumerate(later):
        for tape in (bulk, single):
            tape.append_row(END_US + n * 1_000_000, 2 * 10**6 + n, price, 1, 0, 0, 0)
        assert kept(bulk) == kept(single)


def kept(tape: TradeTape) -> tuple[object, ...]:
    rows = [
        (seq, tape.times[i], tape.ids[i], tape.prices[i], tape.amounts[i], tape.sides[i])
        for seq in range(tape.first_seq, tape.end_seq)
        for i in [tape.index(seq)]
    ]
    return tape.first_seq, tape.end_seq, rows, tape.figures()
