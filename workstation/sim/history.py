"""A day of trade history, made on boot, so charts and tapes are never empty.

Running the full participant model for 24 hours on every start would cost seconds; the tape
only needs trades whose prices and sizes look like that model's output. So this walks a
similar fair value backwards from the price the live market starts at and draws
Poisson-timed trades around it at the profile's rate, with the same heavy-tailed sizes. The
last historical trade sits next to the live book, so the first live trade continues the
series without a jump. A busy market's day is ~35,000 trades, so history comes in chunks of
:class:`~workstation.sim.tape.TradeRows` (integer columns, no ``Trade`` objects) that
:class:`~workstation.sim.marketdata.MarketData` makes between requests after start.

Prices are worked in integers of the market's tick (the fair value is the start price times
``1 + n / 1,000,000``, so a price is an exact fraction rounded half-even, as ``quantize``
does); an amount is a notional over the fair value, kept in Decimals: its rounding is
Decimal's own and the day stays the one earlier versions made for a seed.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from decimal import ROUND_DOWN, Decimal

from ..domain.common import Side
from ..domain.markets import Market
from .participants import Profile, taker_notional
from .tape import TradeRows

__all__ = ["DAY_S", "history"]

DAY_S = 86_400
_MICRO = Decimal("0.000001")
_BUY, _SELL = Side.BUY.code, Side.SELL.code


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
) -> Iterator[TradeRows]:
    """Trades of the ``seconds`` before ``end_us``, made backwards in time: each chunk holds
    up to ``chunk`` trades, newest first, continuing where the previous one stopped. Ids count
    down from ``last_trade_id``. Prices stay within a few basis points of a fair value that
    ends at ``end_price``. Chunks let a server make history between requests."""
    rate = profile.trades_per_s
    tick, lot = market.tick, market.lot
    half_spread = max(tick, (end_price * Decimal("0.00008")).quantize(tick))
    min_amount = (market.minimum_order_value / end_price).quantize(lot, ROUND_DOWN) + lot
    minimum = market.minimum_order_value
    lots_per_unit = 10**market.base_decimals
    # The fair value in ticks is ``end_ticks * (1_000_000 + log_units) / scale``, exactly.
    places = max(0, -int(end_price.as_tuple().exponent))
    scale = 10 ** (places + 6)
    end_ticks = int(end_price.scaleb(places)) * 10**market.quote_decimals
    spread_ticks = int(half_spread / tick)
    log_units = 0
    trade_id = last_trade_id
    t_us = end_us - 1_000_000
    start_us = end_us - seconds * 1_000_000
    rows = TradeRows()
    while True:
        gap_s = rng.expovariate(rate)
        t_us -= max(1, int(gap_s * 1_000_000))
        if t_us <= start_us:
            break
        log_units += round(rng.gauss(0.0, profile.vol_bps * 100 * math.sqrt(gap_s)))
        buy = rng.random() < 0.5
        levels = int(rng.expovariate(1.2))
        notional = taker_notional(rng, minimum)
        offset = (spread_ticks + levels) * scale
        fair_scaled = end_ticks * (1_000_000 + log_units)
        price = _round_half_even(fair_scaled + offset if buy else fair_scaled - offset, scale)
        if price <= 0:
            continue
        fair = end_price * (1 + Decimal(log_units) * _MICRO)  # first order of exp(): fine here
        amount = max(min_amount, (notional / fair).quantize(lot, ROUND_DOWN))
        rows.add(
            t_us // 1000 * 1000,  # whole ms, as Bitstamp sends
            trade_id,
            price,
            int(amount * lots_per_unit),
            _BUY if buy else _SELL,
            # Order ids in the range of live ones: the pair is what Bitstamp sends.
            1_800_000_000_000_000 + 2 * trade_id,
            1_800_000_000_000_001 + 2 * trade_id,
        )
        trade_id -= 1
        if len(rows) >= chunk:
            yield rows
            rows = TradeRows()
    if len(rows):
        yield rows


def _round_half_even(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` to the nearest integer, a tie to the even one (what
    ``Decimal.quantize`` does in the default context)."""
    whole, rest = divmod(numerator, denominator)
    twice = 2 * rest
    if twice > denominator or (twice == denominator and whole & 1):
        whole += 1
    return whole
