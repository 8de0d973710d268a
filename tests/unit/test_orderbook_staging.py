"""Packed sides, staged and merged, give exactly the book of rows applied one by one; every
read sees every earlier diff; and the one-pass check takes nothing the strict parser would
refuse or read differently."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workstation.bitstamp.stream_frames import BookDiffEvent, parse_frame
from workstation.domain.common import Side
from workstation.domain.market_data import BookDiff
from workstation.domain.numbers import NumberFormatError, to_units
from workstation.domain.orderbook import COALESCE_FROM, STAGED_LIMIT, OrderBook
from workstation.sim.wire.stream_frames import encode_diff_frame

D = Decimal
Model = dict[Side, dict[Decimal, Decimal]]
Rows = list[tuple[str, str]]

ticks = st.integers(min_value=1, max_value=60)
canonical_prices = ticks.map(lambda n: f"{100 + n / 100:.2f}")
# Texts the one-pass check does not take but the strict parser accepts: a frame with one of
# them goes row by row, between staged frames.
odd_prices = ticks.map(lambda n: f"0{100 + n / 100:.2f}") | st.integers(
    min_value=1, max_value=6
).map(lambda n: f"{100 + n / 10:.1f}")
amounts = st.one_of(
    st.just("0.00000000"),
    st.integers(min_value=1, max_value=10**9).map(lambda n: f"{D(n) / 10**8:.8f}"),
)
rows = st.lists(st.tuples(canonical_prices, amounts), max_size=20) | st.lists(
    st.tuples(canonical_prices | odd_prices, amounts), max_size=6
)
"""Sides the check takes, and small ones, some with texts only the row-by-row path takes."""
frames = st.lists(st.tuples(rows, rows, st.booleans()), max_size=25)


def pack(side: Rows) -> bytes:
    """A side as a frame carries it: ``[["100.01","1.00000000"],...]``."""
    return json.dumps(side, separators=(",", ":")).encode()


def apply(book: OrderBook, bids: Rows, asks: Rows, stamp: int) -> bool:
    """As the feed does: packed when the check takes the frame, else row by row."""
    if book.apply_packed(pack(bids), pack(asks), stamp):
        return True
    book.apply_rows(bids, asks, stamp)
    return False


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
        apply(book, bids, asks, stamp)
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
    """A book read only at the end (every packed side staged and merged) equals one read
    after every frame (each applied as it came) and one given every frame row by row."""
    lazy = OrderBook("btcusd", 2, 8)
    eager = OrderBook("btcusd", 2, 8)
    rowwise = OrderBook("btcusd", 2, 8)
    for stamp, (bids, asks, _) in enumerate(frames, start=1):
        apply(lazy, bids, asks, stamp)
        apply(eager, bids, asks, stamp)
        rowwise.apply_rows(bids, asks, stamp)
        assert eager.depth(Side.BUY) >= 0  # a read: applies what is staged
    for side in Side:
        assert lazy.top_units(side) == eager.top_units(side) == rowwise.top_units(side)


def _ladder(first: int, count: int, amount: str = "1.00000000") -> Rows:
    return [(f"{first + i}.00", amount) for i in range(count)]


def test_a_staged_burst_applies_each_levels_last_row() -> None:
    book = OrderBook("btcusd", 2, 8)
    book.load([(D(90), D(5))], [(D(110), D(5))], 1)
    big = COALESCE_FROM + 7
    assert apply(book, _ladder(80, big), [], 2)  # 80 .. 89
    assert apply(book, _ladder(80, big, "2.50000000"), [], 3)
    assert apply(book, [*_ladder(80, big - 1, "0.00000000"), ("90.00", "0.00000000")], [], 4)
    assert apply(book, [], _ladder(111, big), 5)
    assert len(book._bids.staged) == 3  # nothing parsed yet
    assert book.levels(Side.BUY) == [(D(89), D("2.5"))]
    assert book.levels(Side.SELL, 3) == [(D(110), D(5)), (D(111), D(1)), (D(112), D(1))]
    assert book.depth(Side.SELL) == 1 + big
    assert book.timestamp_us == 5


REFUSED_SIDES = [
    b'[["100.00", "1.00000000"]]',  # whitespace
    b'[["100.001","1.00000000"]]',  # finer than the price decimals
    b'[["100.0","1.00000000"]]',  # fewer price decimals: the strict path reads it
    b'[["0100.00","1.00000000"]]',  # a leading zero: not one text per price
    b'[["100.","1.00000000"]]',
    b'[["1e3","1.00000000"]]',
    b'[["-100.00","1.00000000"]]',
    b'[["100.00","1.000000001"]]',  # finer than the book keeps
    b'[["100.00","1."]]',
    b'[["100.00","1"]]',
    b'[["100.00","1.00000000","2.00000000"]]',
    b'[["100.00"]]',
    b"[[100.00,1.00000000]]",
    b'[["100.00","1.00000000"],]',
    b'[["100.00","1.00000000"]',
    b'{"100.00":"1.00000000"}',
    '[["\u0663.00","1.00000000"]]'.encode(),
    b'[["100.00","1.00000000"]]x',
]


@pytest.mark.parametrize("side", REFUSED_SIDES)
def test_the_check_refuses_anything_but_the_canonical_form_and_changes_nothing(
    side: bytes,
) -> None:
    book = OrderBook("btcusd", 2, 8)
    good = pack(_ladder(90, 3))
    assert not book.apply_packed(good, side, 7)
    assert not book.apply_packed(side, good, 7)
    assert book.depth(Side.BUY) == book.depth(Side.SELL) == 0
    assert book.timestamp_us == 0


@pytest.mark.parametrize("bad", ["100.001", "1e3", " 100.00", "100.", "-100.00", "٣.00"])
def test_a_bad_price_goes_to_the_strict_path_which_raises(bad: str) -> None:
    book = OrderBook("btcusd", 2, 8)
    side = [*_ladder(200, 5), (bad, "1.00000000"), *_ladder(300, 2)]
    with pytest.raises(NumberFormatError):
        apply(book, side, [], 1)
    with pytest.raises(NumberFormatError):
        apply(book, [], side, 1)


@pytest.mark.parametrize("bad", ["1.000000001", "1e3", " 1.00", "1.", "-1.00", "٣.00"])
def test_a_bad_amount_goes_to_the_strict_path_which_raises(bad: str) -> None:
    book = OrderBook("btcusd", 2, 8)
    side = [*_ladder(200, 5), ("250.00", bad), *_ladder(300, 2)]
    with pytest.raises(NumberFormatError):
        apply(book, side, [], 1)
    with pytest.raises(NumberFormatError):
        apply(book, [], side, 1)


mutations = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=200),
        st.sampled_from(["", *'[]",.0123456789e- ']),
        st.booleans(),
    ),
    min_size=1,
    max_size=3,
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(canonical_prices, amounts), min_size=1, max_size=6), mutations)
def test_what_the_check_takes_reads_as_the_strict_parser_reads_it(side: Rows, edits: list) -> None:
    """Narrow, not lax: a side mangled at random is either refused, or is JSON rows whose
    every number the strict parser reads to the same book."""
    text = pack(side).decode()
    for at, char, insert in edits:
        at %= len(text) + 1
        text = text[:at] + char + text[at + (0 if insert else 1) :]
    book = OrderBook("btcusd", 2, 8)
    if not book.apply_packed(text.encode(), b"[]", 1):
        return
    rows = json.loads(text)
    expected: dict[int, int] = {}
    for price, amount in rows:
        assert isinstance(price, str)
        assert isinstance(amount, str)
        expected[to_units(price, 2)] = to_units(amount, 8)
    assert dict(book.top_units(Side.BUY)) == {p: a for p, a in expected.items() if a}


def test_fewer_wire_decimals_are_scaled_exactly() -> None:
    """USDT pairs' amounts come with 5 decimals; a change of decimals between staged sides
    applies the earlier ones first."""
    book = OrderBook("usdtusd", 5, 8)
    five = [(f"1.000{i:02d}", "12.50000") for i in range(10)]
    eight = [(f"1.000{i:02d}", "0.00000001") for i in range(2)]
    assert apply(book, [], five, 1)
    assert apply(book, [], [*eight, *[(f"1.001{i:02d}", "3.00000000") for i in range(10)]], 2)
    assert apply(book, [], [("1.00003", "1.00000")], 3)
    asks = book.levels(Side.SELL)
    assert asks[:4] == [
        (D("1.00000"), D("1E-8")),
        (D("1.00001"), D("1E-8")),
        (D("1.00002"), D("12.5")),
        (D("1.00003"), D("1")),
    ]
    assert len(asks) == 20


def test_staging_is_bounded_without_reads() -> None:
    book = OrderBook("btcusd", 2, 8)
    for stamp in range(1, 3 * STAGED_LIMIT):
        assert apply(book, _ladder(1000 + stamp % 50, 8), [], stamp)
    assert len(book._bids.staged) <= STAGED_LIMIT
    assert book.depth(Side.BUY) == 50 + 8 - 1


def test_a_snapshot_drops_what_was_staged_before_it() -> None:
    book = OrderBook("btcusd", 2, 8)
    assert apply(book, _ladder(100, 8), _ladder(200, 8), 1)
    book.load([(D(50), D(1))], [(D(60), D(1))], 2)
    assert book.levels(Side.BUY) == [(D(50), D(1))]
    assert book.levels(Side.SELL) == [(D(60), D(1))]


def test_frames_through_the_codec_build_the_same_book() -> None:
    """The encoder's frames, parsed as the hub gets them (a frozen event whose sides are the
    frame's own text), give the model's book, read now and then."""
    book = OrderBook("ethbtc", 8, 8)
    model: Model = {Side.BUY: {}, Side.SELL: {}}
    for stamp in range(1, 40):
        count = 1 + stamp % 16
        bids = tuple((D("0.04775") - D(i) / 10**8, D(stamp % 3) / 4) for i in range(count))
        asks = tuple((D("0.04776") + D(i) / 10**8, D(stamp % 4)) for i in range(count // 2))
        event = parse_frame(encode_diff_frame(BookDiff("ethbtc", stamp, bids, asks), 8, 8))
        assert isinstance(event, BookDiffEvent)
        with pytest.raises(AttributeError):
            event.market = "btcusd"  # type: ignore[misc]
        assert book.apply_packed(event.bids, event.asks, event.timestamp_us)
        _apply_to_model(model, event.bid_rows, event.ask_rows)
        if stamp % 7 == 0:
            _assert_same(book, model)
    _assert_same(book, model)
    assert not book.crossed
