"""The simulator's matching engine: priority, order kinds, book reads, and a naive model."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from workstation.domain.common import Side
from workstation.domain.markets import Market
from workstation.sim.engine import MatchingEngine

BUY, SELL = Side.BUY, Side.SELL
D = Decimal

BTCUSD = Market(
    symbol="btcusd",
    base="BTC",
    quote="USD",
    base_decimals=8,
    quote_decimals=2,
    instant_quote_decimals=2,
    minimum_order_value=D("10"),
    trading_enabled=True,
    instant_and_market_enabled=True,
    description="Bitcoin / U.S. dollar",
)


@pytest.fixture
def engine() -> MatchingEngine:
    return MatchingEngine(BTCUSD)


def book_with_asks(engine: MatchingEngine) -> None:
    """Asks: 100.00 x 1 (id 1, then id 2), 101.00 x 2 (id 3), 103.00 x 1 (id 4)."""
    engine.submit_limit(1, "alice", SELL, D("1"), D("100.00"), now_us=1)
    engine.submit_limit(2, "bob", SELL, D("1"), D("100.00"), now_us=2)
    engine.submit_limit(3, "carol", SELL, D("2"), D("101.00"), now_us=3)
    engine.submit_limit(4, "dave", SELL, D("1"), D("103.00"), now_us=4)


def summary(execution) -> list[tuple[Decimal, Decimal, int, Decimal]]:
    return [(f.price, f.amount, f.maker_order_id, f.maker_remaining_after) for f in execution.fills]


# ------------------------------------------------------------------ limit orders


def test_same_price_fills_in_arrival_order(engine: MatchingEngine) -> None:
    book_with_asks(engine)
    first = engine.submit_limit(10, "taker", BUY, D("0.4"), D("100.00"), now_us=10)
    second = engine.submit_limit(11, "taker", BUY, D("0.8"), D("100.00"), now_us=11)

    assert summary(first) == [(D("100.00"), D("0.4"), 1, D("0.6"))]
    assert summary(second) == [
        (D("100.00"), D("0.6"), 1, D("0")),
        (D("100.00"), D("0.2"), 2, D("0.8")),
    ]
    assert [o.order_id for o in engine.orders(SELL)] == [2, 3, 4]
    assert engine.order(1) is None


def test_sweep_fills_at_maker_prices_and_rests_the_rest(engine: MatchingEngine) -> None:
    book_with_asks(engine)
    ex = engine.submit_limit(10, "taker", BUY, D("5"), D("102.00"), now_us=10)

    assert summary(ex) == [
        (D("100.00"), D("1"), 1, D("0")),
        (D("100.00"), D("1"), 2, D("0")),
        (D("101.00"), D("2"), 3, D("0")),
    ]
    assert [f.trade_id for f in ex.fills] == [1, 2, 3]
    assert {f.timestamp_us for f in ex.fills} == {10}
    assert ex.filled == D("4")
    assert ex.value == D("402.00")
    assert ex.average_price == D("100.5")
    assert ex.rested is not None
    assert (ex.rested.price, ex.rested.remaining, ex.rested.amount_at_create) == (
        D("102.00"),
        D("1"),
        D("5"),
    )
    assert ex.cancelled == 0
    assert ex.rejected is None
    assert engine.best_bid() == D("102.00")
    assert engine.best_ask() == D("103.00")


def test_limit_that_does_not_cross_rests(engine: MatchingEngine) -> None:
    book_with_asks(engine)
    ex = engine.submit_limit(10, "x", BUY, D("0.5"), D("99.99"), now_us=10, client_order_id="c1")
    assert ex.fills == ()
    assert ex.rested is not None
    assert ex.rested.client_order_id == "c1"
    assert engine.levels(BUY) == [(D("99.99"), D("0.5"))]


def test_ioc_cancels_the_unfilled_rest(engine: MatchingEngine) -> None:
    book_with_asks(engine)
    ex = engine.submit_limit(10, "x", BUY, D("3"), D("100.00"), now_us=10, tif="ioc")
    assert ex.filled == D("2")
    assert ex.cancelled == D("1")
    assert ex.rested is None
    assert engine.best_bid() is None
    assert engine.best_ask() == D("101.00")


def test_fok_that_cannot_fill_entirely_trades_nothing(engine: MatchingEngine) -> None:
    book_with_asks(engine)
    ex = engine.submit_limit(10, "x", BUY, D("4.00000001"), D("101.00"), now_us=10, tif="fok")
    assert ex.fills == ()
    assert ex.cancelled == D("4.00000001")
    assert ex.rejected is None
    assert ex.reason is not None
    assert len(engine) == 4
    assert engine.pop_changes() == (
        {},
        {D("100.00"): D("2"), D("101.00"): D("2"), D("103.00"): D("1")},
    )
    assert engine.pop_changes() == ({}, {})


def test_fok_that_can_fill_fills_entirely(engine: MatchingEngine) -> None:
    book_with_asks(engine)
    ex = engine.submit_limit(10, "x", BUY, D("4"), D("101.00"), now_us=10, tif="fok")
    assert ex.filled == D("4")
    assert ex.cancelled == 0
    assert engine.best_ask() == D("103.00")


def test_moc_that_would_cross_is_cancelled_without_trading(engine: MatchingEngine) -> None:
    book_with_asks(engine)
    ex = engine.submit_limit(10, "x", BUY, D("1"), D("100.00"), now_us=10, tif="moc")
    assert ex.fills == ()
    assert ex.rested is None
    assert ex.cancelled == D("1")
    assert engine.levels(SELL)[0] == (D("100.00"), D("2"))


def test_moc_that_does_not_cross_rests(engine: MatchingEngine) -> None:
    book_with_asks(engine)
    ex = engine.submit_limit(10, "x", BUY, D("1"), D("99.99"), now_us=10, tif="moc")
    assert ex.rested is not None
    assert engine.best_bid() == D("99.99")


def test_self_trade_is_allowed_and_marked(engine: MatchingEngine) -> None:
    engine.submit_limit(1, "me", SELL, D("1"), D("100.00"), now_us=1)
    ex = engine.submit_limit(2, "me", BUY, D("1"), D("100.00"), now_us=2)
    assert ex.fills[0].self_trade
    assert (ex.fills[0].buy_order_id, ex.fills[0].sell_order_id) == (2, 1)


@pytest.mark.parametrize(
    ("amount", "price"),
    [
        (D("0.000000001"), D("100.00")),
        (D("0"), D("100.00")),
        (D("-1"), D("100.00")),
        (D("1"), D("100.001")),
        (D("1"), D("0")),
    ],
)
def test_off_grid_or_non_positive_values_raise(
    engine: MatchingEngine, amount: Decimal, price: Decimal
) -> None:
    with pytest.raises(ValueError, match="multiple"):
        engine.submit_limit(1, "x", BUY, amount, price, now_us=1)


def test_duplicate_id_and_unknown_tif_raise(engine: MatchingEngine) -> None:
    engine.submit_limit(1, "x", BUY, D("1"), D("1.00"), now_us=1)
    with pytest.raises(ValueError, match="already"):
        engine.submit_limit(1, "x", BUY, D("1"), D("1.00"), now_us=2)
    with pytest.raises(ValueError, match="time in force"):
        engine.submit_limit(2, "x", BUY, D("1"), D("1.00"), now_us=2, tif="gtd")


def test_shared_trade_id_source(engine: MatchingEngine) -> None:
    ids = iter(range(500, 600))
    eng = MatchingEngine(BTCUSD, trade_ids=ids.__next__)
    book_with_asks(eng)
    ex = eng.submit_limit(10, "x", BUY, D("3"), D("101.00"), now_us=10)
    assert [f.trade_id for f in ex.fills] == [500, 501, 502]


# ------------------------------------------------------------------ market orders


def test_market_buy_by_base_amount(engine: MatchingEngine) -> None:
    book_with_asks(engine)
    ex = engine.submit_market(10, "x", BUY, now_us=10, amount=D("2.5"))
    assert summary(ex) == [
        (D("100.00"), D("1"), 1, D("0")),
        (D("100.00"), D("1"), 2, D("0")),
        (D("101.00"), D("0.5"), 3, D("1.5")),
    ]
    assert ex.cancelled == 0
    assert ex.rested is None


def test_market_order_bigger_than_the_book_cancels_the_leftover(engine: MatchingEngine) -> None:
    book_with_asks(engine)
    ex = engine.submit_market(10, "x", BUY, now_us=10, amount=D("6"))
    assert ex.filled == D("5")
    assert ex.cancelled == D("1")
    assert engine.best_ask() is None


def test_market_buy_by_quote_amount_floors_to_the_lot(engine: MatchingEngine) -> None:
    book_with_asks(engine)
    # 200.00 buys both 100.00 lots; 150.00 more at 101.00 buys 1.48514851 BTC (149.99999951).
    ex = engine.submit_market(10, "x", BUY, now_us=10, quote_amount=D("350.00"))
    assert summary(ex) == [
        (D("100.00"), D("1"), 1, D("0")),
        (D("100.00"), D("1"), 2, D("0")),
        (D("101.00"), D("1.48514851"), 3, D("0.51485149")),
    ]
    assert ex.value == D("349.99999951")
    assert ex.quote_left == D("0.00000049")
    assert ex.cancelled == 0
    assert engine.best_ask() == D("101.00")


def test_market_sell_by_quote_amount_receives_at_most_it(engine: MatchingEngine) -> None:
    engine.submit_limit(1, "a", BUY, D("1"), D("100.00"), now_us=1)
    engine.submit_limit(2, "b", BUY, D("1"), D("90.00"), now_us=2)
    ex = engine.submit_market(10, "x", SELL, now_us=10, quote_amount=D("145"))
    assert summary(ex) == [
        (D("100.00"), D("1"), 1, D("0")),
        (D("90.00"), D("0.5"), 2, D("0.5")),
    ]
    assert ex.quote_left == 0


def test_quote_amount_below_one_lot_trades_nothing(engine: MatchingEngine) -> None:
    book_with_asks(engine)
    ex = engine.submit_market(10, "x", BUY, now_us=10, quote_amount=D("0.0000009"))
    assert ex.fills == ()
    assert ex.quote_left == D("0.0000009")
    assert ex.rejected is None


@pytest.mark.parametrize(
    ("side", "text"),
    [
        (BUY, "No sell orders for currency pair BTC/USD"),
        (SELL, "No buy orders for currency pair BTC/USD"),
    ],
)
def test_market_order_into_an_empty_side_is_rejected(
    engine: MatchingEngine, side: Side, text: str
) -> None:
    engine.submit_limit(1, "a", side, D("1"), D("100.00"), now_us=1)  # same side only
    ex = engine.submit_market(10, "x", side, now_us=10, amount=D("1"))
    assert ex.rejected == text
    assert ex.fills == ()
    assert ex.cancelled == D("1")
    quoted = engine.submit_market(11, "x", side, now_us=11, quote_amount=D("10"))
    assert quoted.rejected == text


def test_market_order_needs_exactly_one_size(engine: MatchingEngine) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        engine.submit_market(1, "x", BUY, now_us=1)
    with pytest.raises(ValueError, match="exactly one"):
        engine.submit_market(1, "x", BUY, now_us=1, amount=D("1"), quote_amount=D("1"))


def test_walk_previews_without_changing_the_book(engine: MatchingEngine) -> None:
    book_with_asks(engine)
    engine.pop_changes()
    walk = engine.walk(BUY, amount=D("3"))
    assert (walk.amount, walk.value, walk.worst_price, walk.complete) == (
        D("3"),
        D("301.00"),
        D("101.00"),
        True,
    )
    assert walk.average_price == D("301.00") / 3
    assert not engine.walk(BUY, amount=D("10")).complete
    assert engine.walk(BUY, amount=D("3"), limit=D("100.00")).amount == D("2")
    quoted = engine.walk(BUY, quote_amount=D("350.00"))
    assert quoted.amount == D("3.48514851")
    assert quoted.complete
    assert not engine.walk(BUY, quote_amount=D("100000")).complete
    assert engine.pop_changes() == ({}, {})
    assert len(engine) == 4


# ------------------------------------------------------------------ cancel, replace, expiry


def test_cancel_removes_the_order_and_the_empty_level(engine: MatchingEngine) -> None:
    book_with_asks(engine)
    engine.pop_changes()
    cancelled = engine.cancel(3)
    assert cancelled is not None
    assert cancelled.remaining == D("2")
    assert engine.cancel(3) is None
    assert engine.cancel(999) is None
    assert engine.levels(SELL) == [(D("100.00"), D("2")), (D("103.00"), D("1"))]
    assert engine.pop_changes() == ({}, {D("101.00"): D("0")})


def test_cancel_where_and_open_orders(engine: MatchingEngine) -> None:
    book_with_asks(engine)
    engine.submit_limit(5, "alice", BUY, D("1"), D("90.00"), now_us=5)
    assert [o.order_id for o in engine.open_orders("alice")] == [1, 5]
    gone = engine.cancel_where(lambda o: o.owner == "alice")
    assert [o.order_id for o in gone] == [1, 5]
    assert engine.open_orders("alice") == []
    assert engine.best_bid() is None


def test_replace_moves_the_order_to_the_back(engine: MatchingEngine) -> None:
    book_with_asks(engine)
    result = engine.replace(1, 20, amount=D("0.5"), price=D("100.00"), now_us=20)
    assert result is not None
    old, ex = result
    assert old.order_id == 1
    assert ex.rested is not None
    assert ex.rested.owner == "alice"
    assert [o.order_id for o in engine.orders(SELL)] == [2, 20, 3, 4]
    assert engine.replace(1, 21, amount=D("1"), price=D("100.00"), now_us=21) is None
    with pytest.raises(ValueError, match="multiple"):
        engine.replace(20, 22, amount=D("1"), price=D("100.001"), now_us=22)
    assert engine.order(20) is not None  # a bad replacement leaves the old order alone


def test_gtd_orders_expire_and_daily_orders_go_at_midnight(engine: MatchingEngine) -> None:
    engine.submit_limit(1, "a", BUY, D("1"), D("90.00"), now_us=1, expire_us=1_000)
    engine.submit_limit(2, "a", BUY, D("1"), D("91.00"), now_us=2, expire_us=2_000)
    engine.submit_limit(3, "a", BUY, D("1"), D("92.00"), now_us=3, daily=True)
    engine.submit_limit(4, "a", BUY, D("1"), D("93.00"), now_us=4)
    engine.cancel(2)
    assert engine.expire(999) == []
    assert [o.order_id for o in engine.expire(2_000)] == [1]
    assert engine.expire(5_000) == []  # order 2 was cancelled before it expired
    engine.submit_limit(5, "a", BUY, D("1"), D("94.00"), now_us=5, expire_us=9_000)
    assert [o.order_id for o in engine.expire_daily()] == [3, 5]
    assert [o.order_id for o in engine.orders(BUY)] == [4]


# ------------------------------------------------------------------ read side


def test_levels_orders_and_depth(engine: MatchingEngine) -> None:
    book_with_asks(engine)
    engine.submit_limit(5, "a", BUY, D("1"), D("99.00"), now_us=5)
    engine.submit_limit(6, "a", BUY, D("2"), D("98.00"), now_us=6)
    engine.submit_limit(7, "b", BUY, D("3"), D("99.00"), now_us=7)
    assert engine.levels(BUY) == [(D("99.00"), D("4")), (D("98.00"), D("2"))]
    assert engine.levels(SELL, depth=2) == [(D("100.00"), D("2")), (D("101.00"), D("2"))]
    assert [o.order_id for o in engine.orders(BUY)] == [5, 7, 6]


def test_pop_changes_gives_absolute_totals_and_zero_for_removed(engine: MatchingEngine) -> None:
    book_with_asks(engine)
    engine.submit_limit(5, "a", BUY, D("1"), D("99.00"), now_us=5)
    assert engine.pop_changes() == (
        {D("99.00"): D("1")},
        {D("100.00"): D("2"), D("101.00"): D("2"), D("103.00"): D("1")},
    )
    engine.submit_limit(6, "b", BUY, D("1.5"), D("100.00"), now_us=6)
    bids, asks = engine.pop_changes()
    assert bids == {}
    assert asks == {D("100.00"): D("0.5")}
    # A level that changes and comes back to its old total is reported all the same: a
    # REST snapshot served in between may have shown it changed.
    engine.submit_limit(7, "c", SELL, D("1"), D("103.00"), now_us=7)
    engine.cancel(7)
    engine.submit_market(8, "d", SELL, now_us=8, amount=D("1"))
    bids, asks = engine.pop_changes()
    assert bids == {D("99.00"): D("0")}
    assert asks == {D("103.00"): D("1")}
    assert list(engine.pop_changes()) == [{}, {}]


# ------------------------------------------------------------------ against a naive model

TICK, LOT = D("0.1"), D("0.01")
SMALL = Market(
    symbol="tstusd",
    base="TST",
    quote="USD",
    base_decimals=2,
    quote_decimals=1,
    instant_quote_decimals=1,
    minimum_order_value=D("0"),
    trading_enabled=True,
    instant_and_market_enabled=True,
    description="test",
)


class NaiveBook:
    """The obvious, slow book: a list of orders, sorted again for every taker."""

    def __init__(self) -> None:
        self.orders: list[dict] = []
        self.seq = 0

    def _opposite(self, side: Side, limit: Decimal | None) -> list[dict]:
        if side is BUY:
            pool = [o for o in self.orders if o["side"] is SELL]
            pool = [o for o in pool if limit is None or o["price"] <= limit]
            return sorted(pool, key=lambda o: (o["price"], o["seq"]))
        pool = [o for o in self.orders if o["side"] is BUY]
        pool = [o for o in pool if limit is None or o["price"] >= limit]
        return sorted(pool, key=lambda o: (-o["price"], o["seq"]))

    def _take(self, taker_id, side, want, limit, quote):
        fills = []
        for maker in self._opposite(side, limit):
            if quote is not None:
                want = (quote / maker["price"]).quantize(LOT, rounding=ROUND_DOWN)
                while want * maker["price"] > quote:
                    want -= LOT
            if want <= 0:
                break
            take = min(want, maker["remaining"])
            maker["remaining"] -= take
            if quote is None:
                want -= take
            else:
                quote -= take * maker["price"]
            fills.append((maker["price"], take, maker["id"], taker_id, maker["remaining"]))
            if maker["remaining"]:
                break  # the taker is done: never trade through a better order
        self.orders = [o for o in self.orders if o["remaining"] > 0]
        return fills, want, quote

    def limit(self, order_id, owner, side, amount, price, tif):
        crossing = self._opposite(side, price)
        if tif == "moc" and crossing:
            return [], amount, False
        if tif == "fok" and sum(o["remaining"] for o in crossing) < amount:
            return [], amount, False
        fills, left, _ = self._take(order_id, side, amount, price, None)
        if left and tif != "ioc":
            self.seq += 1
            self.orders.append(
                {"id": order_id, "side": side, "price": price, "remaining": left, "seq": self.seq}
            )
            return fills, D(0), True
        return fills, left, False

    def market(self, order_id, side, amount, quote):
        if not self._opposite(side, None):
            return None
        return self._take(order_id, side, amount if amount is not None else D(0), None, quote)

    def cancel(self, order_id) -> bool:
        before = len(self.orders)
        self.orders = [o for o in self.orders if o["id"] != order_id]
        return len(self.orders) != before

    def levels(self, side: Side) -> list[tuple[Decimal, Decimal]]:
        totals: dict[Decimal, Decimal] = {}
        for o in self.orders:
            if o["side"] is side:
                totals[o["price"]] = totals.get(o["price"], D(0)) + o["remaining"]
        return sorted(totals.items(), reverse=side is BUY)

    def ids(self, side: Side) -> list[int]:
        key = (
            (lambda o: (-o["price"], o["seq"]))
            if side is BUY
            else (lambda o: (o["price"], o["seq"]))
        )
        return [o["id"] for o in sorted((o for o in self.orders if o["side"] is side), key=key)]


prices = st.integers(95, 105).map(lambda n: D(n) * TICK)
amounts = st.integers(1, 300).map(lambda n: D(n) * LOT)
sides = st.sampled_from([BUY, SELL])


class EngineVersusModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.engine = MatchingEngine(SMALL)
        self.model = NaiveBook()
        self.next_id = 1
        self.now = 0
        self.mirror: tuple[dict, dict] = ({}, {})  # levels rebuilt from pop_changes only

    def _ids(self) -> tuple[int, int]:
        self.next_id += 1
        self.now += 1
        return self.next_id, self.now

    @staticmethod
    def _fills(execution):
        return [
            (f.price, f.amount, f.maker_order_id, f.taker_order_id, f.maker_remaining_after)
            for f in execution.fills
        ]

    @rule(
        side=sides,
        amount=amounts,
        price=prices,
        tif=st.sampled_from(["gtc", "gtc", "ioc", "fok", "moc"]),
        owner=st.sampled_from(["a", "b"]),
    )
    def limit(self, side, amount, price, tif, owner) -> None:
        order_id, now = self._ids()
        ex = self.engine.submit_limit(order_id, owner, side, amount, price, now_us=now, tif=tif)
        fills, cancelled, rested = self.model.limit(order_id, owner, side, amount, price, tif)
        assert self._fills(ex) == fills
        assert ex.cancelled == cancelled
        assert (ex.rested is not None) == rested
        assert ex.filled + ex.cancelled + (ex.rested.remaining if ex.rested else 0) == amount

    @rule(side=sides, amount=amounts)
    def market(self, side, amount) -> None:
        order_id, now = self._ids()
        ex = self.engine.submit_market(order_id, "m", side, now_us=now, amount=amount)
        expected = self.model.market(order_id, side, amount, None)
        if expected is None:
            assert ex.rejected is not None
            assert ex.fills == ()
            return
        fills, left, _ = expected
        assert ex.rejected is None
        assert self._fills(ex) == fills
        assert ex.cancelled == left

    @rule(side=sides, quote=st.integers(1, 5000).map(lambda n: D(n) / 10))
    def market_quote(self, side, quote) -> None:
        order_id, now = self._ids()
        ex = self.engine.submit_market(order_id, "m", side, now_us=now, quote_amount=quote)
        expected = self.model.market(order_id, side, None, quote)
        if expected is None:
            assert ex.rejected is not None
            return
        fills, _, left = expected
        assert self._fills(ex) == fills
        assert ex.quote_left == left
        assert ex.value + ex.quote_left == quote

    @precondition(lambda self: self.model.orders)
    @rule(data=st.data())
    def cancel(self, data) -> None:
        order_id = data.draw(st.sampled_from([o["id"] for o in self.model.orders]))
        cancelled = self.engine.cancel(order_id)
        assert cancelled is not None
        assert cancelled.order_id == order_id
        assert self.model.cancel(order_id)

    @rule(order_id=st.integers(-5, 0))
    def cancel_unknown(self, order_id) -> None:
        assert self.engine.cancel(order_id) is None

    @invariant()
    def same_book(self) -> None:
        for side in (BUY, SELL):
            assert self.engine.levels(side) == self.model.levels(side)
            assert [o.order_id for o in self.engine.orders(side)] == self.model.ids(side)
            assert all(o.remaining > 0 for o in self.engine.orders(side))

    @invariant()
    def never_crossed(self) -> None:
        bid, ask = self.engine.best_bid(), self.engine.best_ask()
        assert bid is None or ask is None or bid < ask

    @invariant()
    def changes_rebuild_the_book(self) -> None:
        for mirror, changes in zip(self.mirror, self.engine.pop_changes(), strict=True):
            for price, total in changes.items():
                assert total >= 0
                if total:
                    mirror[price] = total
                else:
                    assert price in mirror  # only levels that existed are removed
                    del mirror[price]
        assert sorted(self.mirror[0].items(), reverse=True) == self.engine.levels(BUY)
        assert sorted(self.mirror[1].items()) == self.engine.levels(SELL)


EngineVersusModel.TestCase.settings = settings(
    max_examples=150, stateful_step_count=40, deadline=None
)
TestEngineVersusModel = EngineVersusModel.TestCase
