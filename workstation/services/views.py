"""What the UI reads from the services: read-only views, built on request, never doing I/O.

A view is a snapshot of plain values (frozen dataclasses), except the book and the tape of a
:class:`MarketView`, which are the feed's own models behind read-only types (the domain's
``BookReader``, :class:`TapeReader`) and versioned: a pane redraws when ``version`` or
``tape_version`` moved. Building a view never changes a model and never starts a request: a
book that diffs have crossed since the hub last checked it is reported stale ("resyncing:
crossed book") and left for the hub's settle timer to resync.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Protocol

import msgspec

from ..domain.account import Balance
from ..domain.book_reader import BookReader
from ..domain.market_data import Ticker, Trade
from ..domain.markets import Market
from ..domain.tracked_order import TrackedOrder

__all__ = [
    "AccountView",
    "HealthView",
    "Latency",
    "MarketView",
    "StreamState",
    "TapeReader",
]


class StreamState(enum.Enum):
    """The market data stream's connection, as the status bar names it."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    CLOSED = "closed"


class TapeReader(Protocol):
    """The trades tape's read methods."""

    def __len__(self) -> int: ...
    def newest_first(self, limit: int | None = None) -> list[Trade]: ...


class MarketView(msgspec.Struct, frozen=True):
    """One watched pair: its book and tape (versioned), ticker, staleness and health."""

    market: Market
    book: BookReader
    version: int
    """Moves on every change of the book."""
    tape: TapeReader
    tape_version: int
    ticker: Ticker | None
    live: bool
    """The book is synced (a snapshot plus every diff since); it may still be stale."""
    stale: bool
    """The book on screen may not be the venue's book (never trade on it)."""
    stale_reason: str
    tape_stale: bool
    last_message_at: float | None
    """``time.monotonic()`` of the last frame on any of the pair's channels."""
    reconnects: int
    resyncs: int

    def message_age(self, now: float) -> float | None:
        return None if self.last_message_at is None else now - self.last_message_at


class Latency(msgspec.Struct, frozen=True):
    """REST latency percentiles in seconds."""

    p50: float
    p95: float


class HealthView(msgspec.Struct, frozen=True):
    """The environment and how well it is served, for the status bar and the ticket's gate."""

    env: str
    """``sim``, ``sandbox`` or ``live``."""
    note: str
    """What is happening while there is no market yet (``connecting to ...``), else ""."""
    connection: StreamState | None
    """The market data stream; None before it exists."""
    reach_down: bool
    reach_text: str
    """``cannot reach host since ... , retry in 4 s`` while down."""
    reach_reason: str | None
    """Why new orders cannot be sent because of the host, or None."""
    rate_limited: int
    """429s answered to any caller of the session."""
    rest_market: Latency | None
    rest_trading: Latency | None
    trading: bool
    """The venue has keys and the trading service is up."""
    private_connected: bool
    gate_reason: str | None
    """Why new orders wait (orders being reconciled), or None."""
    watch_only: bool = False
    """The venue has no keys: its market is watched, nothing is signed, no order is sent."""
    add_keys: str = ""
    """How to give this environment keys (``workstation keys set --env live``), said where
    an order would be sent, when ``watch_only``."""
    orders_polled: bool = False
    """Our orders are followed over REST: the venue has no private stream (sandbox without
    a WebSocket of its own)."""
    market_from: str = ""
    """The environment whose market data is shown when it is not this one's (``live`` for a
    sandbox without a WebSocket of its own), else ""."""
    keys_from_environment: bool = False
    """The key pair came from BITSTAMP_API_KEY/SECRET, not a keyring: the status bar says so."""
    server_errors: int = 0
    """5xx answers (JSON errors and HTML error pages) to any caller of the session."""
    trading_starting: bool = False
    """The venue has keys and trading is being opened (it follows the first live book and
    the venue's markets): a ticket asked for now waits for it."""


class AccountView(msgspec.Struct, frozen=True):
    """Our open orders, balances, fees and what the balances are worth in ``quote``."""

    open_orders: Sequence[TrackedOrder] = ()
    """Orders that can still trade, newest first."""
    balances: Mapping[str, Balance] = msgspec.field(default_factory=dict)
    """By upper-case currency."""
    taker_fees: Mapping[str, Decimal] = msgspec.field(default_factory=dict)
    """The account's taker fee in percent, by market symbol (known ones only)."""
    quote: str = "USD"
    prices: Mapping[str, Decimal] = msgspec.field(default_factory=dict)
    """The price in ``quote`` of each held currency that has one (see ``valuation``)."""
    prices_polled: bool = False
    """The tickers pricing held currencies were asked at least once."""

    def fee_percent(self, market: str) -> Decimal | None:
        return self.taker_fees.get(market)
