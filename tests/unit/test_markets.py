"""Market rules: the Market value, the legacy minimum text, and validate_order's problems."""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal

import pytest

from workstation.domain.common import Side
from workstation.domain.markets import (
    Market,
    Problem,
    amount_currency,
    amount_decimals,
    parse_minimum_order,
    validate_order,
)
from workstation.domain.order_vocabulary import OrderKind

BTCUSD = Market(
    symbol="btcusd",
    base="BTC",
    quote="USD",
    base_decimals=8,
    quote_decimals=2,
    instant_quote_decimals=2,
    minimum_order_value=Decimal("10"),
    trading_enabled=True,
    instant_and_market_enabled=True,
    description="Bitcoin / U.S. dollar",
)

# Quote decimals differ from instant decimals, so the tests can tell which one applies.
XRPUSD = Market(
    symbol="xrpusd",
    base="XRP",
    quote="USD",
    base_decimals=8,
    quote_decimals=5,
    instant_quote_decimals=2,
    minimum_order_value=Decimal("10"),
    trading_enabled=True,
    instant_and_market_enabled=True,
    description="XRP / U.S. dollar",
)

HUNDRED = Decimal(100)
LIMIT, MARKET, INSTANT = OrderKind.LIMIT, OrderKind.MARKET, OrderKind.INSTANT
BUY, SELL = Side.BUY, Side.SELL


def messages(problems: list[Problem]) -> list[str]:
    return [p.message for p in problems]


# --- Market ---------------------------------------------------------------------------------


def test_market_properties() -> None:
    assert BTCUSD.name == "BTC/USD"
    assert BTCUSD.tick == Decimal("0.01")
    assert BTCUSD.lot == Decimal("0.00000001")
    assert BTCUSD.market_type == "SPOT"
    assert XRPUSD.tick == Decimal("0.00001")


