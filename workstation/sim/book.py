"""One side of a market's order book: price levels in time priority, and what changed.

The data structure under ``MatchingEngine``, separate from the matching rules: it keeps the
prices sorted, each level's orders in arrival order with their total, and the totals each
touched level had before its first change, from which ``pop_changes`` builds the content of
a ``diff_order_book`` frame (reference 7.4). It knows nothing of crossing, time in force or
fills: the engine drives it, and while matching mutates a ``Level``'s orders and total
directly, after calling ``touch``.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterator
from decimal import Decimal

from workstation.sim.orders import RestingOrder

__all__ = ["BookSide", "Level"]

ZERO = Decimal(0)


class Level:
    """One price: its orders in time priority (dicts keep insertion order) and their total."""

    __slots__ = ("orders", "total")

    def __init__(self) -> None:
        self.orders: dict[int, RestingOrder] = {}
        self.total = ZERO


class BookSide:
    """Sorted prices (ascending, never re-sorted) plus a dict of levels, and touched levels."""

    __slots__ = ("is_bid", "prices", "levels", "touched")

    def __init__(self, is_bid: bool) -> None:
        self.is_bid = is_bid
        self.prices: list[Decimal] = []
        self.levels: dict[Decimal, Level] = {}
        self.touched: dict[Decimal, Decimal] = {}  # price -> total before the first change

    def best(self) -> Decimal | None:
        if not self.prices:
            return None
        return self.prices[-1] if self.is_bid else self.prices[0]

    def best_first(self) -> Iterator[Decimal]:
        return reversed(self.prices) if self.is_bid else iter(self.prices)

    def touch(self, price: Decimal, level: Level | None) -> None:
        if price not in self.touched:
            self.touched[price] = level.total if level is not None else ZERO

    def add(self, order: RestingOrder) -> None:
        price = order.price
        level = self.levels.get(price)
        self.touch(price, level)
        if level is None:
            level = self.levels[price] = Level()
            insort(self.prices, price)
        level.orders[order.order_id] = order
        level.total += order.remaining

    def remove(self, order: RestingOrder) -> None:
        level = self.levels[order.price]
        self.touch(order.price, level)
        del level.orders[order.order_id]
        level.total -= order.remaining
        if not level.orders:
            self.drop(order.price)

    def drop(self, price: Decimal) -> None:
        del self.levels[price]
        del self.prices[bisect_left(self.prices, price)]

    def pop_changes(self) -> dict[Decimal, Decimal]:
        changes: dict[Decimal, Decimal] = {}
        for price in sorted(self.touched, reverse=self.is_bid):
            level = self.levels.get(price)
            total = level.total if level is not None else ZERO
            # Every touched level is reported, even one back at its old total: a snapshot
            # served in between may have shown the level otherwise, and a client that synced
            # from it would keep that forever.
            changes[price] = total
        self.touched = {}
        return changes
