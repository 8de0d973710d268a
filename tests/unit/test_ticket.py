"""The ticket's verdict on what was typed: every invalid input named, shares of the balance,
funds, GTD expiry, and the preview handed along."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from workstation.domain.common import Side
from workstation.domain.markets import Market
from workstation.domain.order_vocabulary import OrderKind, TimeInForce
from workstation.domain.orderbook import OrderBook
from workstation.domain.ticket import Funds, TicketInput, evaluate, parse_expiry

D = Decimal
BUY, SELL = Side.BUY, Side.SELL
NOW_MS = 1_780_000_000_000
MARKET = Market(
    symbol="btcusd",
    base="BTC",
    quote="USD",
    base_decimals=8,
    quote_decimals=2,
    instant_quote_decimals=2,
    minimum_order_value=D(10),
    trading_enabled=True,
    instant_and_market_enabled=True,
    description="Bitcoin / U.S. dollar",
)
RICH = Funds(base=D(10), quote=D(1_000_000))


def book() -> OrderBook:
    b = OrderBook("btcusd", 2, 8)
    b.load(
        bids=[(D(99), D(1)), (D(98), D(2))],
        asks=[(D(101), D(1)), (D(102), D(2)), (D(103), D(3))],
        timestamp_us=1,
    )
    return b


def check(amount: str, price: str = "100", *, side: Side = BUY, funds: Funds = RICH, **kw):
    kind = kw.pop("kind", OrderKind.LIMIT)
    ticket = TicketInput(MARKET, side, kind, amount, price, **kw)
    return evaluate(ticket, book=book(), funds=funds, fee_percent=D("0.5"), now_ms=NOW_MS)


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("abc", "amount is not a number: 'abc'"),
        ("NaN", "amount must be a number, not 'NaN'"),
        ("-1", "amount cannot be negative"),
        ("0", "amount must be greater than zero"),
        ("1e5", "amount must be written out in full, without an exponent"),
        (" 0.5", "amount has spaces around it"),
        ("0.5\t", "amount has spaces around it"),
        ("\u0663", "amount must use the digits 0-9 only"),
        ("", "amount is empty"),
        ("0.123456789", "amount has 9 decimals; BTC/USD allows 8: 0.123456789 -> 0.12345678"),
        ("99999999999", "not enough USD: the order needs"),
    ],
)
def test_invalid_amounts_name_the_problem_and_make_no_order(amount: str, message: str) -> None:
    result = check(amount)
    assert result.request is None
    shown = result.message("amount", amount)
    assert shown is not None
    assert shown.startswith(message)


def test_price_with_too_many_decimals_shows_the_rounding_it_needs() -> None:
    result = check("0.5", "100.123")
    assert result.request is None
    # a buy rounds its limit down: never pay more than typed
    assert result.message("price", "100.123") == (
        "price has 3 decimals; BTC/USD allows 2: 100.123 -> 100.12"
    )


def test_a_valid_limit_buy_becomes_a_request_with_its_immediate_part_previewed() -> None:
    result = check("1.5", "101.50")
    assert result.problems == ()
    assert result.request is not None
    assert (result.request.amount, result.request.price) == (D("1.5"), D("101.50"))
    assert result.limit_preview is not None
    assert result.limit_preview.immediate is not None
    assert result.limit_preview.immediate.filled_amount == D(1)  # only the 101 level crosses
    assert result.limit_preview.resting_amount == D("0.5")
    # held: value 152.25 plus fee 0.76125, each rounded up to USD's 5 booking decimals
    assert result.holds == (D("153.01125"), "USD")


def test_below_minimum_and_outside_band_are_problems() -> None:
    assert check("0.05").message("order") == (
        "order value 5.00 USD is below the BTC/USD minimum of 10 USD"
    )
    assert "20% above" in (check("0.5", "200").message("price") or "")


def test_not_enough_base_to_sell() -> None:
    result = check("11", side=SELL)
    assert result.message("amount") == (
        "not enough BTC: the order needs 11.00000000, 10.00000000 available"
    )


def test_share_of_quote_balance_leaves_room_for_the_fee() -> None:
    funds = Funds(base=D(0), quote=D(1005))
    result = check("max", "100", funds=funds)
    assert result.amount == D("10.00000000")  # 1005 / 1.005 / 100
    assert result.amount_note == "all 1005.00 USD available"
    assert result.request is not None
    assert result.holds == (D("1005.00000"), "USD")
    half = check("50%", "100", funds=funds)
    assert half.amount == D("5.00000000")
    assert half.amount_note == "50% of 1005.00 USD available"


def test_share_of_base_balance_for_a_sell_and_a_market_buy_at_the_best_ask() -> None:
    sell = check("25%", "99", side=SELL, funds=Funds(base=D(2), quote=D(0)))
    assert sell.amount == D("0.50000000")
    market = check("10%", kind=OrderKind.MARKET, funds=Funds(base=D(0), quote=D("1010")))
    # 101 / 1.005 / 101 (best ask) = 0.99502487..., but value and fee are each rounded up
    # to 5 decimals: 0.99502487 would hold 100.49752 + 0.50249 = 101.00001, one unit more
    assert market.amount == D("0.99502485")
    assert market.holds == (D("101.00000"), "USD")
    assert market.request is not None
    assert market.request.price is None


@pytest.mark.parametrize("text", ["0%", "101%", "-5%"])
def test_impossible_shares(text: str) -> None:
    result = check(text)
    assert result.request is None
    assert result.message("amount") is not None


def test_share_without_a_known_balance() -> None:
    result = check("max", funds=Funds())
    assert result.message("amount") == "the USD balance is not known yet"


def test_instant_buy_is_sized_in_quote_and_previews_the_walk() -> None:
    result = check("250", kind=OrderKind.INSTANT)
    assert result.request is not None
    assert result.request.in_quote
    assert result.preview is not None
    # 250 USD: the whole 101 level, then the largest lot multiple at 102 that fits 149 USD
    assert result.preview.takes == ((D(101), D(1)), (D(102), D("1.46078431")))
    assert result.holds is not None
    assert result.holds[1] == "USD"
    assert result.holds[0] == result.preview.total


def test_market_order_on_an_empty_side_is_refused() -> None:
    empty = OrderBook("btcusd", 2, 8)
    ticket = TicketInput(MARKET, BUY, OrderKind.MARKET, "1")
    result = evaluate(ticket, book=empty, funds=RICH, fee_percent=D("0.5"), now_ms=NOW_MS)
    assert result.request is None
    assert result.message("order") == "no asks on the book: nothing to trade against"


def test_gtd_needs_a_future_expiry() -> None:
    ok = check("0.5", tif=TimeInForce.GTD, expiry="+2h")
    assert ok.request is not None
    assert ok.request.expire_ms == NOW_MS + 7_200_000
    bad = check("0.5", tif=TimeInForce.GTD, expiry="tomorrow")
    assert bad.request is None
    assert (bad.message("expiry") or "").startswith("expiry must be like +30m")


def test_parse_expiry_absolute_utc() -> None:
    assert parse_expiry("2026-05-29 00:00", NOW_MS) == 1_780_012_800_000
    with pytest.raises(ValueError, match="in the future"):
        parse_expiry("2020-01-01 00:00", NOW_MS)


# -- any text, no exception ------------------------------------------------------------------

_digits = st.text("0123456789", min_size=1, max_size=45)
TYPED = st.one_of(
    st.text(max_size=50),  # unicode, control characters, anything
    _digits,
    st.builds(lambda a, b: f"{a}.{b}", _digits, _digits),  # huge and tiny numbers
    st.builds(lambda n: "0." + "0" * n + "1", st.integers(0, 45)),
    st.builds(lambda n: "1" + "0" * n, st.integers(0, 45)),
    st.builds(lambda a, e: f"{a}e{e}", _digits, st.integers(-400, 400)),
    st.builds(
        lambda a: f"{a}%", st.one_of(_digits, st.builds(lambda a, b: f"{a}.{b}", _digits, _digits))
    ),
    st.sampled_from(["max", "MAX", " max ", "100%", "0.0001%", "NaN", "-Infinity", "1_000", "+1"]),
    st.lists(st.sampled_from(["1", "0", ".", "%", "e", "9" * 20, "\x00", "\n", "\u0663", " "])).map(
        "".join
    ),  # pastes
)


#: Prices the band lets through, so that a huge or tiny amount meets a usable price.
PRICE = st.one_of(st.sampled_from(["99", "100", "101", "101.5", "118.99"]), TYPED)


@settings(max_examples=400, deadline=None)
@example("1" + "0" * 25, "100", "", OrderKind.LIMIT, BUY, TimeInForce.GTC, False, RICH)
@given(
    amount=TYPED,
    price=PRICE,
    expiry=TYPED,
    kind=st.sampled_from(list(OrderKind)),
    side=st.sampled_from([BUY, SELL]),
    tif=st.sampled_from(list(TimeInForce)),
    in_quote=st.booleans(),
    funds=st.sampled_from([RICH, Funds(), Funds(base=D("1e-8"), quote=D("0.01"))]),
)
def test_evaluate_takes_any_text_in_any_field_without_raising(
    amount: str,
    price: str,
    expiry: str,
    kind: OrderKind,
    side: Side,
    tif: TimeInForce,
    in_quote: bool,
    funds: Funds,
) -> None:
    in_quote = in_quote and kind is OrderKind.INSTANT and side is SELL
    ticket = TicketInput(MARKET, side, kind, amount, price, tif, expiry, in_quote)
    result = evaluate(ticket, book=book(), funds=funds, fee_percent=D("0.5"), now_ms=NOW_MS)
    assert (result.request is None) == bool(result.problems)
    for field in ("order", "amount", "price", "expiry"):
        result.message(field, amount)  # every message can be shown