def test_market_is_frozen_and_slotted() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        BTCUSD.base_decimals = 2  # type: ignore[misc]
    assert not hasattr(BTCUSD, "__dict__")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"symbol": ""}, "market symbol is empty"),
        ({"quote": ""}, "market quote is empty"),
        ({"base_decimals": -1}, "base_decimals must be a whole number >= 0"),
        ({"quote_decimals": True}, "quote_decimals must be a whole number >= 0"),
        ({"minimum_order_value": Decimal("-1")}, "minimum_order_value must be a Decimal >= 0"),
        ({"minimum_order_value": Decimal("NaN")}, "minimum_order_value must be a Decimal >= 0"),
        ({"minimum_order_value": 10.0}, "minimum_order_value must be a Decimal >= 0"),
    ],
)
def test_market_refuses_nonsense(change: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(BTCUSD, **change)


# --- parse_minimum_order --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value", "currency"),
    [
        ("20.0 USD", Decimal("20.0"), "USD"),
        ("0.0002 BTC", Decimal("0.0002"), "BTC"),
        ("0.005 ETH", Decimal("0.005"), "ETH"),
        ("20.0 USDT", Decimal("20"), "USDT"),
        ("10 EUR", Decimal("10"), "EUR"),
    ],
)
def test_parse_minimum_order(text: str, value: Decimal, currency: str) -> None:
    assert parse_minimum_order(text) == (value, currency)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("20.0", "minimum order must look like '20.0 USD', not '20.0'"),
        ("20.0  USD", "minimum order must look like '20.0 USD', not '20.0  USD'"),
        ("USD 20.0", "minimum order is not a number: 'USD' (in 'USD 20.0')"),
        ("2e1 USD", "minimum order must be written out in full, without an exponent"),
        ("20.0 usd", "minimum order currency must be an upper-case code like 'USD', not 'usd'"),
        ("20.0 US$", "not 'US$'"),
        ("", "minimum order must look like '20.0 USD', not ''"),
        ("-20.0 USD", "minimum order cannot be negative"),
    ],
)
def test_parse_minimum_order_is_strict(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_minimum_order(text)


# --- amount decimals and currency per order kind --------------------------------------------


@pytest.mark.parametrize(
    ("kind", "side", "in_quote", "places", "currency"),
    [
        (LIMIT, BUY, False, 8, "XRP"),
        (LIMIT, SELL, False, 8, "XRP"),
        (MARKET, BUY, False, 8, "XRP"),
        (INSTANT, BUY, False, 2, "USD"),
        (INSTANT, SELL, False, 8, "XRP"),
        (INSTANT, SELL, True, 2, "USD"),
    ],
)
def test_amount_unit(
    kind: OrderKind, side: Side, in_quote: bool, places: int, currency: str
) -> None:
    assert amount_decimals(XRPUSD, kind, side, in_quote) == places
    assert amount_currency(XRPUSD, kind, side, in_quote) == currency


# --- validate_order: valid orders -----------------------------------------------------------


@pytest.mark.parametrize(
    "order",
    [
        {"kind": LIMIT, "side": BUY, "amount": "0.001", "price": "30000.00"},
        {"kind": LIMIT, "side": SELL, "amount": "0.00046300", "price": "30000"},  # 6 significant
        {"kind": LIMIT, "side": BUY, "amount": "1", "price": "10"},  # exactly the minimum
        {
            "kind": LIMIT,
            "side": BUY,
            "amount": "1",
            "price": "120",
            "reference_price": Decimal(100),
        },
        {
            "kind": LIMIT,
            "side": SELL,
            "amount": "1",
            "price": "80",
            "reference_price": Decimal(100),
        },
        {"kind": MARKET, "side": BUY, "amount": "0.00000001"},  # no reference: minimum skipped
        {"kind": MARKET, "side": SELL, "amount": "0.01", "reference_price": Decimal("30000")},
        {"kind": INSTANT, "side": BUY, "amount": "10.00"},
        {"kind": INSTANT, "side": SELL, "amount": "25.5", "amount_in_quote": True},
        {"kind": INSTANT, "side": SELL, "amount": "0.12345678"},
        {"kind": MARKET, "side": BUY, "amount": "0.001", "price": "junk"},  # price ignored
    ],
)
def test_valid_orders_have_no_problems(order: dict[str, object]) -> None:
    assert validate_order(BTCUSD, **order) == []  # type: ignore[arg-type]


# --- validate_order: each problem -----------------------------------------------------------


def test_too_many_amount_decimals_suggests_the_rounded_amount() -> None:
    problems = validate_order(BTCUSD, kind=LIMIT, side=BUY, amount="1.123456789", price="100")
    assert problems == [
        Problem("amount", "amount has 9 decimals; BTC/USD allows 8", "1.12345678"),
    ]


def test_a_dust_amount_suggests_the_smallest_lot_not_zero() -> None:
    problems = validate_order(BTCUSD, kind=MARKET, side=BUY, amount="0.000000001")
    assert problems == [
        Problem("amount", "amount has 9 decimals; BTC/USD allows 8", "0.00000001"),
    ]


def test_one_decimal_is_singular() -> None:
    slp = dataclasses.replace(BTCUSD, symbol="slpusd", base="SLP", base_decimals=0)
    problems = validate_order(slp, kind=LIMIT, side=SELL, amount="1000.5", price="0.02")
    assert messages(problems) == ["amount has 1 decimal; SLP/USD allows 0"]
    assert problems[0].suggestion == "1000"


def test_too_many_price_decimals_rounds_in_the_traders_favour() -> None:
    buy = validate_order(BTCUSD, kind=LIMIT, side=BUY, amount="1", price="100.129")
    sell = validate_order(BTCUSD, kind=LIMIT, side=SELL, amount="1", price="100.121")
    assert buy == [Problem("price", "price has 3 decimals; BTC/USD allows 2", "100.12")]
    assert sell == [Problem("price", "price has 3 decimals; BTC/USD allows 2", "100.13")]


def test_instant_buy_amount_uses_instant_quote_decimals() -> None:
    problems = validate_order(XRPUSD, kind=INSTANT, side=BUY, amount="20.001")
    assert problems == [Problem("amount", "amount has 3 decimals; XRP/USD allows 2", "20.00")]
    # The same text is fine as a limit price-less market amount in XRP (8 decimals).
    assert validate_order(XRPUSD, kind=MARKET, side=BUY, amount="20.001") == []


def test_instant_sell_in_quote_uses_instant_quote_decimals() -> None:
    in_quote = validate_order(
        XRPUSD, kind=INSTANT, side=SELL, amount="20.001", amount_in_quote=True
    )
    assert messages(in_quote) == ["amount has 3 decimals; XRP/USD allows 2"]
    assert validate_order(XRPUSD, kind=INSTANT, side=SELL, amount="20.001") == []


@pytest.mark.parametrize("amount", ["0", "0.00000000", "000"])
def test_zero_amount(amount: str) -> None:
    problems = validate_order(BTCUSD, kind=LIMIT, side=BUY, amount=amount, price="100")
    assert problems == [Problem("amount", "amount must be greater than zero")]


def test_zero_price() -> None:
    problems = validate_order(BTCUSD, kind=LIMIT, side=BUY, amount="1", price="0.00")
    assert problems == [Problem("price", "price must be greater than zero")]


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("", "amount is empty"),
        ("1e-3", "amount must be written out in full, without an exponent"),
        ("-1", "amount cannot be negative"),
        ("1,5", 'amount must use "." as the decimal point'),
        ("NaN", "amount must be a number, not 'NaN'"),
        ("１２３", "amount must use the digits 0-9 only"),
        (" 1", "amount has spaces around it"),
    ],
)
def test_amount_syntax_errors_use_the_parser_messages(amount: str, message: str) -> None:
    problems = validate_order(BTCUSD, kind=LIMIT, side=BUY, amount=amount, price="100")
    assert len(problems) == 1
    assert problems[0].field == "amount"
    assert problems[0].message.startswith(message)
    assert problems[0].suggestion is None


