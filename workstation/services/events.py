"""What the services tell the UI, one type per kind of change (no string kinds).

The market hub speaks :data:`MarketEvent`, the trading service :data:`TradingEvent`; the
facade passes both on as they are, with its own (:class:`MarketsOpened`,
:class:`TradingUnavailable`, and :class:`TradingOpened` and :class:`PricesChanged` of the
account), to its one listener, on the event loop; the UI turns them into a Textual message.
Each says what changed, not what to draw: the UI reads the views again. Every change of the
account view is an :class:`AccountChanged`; its subclasses say which part moved.
"""

from __future__ import annotations

import msgspec

from ..domain.tracked_order import TrackedOrder

__all__ = [
    "AccountChanged",
    "BalancesChanged",
    "ConnectionChanged",
    "FeedStateChanged",
    "MarketDataError",
    "MarketEvent",
    "MarketsOpened",
    "OrderChanged",
    "PricesChanged",
    "PrivateStreamChanged",
    "ServiceEvent",
    "SubmitGateChanged",
    "TradingError",
    "TradingEvent",
    "TradingOpened",
    "TradingUnavailable",
]


class MarketsOpened(msgspec.Struct, frozen=True):
    """The markets are loaded and ``pairs`` (those of the requested that exist) watched."""

    pairs: tuple[str, ...]


class FeedStateChanged(msgspec.Struct, frozen=True):
    """A pair went live or stale (``detail``: ``live`` or ``stale: <why>``)."""

    symbol: str
    detail: str


class ConnectionChanged(msgspec.Struct, frozen=True):
    """The market data stream connected or dropped (``detail``: state and reason)."""

    detail: str


class MarketDataError(msgspec.Struct, frozen=True):
    """A market data request or frame failed (a short text for the trader)."""

    detail: str


class OrderChanged(msgspec.Struct, frozen=True):
    """A new snapshot of one of our orders."""

    order: TrackedOrder


class AccountChanged(msgspec.Struct, frozen=True):
    """Something the account view shows changed (a subclass says what): read it again."""


class BalancesChanged(AccountChanged, frozen=True):
    """The balances or the trading fees changed."""


class SubmitGateChanged(AccountChanged, frozen=True):
    """New orders were blocked (``reason`` says why) or allowed again (``reason`` None)."""

    reason: str | None


class PrivateStreamChanged(AccountChanged, frozen=True):
    """The private stream connected or dropped (``detail``: state and reason)."""

    detail: str


class PricesChanged(AccountChanged, frozen=True):
    """The prices the balances are valued at changed."""


class TradingOpened(AccountChanged, frozen=True):
    """Trading is on: there is an account view from now on."""


class TradingError(msgspec.Struct, frozen=True):
    """Something in trading's background failed (a short text without secrets)."""

    detail: str


class TradingUnavailable(msgspec.Struct, frozen=True):
    """The venue has keys but trading could not be opened; the market stays on."""

    detail: str


MarketEvent = FeedStateChanged | ConnectionChanged | MarketDataError
"""What the market hub tells."""

TradingEvent = OrderChanged | AccountChanged | TradingError
"""What the trading service tells (balances, the submit gate and the private stream are
:class:`AccountChanged`)."""

ServiceEvent = MarketsOpened | MarketEvent | TradingEvent | TradingUnavailable
"""What the facade tells its listener."""
