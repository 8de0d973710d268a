"""Public REST payloads: ticker, order book, transactions, OHLC, parsed and encoded.

Wire structs mirror Bitstamp's JSON exactly: public REST sends every number as a string
(reference section 2), so those fields stay ``str`` and go through the strict
``workstation.domain.numbers.parse_decimal``. Encoders do the reverse for the simulator: plain
JSON-ready objects with Bitstamp's keys, key order and types, numbers formatted with the
market's decimals (reference 3.1-3.5).

Malformed payloads raise ``PayloadError`` (a ``ValueError``) naming what was wrong.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from functools import lru_cache
from typing import Any

import msgspec

from workstation.domain.common import Side
from workstation.domain.market_data import (
    BookSnapshot,
    Candle,
    Level,
    Ticker,
    Trade,
    market_symbol,
)
from workstation.domain.numbers import MAX_NUMBER_LENGTH, format_decimal, parse_decimal

__all__ = [
    "PayloadError",
    "encode_ohlc",
    "encode_order_book",
    "encode_ticker",
    "encode_transactions",
    "parse_ohlc",
    "parse_order_book",
    "parse_ticker",
    "parse_tickers",
    "parse_transactions",
]


class PayloadError(ValueError):
    """A Bitstamp payload is not valid JSON, lacks a field, or carries a bad value."""


# --- shared strict helpers (also used by codec_stream) -----------------------------------

# The same rule as numbers.parse_decimal(signed=False), inlined so the hot path of book frames
# skips a function call per number; any text it rejects goes through parse_decimal for the
# trader-readable message, so acceptance and errors stay exactly parse_decimal's.
_PLAIN = re.compile(r"[0-9]+(?:\.[0-9]+)?", re.ASCII).fullmatch


@lru_cache(maxsize=8192)
def book_number(text: str) -> Decimal:
    """Strictly parse an unsigned price or amount, memoised.

    Book levels repeat the same price and amount texts frame after frame (a level's price,
    ``"0.00000000"`` for deletes); caching the immutable Decimal roughly doubles diff decoding
    speed. Raises ``NumberFormatError`` like ``parse_decimal``.
    """
    if _PLAIN(text) is None or len(text) > MAX_NUMBER_LENGTH:
        return parse_decimal(text)  # raises with the precise reason
    return Decimal(text)


def levels(rows: Iterable[tuple[str, str]]) -> tuple[Level, ...]:
    """``[["3802.90", "0.60000000"], ...]`` -> ``((Decimal, Decimal), ...)`` in wire order."""
    return tuple([(book_number(price), book_number(amount)) for price, amount in rows])


def parse_uint(text: str, field: str) -> int:
    """A non-negative integer sent as text (``"1641343695572693"``), ASCII digits only.

    ``int()`` alone would accept ``" 12"``, ``"1_000"``, ``"+5"`` and non-ASCII digits.
    """
    if not (text.isascii() and text.isdigit()) or len(text) > MAX_NUMBER_LENGTH:
        raise PayloadError(f"{field} is not a whole number: {text!r}")
    return int(text)


def side_from_code(code: str | int, field: str = "type") -> Side:
    """Bitstamp's ``0``/``1`` (string or int) -> Side, as a PayloadError when unknown."""
    try:
        return Side.from_code(code)
    except ValueError as exc:
        raise PayloadError(f"{field} must be 0 or 1, not {code!r}") from exc


@contextmanager
def _payload(what: str) -> Iterator[None]:
    """Turn any decoding or value error inside into one PayloadError naming the payload."""
    try:
        yield
    except (msgspec.DecodeError, ValueError) as exc:
        raise PayloadError(f"{what}: {exc}") from exc


def _num(text: str, field: str, *, signed: bool = False) -> Decimal:
    return parse_decimal(text, signed=signed, field=field)


def _fmt(value: Decimal, places: int) -> str:
    return format_decimal(value, places)


# --- ticker (reference 3.1, 3.2) ---------------------------------------------------------


class _TickerWire(msgspec.Struct, kw_only=True):
    timestamp: str
    open: str
    high: str
    low: str
    last: str
    volume: str
    vwap: str
    bid: str
    ask: str
    side: str | int | None = None
    open_24: str | None = None
    percent_change_24: str | None = None
    market: str | None = None
    pair: str | None = None


_TICKER = msgspec.json.Decoder(_TickerWire)
_TICKERS = msgspec.json.Decoder(list[_TickerWire])


def _ticker(w: _TickerWire, market: str) -> Ticker:
    return Ticker(
        market=market,
        timestamp=parse_uint(w.timestamp, "timestamp"),
        last=_num(w.last, "last"),
        high=_num(w.high, "high"),
        low=_num(w.low, "low"),
        vwap=_num(w.vwap, "vwap"),
        volume=_num(w.volume, "volume"),
        bid=_num(w.bid, "bid"),
        ask=_num(w.ask, "ask"),
        open=_num(w.open, "open"),
        open_24=None if w.open_24 is None else _num(w.open_24, "open_24"),
        percent_change_24=(
            None
            if w.percent_change_24 is None
            else _num(w.percent_change_24, "percent_change_24", signed=True)
        ),
        side=None if w.side is None else side_from_code(w.side, "side"),
    )