def test_price_syntax_error() -> None:
    problems = validate_order(BTCUSD, kind=LIMIT, side=SELL, amount="1", price="1.")
    assert problems == [
        Problem("price", "price needs digits on both sides of the decimal point"),
    ]


def test_non_text_never_raises() -> None:
    problems = validate_order(BTCUSD, kind=LIMIT, side=BUY, amount=None, price=5)  # type: ignore[arg-type]
    assert messages(problems) == [
        "amount must be text, not NoneType",
        "price must be text, not int",
    ]


def test_limit_order_needs_a_price() -> None:
    problems = validate_order(BTCUSD, kind=LIMIT, side=BUY, amount="1")
    assert problems == [Problem("price", "price is required for a limit order")]


def test_limit_order_value_below_minimum() -> None:
    problems = validate_order(BTCUSD, kind=LIMIT, side=BUY, amount="0.05", price="100")
    assert problems == [
        Problem("order", "order value 5.00 USD is below the BTC/USD minimum of 10 USD"),
    ]


def test_shown_value_is_rounded_down_so_it_reads_below_the_minimum() -> None:
    problems = validate_order(BTCUSD, kind=LIMIT, side=BUY, amount="0.09999", price="100.00")
    assert messages(problems) == ["order value 9.99 USD is below the BTC/USD minimum of 10 USD"]


def test_market_order_minimum_uses_the_reference_price() -> None:
    below = validate_order(
        BTCUSD, kind=MARKET, side=SELL, amount="0.0001", reference_price=Decimal("30000")
    )
    assert messages(below) == ["order value 3.00 USD is below the BTC/USD minimum of 10 USD"]
    assert validate_order(BTCUSD, kind=MARKET, side=SELL, amount="0.0001") == []


def test_instant_minimum_uses_the_quote_amount_itself() -> None:
    buy = validate_order(BTCUSD, kind=INSTANT, side=BUY, amount="9.99")
    assert messages(buy) == ["order value 9.99 USD is below the BTC/USD minimum of 10 USD"]
    sell = validate_order(
        BTCUSD, kind=INSTANT, side=SELL, amount="5", amount_in_quote=True, reference_price=None
    )
    assert messages(sell) == ["order value 5.00 USD is below the BTC/USD minimum of 10 USD"]


def test_instant_sell_in_base_is_valued_at_the_reference_price() -> None:
    problems = validate_order(
        BTCUSD, kind=INSTANT, side=SELL, amount="0.0001", reference_price=Decimal("50000")
    )
    assert messages(problems) == ["order value 5.00 USD is below the BTC/USD minimum of 10 USD"]


