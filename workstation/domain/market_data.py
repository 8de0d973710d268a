"""Public market data as immutable values: ticker, trades, book snapshots and diffs, candles.

These are what the wire codecs (``workstation.bitstamp.market_data`` / ``stream_frames``) turn
Bitstamp's payloads into, and what the simulator turns back into payloads. Every price and
amount is an exact ``Decimal``; times are integers (Unix seconds or microseconds, as named).
A market is Bitstamp's lowercase symbol (``"btcusd"``), never the display name ``"BTC/USD"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from workstation.domain.common import Side

__all__ = [
    "BookDiff",
    "BookSnapshot",
    "Candle",
    "Level",
    "Ticker",
    "Trade",
    "market_symbol",
]

#: One book row: ``(price, amount)``.
Level = tuple[Decimal, Decimal]


def market_symbol(name: str) -> str:
    """Bitstamp's market symbol from a display name: ``"BTC/USD"`` -> ``"btcusd"``.

    The all-markets ticker and OHLC payloads name the market ``"BTC/USD"`` (reference section 2);
    URLs and channels use ``btcusd``. Perpetuals keep their suffix: ``"BTC/USD-PERP"`` ->
    ``"btcusd-perp"``. A name that is already a symbol is returned unchanged.
    """
    return name.replace("/", "").lower()


@dataclass(frozen=True, slots=True, kw_only=True)
class Ticker:
    """A 24 h ticker (reference 3.1). Keyword-only: thirteen fields are too many to order.

    ``open`` is the first price of the day; ``open_24`` the price 24 h ago. ``open_24``,
    ``percent_change_24`` and ``side`` (last taker side) are absent from older payloads and
    from ``ticker_hour``.
    """

    market: str
    timestamp: int
    last: Decimal
    high: Decimal
    low: Decimal
    vwap: Decimal
    volume: Decimal
    bid: Decimal
    ask: Decimal
    open: Decimal
    open_24: Decimal | None = None
    percent_change_24: Decimal | None = None
    side: Side | None = None


@dataclass(frozen=True, slots=True)
class Trade:
    """One public fill (reference 3.4, 7.4). ``side`` is the taker's side.

    REST transactions carry only seconds (``timestamp_us`` is then a whole second) and no
    order ids; ``live_trades`` frames carry both.
    """

    market: str
    id: int
    price: Decimal
    amount: Decimal
    side: Side
    timestamp_us: int
    buy_order_id: int | None = None
    sell_order_id: int | None = None

    @property
    def timestamp(self) -> int:
        """Unix seconds, as Bitstamp's ``timestamp``/``date`` fields."""
        return self.timestamp_us // 1_000_000


@dataclass(frozen=True, slots=True)
class BookSnapshot:
    """A whole order book (REST ``order_book`` or the ``order_book_*`` channel, reference 3.3).

    ``bids`` descend and ``asks`` ascend by price, as Bitstamp sends them. With ``group=0`` a
    price repeats once per resting order; with ``group=2`` (or ``detail_order_book_*``) the
    order id of row ``i`` is ``bid_order_ids[i]`` / ``ask_order_ids[i]``, otherwise those are
    ``None``.
    """

    market: str
    timestamp_us: int
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    bid_order_ids: tuple[int, ...] | None = None
    ask_order_ids: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        for ids, rows, name in (
            (self.bid_order_ids, self.bids, "bid"),
            (self.ask_order_ids, self.asks, "ask"),
        ):
            if ids is not None and len(ids) != len(rows):
                raise ValueError(f"{len(ids)} {name} order ids for {len(rows)} {name}s")

    @property
    def timestamp(self) -> int:
        """Unix seconds, as Bitstamp's ``timestamp`` field."""
        return self.timestamp_us // 1_000_000


@dataclass(frozen=True, slots=True)
class BookDiff:
    """The levels that changed since the previous diff (``diff_order_book_*``, reference 7.4).

    Amounts are the new absolute total at that price; an amount of zero removes the level.
    Merge with a snapshot by ``timestamp_us`` (reference 7.6).
    """

    market: str
    timestamp_us: int
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]

    @property
    def timestamp(self) -> int:
        """Unix seconds, as Bitstamp's ``timestamp`` field."""
        return self.timestamp_us // 1_000_000


@dataclass(frozen=True, slots=True)
class Candle:
    """One OHLC bar (reference 3.5); ``timestamp`` is the bar's start in Unix seconds."""

    timestamp: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
