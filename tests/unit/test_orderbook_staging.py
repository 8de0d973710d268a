"""Staged and coalesced diffs give exactly the book of diffs applied one by one, every read
sees every earlier diff, and the one-pass check refuses what the row-by-row path refuses."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workstation.bitstamp.codec_stream import BookDiffEvent, encode_diff_frame, parse_frame
from workstation.domain.common import Side
from workstation.domain.market_data import BookDiff
from workstation.domain.numbers import NumberFormatError
from workstation.domain.orderbook import STAGE_FROM, STAGED_LIMIT, OrderBook

D = Decimal
Model = dict[Side, dict[Decimal, Decimal]]

ticks = st.integers(min_value=1, max_value=60)
canonical_prices = ticks.map(lambda n: f"{100 + n / 100:.2f}")
# Texts the one-pass check does not take but the strict parser accepts: they force the
# row-by-row path in the middle of staged frames.
odd_prices = ticks.map(lambda n: f"0{100 + n / 100:.2f}") | st.integers(
    min_value=1, max_value=6
).map(lambda n: f"{100 + n / 10:.1f}")
amounts = st.one_of(
    st.just("0.00000000"),
    st.integers(min_value=1, max_value=10**9).map(lambda n: f"{D(n) / 10**8:.8f}"),
)
rows = st.lists(
    st.tuples(canonical_prices, amounts), min_size=STAGE_FROM, max_size=3 * STAGE_FROM
) | st.lists(st.tuples(canonical_prices | odd_prices, amounts), max_size=STAGE_FROM + 2)
"""Large sides (checked in one pass, staged) and small ones, some with texts only the
row-by-row path takes."""
frames = st.lists(st.tuples(rows, rows, st.booleans()), max_size=25)


def _apply_to_model(model: Model, bids: list, asks: list) -> None:
    for side, changes in ((Side.BUY, bids), (Side.SELL, asks)):
        for price, amount in changes:
            if D(amount):
                model[side][D(price)] = D(amount)
            else:
                model[side].pop(D(price), None)


def _assert_same(book: OrderBook, model: Model) -> None:
    assert book.levels(Side.BUY) == sorted(model[Side.BUY].items(), reverse=True)
    assert book.levels(Side.SELL) == sorted(model[Side.SELL].items())


@settings(max_examples=300, deadline=None)
@given(frames)
def test_reads_between_diffs_see_every_earlier_diff(frames: list) -> None:
    """Whatever the frame sizes and wherever the reads fall, a read equals the model."""
    book = OrderBook("btcusd", 2, 8)
    model: Model = {Side.BUY: {}, Side.SELL: {}}
    for stamp, (bids, asks, read) in enumerate(frames, start=1):
        book.apply_rows(bids, asks, stamp)
        _apply_to_model(model, bids, asks)
        assert book.timestamp_us == stamp
        if read:
            best_bid = max(model[Side.BUY], default=None)
            best_ask = min(model[Side.SELL], default=None)
            assert book.best_bid() == best_bid
            assert book.best_ask() == best_ask
            assert book.depth(Side.SELL) == len(model[Side.SELL])
            crossed = best_bid is not None and best_ask is not None and best_bid >= best_ask
            assert book.crossed == crossed
            _assert_same(book, model)
    _assert_same(book, model)


@settings(max_examples=200, deadline=None)
@given(frames)
def test_coalesced_equals_applied_one_by_one(frames: list) -> None:
    """A book read only at the end (every large side staged and coalesced) equals one read
    after every frame (each applied as it came)."""
    lazy = OrderBook("btcusd", 2, 8)
    eager = OrderBook("btcusd", 2, 8)
    for stamp, (bids, asks, _) in enumerate(frames, start=1):
        lazy.apply_rows(bids, asks, stamp)
        eager.apply_rows(bids, asks, stamp)
        assert eager.depth(Side.BUY) >= 0  # a read: applies what is staged
    for side in Side:
        assert lazy.top_units(side) == eager.top_units(side)


def _ladder(first: int, count: int, amount: str = "1.00000000") -> list[tuple[str, str]]:
    return [(f"{first + i}.00", amount) for i in range(count)]


def test_a_staged_burst_applies_each_levels_last_row() -> None:
    book = OrderBook("btcusd", 2, 8)
    book.load([(D(90), D(5))], [(D(110), D(5))], 1)
    big = STAGE_FROM + 2
    book.apply_rows(_ladder(80, big), [], 2)  # 80 .. 89
    book.apply_rows(_ladder(80, big, "2.50000000"), [], 3)
    book.apply_rows([*_ladder(80, big - 1, "0.00000000"), ("90.00", "0.00000000")], [], 4)
    book.apply_rows([], _ladder(111, big), 5)
    assert book.levels(Side.BUY) == [(D(89), D("2.5"))]
    assert book.levels(Side.SELL, 3) == [(D(110), D(5)), (D(111), D(1)), (D(112), D(1))]
    assert book.depth(Side.SELL) == 1 + big
    assert book.timestamp_us == 5


@pytest.mark.parametrize("bad", ["100.001", "1e3", " 100.00", "100.", "100.0|1", "-100.00", "٣.00"])
def test_a_bad_price_in_a_large_side_raises_at_apply(bad: str) -> None:
    book = OrderBook("btcusd", 2, 8)
    rows = [*_ladder(200, STAGE_FROM), (bad, "1.00000000"), *_ladder(300, 2)]
    with pytest.raises(NumberFormatError):
        book.apply_rows(rows, [], 1)
    with pytest.raises(NumberFormatError):
        book.apply_rows([], rows, 1)


@pytest.mark.parametrize("bad", ["1.000000001", "1e3", " 1.00", "1.", "1.0|1", "-1.00", "٣.00"])
def test_a_bad_amount_in_a_large_side_raises_at_apply(bad: str) -> None:
    book = OrderBook("btcusd", 2, 8)
    rows = [*_ladder(200, STAGE_FROM), ("250.00", bad), *_ladder(300, 2)]
    with pytest.raises(NumberFormatError):
        book.apply_rows(rows, [], 1)
    with pytest.raises(NumberFormatError):
        book.apply_rows([], rows, 1)


def test_a_dot_without_decimals_is_refused_as_the_strict_parser_does() -> None:
    book = OrderBook("btcusd", 2, 8)
    with pytest.raises(NumberFormatError):
        book.apply_rows([("100.", "1.00000000")], [], 1)
    with pytest.raises(NumberFormatError):
        book.apply_rows([("100.00", "1.")], [], 1)
    assert book.depth(Side.BUY) == 0


def test_fewer_wire_decimals_in_large_sides_are_scaled_exactly() -> None:
    """USDT pairs' amounts come with 5 decimals; a change of decimals between staged sides
    applies the earlier ones first."""
    book = OrderBook("usdtusd", 5, 8)
    five = [(f"1.000{i:02d}", "12.50000") for i in range(STAGE_FROM)]
    eight = [(f"1.000{i:02d}", "0.00000001") for i in range(2)]
    book.apply_rows([], five, 1)
    book.apply_rows([], [*eight, *[(f"1.001{i:02d}", "3.00000000") for i in range(STAGE_FROM)]], 2)
    asks = book.levels(Side.SELL)
    assert asks[:3] == [
        (D("1.00000"), D("1E-8")),
        (D("1.00001"), D("1E-8")),
        (D("1.00002"), D("12.5")),
    ]
    assert len(asks) == 2 * STAGE_FROM


def test_staging_is_bounded_without_reads() -> None:
    book = OrderBook("btcusd", 2, 8)
    for stamp in range(1, 3 * STAGED_LIMIT):
        book.apply_rows(_ladder(1000 + stamp % 50, STAGE_FROM), [], stamp)
    assert len(book._bids.staged) <= STAGED_LIMIT
    assert book.depth(Side.BUY) == 50 + STAGE_FROM - 1


def test_a_snapshot_drops_what_was_staged_before_it() -> None:
    book = OrderBook("btcusd", 2, 8)
    book.apply_rows(_ladder(100, STAGE_FROM), _ladder(200, STAGE_FROM), 1)
    book.load([(D(50), D(1))], [(D(60), D(1))], 2)
    assert book.levels(Side.BUY) == [(D(50), D(1))]
    assert book.levels(Side.SELL) == [(D(60), D(1))]


def test_frames_through_the_codec_build_the_same_book() -> None:
    """The encoder's frames, parsed as the hub gets them (a frozen event, text rows), staged
    or not, give the model's book."""
    book = OrderBook("ethbtc", 8, 8)
    model: Model = {Side.BUY: {}, Side.SELL: {}}
    for stamp in range(1, 40):
        count = 1 + stamp % (2 * STAGE_FROM)
        bids = tuple((D("0.04775") - D(i) / 10**8, D(stamp % 3) / 4) for i in range(count))
        asks = tuple((D("0.04776") + D(i) / 10**8, D(stamp % 4)) for i in range(count // 2))
        event = parse_frame(encode_diff_frame(BookDiff("ethbtc", stamp, bids, asks), 8, 8))
        assert isinstance(event, BookDiffEvent)
        with pytest.raises(AttributeError):
            event.market = "btcusd"  # type: ignore[misc]
        book.apply_rows(event.bid_rows, event.ask_rows, event.timestamp_us)
        _apply_to_model(model, event.bid_rows, event.ask_rows)
        if stamp % 7 == 0:
            _assert_same(book, model)
    _assert_same(book, model)
    assert not book.crossed