def test_minimum_in_btc_is_shown_plainly() -> None:
    batbtc = Market(
        symbol="batbtc",
        base="BAT",
        quote="BTC",
        base_decimals=8,
        quote_decimals=8,
        instant_quote_decimals=8,
        minimum_order_value=Decimal("0.0002"),
        trading_enabled=True,
        instant_and_market_enabled=False,
        description="Basic Attention Token / Bitcoin",
    )
    problems = validate_order(batbtc, kind=LIMIT, side=BUY, amount="10", price="0.00001")
    assert messages(problems) == [
        "order value 0.00010000 BTC is below the BAT/BTC minimum of 0.0002 BTC"
    ]


def test_trading_disabled() -> None:
    halted = dataclasses.replace(BTCUSD, trading_enabled=False)
    problems = validate_order(halted, kind=LIMIT, side=BUY, amount="1", price="100")
    assert problems == [Problem("order", "trading is disabled on BTC/USD")]


@pytest.mark.parametrize("kind", [MARKET, INSTANT])
def test_market_and_instant_disabled(kind: OrderKind) -> None:
    gbpeur = dataclasses.replace(BTCUSD, instant_and_market_enabled=False)
    problems = validate_order(gbpeur, kind=kind, side=BUY, amount="100")
    assert problems == [Problem("order", "market and instant orders are disabled on BTC/USD")]
    # Limit orders are still allowed on such a pair.
    assert validate_order(gbpeur, kind=LIMIT, side=BUY, amount="1", price="100") == []


def test_amount_in_quote_only_for_instant_orders() -> None:
    problems = validate_order(BTCUSD, kind=MARKET, side=SELL, amount="0.5", amount_in_quote=True)
    assert messages(problems) == ["only instant orders can take the amount in USD"]


@pytest.mark.parametrize(
    ("side", "price", "message", "suggestion"),
    [
        (BUY, "120.01", "price is more than 20% above the market price", "120.00"),
        (SELL, "500", "price is more than 20% above the market price", "120.00"),
        (SELL, "79.99", "price is more than 20% below the market price", "80.00"),
        (BUY, "50", "price is more than 20% below the market price", "80.00"),
    ],
)
def test_price_band(side: Side, price: str, message: str, suggestion: str) -> None:
    problems = validate_order(
        BTCUSD, kind=LIMIT, side=side, amount="1", price=price, reference_price=Decimal("100")
    )
    assert problems == [Problem("price", message, suggestion)]


def test_price_band_suggestion_stays_inside_the_band() -> None:
    problems = validate_order(
        BTCUSD, kind=LIMIT, side=BUY, amount="1", price="200", reference_price=Decimal("100.03")
    )
    # 100.03 * 1.2 = 120.036: rounding to 120.04 would itself be outside the band.
    assert problems[0].suggestion == "120.03"


@pytest.mark.parametrize("reference", [None, Decimal(0), Decimal("-5"), Decimal("NaN")])
def test_price_band_needs_a_usable_reference(reference: Decimal | None) -> None:
    problems = validate_order(
        BTCUSD, kind=LIMIT, side=BUY, amount="1", price="1000", reference_price=reference
    )
    assert problems == []


def test_every_problem_at_once() -> None:
    halted = dataclasses.replace(BTCUSD, trading_enabled=False)
    problems = validate_order(
        halted,
        kind=LIMIT,
        side=BUY,
        amount="0.000000001",
        price="100.123",
        reference_price=Decimal("30000"),
    )
    assert problems == [
        Problem("order", "trading is disabled on BTC/USD"),
        Problem("amount", "amount has 9 decimals; BTC/USD allows 8", "0.00000001"),
        Problem("price", "price has 3 decimals; BTC/USD allows 2", "100.12"),
        Problem("price", "price is more than 20% below the market price", "24000.00"),
        Problem("order", "order value 0.00 USD is below the BTC/USD minimum of 10 USD"),
    ]


def test_syntax_errors_in_both_fields_and_disabled_market_orders() -> None:
    closed = dataclasses.replace(BTCUSD, trading_enabled=False, instant_and_market_enabled=False)
    problems = validate_order(closed, kind=INSTANT, side=SELL, amount="1e3", amount_in_quote=True)
    assert messages(problems) == [
        "trading is disabled on BTC/USD",
        "market and instant orders are disabled on BTC/USD",
        "amount must be written out in full, without an exponent",
    ]
