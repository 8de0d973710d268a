"""The simulator's ledger: holds, Bitstamp's insufficient-funds texts, fees, conservation."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workstation.domain.common import Side
from workstation.domain.markets import Market
from workstation.sim.engine import MatchingEngine
from workstation.sim.holdings import Balance, InsufficientFunds, LedgerError
from workstation.sim.ledger import Ledger
from workstation.sim.orders import Fill

BUY, SELL = Side.BUY, Side.SELL
D = Decimal


def market(base: str = "BTC", quote: str = "USD", base_decimals: int = 8) -> Market:
    return Market(
        symbol=f"{base}{quote}".lower(),
        base=base,
        quote=quote,
        base_decimals=base_decimals,
        quote_decimals=2,
        instant_quote_decimals=2,
        minimum_order_value=D("10"),
        trading_enabled=True,
        instant_and_market_enabled=True,
        description=f"{base} / {quote}",
    )


BTCUSD = market()


def fill(
    amount: str,
    price: str,
    *,
    taker_side: Side = BUY,
    maker: tuple[int, str] = (1, "alice"),
    taker: tuple[int, str] = (2, "bob"),
    maker_remaining_after: str = "0",
) -> Fill:
    return Fill(
        trade_id=1,
        price=D(price),
        amount=D(amount),
        taker_side=taker_side,
        maker_order_id=maker[0],
        taker_order_id=taker[0],
        maker_owner=maker[1],
        taker_owner=taker[1],
        timestamp_us=1,
        maker_remaining_after=D(maker_remaining_after),
    )


@pytest.fixture
def ledger() -> Ledger:
    return Ledger(decimals={"USD": 2, "BTC": 8})


# ------------------------------------------------------------------ messages


def test_limit_buy_without_funds_says_what_it_needs(ledger: Ledger) -> None:
    ledger.deposit("bob", "USD", D("100.00"))
    # 1 BTC at 119.52 plus a 0.4 % fee (0.47808, rounded up) is 120.00 USD.
    with pytest.raises(InsufficientFunds) as caught:
        ledger.reserve_limit(7, "bob", BTCUSD, BUY, D("1"), D("119.52"), fee_percent=D("0.4"))
    assert str(caught.value) == (
        "You need 120.00 USD to open that order. You have only 100.00 USD available. "
        "Check your account balance for details."
    )
    assert (caught.value.currency, caught.value.needed, caught.value.available) == (
        "USD",
        D("120.00"),
        D("100.00"),
    )
    assert ledger.balance("bob", "USD").available == D("100.00")
    assert ledger.held(7) == 0


def test_sell_without_funds_says_what_is_available(ledger: Ledger) -> None:
    ledger.deposit("alice", "BTC", D("0.5"))
    with pytest.raises(InsufficientFunds) as caught:
        ledger.reserve_limit(7, "alice", BTCUSD, SELL, D("1"), D("100.00"))
    assert str(caught.value) == (
        "You have only 0.50000000 BTC available. Check your account balance for details."
    )


def test_message_numbers_round_against_the_trader() -> None:
    exc = InsufficientFunds("usd", D("10.001"), D("9.999"), places=2)
    assert str(exc).startswith("You need 10.01 USD to open that order. You have only 9.99 USD")
    plain = InsufficientFunds("BTC", D("1"), D("0.5"), style="have")
    assert str(plain) == "You have only 0.5 BTC available. Check your account balance for details."
    with pytest.raises(ValueError, match="style"):
        InsufficientFunds("BTC", D("1"), D("0.5"), style="other")


def test_withdraw_checks_available(ledger: Ledger) -> None:
    ledger.deposit("bob", "BTC", D("1"))
    ledger.withdraw("bob", "BTC", D("0.25"))
    with pytest.raises(InsufficientFunds, match="You have only 0.75000000 BTC available"):
        ledger.withdraw("bob", "BTC", D("1"))
    assert ledger.total("BTC") == ledger.issued("BTC") == D("0.75")


# ------------------------------------------------------------------ holds and settlement


def test_reserve_and_release(ledger: Ledger) -> None:
    ledger.deposit("bob", "USD", D("50"))
    ledger.reserve("bob", "USD", D("20"))
    ledger.reserve("bob", "USD", D("10"), order_id=9)
    assert ledger.balance("bob", "USD") == Balance(D(20), D(30))
    with pytest.raises(LedgerError):
        ledger.reserve("bob", "USD", D("1"), order_id=9)
    with pytest.raises(LedgerError):
        ledger.release("bob", "USD", D("21"))  # only 20 is reserved without an order
    ledger.release("bob", "USD", D("20"))
    assert ledger.release_order(9) == D("10")
    assert ledger.release_order(9) == 0
    assert ledger.balance("bob", "USD").available == D("50")
    assert ledger.balance("bob", "USD").reserved == 0
    with pytest.raises(ValueError, match="positive"):
        ledger.deposit("bob", "USD", D("0"))
    with pytest.raises(ValueError, match="negative"):
        ledger.reserve("bob", "USD", D("-1"), order_id=10)
    ledger.reserve("bob", "USD", D("0"), order_id=10)  # an empty hold is fine
    assert ledger.release_order(10) == 0


def test_settle_moves_funds_and_fees(ledger: Ledger) -> None:
    ledger.deposit("alice", "BTC", D("1"))
    ledger.deposit("bob", "USD", D("200.00"))
    ledger.reserve_limit(1, "alice", BTCUSD, SELL, D("1"), D("100.00"))
    held = ledger.reserve_limit(2, "bob", BTCUSD, BUY, D("1"), D("101.00"), fee_percent=D("0.4"))
    assert held == D("101.41")  # 101.00 + 0.404 rounded up

    s = ledger.settle(
        fill("1", "100.00"), BTCUSD, maker_fee_percent=D("0.30"), taker_fee_percent=D("0.40")
    )

    assert (s.buyer, s.seller, s.value, s.buyer_fee, s.seller_fee) == (
        "bob",
        "alice",
        D("100.00"),
        D("0.40"),
        D("0.30"),
    )
    assert (s.taker_fee, s.maker_fee) == (D("0.40"), D("0.30"))
    # Completely filled below its limit: the whole difference is back in available.
    assert ledger.balance("bob", "USD").available == D("99.60")
    assert ledger.balance("bob", "USD").reserved == 0
    assert ledger.balance("bob", "BTC").available == D("1")
    assert ledger.balance("alice", "USD").available == D("99.70")
    assert ledger.balance("alice", "BTC").total == 0
    assert ledger.balance("exchange", "USD").available == D("0.70")
    assert ledger.held(1) == ledger.held(2) == 0
    for cur in ("USD", "BTC"):
        assert ledger.total(cur) == ledger.issued(cur)


def test_partial_fill_below_the_limit_releases_the_difference(ledger: Ledger) -> None:
    ledger.deposit("alice", "BTC", D("1"))
    ledger.deposit("bob", "USD", D("300.00"))
    ledger.reserve_limit(1, "alice", BTCUSD, SELL, D("1"), D("100.00"))
    assert ledger.reserve_limit(
        2, "bob", BTCUSD, BUY, D("2"), D("101.00"), fee_percent=D("0.4")
    ) == D("202.81")

    ledger.settle(
        fill("1", "100.00"), BTCUSD, maker_fee_percent=D("0.3"), taker_fee_percent=D("0.4")
    )

    # Paid 100.40; what is still held is exactly what the other 1 BTC at 101.00 needs.
    assert ledger.held(2) == D("101.41") == ledger.limit_buy_cost("USD", D("1"), D("101"), D("0.4"))
    assert ledger.balance("bob", "USD").reserved == D("101.41")
    assert ledger.balance("bob", "USD").available == D("300.00") - D("100.40") - D("101.41")
    assert ledger.release_order(2) == D("101.41")
    assert ledger.balance("bob", "USD").available == D("199.60")


def test_maker_buy_partially_filled_by_a_taker_sell(ledger: Ledger) -> None:
    ledger.deposit("bob", "USD", D("1000"))
    ledger.deposit("alice", "BTC", D("3"))
    ledger.reserve_limit(1, "bob", BTCUSD, BUY, D("4"), D("100.00"), fee_percent=D("0.5"))
    ledger.reserve_limit(2, "alice", BTCUSD, SELL, D("3"), D("99.00"))
    f = fill("3", "100.00", taker_side=SELL, maker=(1, "bob"), taker=(2, "alice"))
    s = ledger.settle(f, BTCUSD, maker_fee_percent=D("0.25"), taker_fee_percent=D("0.5"))
    assert (s.buyer, s.buyer_fee, s.seller_fee) == ("bob", D("0.75"), D("1.50"))
    assert ledger.held(1) == D("402.00") - D("300.00") - D("1.50")  # 1 BTC at 100 + 0.5 %
    assert ledger.balance("alice", "USD").available == D("298.50")
    assert ledger.held(2) == 0


def test_rounding_matches_recorded_bitstamp_numbers() -> None:
    fine = Ledger(decimals={"USD": 5, "EUR": 5})
    ethusd, xrpeur = market("ETH", "USD"), market("XRP", "EUR")
    for who, cur, amount in (("bob", "USD", "1000"), ("alice", "ETH", "1")):
        fine.deposit(who, cur, D(amount))
    s = fine.settle(
        fill("0.005", "2468.04", taker_side=SELL, maker=(1, "bob"), taker=(2, "alice")),
        ethusd,
        maker_fee_percent=D("0"),
        taker_fee_percent=D("0.4"),
    )
    assert (s.value, s.taker_fee) == (D("12.34020"), D("0.04936"))  # private-my_trades sample
    fine.deposit("carol", "XRP", D("300"))
    fine.deposit("dan", "EUR", D("300"))
    s = fine.settle(
        fill("299.58713", "0.85505", taker_side=SELL, maker=(3, "dan"), taker=(4, "carol")),
        xrpeur,
        maker_fee_percent=D("0"),
        taker_fee_percent=D("0"),
    )
    assert s.value == D("256.16198")  # georlav user_transactions: exact 256.1619755065


def test_a_rounding_unit_short_rounds_the_value_down_then_trims_the_fee(ledger: Ledger) -> None:
    ledger.deposit("alice", "BTC", D("1"))
    ledger.deposit("bob", "USD", D("0.99"))
    ledger.reserve("bob", "USD", D("0.99"), order_id=2)
    # 0.01 BTC at 99.50 is worth 0.995: half-up 1.00, which bob cannot pay; 0.99 he can.
    s = ledger.settle(
        fill("0.01", "99.50"), BTCUSD, maker_fee_percent=D("0"), taker_fee_percent=D("1")
    )
    assert (s.value, s.buyer_fee) == (D("0.99"), D("0"))
    assert ledger.balance("bob", "USD").total == 0
    assert ledger.balance("alice", "USD").available == D("0.99")
    assert ledger.total("USD") == ledger.issued("USD")


def test_seller_that_cannot_deliver_is_a_bug(ledger: Ledger) -> None:
    ledger.deposit("bob", "USD", D("1000"))
    with pytest.raises(LedgerError, match="cannot deliver"):
        ledger.settle(
            fill("1", "100.00"), BTCUSD, maker_fee_percent=D("0"), taker_fee_percent=D("0")
        )
    assert ledger.balance("bob", "USD").available == D("1000")


def test_synthetic_participants_are_untracked(ledger: Ledger) -> None:
    ledger.deposit("~mm", "BTC", D("5"))
    assert ledger.balance("~mm", "BTC").total == 0
    ledger.reserve_limit(1, "~mm", BTCUSD, SELL, D("100"), D("100.00"))  # never short
    ledger.deposit("bob", "USD", D("500"))
    ledger.reserve_limit(2, "bob", BTCUSD, BUY, D("2"), D("100.00"), fee_percent=D("0.5"))
    s = ledger.settle(
        fill("2", "100.00", maker=(1, "~mm")),
        BTCUSD,
        maker_fee_percent=D("0.3"),
        taker_fee_percent=D("0.5"),
    )
    assert (s.buyer_fee, s.seller_fee) == (D("1.00"), D("0"))
    assert ledger.balance("bob", "BTC").available == D("2")
    assert ledger.balance("bob", "USD").available == D("299.00")
    assert ledger.balance("exchange", "USD").available == D("1.00")
    assert ledger.total("BTC") == ledger.issued("BTC") == D("2")
    assert ledger.total("USD") == ledger.issued("USD") == D("300.00")


def test_fee_percent_out_of_range(ledger: Ledger) -> None:
    with pytest.raises(ValueError, match="percentage"):
        ledger.settle(fill("1", "1"), BTCUSD, maker_fee_percent=D("100"), taker_fee_percent=D(0))


# ------------------------------------------------------------------ random trading


SMALL = market("TST", "USD", base_decimals=3)
USERS = ("a", "b", "c", "~mm")
op = st.one_of(
    st.tuples(
        st.just("limit"),
        st.sampled_from(USERS),
        st.sampled_from([BUY, SELL]),
        st.integers(1, 3000).map(lambda n: D(n) / 1000),
        st.integers(9_500, 10_500).map(lambda n: D(n) / 100),
        st.sampled_from(["gtc", "gtc", "ioc", "fok"]),
    ),
    st.tuples(
        st.just("market"),
        st.sampled_from(USERS),
        st.sampled_from([BUY, SELL]),
        st.integers(1, 3000).map(lambda n: D(n) / 1000),
    ),
    st.tuples(st.just("cancel"), st.integers(0, 1000)),
)


class MiniExchange:
    """Just enough of the facade to drive engine and ledger together."""

    def __init__(self, ledger: Ledger, fees: dict[str, tuple[Decimal, Decimal]]) -> None:
        self.ledger = ledger
        self.engine = MatchingEngine(SMALL)
        self.fees = fees  # owner -> (maker %, taker %)
        self.next_id = 0

    def settle(self, execution) -> None:
        for f in execution.fills:
            self.ledger.settle(
                f,
                SMALL,
                maker_fee_percent=self.fees[f.maker_owner][0],
                taker_fee_percent=self.fees[f.taker_owner][1],
            )
            if not f.maker_remaining_after:
                self.ledger.release_order(f.maker_order_id)

    def limit(self, owner, side, amount, price, tif) -> None:
        self.next_id += 1
        fee = self.fees[owner][1]
        try:
            self.ledger.reserve_limit(
                self.next_id, owner, SMALL, side, amount, price, fee_percent=fee
            )
        except InsufficientFunds:
            return
        ex = self.engine.submit_limit(self.next_id, owner, side, amount, price, now_us=1, tif=tif)
        self.settle(ex)
        if ex.rested is None:
            self.ledger.release_order(self.next_id)

    def market(self, owner, side, amount) -> None:
        self.next_id += 1
        walk = self.engine.walk(side, amount=amount)
        if side is BUY:
            currency = "USD"
            need = self.ledger.limit_buy_cost("USD", D(1), walk.value, self.fees[owner][1])
        else:
            currency, need = "TST", amount
        try:
            self.ledger.reserve(owner, currency, need, order_id=self.next_id)
        except InsufficientFunds:
            return
        self.settle(self.engine.submit_market(self.next_id, owner, side, now_us=1, amount=amount))
        self.ledger.release_order(self.next_id)

    def cancel(self, index) -> None:
        orders = self.engine.orders(BUY) + self.engine.orders(SELL)
        if orders:
            order = self.engine.cancel(orders[index % len(orders)].order_id)
            assert order is not None
            self.ledger.release_order(order.order_id)

    def check(self) -> None:
        ledger = self.ledger
        for cur in ("USD", "TST"):
            assert ledger.total(cur) == ledger.issued(cur)
        for owner in ("a", "b", "c", "exchange"):
            for cur in ("USD", "TST"):
                bal = ledger.balance(owner, cur)
                assert bal.available >= 0
                assert bal.reserved >= 0
        for owner in ("a", "b", "c"):
            mine = self.engine.open_orders(owner)
            for side, cur in ((BUY, "USD"), (SELL, "TST")):
                holds = [ledger.held(o.order_id) for o in mine if o.side is side]
                assert ledger.balance(owner, cur).reserved == sum(holds, D(0))
            for o in mine:
                if o.side is SELL:
                    assert ledger.held(o.order_id) == o.remaining
                else:
                    cost = ledger.limit_buy_cost("USD", o.remaining, o.price, self.fees[owner][1])
                    assert ledger.held(o.order_id) <= cost


@settings(max_examples=120, deadline=None)
@given(
    ops=st.lists(op, max_size=60),
    usd_places=st.sampled_from([2, 5]),
    fees=st.lists(
        st.tuples(
            st.sampled_from([D("0"), D("0.1"), D("0.25"), D("0.3")]),
            st.sampled_from([D("0"), D("0.2"), D("0.4"), D("0.5"), D("0.123")]),
        ),
        min_size=4,
        max_size=4,
    ),
)
def test_random_trading_conserves_every_currency(ops, usd_places, fees) -> None:
    ledger = Ledger(decimals={"USD": usd_places, "TST": 3})
    ex = MiniExchange(ledger, dict(zip(USERS, fees, strict=True)))
    for owner in ("a", "b", "c"):
        ledger.deposit(owner, "USD", D("500"))
        ledger.deposit(owner, "TST", D("5"))
    for step in ops:
        getattr(ex, step[0])(*step[1:])
        ex.check()
    for order in ex.engine.cancel_where(lambda o: True):
        ledger.release_order(order.order_id)
    ex.check()
    for owner in ("a", "b", "c"):
        assert ledger.balance(owner, "USD").reserved == 0
        assert ledger.balance(owner, "TST").reserved == 0
    # Among tracked owners only: nothing but the ~mm trades moves money in or out.
    if not any(step[1] == "~mm" for step in ops if step[0] != "cancel"):
        assert ledger.total("USD") == D("1500")
        assert ledger.total("TST") == D("15")
