"""A day of trade history, made on boot, so charts and tapes are never empty.

Running the full participant model for 24 hours on every start would cost seconds; the tape
only needs trades whose prices and sizes look like that model's output. So this walks a
similar fair value backwards from the price the live market starts at and draws
Poisson-timed trades around it at the profile's rate, with the same heavy-tailed sizes. The
last historical trade sits next to the live book, so the first live trade continues the
series without a jump. Even so a busy market's day is ~35,000 trades (~0.2 s of CPU), so history
comes in chunks of 50 trades (under a millisecond) that
:class:`~workstation.sim.marketdata.MarketData` makes between requests after start.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from decimal import ROUND_DOWN, Decimal

from ..domain.common import Side
from ..domain.market_data import Trade
from ..domain.markets import Market
from .participants import Profile, taker_notional

__all__ = ["DAY_S", "history"]

DAY_S = 86_400
_MICRO = Decimal("0.000001")


def history(
    market: Market,
    profile: Profile,
    rng: random.Random,
    *,
    end_price: Decimal,
    end_us: int,
    last_trade_id: int,
    seconds: int = DAY_S,
    chunk: int = 50,
) -> Iterator[list[Trade]]:
    """Trades of the ``seconds`` before ``end_us``, made backwards in time: each chunk holds
    up to ``chunk`` trades, newest first, continuing where the previous one stopped. Ids count
    down from ``last_trade_id``. Prices stay within a few basis points of a fair value that
    ends at ``end_price``. Chunks let a server make history between requests."""
    rate = profile.trades_per_s
    tick, lot = market.tick, market.lot
    half_spread = max(tick, (end_price * Decimal("0.00008")).quantize(tick))
    min_amount = (market.minimum_order_value / end_price).quantize(lot, ROUND_DOWN) + lot
    log_units = 0
    trade_id = last_trade_id
    t_us = end_us - 1_000_000
    start_us = end_us - seconds * 1_000_000
    batch: list[Trade] = []
    while True:
        gap_s = rng.expovariate(rate)
        t_us -= max(1, int(gap_s * 1_000_000))
        if t_us <= start_us:
            break
        log_units += round(rng.gauss(0.0, profile.vol_bps * 100 * math.sqrt(gap_s)))
        fair = end_price * (1 + Decimal(log_units) * _MICRO)  # first order of exp(): fine here
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
        batch.append(
            Trade(
                market=market.symbol,
                id=trade_id,
                price=price,
                amount=amount,
                side=side,
                timestamp_us=t_us // 1000 * 1000,  # whole ms, as Bitstamp sends
                # Order ids in the range of live ones: the pair is what Bitstamp sends.
                buy_order_id=1_800_000_000_000_000 + 2 * trade_id,
                sell_order_id=1_800_000_000_000_001 + 2 * trade_id,
            )
        )
        trade_id -= 1
        if len(batch) >= chunk:
            yield batch
            batch = []
    if batch:
        yield batch
