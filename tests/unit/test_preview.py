"""The order ticket's cost preview: hand-computed books, the exchange's rounding, limit order
flags, and properties of the walk. The simulator as the reference is in
tests/integration/test_preview_vs_sim.py."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workstation.bitstamp import account
from workstation.domain.common import Side
from workstation.domain.market_data import BookSnapshot
from workstation.domain.markets import Market
from workstation.domain.order_vocabulary import TimeInForce
from workstation.domain.orderbook import OrderBook
from workstation.domain.preview import LABELS, LimitPreview, preview_limit, preview_market, summary
from workstation.domain.walk import booking_places, charge

BUY, SELL = Side.BUY, Side.SELL
D = Decimal
FEE = D("0.40")


def make_market(base: str = "BTC", quote: str = "USD", quote_decimals: int = 2) -> Market:
    return Market(
        symbol=f"{base}{quote}".lower(),
        base=base,
        quote=quote,
        base_decimals=8,
        quote_decimals=quote_decimals,
        instant_quote_decimals=quote_decimals,
        minimum_order_value=D("10"),
        trading_enabled=True,
        instant_and_market_enabled=True,
        description=f"{base} / {quote}",
    )


BTCUSD = make_market()


def three_levels() -> OrderBook:
    """Asks 100.00 x 1, 101.00 x 1, 103.00 x 2; bids 99.00 x 1, 98.00 x 2, 97.00 x 1."""
    book = OrderBook("btcusd", 2, 8)
    book.load(
        [(D("99.00"), D("1")), (D("98.00"), D("2")), (D("97.00"), D("1"))],
        [(D("100.00"), D("1")), (D("101.00"), D("1")), (D("103.00"), D("2"))],
        timestamp_us=1,
    )
    return book


# -- market orders, by hand ---------------------------------------------------------------


def test_buy_across_two_levels() -> None:
    p = preview_market(three_levels(), BTCUSD, BUY, amount=D("1.5"), fee_percent=FEE)
    assert p.takes == ((D("100.00"), D("1")), (D("101.00"), D("0.5")))
    assert p.filled_amount == D("1.5")
    assert p.value == D("150.5")  # 100 + 50.5
    assert p.avg_price == D("100.3333333333333333333333333333333333333")  # 40 digits
    assert (p.best_price, p.worst_price, p.mid) == (D("100.00"), D("101.00"), D("99.5"))
    assert p.slippage_vs_best_bps == D("33.33")  # 0.3333 / 100
    assert p.slippage_vs_mid_bps == D("83.75")  # 0.8333 / 99.5 = 83.752 bp
    assert p.levels_consumed == 2
    assert p.depth_share == D("0.375")  # 1.5 of the 4 BTC of asks
    assert p.booked_value == D("150.50000")
    assert p.fee == D("0.60200")  # 0.40000 + 0.20200, one fill per level
    assert p.total == D("151.10200")
    assert (p.covered, p.unfilled, p.unfilled_in_quote, p.warning) == (True, 0, False, None)
    assert p.fills_known is False  # an aggregated book


def test_sell_across_two_levels_gives_proceeds_net_of_fee() -> None:
    p = preview_market(three_levels(), BTCUSD, SELL, amount=D("2.5"), fee_percent=FEE)
    assert p.takes == ((D("99.00"), D("1")), (D("98.00"), D("1.5")))
    assert p.value == D("246")
    assert p.avg_price == D("98.4")
    assert (p.best_price, p.worst_price) == (D("99.00"), D("98.00"))
    assert p.slippage_vs_best_bps == D("60.61")  # (99 - 98.4) / 99
    assert p.slippage_vs_mid_bps == D("110.55")  # (99.5 - 98.4) / 99.5
    assert p.depth_share == D("0.625")
    assert p.fee == D("0.98400")  # 0.396 + 0.588
    assert p.total == D("245.01600")  # proceeds: value minus fee


def test_inside_the_best_level_there_is_no_slippage_vs_best() -> None:
    p = preview_market(three_levels(), BTCUSD, BUY, amount=D("0.25"), fee_percent=FEE)
    assert (p.avg_price, p.worst_price, p.levels_consumed) == (D("100"), D("100.00"), 1)
    assert p.slippage_vs_best_bps == 0
    assert p.slippage_vs_mid_bps == D("50.25")  # half the spread: 0.5 / 99.5


def test_not_covered_warns_and_says_what_is_left() -> None:
    p = preview_market(three_levels(), BTCUSD, BUY, amount=D("5"), fee_percent=FEE)
    assert (p.covered, p.filled_amount, p.unfilled) == (False, D("4"), D("1"))
    assert (p.worst_price, p.levels_consumed, p.depth_share) == (D("103.00"), 3, 1)
    assert p.warning == "visible depth covers only 4 of 5 BTC; the rest would not execute"


def test_empty_side_warns_with_the_exchange_refusal() -> None:
    book = OrderBook("btcusd", 2, 8)
    book.load([(D("99.00"), D("1"))], [], timestamp_us=1)
    p = preview_market(book, BTCUSD, BUY, amount=D("1"), fee_percent=FEE)
    assert p.warning == "No sell orders for currency pair BTC/USD"
    assert p.filled_amount == 0
    assert p.avg_price is p.worst_price is p.best_price is p.mid is None
    assert (p.fee, p.total, p.levels_consumed, p.depth_share, p.covered) == (0, 0, 0, None, False)
    assert p.slippage_vs_best_bps is None


def test_instant_buy_in_quote_floors_each_level_to_the_lot() -> None:
    # 100 USD buys all of 100.00 x 1; the other 50 USD buy floor(50 / 101, 8) = 0.49504950.
    p = preview_market(three_levels(), BTCUSD, BUY, quote_amount=D("150"), fee_percent=FEE)
    assert p.takes == ((D("100.00"), D("1")), (D("101.00"), D("0.49504950")))
    assert p.filled_amount == D("1.49504950")
    assert p.value == D("149.9999995")
    assert (p.unfilled, p.unfilled_in_quote, p.covered) == (D("0.0000005"), True, True)
    assert p.booked_value == D("150.00000")  # 49.9999995 books half-up as 50.00000
    assert (p.fee, p.total) == (D("0.60000"), D("150.60000"))


def test_instant_sell_in_quote_receives_at_most_the_amount() -> None:
    p = preview_market(three_levels(), BTCUSD, SELL, quote_amount=D("200"), fee_percent=FEE)
    assert p.takes == ((D("99.00"), D("1")), (D("98.00"), D("1.03061224")))
    assert p.value == D("199.99999952")  # 99 + 98 * 1.03061224
    assert p.unfilled == D("0.00000048")
    assert p.covered


def test_instant_buy_larger_than_the_book_is_not_covered() -> None:
    p = preview_market(three_levels(), BTCUSD, BUY, quote_amount=D("1000"), fee_percent=FEE)
    assert p.filled_amount == D("4")
    assert p.unfilled == D("1000") - D("407")
    assert not p.covered
    assert p.warning == "visible depth fills only 407.00 of 1000 USD; the rest would not execute"


def test_bad_sizes_are_refused() -> None:
    book = three_levels()
    with pytest.raises(ValueError, match="exactly one"):
        preview_market(book, BTCUSD, BUY, fee_percent=FEE)
    with pytest.raises(ValueError, match="multiple of 0.00000001"):
        preview_market(book, BTCUSD, BUY, amount=D("0.000000001"), fee_percent=FEE)
    with pytest.raises(ValueError, match="positive"):
        preview_market(book, BTCUSD, BUY, quote_amount=D("-1"), fee_percent=FEE)
    with pytest.raises(ValueError, match="percentage"):
        preview_market(book, BTCUSD, BUY, amount=D("1"), fee_percent=D("100"))
    with pytest.raises(ValueError, match="percentage"):
        preview_limit(book, BTCUSD, BUY, amount=D("1"), price=D("100"), fee_percent=D("-1"))


# -- the exchange's rounding ---------------------------------------------------------------


def test_charge_reproduces_recorded_bitstamp_fees() -> None:
    # Reference 7.5: 0.005 ETH at 2468.04, 0.4 % -> fee "0.04936" (exact 0.0493608).
    assert charge([(D("2468.04"), D("0.005"))], D("0.4"), 5) == (D("12.34020"), D("0.04936"))
    # Reference 4.5: 0.005 BTC at 4451.25, "usd": "22.25625000", "fee": "0.11128" at 0.5 %.
    assert charge([(D("4451.25"), D("0.005"))], D("0.5"), 5) == (D("22.25625"), D("0.11128"))


def test_charge_rounds_half_up_per_fill() -> None:
    assert charge([(D("10.00"), D("0.0003125"))], FEE, 5) == (D("0.00313"), D("0.00001"))
    one = (D("100.00"), D("0.12345678"))  # 12.345678 -> 12.34568, fee 0.0493827 -> 0.04938
    assert charge([one, one], FEE, 5) == (D("24.69136"), D("0.09876"))
    assert charge([(D("100.00"), D("0.24691356"))], FEE, 5) == (D("24.69136"), D("0.09877"))


def test_booking_decimals() -> None:
    assert [booking_places(c) for c in ("USD", "eur", "GBP", "USDC", "USDT")] == [5] * 5
    assert [booking_places(c) for c in ("BTC", "ETH", "XRP")] == [8] * 3


def test_per_order_snapshot_charges_each_order() -> None:
    """Two orders at one price: the aggregated book assumes one fill, a group=2 book knows."""
    rows = ((D("100.00"), D("0.12345678")), (D("100.00"), D("0.12345678")))
    bids = ((D("99.00"), D("1")),)
    detailed = BookSnapshot("btcusd", 1, bids, rows, bid_order_ids=(1,), ask_order_ids=(2, 3))
    aggregated = OrderBook("btcusd", 2, 8)
    aggregated.load(bids, [(D("100.00"), D("0.24691356"))], 1)
    exact = preview_market(detailed, BTCUSD, BUY, amount=D("0.24691356"), fee_percent=FEE)
    rough = preview_market(aggregated, BTCUSD, BUY, amount=D("0.24691356"), fee_percent=FEE)
    assert (exact.fee, exact.fills_known, exact.levels_consumed) == (D("0.09876"), True, 1)
    assert (rough.fee, rough.fills_known) == (D("0.09877"), False)
    assert exact.value == rough.value == D("24.691356")
    assert exact.avg_price == rough.avg_price == D("100")


def test_recorded_sells_book_their_value_half_up(recorded: Path) -> None:
    raw = (recorded / "georlav" / "get_user_transactions_200.txt").read_bytes()
    body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")[2].strip()
    sells = [t for t in account.parse_user_transactions(body) if t.amounts.get("xrp", 0) < 0]
    assert len(sells) == 2
    for row in sells:
        assert row.rate is not None
        booked, _ = charge([(row.rate, -row.amounts["xrp"])], D(0), booking_places("EUR"))
        assert booked == row.amounts["eur"]  # 256.1619755... -> 256.16198


# -- limit orders ---------------------------------------------------------------------------


def limit(side: Side, amount: str, price: str, tif: str = "gtc", **kw: bool) -> LimitPreview:
    return preview_limit(
        three_levels(),
        BTCUSD,
        side,
        amount=D(amount),
        price=D(price),
        fee_percent=FEE,
        tif=tif,
        **kw,
    )


def test_limit_partly_crossing_executes_some_and_rests_the_rest() -> None:
    lp = limit(BUY, "3", "101.00")
    now = lp.immediate
    assert now is not None
    assert now.takes == ((D("100.00"), D("1")), (D("101.00"), D("1")))
    assert (now.avg_price, now.fee, now.total) == (D("100.5"), D("0.80400"), D("201.80400"))
    assert (now.covered, now.unfilled, now.warning) == (False, D("1"), None)
    assert (lp.resting_amount, lp.resting_value, lp.cancelled_amount) == (D("1"), D("101"), 0)
    assert (lp.would_cancel, lp.reason, lp.tif) == (False, None, TimeInForce.GTC)


def test_limit_away_from_the_book_only_rests() -> None:
    lp = limit(SELL, "2", "100.50", "daily")
    assert (lp.immediate, lp.resting_amount, lp.resting_value) == (None, D("2"), D("201.00"))


def test_post_only_that_would_cross_is_cancelled() -> None:
    lp = limit(BUY, "1", "100.00", post_only=True)
    assert (lp.would_cancel, lp.immediate, lp.resting_amount, lp.cancelled_amount) == (
        (True, None, 0, D("1"))
    )
    assert lp.tif is TimeInForce.MOC
    assert lp.reason == (
        "post-only: it would trade at once against the best ask 100.00, so the exchange would "
        "cancel it"
    )
    ok = limit(SELL, "1", "99.01", "moc")
    assert (ok.would_cancel, ok.resting_amount, ok.immediate) == (False, D("1"), None)
    with pytest.raises(ValueError, match="post-only cannot be combined with ioc"):
        limit(BUY, "1", "99", "ioc", post_only=True)


def test_fok_not_covered_executes_nothing() -> None:
    lp = limit(BUY, "3", "101.00", "fok")
    assert (lp.would_cancel, lp.immediate, lp.cancelled_amount, lp.resting_amount) == (
        (True, None, D("3"), 0)
    )
    assert lp.reason == (
        "fill-or-kill: only 2 of 3 BTC available at 101.00 or better; nothing would execute"
    )


def test_fok_covered_and_ioc() -> None:
    fok = limit(BUY, "2", "101.00", "fok")
    assert fok.immediate is not None
    assert fok.immediate.covered
    assert (fok.immediate.filled_amount, fok.resting_amount, fok.would_cancel) == (D("2"), 0, False)
    ioc = limit(BUY, "3", "101.00", "ioc")
    assert ioc.immediate is not None
    assert ioc.immediate.filled_amount == D("2")
    assert (ioc.resting_amount, ioc.cancelled_amount, ioc.would_cancel) == (0, D("1"), False)
    assert ioc.reason == "immediate-or-cancel: the other 1 BTC would be cancelled"
    with pytest.raises(ValueError, match="price 100.001 is not a positive multiple of 0.01"):
        limit(BUY, "1", "100.001")
    with pytest.raises(ValueError, match="'nope' is not a valid TimeInForce"):
        limit(BUY, "1", "100", "nope")


def test_summary_lines() -> None:
    p = preview_market(three_levels(), BTCUSD, BUY, amount=D("1.5"), fee_percent=FEE)
    assert summary(p, BTCUSD) == (
        ("Avg price", "100.33"),
        ("Worst", "101.00"),
        ("Slippage", "33.33 bps (83.75 vs mid)"),
        ("Fee", "0.60200 USD"),
        ("Total", "151.10200 USD"),
    )
    assert tuple(label for label, _ in summary(p, BTCUSD)) == LABELS


# -- properties -----------------------------------------------------------------------------

TICK, LOT = D("0.01"), D("0.00000001")
lots = st.integers(min_value=1, max_value=300_000_000)
fee_percents = st.sampled_from([D(0), D("0.1"), D("0.25"), D("0.4"), D("0.5")])


@st.composite
def books(draw: st.DrawFn) -> OrderBook:
    """An uncrossed book: asks from 100.00 up, bids from 99.99 down, distinct prices."""
    ask_steps = draw(st.sets(st.integers(0, 400), max_size=12))
    bid_steps = draw(st.sets(st.integers(0, 400), max_size=12))
    book = OrderBook("btcusd", 2, 8)
    book.load(
        [(D("99.99") - s * TICK, draw(lots) * LOT) for s in bid_steps],
        [(D("100.00") + s * TICK, draw(lots) * LOT) for s in ask_steps],
        timestamp_us=1,
    )
    return book


@settings(max_examples=200, deadline=None)
@given(books(), st.sampled_from([BUY, SELL]), lots, fee_percents)
def test_walk_properties(book: OrderBook, side: Side, size: int, fee: Decimal) -> None:
    amount = size * LOT
    p = preview_market(book, BTCUSD, side, amount=amount, fee_percent=fee)
    assert p.value == sum((price * take for price, take in p.takes), D(0))
    assert p.filled_amount == sum((take for _, take in p.takes), D(0))
    assert p.filled_amount + p.unfilled == amount
    assert p.covered == (p.unfilled == 0)
    if not p.filled_amount:
        return
    assert p.avg_price is not None
    assert p.best_price is not None
    assert p.worst_price is not None
    low, high = sorted((p.best_price, p.worst_price))
    assert low <= p.avg_price <= high
    assert p.slippage_vs_best_bps is not None
    assert p.slippage_vs_best_bps >= 0
    assert p.total == (p.booked_value + p.fee if side is BUY else p.booked_value - p.fee)
    # A bigger order never gets a better worst price.
    bigger = preview_market(book, BTCUSD, side, amount=amount + LOT * 7, fee_percent=fee)
    assert bigger.worst_price is not None
    if side is BUY:
        assert bigger.worst_price >= p.worst_price
    else:
        assert bigger.worst_price <= p.worst_price
