"""Market codec against real recorded Bitstamp traffic, round trips, wire errors and ccxt.

The recording is cryptofeed's ``sample_data/BITSTAMP.0``: the ``trading-pairs-info`` reply of
2022-01-05 (reference 3.7, 10), one line ``<url> -> <unix time>: <json>``.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from workstation.bitstamp.errors import ProtocolError
from workstation.bitstamp.markets import MarketCodecError, parse_markets, parse_trading_pairs_info
from workstation.domain.markets import Market
from workstation.sim.wire.markets import encode_markets, encode_trading_pairs_info

PAIRS_INFO_URL = "https://www.bitstamp.net/api/v2/trading-pairs-info/"


def recorded_body(folder: Path) -> bytes:
    """The JSON payload of the recorded trading-pairs-info reply."""
    text = (folder / "cryptofeed" / "BITSTAMP.0").read_text(encoding="utf-8")
    for line in text.splitlines():
        head, sep, payload = line.partition(": ")
        if sep and head.startswith(f"{PAIRS_INFO_URL} -> "):
            return payload.encode()
    raise AssertionError("no trading-pairs-info line in BITSTAMP.0")


@pytest.fixture
def body(recorded: Path) -> bytes:
    return recorded_body(recorded)


@pytest.fixture
def markets(body: bytes) -> list[Market]:
    return parse_trading_pairs_info(body)


def as_body(rows: list[dict[str, Any]]) -> bytes:
    return json.dumps(rows).encode()


def by_symbol(markets: list[Market]) -> dict[str, Market]:
    return {m.symbol: m for m in markets}


# --- the recorded reply ---------------------------------------------------------------------


def test_parses_every_recorded_row(markets: list[Market]) -> None:
    assert len(markets) == 140
    assert len(by_symbol(markets)) == 140
    assert all(m.market_type == "SPOT" for m in markets)
    assert all(m.trading_enabled for m in markets)  # 2022: no pair was halted
    assert sum(not m.instant_and_market_enabled for m in markets) == 36


def test_btcusd(markets: list[Market]) -> None:
    assert by_symbol(markets)["btcusd"] == Market(
        symbol="btcusd",
        base="BTC",
        quote="USD",
        base_decimals=8,
        quote_decimals=2,
        instant_quote_decimals=2,  # absent in 2022: falls back to the quote decimals
        minimum_order_value=Decimal("20.0"),
        trading_enabled=True,
        instant_and_market_enabled=True,
        description="Bitcoin / U.S. dollar",
    )
    assert markets[0].symbol == "btcusd"  # the reply's order is kept


def test_rows_with_other_rules(markets: list[Market]) -> None:
    pairs = by_symbol(markets)
    gbpeur = pairs["gbpeur"]
    assert (gbpeur.base, gbpeur.quote, gbpeur.name) == ("GBP", "EUR", "GBP/EUR")
    assert (gbpeur.base_decimals, gbpeur.quote_decimals) == (5, 5)
    assert gbpeur.instant_and_market_enabled is False
    assert gbpeur.trading_enabled is True
    assert gbpeur.tick == Decimal("0.00001")

    batbtc = pairs["batbtc"]
    assert batbtc.minimum_order_value == Decimal("0.0002")
    assert batbtc.quote == "BTC"
    assert pairs["eth2eth"].minimum_order_value == Decimal("0.005")
    assert pairs["eth2eth"].base == "ETH2"
    assert pairs["slpusd"].base_decimals == 0
    assert pairs["slpusd"].lot == Decimal(1)
    assert pairs["dydxusd"].quote_decimals == 3
    assert pairs["xrpusd"].quote_decimals == 5


def test_legacy_encoding_reproduces_the_recorded_rows(body: bytes, markets: list[Market]) -> None:
    original = json.loads(body)
    encoded = encode_trading_pairs_info(markets)
    assert len(encoded) == len(original)
    for sent, ours in zip(original, encoded, strict=True):
        # Every key Bitstamp sent comes back with the same JSON value and type; ours adds
        # only instant_order_counter_decimals, which later replies carry (reference 3.7).
        assert {key: ours[key] for key in sent} == sent
        assert set(ours) - set(sent) == {"instant_order_counter_decimals"}


def test_legacy_round_trip(markets: list[Market]) -> None:
    assert parse_trading_pairs_info(as_body(encode_trading_pairs_info(markets))) == markets


def test_markets_round_trip(markets: list[Market]) -> None:
    assert parse_markets(as_body(encode_markets(markets))) == markets


# --- GET /api/v2/markets/ rows --------------------------------------------------------------


def test_encode_markets_row_is_bitstamps_shape(markets: list[Market]) -> None:
    pairs = by_symbol(markets)
    rows = encode_markets([pairs["btcusd"], pairs["batbtc"], pairs["gbpeur"]])
    assert rows[0] == {
        "name": "BTC/USD",
        "market_symbol": "btcusd",
        "base_currency": "BTC",
        "base_decimals": 8,
        "counter_currency": "USD",
        "counter_decimals": 2,
        "minimum_order_value": "20.00",
        "trading": "Enabled",
        "instant_order_counter_decimals": 2,
        "instant_and_market_orders": "Enabled",
        "description": "Bitcoin / U.S. dollar",
        "market_type": "SPOT",
    }
    assert rows[1]["minimum_order_value"] == "0.00020000"
    assert rows[2]["instant_and_market_orders"] == "Disabled"


def real_markets_row(**changes: Any) -> dict[str, Any]:
    """A current MarketSchema row (reference 3.6), with extra keys Bitstamp may add."""
    row: dict[str, Any] = {
        "name": "ETH/USD",
        "market_symbol": "ethusd",
        "base_currency": "ETH",
        "base_decimals": 8,
        "counter_currency": "USD",
        "counter_decimals": 2,
        "minimum_order_value": "10",
        "maximum_order_value": "500000.00000000",
        "minimum_order_amount": "0.00001000",
        "trading": "Enabled",
        "instant_order_counter_decimals": 2,
        "instant_and_market_orders": "Disabled",
        "description": "Ether / U.S. dollar",
        "market_type": "SPOT",
        "tick_size": "0.01",
        "something_new": {"nested": [1, 2]},
    }
    row.update(changes)
    return row


def test_parse_markets_tolerates_unknown_keys() -> None:
    [market] = parse_markets(as_body([real_markets_row()]))
    assert market == Market(
        symbol="ethusd",
        base="ETH",
        quote="USD",
        base_decimals=8,
        quote_decimals=2,
        instant_quote_decimals=2,
        minimum_order_value=Decimal("10"),
        trading_enabled=True,
        instant_and_market_enabled=False,
        description="Ether / U.S. dollar",
    )


def test_parse_markets_keeps_derivative_rows() -> None:
    perp = real_markets_row(
        name="BTC/USD-PERP",
        market_symbol="btcusd-perp",
        base_currency="BTC",
        base_decimals=5,
        counter_decimals=0,
        description="Bitcoin / U.S. dollar Perpetual",
        market_type="PERPETUAL",
        payoff_type="Linear",
    )
    [market] = parse_markets(as_body([perp]))
    assert (market.symbol, market.market_type, market.quote_decimals) == (
        "btcusd-perp",
        "PERPETUAL",
        0,
    )
    assert encode_trading_pairs_info([market]) == []  # the legacy endpoint is spot only


def test_empty_list() -> None:
    assert parse_markets(b"[]") == []
    assert parse_trading_pairs_info(b"[]") == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "markets: JSON is malformed"),
        (b'{"status": "error", "reason": "x"}', "markets: Expected `array`, got `object`"),
        (
            as_body([{k: v for k, v in real_markets_row().items() if k != "trading"}]),
            "Object missing required field `trading` - at `$[0]`",
        ),
        (
            as_body([real_markets_row(base_decimals="8")]),
            "Expected `int`, got `str` - at `$[0].base_decimals`",
        ),
        (
            as_body([real_markets_row(base_decimals=8.0)]),
            "Expected `int`, got `float` - at `$[0].base_decimals`",
        ),
        (as_body([real_markets_row(counter_decimals=-1)]), "`$[0].counter_decimals`"),
        (
            as_body([real_markets_row(minimum_order_value=10)]),
            "Expected `str`, got `int` - at `$[0].minimum_order_value`",
        ),
        (
            as_body([real_markets_row(trading="enabled")]),
            "Invalid enum value 'enabled' - at `$[0].trading`",
        ),
        (
            as_body([real_markets_row(), real_markets_row(minimum_order_value="1e1")]),
            "market row 1 ('ethusd'): minimum_order_value must be written out in full",
        ),
        (
            as_body([real_markets_row(minimum_order_value="NaN")]),
            "market row 0 ('ethusd'): minimum_order_value must be a number, not 'NaN'",
        ),
        (
            as_body([real_markets_row(market_symbol="")]),
            "market row 0 (''): market symbol is empty",
        ),
    ],
)
def test_parse_markets_wire_errors(body: bytes, message: str) -> None:
    with pytest.raises(MarketCodecError) as info:
        parse_markets(body)
    assert message in str(info.value)
    assert isinstance(info.value, ProtocolError)  # in the error tree, not a bare ValueError


def legacy_row(**changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "trading": "Enabled",
        "base_decimals": 8,
        "url_symbol": "btcusd",
        "name": "BTC/USD",
        "instant_and_market_orders": "Enabled",
        "minimum_order": "20.0 USD",
        "counter_decimals": 2,
        "description": "Bitcoin / U.S. dollar",
    }
    row.update(changes)
    return row


def test_legacy_row_with_instant_decimals() -> None:
    [market] = parse_trading_pairs_info(as_body([legacy_row(instant_order_counter_decimals=0)]))
    assert market.instant_quote_decimals == 0
    assert market.quote_decimals == 2


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (legacy_row(name="BTCUSD"), "market row 0 ('btcusd'): name must look like 'BTC/USD'"),
        (legacy_row(name="BTC/USD/X"), "name must look like 'BTC/USD', not 'BTC/USD/X'"),
        (legacy_row(name="/USD"), "name must look like 'BTC/USD', not '/USD'"),
        (legacy_row(minimum_order="20.0"), "minimum order must look like '20.0 USD'"),
        (legacy_row(minimum_order="20,0 USD"), 'minimum order must use "." as the decimal'),
        (legacy_row(minimum_order="20.0 EUR"), "minimum_order '20.0 EUR' is not in the quote"),
        (legacy_row(minimum_order=20), "Expected `str`, got `int` - at `$[0].minimum_order`"),
        (legacy_row(instant_and_market_orders=True), "at `$[0].instant_and_market_orders`"),
        (
            {k: v for k, v in legacy_row().items() if k != "url_symbol"},
            "Object missing required field `url_symbol`",
        ),
    ],
)
def test_parse_trading_pairs_info_wire_errors(row: dict[str, Any], message: str) -> None:
    with pytest.raises(MarketCodecError) as info:
        parse_trading_pairs_info(as_body([row]))
    assert message in str(info.value)


def test_encoding_keeps_descriptions_ccxt_can_split() -> None:
    [market] = parse_markets(as_body([real_markets_row(description="Ether")]))
    assert market.description == "Ether"
    [row] = encode_markets([market])
    assert row["description"] == "ETH / USD"


def test_minimum_value_keeps_decimals_beyond_the_quote_decimals() -> None:
    [market] = parse_markets(as_body([real_markets_row(minimum_order_value="10.005")]))
    [row] = encode_markets([market])
    assert row["minimum_order_value"] == "10.005"
    [legacy] = encode_trading_pairs_info([market])
    assert legacy["minimum_order"] == "10.005 USD"


# --- ccxt reads what we serve (reference 3.6, 9.1) -------------------------------------------


def test_ccxt_load_markets_accepts_encode_markets(markets: list[Market]) -> None:
    ccxt = pytest.importorskip("ccxt")
    exchange = ccxt.bitstamp()
    served = json.loads(as_body(encode_markets(markets)))
    # No network: hand ccxt the parsed JSON it would have fetched from GET /api/v2/markets/.
    exchange.publicGetMarkets = lambda params=None: served
    loaded = exchange.load_markets()

    assert len(loaded) == 140
    btc = loaded["BTC/USD"]
    assert btc["id"] == "btcusd"
    assert btc["spot"] is True
    assert btc["active"] is True
    assert btc["precision"] == {"amount": 1e-08, "price": 0.01}
    assert btc["limits"]["cost"]["min"] == 20.0
    assert loaded["GBP/EUR"]["precision"]["price"] == 1e-05
    assert exchange.currencies["BTC"]["name"] == "Bitcoin"
    assert exchange.currencies["USD"]["name"] == "U.S. dollar"
