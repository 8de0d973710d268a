"""Public REST payloads recorded from real Bitstamp: parse every one, re-encode byte-exact.

Sources (see the fixtures README): cryptofeed's ``BITSTAMP.http.0.0`` (10 full-depth
``order_book`` snapshots, 2022-01-05), ``BITSTAMP.0`` (trading-pairs-info, for each market's
decimals) and georlav's raw ticker responses (2021-11).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from workstation.bitstamp.market_data import parse_order_book, parse_ticker
from workstation.domain.market_data import BookSnapshot
from workstation.sim.wire.market_data import encode_order_book, encode_ticker

MARKETS = {
    "sgbeur",
    "ethusd",
    "xrpeur",
    "bateur",
    "usdteur",
    "usdtusd",
    "xlmgbp",
    "adaeur",
    "batbtc",
    "galaeur",
}


def _rest_bodies(recorded: Path) -> dict[str, str]:
    """``<url> -> <time>: <json>`` lines -> {market: json text}."""
    bodies = {}
    for line in (recorded / "cryptofeed" / "BITSTAMP.http.0.0").read_text().splitlines():
        if not line.strip():
            continue
        url, rest = line.split(" -> ", 1)
        _, body = rest.split(": ", 1)
        bodies[url.rstrip("/").rsplit("/", 1)[1]] = body
    return bodies


def _decimals(recorded: Path) -> dict[str, tuple[int, int]]:
    """{market: (base_decimals, counter_decimals)} from the recorded trading-pairs-info."""
    line = (recorded / "cryptofeed" / "BITSTAMP.0").read_text().splitlines()[0]
    rows = json.loads(line.split(": ", 1)[1])
    return {r["url_symbol"]: (r["base_decimals"], r["counter_decimals"]) for r in rows}


def _http_body(path: Path) -> str:
    """The body of a raw recorded HTTP response (after the blank line)."""
    return path.read_text().split("\n\n", 1)[1]


@pytest.fixture
def books(recorded: Path) -> dict[str, BookSnapshot]:
    return {m: parse_order_book(body, m) for m, body in _rest_bodies(recorded).items()}


def test_all_ten_snapshots_parse(books: dict[str, BookSnapshot]) -> None:
    assert set(books) == MARKETS
    for market, book in books.items():
        assert book.market == market
        assert len(book.bids) > 0
        assert len(book.asks) > 0
        assert book.bid_order_ids is None
        assert book.ask_order_ids is None


def test_ethusd_snapshot_values(books: dict[str, BookSnapshot]) -> None:
    book = books["ethusd"]
    assert book.timestamp_us == 1641343695681418
    assert book.timestamp == 1641343695
    assert (len(book.bids), len(book.asks)) == (2023, 1971)
    assert book.bids[0] == (Decimal("3802.90"), Decimal("0.60000000"))
    assert book.bids[1] == (Decimal("3802.89"), Decimal("3.23948640"))
    assert book.asks[0] == (Decimal("3805.47"), Decimal("8.26964788"))
    assert book.bids[-1] == (Decimal("0.01"), Decimal("5987.00000000"))
    assert book.asks[-1] == (Decimal("9999999999.00"), Decimal("0.00100000"))


def test_small_prices_and_five_decimal_amounts_are_exact(books: dict[str, BookSnapshot]) -> None:
    batbtc = books["batbtc"]
    assert batbtc.bids[0] == (Decimal("0.00002835"), Decimal("7159.36203756"))
    assert batbtc.bids[-1][0] == Decimal("0.00000001")
    usdteur = books["usdteur"]
    price, amount = usdteur.bids[0]
    # The wire text survives exactly, trailing zeros and all: no float on the way.
    assert (str(price), str(amount)) == ("0.88596", "6731.50703")
    assert (len(usdteur.bids), len(usdteur.asks)) == (89, 41)


def test_bids_strictly_descend_and_asks_ascend(books: dict[str, BookSnapshot]) -> None:
    for market, book in books.items():
        bid_prices = [p for p, _ in book.bids]
        ask_prices = [p for p, _ in book.asks]
        assert all(a > b for a, b in zip(bid_prices, bid_prices[1:], strict=False)), market
        assert all(a < b for a, b in zip(ask_prices, ask_prices[1:], strict=False)), market
        assert bid_prices[0] < ask_prices[0], market
        assert all(amount > 0 for _, amount in book.bids + book.asks), market


def test_encode_order_book_reproduces_every_recorded_snapshot(recorded: Path) -> None:
    """Parse, then encode with the market's decimals: the JSON is identical, row by row."""
    decimals = _decimals(recorded)
    for market, body in _rest_bodies(recorded).items():
        base, counter = decimals[market]
        encoded = encode_order_book(parse_order_book(body, market), base, counter)
        assert encoded == json.loads(body), market
        assert list(encoded) == ["timestamp", "microtimestamp", "bids", "asks"]


def test_recorded_ticker(recorded: Path) -> None:
    body = _http_body(recorded / "georlav" / "getticker_200.txt")
    ticker = parse_ticker(body, "btcusd")
    assert ticker.market == "btcusd"
    assert ticker.timestamp == 1637503449
    assert ticker.last == Decimal("52261.99")
    assert (ticker.bid, ticker.ask) == (Decimal("52236.68"), Decimal("52257.92"))
    assert ticker.volume == Decimal("453.15776854")
    assert (ticker.high, ticker.low, ticker.open) == (
        Decimal("53130.00"),
        Decimal("50986.00"),
        Decimal("53027.17"),
    )
    # A 2021 ticker predates side/open_24/percent_change_24 (reference 3.1).
    assert (ticker.side, ticker.open_24, ticker.percent_change_24) == (None, None, None)
    # Re-encoded with BTC/USD's decimals it carries the same keys and exact strings.
    assert encode_ticker(ticker, 8, 2) == json.loads(body)


def test_recorded_hourly_ticker(recorded: Path) -> None:
    body = _http_body(recorded / "georlav" / "gettickerhourly_200.txt")
    ticker = parse_ticker(body, "usdcusd")
    assert ticker.last == Decimal("0.99105")
    assert ticker.vwap == Decimal("0.99095")
    assert encode_ticker(ticker, 8, 5) == json.loads(body)
