"""A market's seeded book: drawn as one quote after another, rested in one go.

``MarketFlow.seed`` rests its orders with ``MatchingEngine.rest_all`` (a fifth of the
simulator's start was 5,000 submits that could never trade); a seed must still replay the
very book that quoting one order at a time makes, ids and makers' lists included.
"""

from __future__ import annotations

import itertools
import random
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workstation.domain.common import Side
from workstation.sim.catalog import DEFAULT_MARKETS, START_PRICES
from workstation.sim.engine import MatchingEngine
from workstation.sim.participants import MAKER, PROFILES, QUIET, MarketFlow

NOW_US = 1_700_000_000_000_000


def _flow(symbol: str, seed: int) -> MarketFlow:
    market = next(m for m in DEFAULT_MARKETS if m.symbol == symbol)
    engine = MatchingEngine(market, trade_ids=itertools.count(1).__next__)
    price = START_PRICES.get(symbol, Decimal(100))
    return MarketFlow(market, engine, PROFILES.get(symbol, QUIET), random.Random(seed), price)


def _one_quote_at_a_time(flow: MarketFlow, next_id: itertools.count[int]) -> None:
    """What seeding was: one maker-or-cancel submit per order."""
    for side in (Side.BUY, Side.SELL):
        for _ in range(flow.profile.depth):
            flow._quote(side, flow._deep_distance(), NOW_US, next_id.__next__)


def _book(flow: MarketFlow) -> tuple[object, ...]:
    engine = flow.engine
    orders = [  # in time priority, level by level
        (o.order_id, o.side, o.price, o.remaining, o.owner, o.created_us)
        for side in (Side.BUY, Side.SELL)
        for o in engine.orders(side)
    ]
    return (
        engine.levels(Side.BUY),
        engine.levels(Side.SELL),
        orders,
        dict(flow._makers),
        flow.rng.random(),  # the generator is left where one quote at a time leaves it
    )


@settings(max_examples=25, deadline=None)
@given(
    symbol=st.sampled_from([m.symbol for m in DEFAULT_MARKETS]),
    seed=st.integers(0, 2**32),
)
def test_the_seeded_book_is_the_one_quoting_order_by_order_makes(symbol: str, seed: int) -> None:
    seeded, quoted = _flow(symbol, seed), _flow(symbol, seed)
    ids = itertools.count(1_000)
    seeded.seed(NOW_US, ids.__next__)
    next_seeded_id = next(ids)
    ids = itertools.count(1_000)
    _one_quote_at_a_time(quoted, ids)
    assert _book(seeded) == _book(quoted)
    assert next_seeded_id == next(ids)
    bid, ask = seeded.engine.best_bid(), seeded.engine.best_ask()
    assert bid is not None
    assert ask is not None
    assert bid < ask


def test_resting_all_refuses_what_a_submit_refuses_and_rests_nothing() -> None:
    flow = _flow("btcusd", 1)
    engine = flow.engine
    good = (1, MAKER, Side.BUY, Decimal("0.01"), Decimal("60000.00"))
    for bad, why in [
        ((2, MAKER, Side.SELL, Decimal("0.01"), Decimal("60000.00")), "would trade"),
        ((1, MAKER, Side.SELL, Decimal("0.01"), Decimal("61000.00")), "twice"),
        ((2, MAKER, Side.SELL, Decimal("0.01"), Decimal("61000.001")), "multiple"),
        ((2, MAKER, Side.SELL, Decimal("0"), Decimal("61000.00")), "multiple"),
    ]:
        with pytest.raises(ValueError, match=why):
            engine.rest_all([good, bad], now_us=NOW_US)
        assert engine.levels(Side.BUY) == []
        assert engine.levels(Side.SELL) == []
    engine.rest_all([good], now_us=NOW_US)
    with pytest.raises(ValueError, match="already on the book"):
        engine.rest_all([good], now_us=NOW_US)
    assert engine.levels(Side.BUY) == [(Decimal("60000.00"), Decimal("0.01"))]
