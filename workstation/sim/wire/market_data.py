"""Public market data payloads written for the simulator to serve (reference 3.1-3.5).

Plain JSON-ready objects with Bitstamp's keys, key order and types, every number a string
formatted with the market's decimals. Kept apart from the parsers in
``workstation.bitstamp.market_data`` because only the server side writes them: the
workstation reads, the simulator writes, and neither needs the other's half.
``book_side_rows`` also builds the rows of the stream's book frames (``stream_frames``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, Protocol

from ...domain.market_data import BookSnapshot, Candle, Level, Ticker, Trade
from ...domain.numbers import format_decimal

__all__ = [
    "TradeColumns",
    "book_side_rows",
    "encode_ohlc",
    "encode_order_book",
    "encode_ticker",
    "encode_transaction_rows",
    "encode_transactions",
]


class TradeColumns(Protocol):
    """A trade tape's integer columns (``workstation.sim.tape.TradeTape``)."""

    @property
    def times(self) -> Sequence[int]: ...
    @property
    def ids(self) -> Sequence[int]: ...
    @property
    def amounts(self) -> Sequence[int]: ...
    @property
    def prices(self) -> Sequence[int]: ...
    @property
    def sides(self) -> Sequence[int]: ...


def _fmt(value: Decimal, places: int) -> str:
    return format_decimal(value, places)


# --- ticker (reference 3.1, 3.2) ---------------------------------------------------------


def encode_ticker(
    t: Ticker, base_decimals: int, quote_decimals: int, *, market_name: str | None = None
) -> dict[str, Any]:
    """Ticker -> Bitstamp's JSON object (key order of a 2024 capture, all values strings).

    Pass ``market_name`` (``"BTC/USD"``) for a row of the all-markets ticker, which adds
    ``pair`` and ``market``. Fields that are ``None`` are left out, as in older payloads.
    """
    q = quote_decimals
    out: dict[str, Any] = {
        "timestamp": str(t.timestamp),
        "open": _fmt(t.open, q),
        "high": _fmt(t.high, q),
        "low": _fmt(t.low, q),
        "last": _fmt(t.last, q),
        "volume": _fmt(t.volume, base_decimals),
        "vwap": _fmt(t.vwap, q),
        "bid": _fmt(t.bid, q),
        "ask": _fmt(t.ask, q),
    }
    if t.side is not None:
        out["side"] = str(t.side.code)
    if t.open_24 is not None:
        out["open_24"] = _fmt(t.open_24, q)
    if t.percent_change_24 is not None:
        out["percent_change_24"] = _fmt(t.percent_change_24, 2)
    if market_name is not None:
        out["pair"] = market_name
        out["market"] = market_name
    return out


# --- order book (reference 3.3) ----------------------------------------------------------


def _grouped(rows: Sequence[Level], limit: int | None) -> list[Level]:
    """Merge adjacent rows at the same price (a per-order book shown as group 1).

    Stops after ``limit`` distinct prices so a top-100 frame does not walk a deep book.
    """
    out: list[Level] = []
    for price, amount in rows:
        if out and out[-1][0] == price:
            out[-1] = (price, out[-1][1] + amount)
        elif limit is not None and len(out) == limit:
            break
        else:
            out.append((price, amount))
    return out


def book_side_rows(
    rows: Sequence[Level],
    ids: Sequence[int] | None,
    base_decimals: int,
    quote_decimals: int,
    group: int,
    *,
    limit: int | None = None,
) -> list[list[str]]:
    """Levels -> Bitstamp rows of strings for ``group`` 0, 1 (aggregated) or 2 (with ids).

    ``limit`` keeps only the first rows (price levels for group 1).
    """
    if group == 2:
        if ids is None:
            raise ValueError("group=2 needs a snapshot with order ids")
        return [
            [_fmt(p, quote_decimals), _fmt(a, base_decimals), str(i)]
            for (p, a), i in zip(rows[:limit], ids[:limit], strict=True)
        ]
    if group == 1:
        rows = _grouped(rows, limit)
    elif group == 0:
        rows = rows[:limit]
    else:
        raise ValueError(f"group must be 0, 1 or 2, not {group!r}")
    return [[_fmt(p, quote_decimals), _fmt(a, base_decimals)] for p, a in rows]


