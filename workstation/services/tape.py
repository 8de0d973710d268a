"""The trades tape of one market: bounded, newest first, never the same trade twice.

Trades reach a feed twice over: live from ``live_trades_*`` and again from a REST backfill
after every (re)connect (Bitstamp does not replay what was missed). Trade ids are unique per
exchange, so the tape keeps the ids it holds and drops repeats; order is by time, then id.
"""

from __future__ import annotations

from bisect import insort
from collections import deque
from collections.abc import Iterable, Iterator

from ..domain.market_data import Trade

__all__ = ["TradeTape"]


class TradeTape:
    """At most ``capacity`` trades, oldest dropped first."""

    def __init__(self, capacity: int = 500) -> None:
        self.capacity = capacity
        self._trades: deque[Trade] = deque()
        self._ids: set[int] = set()
        self.version = 0
        """Bumped on every change, so a renderer can skip an unchanged tape."""

    def __len__(self) -> int:
        return len(self._trades)

    def newest_first(self, limit: int | None = None) -> list[Trade]:
        out: list[Trade] = []
        for trade in reversed(self._trades):
            if limit is not None and len(out) >= limit:
                break
            out.append(trade)
        return out

    def __iter__(self) -> Iterator[Trade]:
        """Oldest first."""
        return iter(self._trades)

    def add(self, trade: Trade) -> bool:
        """Add one trade; False if it is already on the tape."""
        if trade.id in self._ids:
            return False
        trades = self._trades
        if not trades or (trades[-1].timestamp_us, trades[-1].id) <= (trade.timestamp_us, trade.id):
            trades.append(trade)
        else:
            # Late (a backfill): keep time order. Rare, and the tape is small.
            items = list(trades)
            insort(items, trade, key=lambda t: (t.timestamp_us, t.id))
            self._trades = deque(items)
        self._ids.add(trade.id)
        while len(self._trades) > self.capacity:
            self._ids.discard(self._trades.popleft().id)
        self.version += 1
        return True

    def merge(self, trades: Iterable[Trade]) -> int:
        """Add many (e.g. a REST backfill, any order); returns how many were new."""
        return sum(self.add(t) for t in sorted(trades, key=lambda t: (t.timestamp_us, t.id)))