def parse_ticker(body: bytes | str, market: str) -> Ticker:
    """``GET /api/v2/ticker/{market}/`` (or ``ticker_hour``) -> Ticker for ``market``."""
    with _payload(f"ticker {market}"):
        return _ticker(_TICKER.decode(body), market)


def parse_tickers(body: bytes | str) -> list[Ticker]:
    """``GET /api/v2/ticker/`` (all markets) -> one Ticker per row, market from its name."""
    with _payload("tickers"):
        out = []
        for row in _TICKERS.decode(body):
            name = row.market or row.pair
            if not name:
                raise ValueError("ticker row without market or pair")
            out.append(_ticker(row, market_symbol(name)))
        return out


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


class _RestBookWire(msgspec.Struct):
    timestamp: str
    microtimestamp: str
    bids: list[list[str]]
    asks: list[list[str]]


_REST_BOOK = msgspec.json.Decoder(_RestBookWire)


def book_rows(rows: list[list[str]], side: str) -> tuple[tuple[Level, ...], tuple[int, ...] | None]:
    """Rows of ``[price, amount]`` or ``[price, amount, order_id]`` (group 2) -> levels, ids."""
    if not rows:
        return (), None
    width = len(rows[0])
    if width not in (2, 3) or any(len(row) != width for row in rows):
        raise PayloadError(f"{side} rows must all be [price, amount] or [price, amount, id]")
    out = tuple([(book_number(row[0]), book_number(row[1])) for row in rows])
    if width == 2:
        return out, None
    return out, tuple([parse_uint(row[2], f"{side} order id") for row in rows])


def book_snapshot(w: _RestBookWire, market: str) -> BookSnapshot:
    """Wire book (REST or ``order_book_*`` / ``detail_order_book_*`` data) -> BookSnapshot."""
    bids, bid_ids = book_rows(w.bids, "bids")
    asks, ask_ids = book_rows(w.asks, "asks")
    if (bid_ids is None) != (ask_ids is None) and bids and asks:
        raise PayloadError("order ids on one side of the book only")
    grouped = bid_ids is not None or ask_ids is not None
    return BookSnapshot(
        market=market,
        timestamp_us=parse_uint(w.microtimestamp, "microtimestamp"),
        bids=bids,
        asks=asks,
        bid_order_ids=(bid_ids or ()) if grouped else None,
        ask_order_ids=(ask_ids or ()) if grouped else None,
    )


def parse_order_book(body: bytes | str, market: str) -> BookSnapshot:
    """``GET /api/v2/order_book/{market}/?group=0|1|2`` -> BookSnapshot, rows in wire order.

    Group 0 keeps every row (prices repeat, one per order); group 2 fills the order ids.
    """
    with _payload(f"order_book {market}"):
        return book_snapshot(_REST_BOOK.decode(body), market)


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


class _TransactionWire(msgspec.Struct):
    date: str
    tid: str | int
    price: str
    amount: str
    type: str | int


_TRANSACTIONS = msgspec.json.Decoder(list[_TransactionWire])


def parse_transactions(body: bytes | str, market: str) -> list[Trade]:
    """``GET /api/v2/transactions/{market}/`` -> Trades, newest first as Bitstamp sends them.

    Only whole seconds are known: ``timestamp_us`` is ``date * 1_000_000``.
    """
    with _payload(f"transactions {market}"):
        return [
            Trade(
                market=market,
                id=parse_uint(str(r.tid), "tid"),
                price=_num(r.price, "price"),
                amount=_num(r.amount, "amount"),
                side=side_from_code(r.type),
                timestamp_us=parse_uint(r.date, "date") * 1_000_000,
            )
            for r in _TRANSACTIONS.decode(body)
        ]


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


# --- OHLC (reference 3.5) ----------------------------------------------------------------


class _CandleWire(msgspec.Struct):
    timestamp: str
    open: str
    high: str
    low: str
    close: str
    volume: str


class _OhlcData(msgspec.Struct):
    ohlc: list[_CandleWire]
    pair: str | None = None
    market: str | None = None


class _OhlcWire(msgspec.Struct):
    data: _OhlcData


_OHLC = msgspec.json.Decoder(_OhlcWire)


def parse_ohlc(body: bytes | str) -> list[Candle]:
    """``GET /api/v2/ohlc/{market}/`` -> Candles, oldest first as Bitstamp sends them."""
    with _payload("ohlc"):
        return [
            Candle(
                timestamp=parse_uint(c.timestamp, "timestamp"),
                open=_num(c.open, "open"),
                high=_num(c.high, "high"),
                low=_num(c.low, "low"),
                close=_num(c.close, "close"),
                volume=_num(c.volume, "volume"),
            )
            for c in _OHLC.decode(body).data.ohlc
        ]


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
