"""Sizing by share of balance: what an order holds is what the simulator reserves, and the
largest order for a budget holds at most the budget while one step more would not fit."""

from __future__ import annotations

import threading
from decimal import Context, Decimal, localcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workstation.domain.common import Side
from workstation.domain.markets import Market
from workstation.domain.order_vocabulary import OrderKind
from workstation.domain.sizing import buy_hold, largest_order
from workstation.domain.walk import charge, walk_amount, walk_quote
from workstation.sim.ledger import Ledger

D = Decimal
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
SIM_LEDGER = Ledger(decimals={"USD": 5})

money = st.decimals(min_value=D("0.01"), max_value=D("10000000"), places=2)
fees = st.decimals(min_value=D(0), max_value=D("2"), places=3)
prices = st.decimals(min_value=D("0.01"), max_value=D("200000"), places=2)
sizes = st.decimals(min_value=D("0.00000001"), max_value=D("5"), places=8)


@st.composite
def asks(draw: st.DrawFn) -> list[tuple[Decimal, Decimal]]:
    """A best-first ask side: ascending prices, one or more orders per level."""
    start = draw(prices)
    steps = draw(st.lists(st.decimals(min_value=D(0), max_value=D(50), places=2), max_size=8))
    rows, price = [], start
    for step in [D(0), *steps]:
        price += step
        rows.append((price, draw(sizes)))
    return rows


@settings(max_examples=200, deadline=None)
@given(value=st.decimals(min_value=D(0), max_value=D("1e12"), places=10), fee=fees)
def test_a_buy_holds_what_the_simulator_reserves(value: Decimal, fee: Decimal) -> None:
    assert buy_hold(MARKET, value, fee) == SIM_LEDGER.limit_buy_cost("USD", D(1), value, fee)


@settings(max_examples=200, deadline=None)
@given(budget=money, fee=fees, price=prices)
def test_a_limit_buy_of_the_whole_budget_fits_and_one_lot_more_does_not(
    budget: Decimal, fee: Decimal, price: Decimal
) -> None:
    amount = largest_order(MARKET, Side.BUY, OrderKind.LIMIT, budget, fee_percent=fee, price=price)
    assert amount is not None
    assert buy_hold(MARKET, amount * price, fee) <= budget
    assert buy_hold(MARKET, (amount + MARKET.lot) * price, fee) > budget


@settings(max_examples=200, deadline=None)
@given(budget=money, fee=fees)
def test_an_instant_buy_of_the_whole_budget_fits_and_a_cent_more_does_not(
    budget: Decimal, fee: Decimal
) -> None:
    amount = largest_order(MARKET, Side.BUY, OrderKind.INSTANT, budget, fee_percent=fee)
    assert amount is not None
    assert buy_hold(MARKET, amount, fee) <= budget
    assert buy_hold(MARKET, amount + D("0.01"), fee) > budget


def _charged(fills: tuple[tuple[Decimal, Decimal], ...], fee: Decimal) -> Decimal:
    booked, fees = charge(fills, fee, 5)
    return booked + fees


@settings(max_examples=200, deadline=None)
@given(budget=money, fee=fees, rows=asks())
def test_a_market_buy_walks_the_book_and_holds_and_costs_at_most_the_budget(
    budget: Decimal, fee: Decimal, rows: list[tuple[Decimal, Decimal]]
) -> None:
    amount = largest_order(MARKET, Side.BUY, OrderKind.MARKET, budget, fee_percent=fee, rows=rows)
    assert amount is not None
    walk = walk_amount(rows, amount, buy=True)
    assert buy_hold(MARKET, walk.value, fee) <= budget
    assert _charged(walk.fills, fee) <= budget
    more = walk_amount(rows, amount + MARKET.lot, buy=True)
    if more.covered:  # the book has one lot more: it would not fit
        held, charged = buy_hold(MARKET, more.value, fee), _charged(more.fills, fee)
        assert held > budget or charged > budget


