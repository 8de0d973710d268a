"""What the order book pane shows, computed from the book: grouped levels with running
totals, the spread and the mid. Pure arithmetic on scaled integers, so it is exact and cheap
enough to run 20 times a second.

Grouping merges levels into buckets of ``group`` ticks: bids round *down* and asks round
*up* (a bucket never claims a better price than any order in it, so the grouped best bid is
never above the true best bid, and the grouped book never looks crossed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from .numbers import from_units

__all__ = ["GROUP_STEPS", "LadderRow", "Spread", "group_levels", "ladder", "spread"]

#: Grouping choices offered to the trader, in ticks.
GROUP_STEPS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000)


@dataclass(frozen=True, slots=True)
class LadderRow:
    """One row of a side, in ticks and lots; ``total``/``value`` run from the touch."""

    price: int
    amount: int
    total: int
    value: int
    """Cumulative notional in units of ``tick * lot`` (price ticks times amount lots)."""


@dataclass(frozen=True, slots=True)
class Spread:
    bid: Decimal
    ask: Decimal
    spread: Decimal
    mid: Decimal
    bps: Decimal
    """Spread in basis points of the mid, two decimals."""


def group_levels(
    levels: Sequence[tuple[int, int]], group: int, *, bids: bool
) -> list[tuple[int, int]]:
    """Merge best-first ``(price, amount)`` levels into buckets of ``group`` ticks."""
    if group <= 1:
        return list(levels)
    out: list[tuple[int, int]] = []
    for price, amount in levels:
        bucket = (price // group) * group if bids else -((-price) // group) * group
        if out and out[-1][0] == bucket:
            out[-1] = (bucket, out[-1][1] + amount)
        else:
            out.append((bucket, amount))
    return out


def ladder(levels: Sequence[tuple[int, int]], rows: int) -> list[LadderRow]:
    """The first ``rows`` levels with running amount and notional from the touch."""
    out: list[LadderRow] = []
    total = value = 0
    for price, amount in levels[:rows]:
        total += amount
        value += price * amount
        out.append(LadderRow(price, amount, total, value))
    return out


def spread(best_bid: int | None, best_ask: int | None, price_places: int) -> Spread | None:
    """Spread and mid of the touch, exact (mid may have one more decimal than a price)."""
    if best_bid is None or best_ask is None:
        return None
    bid = from_units(best_bid, price_places)
    ask = from_units(best_ask, price_places)
    mid = (bid + ask) / 2
    bps = ((ask - bid) / mid * 10_000).quantize(Decimal("0.01")) if mid else Decimal(0)
    return Spread(bid=bid, ask=ask, spread=ask - bid, mid=mid, bps=bps)
