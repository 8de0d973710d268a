"""What the services tell the UI, one type per kind of change (no string kinds).

The facade's one listener receives these values on the event loop; the UI turns them into a
Textual message. Each says what changed, not what to draw: the UI reads the views again.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..domain.tracked_order import TrackedOrder

__all__ = [
    "AccountChanged",
    "ConnectionChanged",
    "FeedStateChanged",
    "MarketDataError",
    "MarketsOpened",
    "OrderChanged",
    "ServiceEvent",
    "TradingError",
    "TradingUnavailable",
]


@dataclass(frozen=True, slots=True)
class MarketsOpened:
    """The markets are loaded and ``pairs`` (those of the requested that exist) watched."""

    pairs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FeedStateChanged:
    """A pair went live or stale (``detail``: ``live`` or ``stale: <why>``)."""

    symbol: str
    detail: str


@dataclass(frozen=True, slots=True)
class ConnectionChanged:
    """The market data stream connected or dropped (``detail``: state and reason)."""

    detail: str


@dataclass(frozen=True, slots=True)
class MarketDataError:
    """A market data request or frame failed (a short text for the trader)."""

    detail: str


@dataclass(frozen=True, slots=True)
class OrderChanged:
    """A new snapshot of one of our orders."""

    order: TrackedOrder


@dataclass(frozen=True, slots=True)
class AccountChanged:
    """Balances, fees, prices, the submit gate or the private stream changed."""


@dataclass(frozen=True, slots=True)
class TradingError:
    """Something in trading's background failed (a short text without secrets)."""

    detail: str


@dataclass(frozen=True, slots=True)
class TradingUnavailable:
    """The venue has keys but trading could not be opened; the market stays on."""

    detail: str


ServiceEvent = (
    MarketsOpened
    | FeedStateChanged
    | ConnectionChanged
    | MarketDataError
    | OrderChanged
    | AccountChanged
    | TradingError
    | TradingUnavailable
)