@settings(max_examples=200, deadline=None)
@given(budget=money, fee=fees, rows=asks())
def test_an_instant_buy_walked_through_the_book_costs_at_most_the_budget(
    budget: Decimal, fee: Decimal, rows: list[tuple[Decimal, Decimal]]
) -> None:
    amount = largest_order(MARKET, Side.BUY, OrderKind.INSTANT, budget, fee_percent=fee, rows=rows)
    assert amount is not None
    assert buy_hold(MARKET, amount, fee) <= budget
    assert _charged(walk_quote(rows, amount, lot=MARKET.lot).fills, fee) <= budget


def test_a_market_buy_of_a_share_reaching_a_second_level_holds_only_that_share() -> None:
    """The reported case: sized at the best ask, 25% held 25,012.66 of 100,000 USD."""
    rows = [(D("67000.00"), D("0.2")), (D("67100.00"), D("1")), (D("67500.00"), D("5"))]
    budget = D(25_000)
    amount = largest_order(
        MARKET, Side.BUY, OrderKind.MARKET, budget, fee_percent=D("0.4"), rows=rows
    )
    assert amount is not None
    assert amount > D("0.2")  # into the second level
    held = buy_hold(MARKET, walk_amount(rows, amount, buy=True).value, D("0.4"))
    assert D("24999") < held <= budget


@settings(max_examples=200, deadline=None)
@given(base=sizes, rows=asks())
def test_an_instant_sell_in_quote_of_the_whole_base_needs_no_more_base_than_held(
    base: Decimal, rows: list[tuple[Decimal, Decimal]]
) -> None:
    bids = [(price, size) for price, size in reversed(rows)]  # best (highest) first
    amount = largest_order(
        MARKET, Side.SELL, OrderKind.INSTANT, base, fee_percent=D("0.5"), rows=bids,
        amount_in_quote=True,
    )  # fmt: skip
    assert amount is not None
    assert walk_quote(bids, amount, lot=MARKET.lot).filled <= base


def test_sells_of_the_whole_base_are_the_base_and_what_is_missing_is_none() -> None:
    for kind in (OrderKind.LIMIT, OrderKind.MARKET, OrderKind.INSTANT):
        got = largest_order(MARKET, Side.SELL, kind, D("1.234567891"), fee_percent=D("0.5"))
        assert got == D("1.23456789")
    assert largest_order(MARKET, Side.BUY, OrderKind.LIMIT, D(100), fee_percent=D(0)) is None
    assert largest_order(MARKET, Side.BUY, OrderKind.MARKET, D(100), fee_percent=D(0)) is None
    assert largest_order(MARKET, Side.BUY, OrderKind.LIMIT, D(0), fee_percent=D(0)) == 0


def _sized_within(seconds: float, **call: object) -> Decimal | None:
    """``largest_order(**call)``, failing (not hanging) if it does not end in ``seconds``."""
    result: list[Decimal | None] = []
    worker = threading.Thread(target=lambda: result.append(largest_order(**call)), daemon=True)
    worker.start()
    worker.join(seconds)
    assert result, f"largest_order did not end within {seconds} s: {call}"
    return result[0]


@pytest.mark.parametrize(
    ("budget", "zeros"), [(D(1_000_000), 20), (D("1e12"), 36), (D("0.01"), 45)]
)
def test_a_limit_buy_at_an_absurdly_small_price_is_sized_and_ends(
    budget: Decimal, zeros: int
) -> None:
    """Amounts of 30+ digits at a price of 1e-21 (typed by mistake) once made the bisection
    round to the default 28 digits, never move, and freeze the app."""
    price = D("0." + "0" * zeros + "1")
    fee = D("0.5")
    call = {"market": MARKET, "side": Side.BUY, "kind": OrderKind.LIMIT, "budget": budget}
    amount = _sized_within(10, **call, fee_percent=fee, price=price)
    assert amount is not None
    with localcontext(Context(prec=200)):
        assert buy_hold(MARKET, amount * price, fee) <= budget
        assert buy_hold(MARKET, (amount + MARKET.lot) * price, fee) > budget
