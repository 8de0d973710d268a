"""Grouping, running totals and the spread of the book pane, exactly."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from workstation.domain.ladder import group_levels, ladder, spread

D = Decimal


def test_bids_round_down_and_asks_round_up() -> None:
    bids = [(10_007, 1), (10_005, 2), (9_999, 4)]
    asks = [(10_011, 1), (10_019, 2), (10_021, 3)]
    assert group_levels(bids, 10, bids=True) == [(10_000, 3), (9_990, 4)]
    assert group_levels(asks, 10, bids=False) == [(10_020, 3), (10_030, 3)]
    assert group_levels(bids, 1, bids=True) == bids


@given(
    st.lists(st.integers(1, 10**7), min_size=1, max_size=60, unique=True),
    st.sampled_from([2, 5, 10, 25, 100]),
)
def test_grouping_keeps_every_lot_and_never_improves_the_touch(prices: list, group: int) -> None:
    bids = [(p, p % 7 + 1) for p in sorted(prices, reverse=True)]
    asks = [(p, p % 5 + 1) for p in sorted(prices)]
    grouped_bids = group_levels(bids, group, bids=True)
    grouped_asks = group_levels(asks, group, bids=False)
    assert sum(a for _, a in grouped_bids) == sum(a for _, a in bids)
    assert sum(a for _, a in grouped_asks) == sum(a for _, a in asks)
    assert grouped_bids[0][0] <= bids[0][0]
    assert grouped_asks[0][0] >= asks[0][0]
    assert all(p % group == 0 for p, _ in grouped_bids + grouped_asks)
    assert [p for p, _ in grouped_bids] == sorted({p for p, _ in grouped_bids}, reverse=True)


def test_running_totals_and_notional() -> None:
    rows = ladder([(6_700_000, 50_000_000), (6_699_900, 25_000_000)], rows=5)
    assert [r.total for r in rows] == [50_000_000, 75_000_000]
    # 67000.00 * 0.5 + 66999.00 * 0.25 = 50249.75, in units of 0.01 * 1e-8
    assert rows[-1].value == 6_700_000 * 50_000_000 + 6_699_900 * 25_000_000


def test_spread_and_mid_are_exact() -> None:
    s = spread(6_699_732, 6_700_268, 2)
    assert s is not None
    assert s.spread == D("5.36")
    assert s.mid == D("67000.00")
    assert s.bps == D("0.80")
    odd = spread(101, 102, 2)
    assert odd is not None
    assert odd.mid == D("1.015")
    assert spread(None, 5, 2) is None
