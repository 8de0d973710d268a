"""The order book as a reader sees it: its read methods and nothing that changes it.

The live :class:`~.orderbook.OrderBook` satisfies it. Panes, the ticket and the previews
take a ``BookReader``, so a view handed to them cannot apply a diff or load a snapshot, and a
test can hand them any object with these methods.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from .common import Side

__all__ = ["BookReader"]


class BookReader(Protocol):
    """The order book's read methods: what the panes, the ticket and the previews call."""

    @property
    def price_places(self) -> int: ...
    @property
    def amount_places(self) -> int: ...
    def best_bid(self) -> Decimal | None: ...
    def best_ask(self) -> Decimal | None: ...
    def depth(self, side: Side) -> int: ...
    def top_units(self, side: Side, depth: int | None = None) -> list[tuple[int, int]]: ...
    def levels(self, side: Side, depth: int | None = None) -> list[tuple[Decimal, Decimal]]: ...
