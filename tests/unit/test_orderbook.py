"""The scaled-integer order book against a plain Decimal model, and its strictness."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workstation.domain.common import Side
from workstation.domain.numbers import NumberFormatError
from workstation.domain.orderbook import OrderBook

D = Decimal

prices = st.integers(min_value=1, max_value=400).map(lambda n: f"{100 + n / 100:.2f}")
amounts = st.one_of(
    st.just("0.00000000"),
    st.integers(min_value=1, max_value=10**9).map(lambda n: f"{D(n) / 10**8:.8f}"),
)
rows = st.lists(st.tuples(prices, amounts), max_size=8)


@settings(max_examples=300)
@given(st.lists(st.tuples(rows, rows), max_size=30))
def test_applying_diffs_matches_a_decimal_model(frames: list) -> None:
    book = OrderBook("btcusd", 2, 8)
    model: dict[Side, dict[Decimal, Decimal]] = {Side.BUY: {}, Side.SELL: {}}
    for stamp, (bids, asks) in enumerate(frames, start=1):
        book.apply_rows(bids, asks, stamp)
        for side, changes in ((Side.BUY, bids), (Side.SELL, asks)):
            for price, amount in changes:
                if D(amount):
                    model[side][D(price)] = D(amount)
                else:
                    model[side].pop(D(price), None)
    assert book.levels(Side.BUY) == sorted(model[Side.BUY].items(), reverse=True)
    assert book.levels(Side.SELL) == sorted(model[Side.SELL].items())
    assert book.depth(Side.BUY) == len(model[Side.BUY])
    best_bid = max(model[Side.BUY], default=None)
    best_ask = min(model[Side.SELL], default=None)
    assert book.best_bid() == best_bid
    assert book.best_ask() == best_ask
    assert book.crossed == (best_bid is not None and best_ask is not None and best_bid >= best_ask)


def test_snapshot_then_diffs_and_exact_reads() -> None:
    book = OrderBook("ethbtc", 8, 8)
    book.load(
        [(D("0.04775809"), D("1.5")), (D("0.04775000"), D("2"))],
        [(D("0.04776191"), D("0.25"))],
        timestamp_us=10,
    )
    book.apply_rows([("0.04775809", "0.00000000"), ("0.04775500", "3.00000000")], [], 11)
    assert book.levels(Side.BUY) == [(D("0.04775500"), D("3")), (D("0.04775000"), D("2"))]
    assert book.top_units(Side.SELL) == [(4776191, 25_000_000)]
    assert str(book.best_ask()) == "0.04776191"
    assert book.timestamp_us == 11
    assert not book.crossed
    book.apply_rows([("0.04776191", "1.00000000")], [], 12)
    assert book.crossed


def test_fewer_decimals_on_the_wire_are_read_exactly() -> None:
    book = OrderBook("usdcusd", 5, 8)
    book.apply_rows([("1.0001", "12.5")], [("1.00020", "3")], 1)
    assert book.levels(Side.BUY) == [(D("1.0001"), D("12.5"))]
    assert book.levels(Side.SELL) == [(D("1.0002"), D("3"))]


@pytest.mark.parametrize(
    "row",
    [
        ("1e3", "1.00000000"),
        ("100.00", "-1.00000000"),
        ("100.00", "NaN"),
        ("100.001", "1.00000000"),
        (" 100.00", "1.00000000"),
        ("100.00", "1_0.00000000"),
        ("١٠٠.٠٠", "1.00000000"),
        ("100.00", ".50000000"),
    ],
)
def test_bad_numbers_raise(row: tuple[str, str]) -> None:
    book = OrderBook("btcusd", 2, 8)
    with pytest.raises(NumberFormatError):
        book.apply_rows([row], [], 1)
    assert book.depth(Side.BUY) == 0


def test_snapshot_values_off_the_grid_are_refused() -> None:
    book = OrderBook("btcusd", 2, 8)
    with pytest.raises(NumberFormatError):
        book.load([(D("100.001"), D("1"))], [], 1)


def _other_text(text: str) -> str:
    """The same number in another text: trailing zeros dropped (``"1.50"`` -> ``"1.5"``)."""
    return text.rstrip("0").rstrip(".") if "." in text else text


@settings(max_examples=300)
@given(
    rows,
    rows,
    st.integers(min_value=0, max_value=10),
    st.sampled_from(["book", "other text", "one changed", "garbage"]),
    st.data(),
)
def test_top_matches_agrees_with_comparing_units(
    bids: list, asks: list, depth: int, how: str, data: st.DataObject
) -> None:
    """The cross-check's text match says what comparing parsed units says, for the book's
    own text, the same numbers in other text, a changed level and rows that are not numbers."""
    book = OrderBook("btcusd", 2, 8)
    book.apply_rows(bids, asks, 1)
    for side in (Side.BUY, Side.SELL):
        top = [(f"{p:.2f}", f"{a:.8f}") for p, a in book.levels(side, depth)]
        if how == "other text":
            top = [(_other_text(p), _other_text(a)) for p, a in top]
        elif how == "one changed" and top:
            at = data.draw(st.integers(min_value=0, max_value=len(top) - 1))
            price, amount = top[at]
            top[at] = (price, f"{D(amount) + D('0.00000001'):.8f}")
        elif how == "garbage" and top:
            top[-1] = (top[-1][0], "1e-3")
        try:
            expected = book.top_units(side, len(top)) == book.rows_units(top)
        except NumberFormatError:
            with pytest.raises(NumberFormatError):
                book.top_matches(side, top)
            continue
        assert book.top_matches(side, top) is expected
        if how in ("book", "other text"):
            assert expected  # the book's own levels, in whatever text


@settings(max_examples=300)
@given(rows, rows, st.sampled_from(["book", "other text"]))
def test_loading_wire_rows_equals_loading_their_decimals(bids: list, asks: list, how: str) -> None:
    """The venue's top 100 shown while a snapshot is on its way: wire rows loaded as text
    make the same book as the same rows parsed to Decimals and loaded as a snapshot (zero
    amounts dropped, a repeated price's last row kept), in the book's text or any other."""
    if how == "other text":
        bids = [(_other_text(p), _other_text(a)) for p, a in bids]
        asks = [(_other_text(p), _other_text(a)) for p, a in asks]
    from_text = OrderBook("btcusd", 2, 8)
    from_text.apply_rows([("150.00", "1.00000000")], [], 1)  # replaced, not merged
    from_text.load_rows(bids, asks, 7)
    typed = OrderBook("btcusd", 2, 8)
    typed.load([(D(p), D(a)) for p, a in bids], [(D(p), D(a)) for p, a in asks], 7)
    assert from_text.timestamp_us == 7
    for side in (Side.BUY, Side.SELL):
        assert from_text.levels(side) == typed.levels(side)


@pytest.mark.parametrize("row", [("100.001", "1.00000000"), ("1e3", "1"), ("100.00", "-1")])
def test_wire_rows_that_do_not_fit_leave_the_book_as_it_was(row: tuple[str, str]) -> None:
    book = OrderBook("btcusd", 2, 8)
    book.apply_rows([("99.00", "1.00000000")], [("101.00", "2.00000000")], 3)
    with pytest.raises(NumberFormatError):
        book.load_rows([("99.50", "1.00000000")], [row], 4)
    assert book.levels(Side.BUY) == [(D("99.00"), D("1.00000000"))]
    assert book.levels(Side.SELL) == [(D("101.00"), D("2.00000000"))]
    assert book.timestamp_us == 3
