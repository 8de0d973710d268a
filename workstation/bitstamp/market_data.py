"""Public market data payloads read: ticker, order book, transactions, OHLC (reference 3.1-3.5).

Wire structs mirror Bitstamp's JSON exactly: public REST sends every number as a string
(reference section 2), so those fields stay ``str`` and go through the strict
``workstation.domain.numbers.parse_decimal``. The simulator writes these payloads in
``workstation.sim.wire.market_data``; the field readers are in ``fields``.

Malformed payloads raise ``PayloadError`` (a ``ProtocolError``) naming what was wrong.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import msgspec

from workstation.bitstamp.fields import TOO_DEEP, PayloadError, book_number, to_int, to_side
from workstation.domain.market_data import (
    BookSnapshot,
    Candle,
    Level,
    Ticker,
    Trade,
    market_symbol,
)
from workstation.domain.numbers import parse_decimal

__all__ = [
    "parse_ohlc",
    "parse_order_book",
    "parse_ticker",
    "parse_tickers",
    "parse_transactions",
]


@contextmanager
def _payload(what: str) -> Iterator[None]:
    """Turn any decoding or value error inside into one PayloadError naming the payload."""
    try:
        yield
    except (msgspec.DecodeError, ValueError, PayloadError) as exc:
        raise PayloadError(f"{what}: {exc}") from exc
    except RecursionError as exc:  # msgspec past the interpreter's depth
        raise PayloadError(f"{what}: {TOO_DEEP}") from exc


def _num(text: str, field: str, *, signed: bool = False) -> Decimal:
    return parse_decimal(text, signed=signed, field=field)


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
        timestamp=to_int(w.timestamp, "timestamp", unsigned=True),
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
        side=None if w.side is None else to_side(w.side, "side", codes_only=True),
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
    return out, tuple([to_int(row[2], f"{side} order id", unsigned=True) for row in rows])


def book_snapshot(w: _RestBookWire, market: str) -> BookSnapshot:
    """Wire book (REST or ``order_book_*`` / ``detail_order_book_*`` data) -> BookSnapshot."""
    bids, bid_ids = book_rows(w.bids, "bids")
    asks, ask_ids = book_rows(w.asks, "asks")
    if (bid_ids is None) != (ask_ids is None) and bids and asks:
        raise PayloadError("order ids on one side of the book only")
    grouped = bid_ids is not None or ask_ids is not None
    return BookSnapshot(
        market=market,
        timestamp_us=to_int(w.microtimestamp, "microtimestamp", unsigned=True),
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
                id=to_int(r.tid, "tid", unsigned=True),
                price=_num(r.price, "price"),
                amount=_num(r.amount, "amount"),
                side=to_side(r.type, codes_only=True),
                timestamp_us=to_int(r.date, "date", unsigned=True) * 1_000_000,
            )
            for r in _TRANSACTIONS.decode(body)
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
                timestamp=to_int(c.timestamp, "timestamp", unsigned=True),
                open=_num(c.open, "open"),
                high=_num(c.high, "high"),
                low=_num(c.low, "low"),
                close=_num(c.close, "close"),
                volume=_num(c.volume, "volume"),
            )
            for c in _OHLC.decode(body).data.ohlc
        ]