def encode_order_book(
    snapshot: BookSnapshot, base_decimals: int, quote_decimals: int, group: int = 1
) -> dict[str, Any]:
    """BookSnapshot -> the REST ``order_book`` object (timestamps and numbers as strings).

    ``group=1`` merges rows that share a price; ``group=0`` writes rows as they are;
    ``group=2`` appends each row's order id and needs a snapshot that has them.
    """
    return {
        "timestamp": str(snapshot.timestamp),
        "microtimestamp": str(snapshot.timestamp_us),
        "bids": book_side_rows(
            snapshot.bids, snapshot.bid_order_ids, base_decimals, quote_decimals, group
        ),
        "asks": book_side_rows(
            snapshot.asks, snapshot.ask_order_ids, base_decimals, quote_decimals, group
        ),
    }


# --- transactions (reference 3.4) --------------------------------------------------------


def encode_transactions(
    trades: Iterable[Trade], base_decimals: int, quote_decimals: int
) -> list[dict[str, str]]:
    """Trades (pass them newest first) -> the REST ``transactions`` array, all strings."""
    return [
        {
            "date": str(t.timestamp),
            "tid": str(t.id),
            "amount": _fmt(t.amount, base_decimals),
            "price": _fmt(t.price, quote_decimals),
            "type": str(t.side.code),
        }
        for t in trades
    ]


def encode_transaction_rows(
    columns: TradeColumns, start: int, end: int, base_decimals: int, quote_decimals: int
) -> bytes:
    """Rows ``start`` to ``end`` (exclusive) of a trade tape's integer columns, newest first,
    as the comma-joined items of the ``transactions`` array: exactly the bytes that
    ``dumps(encode_transactions(...))`` writes between its brackets. Written from integers
    because a day is 35,000 items, too many to build as objects for every request."""
    times, ids, amounts, prices, sides = (
        columns.times,
        columns.ids,
        columns.amounts,
        columns.prices,
        columns.sides,
    )
    items = [
        f'{{"date":"{times[i] // 1_000_000}","tid":"{ids[i]}",'
        f'"amount":"{_units_text(amounts[i], base_decimals)}",'
        f'"price":"{_units_text(prices[i], quote_decimals)}","type":"{sides[i]}"}}'
        for i in range(end - 1, start - 1, -1)
    ]
    return ",".join(items).encode("ascii")


def _units_text(units: int, places: int) -> str:
    """A count of 10**-places (not negative) as text with exactly ``places`` decimals."""
    if not places:
        return str(units)
    digits = str(units).rjust(places + 1, "0")
    return f"{digits[:-places]}.{digits[-places:]}"


# --- OHLC (reference 3.5) ----------------------------------------------------------------


def encode_ohlc(
    market_name: str, candles: Iterable[Candle], base_decimals: int, quote_decimals: int
) -> dict[str, Any]:
    """Candles (oldest first) -> ``{"data": {"pair", "market", "ohlc": [...]}}``, all strings.

    ``market_name`` is the display name (``"BTC/USD"``) that Bitstamp puts in ``pair``.
    """
    q = quote_decimals
    return {
        "data": {
            "pair": market_name,
            "market": market_name,
            "ohlc": [
                {
                    "timestamp": str(c.timestamp),
                    "open": _fmt(c.open, q),
                    "high": _fmt(c.high, q),
                    "low": _fmt(c.low, q),
                    "close": _fmt(c.close, q),
                    "volume": _fmt(c.volume, base_decimals),
                }
                for c in candles
            ],
        }
    }
