"""The cost preview against what the simulator then charges.

Over real loopback sockets first: the ``sim`` fixture runs ``SimExchange(seed=7, speed=0)``,
so the market stands still and the book the preview walked is the book the order meets. The
seeded book's best levels hold several maker orders each, so the aggregated book
(``group=1``) cannot know the per-fill rounding and the ``group=2`` book can: the first must
match every exact number and come within a unit per fill on the booked money, the second
must match everything to the last decimal.

Then in process, under hypothesis: random books of several orders per level, fed to the
simulator's own ``MatchingEngine`` and ``Ledger``, against the preview of the same book.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from workstation.bitstamp.rest import RestClient
from workstation.domain.common import Side
from workstation.domain.market_data import BookSnapshot
from workstation.domain.markets import Market
from workstation.domain.orderbook import OrderBook
from workstation.domain.orders import OrderStatus
from workstation.domain.preview import Preview, preview_limit, preview_market
from workstation.domain.walk import average_price, booking_places
from workstation.sim.catalog import DEFAULT_MARKETS
from workstation.sim.engine import MatchingEngine
from workstation.sim.ledger import Ledger
from workstation.sim.orders import Execution

D = Decimal
BUY, SELL = Side.BUY, Side.SELL


async def _setup(rest: RestClient) -> tuple[Market, Decimal]:
    market = {m.symbol: m for m in await rest.markets()}["btcusd"]
    [fee] = await rest.trading_fees("btcusd")
    assert fee.taker_percent == D("0.40")  # the demo account's taker rate
    return market, fee.taker_percent


async def _books(rest: RestClient, market: Market) -> tuple[OrderBook, BookSnapshot]:
    snapshot = await rest.order_book("btcusd")
    book = OrderBook("btcusd", market.quote_decimals, 8)
    book.load(snapshot.bids, snapshot.asks, snapshot.timestamp_us)
    return book, await rest.order_book("btcusd", group=2)


async def _available(rest: RestClient) -> dict[str, Decimal]:
    return {b.currency: b.available for b in await rest.account_balances()}


def _check_exact_numbers(p: Preview, status: OrderStatus, side: Side) -> None:
    """Amount, exact value, average and worst price: the same on any book."""
    txs = status.transactions
    value = sum((tx.price * tx.base_amount for tx in txs), D(0))
    assert p.filled_amount == status.filled
    assert p.value == value
    assert p.avg_price == average_price(value, status.filled)
    prices = [tx.price for tx in txs]
    assert p.worst_price == (max(prices) if side is Side.BUY else min(prices))
    assert p.levels_consumed == len(set(prices))
    assert p.covered


def _charged(status: OrderStatus) -> tuple[Decimal, Decimal]:
    txs = status.transactions
    booked = sum((tx.quote_amount for tx in txs), D(0))
    return booked, sum((tx.fee for tx in txs), D(0))


def _across_levels(book: OrderBook, side: Side, market: Market) -> tuple[Decimal, Decimal]:
    """A base amount and a quote amount that empty three levels and take half the fourth."""
    levels = book.levels(side.opposite, 4)
    assert len(levels) == 4
    half = (levels[3][1] / 2).quantize(market.lot, ROUND_DOWN)
    amount = sum((a for _, a in levels[:3]), half)
    quote = sum((p * a for p, a in levels[:3]), levels[3][0] * half)
    return amount, quote.quantize(market.tick, ROUND_DOWN)


async def _market_order(rest: RestClient, side: Side, client_order_id: str) -> None:
    market, fee = await _setup(rest)
    book, detailed = await _books(rest, market)
    amount, _ = _across_levels(book, side, market)
    rough = preview_market(book, market, side, amount=amount, fee_percent=fee)
    exact = preview_market(detailed, market, side, amount=amount, fee_percent=fee)
    assert rough.levels_consumed == 4
    assert (rough.fills_known, exact.fills_known) == (False, True)
    before = await _available(rest)

    ack = await rest.place_market(side, "btcusd", amount=amount, client_order_id=client_order_id)
    status = await rest.order_status(order_id=ack.order_id)

    after = await _available(rest)
    for p in (rough, exact):
        _check_exact_numbers(p, status, side)
    booked, fees = _charged(status)
    assert (exact.booked_value, exact.fee) == (booked, fees)
    sign = -1 if side is Side.BUY else 1
    assert after["usd"] - before["usd"] == sign * exact.total  # what the account paid or got
    assert after["btc"] - before["btc"] == -sign * exact.filled_amount
    unit = D(1).scaleb(-booking_places(market.quote)) * len(status.transactions)
    assert abs(rough.fee - fees) <= unit
    assert abs(rough.booked_value - booked) <= unit
    # The ack reports the average rounded half-even to the tick; so does the ticket.
    assert rough.avg_price is not None
    assert ack.price == rough.avg_price.quantize(market.tick)
    rows = [t for t in await rest.user_transactions("btcusd") if t.order_id == ack.order_id]
    assert sum((t.fee for t in rows), D(0)) == exact.fee
    assert sum((t.amounts["usd"] for t in rows), D(0)) == sign * exact.booked_value


async def test_market_buy_costs_what_the_preview_said(rest: RestClient) -> None:
    await _market_order(rest, Side.BUY, "preview-buy")


async def test_market_sell_yields_what_the_preview_said(rest: RestClient) -> None:
    await _market_order(rest, Side.SELL, "preview-sell")


async def test_instant_buy_in_dollars(rest: RestClient) -> None:
    market, fee = await _setup(rest)
    book, detailed = await _books(rest, market)
    _, spend = _across_levels(book, Side.BUY, market)
    rough = preview_market(book, market, Side.BUY, quote_amount=spend, fee_percent=fee)
    exact = preview_market(detailed, market, Side.BUY, quote_amount=spend, fee_percent=fee)
    assert rough.levels_consumed == 4
    assert rough.unfilled == exact.unfilled == spend - exact.value
    assert exact.unfilled_in_quote
    before = await _available(rest)

    ack = await rest.place_instant(Side.BUY, "btcusd", amount=spend, client_order_id="preview-i")
    status = await rest.order_status(order_id=ack.order_id)

    after = await _available(rest)
    for p in (rough, exact):
        _check_exact_numbers(p, status, Side.BUY)
    assert exact.value <= spend
    assert _charged(status) == (exact.booked_value, exact.fee)
    assert before["usd"] - after["usd"] == exact.total
    assert after["btc"] - before["btc"] == exact.filled_amount


# -- against the simulator's own engine and ledger --------------------------------------------


BTCUSD = next(m for m in DEFAULT_MARKETS if m.symbol == "btcusd")
TICK, LOT, FEE = BTCUSD.tick, BTCUSD.lot, D("0.40")
lots = st.integers(min_value=1, max_value=300_000_000)
maker_lots = st.integers(min_value=1, max_value=60_000_000)
fee_percents = st.sampled_from([D(0), D("0.1"), D("0.25"), D("0.4"), D("0.5")])


@st.composite
def resting_orders(draw: st.DrawFn) -> list[tuple[Side, Decimal, Decimal]]:
    """Maker orders on few prices, so levels often hold several orders."""
    orders = []
    for side, start, sign in ((SELL, D("100.00"), 1), (BUY, D("99.99"), -1)):
        for step, size in draw(st.lists(st.tuples(st.integers(0, 6), maker_lots), max_size=14)):
            orders.append((side, start + sign * step * TICK, size * LOT))
    return orders


def _engine(orders: list[tuple[Side, Decimal, Decimal]]) -> MatchingEngine:
    engine = MatchingEngine(BTCUSD)
    for order_id, (side, price, amount) in enumerate(orders, start=1):
        engine.submit_limit(order_id, "~mm", side, amount, price, now_us=order_id)
    return engine


def _engine_books(engine: MatchingEngine) -> tuple[OrderBook, BookSnapshot]:
    aggregated = OrderBook("btcusd", 2, 8)
    aggregated.load(engine.levels(BUY), engine.levels(SELL), 1)
    bids, asks = engine.orders(BUY), engine.orders(SELL)
    detailed = BookSnapshot(
        "btcusd",
        1,
        tuple((o.price, o.remaining) for o in bids),
        tuple((o.price, o.remaining) for o in asks),
        bid_order_ids=tuple(o.order_id for o in bids),
        ask_order_ids=tuple(o.order_id for o in asks),
    )
    return aggregated, detailed


def _settle(execution: Execution, fee: Decimal) -> tuple[Decimal, Decimal]:
    """Book the execution's fills for a funded trader; ``(booked value, fee)`` summed."""
    ledger = Ledger(decimals={"USD": 5})
    ledger.deposit("me", "USD", D(10**9))
    ledger.deposit("me", "BTC", D(10**6))
    value = fees = D(0)
    for fill in execution.fills:
        s = ledger.settle(fill, BTCUSD, maker_fee_percent=D(0), taker_fee_percent=fee)
        value += s.value
        fees += s.taker_fee
    return value, fees


@settings(max_examples=150, deadline=None)
@given(
    resting_orders(),
    st.sampled_from([BUY, SELL]),
    st.one_of(lots.map(lambda n: ("base", n * LOT)), lots.map(lambda n: ("quote", n * TICK))),
    fee_percents,
)
def test_preview_equals_what_the_engine_and_ledger_charge(
    orders: list, side: Side, size: tuple[str, Decimal], fee: Decimal
) -> None:
    engine = _engine(orders)
    aggregated, detailed = _engine_books(engine)
    kind, number = size
    sized = {"amount": number} if kind == "base" else {"quote_amount": number}
    exact = preview_market(detailed, BTCUSD, side, fee_percent=fee, **sized)
    rough = preview_market(aggregated, BTCUSD, side, fee_percent=fee, **sized)
    execution = engine.submit_market(99_999, "me", side, now_us=10**6, **sized)
    if execution.rejected is not None:
        assert exact.warning == execution.rejected
        return
    value, fees = _settle(execution, fee)
    assert exact.fills_known
    assert not rough.fills_known
    for p in (exact, rough):
        assert p.filled_amount == execution.filled
        assert p.value == execution.value
        assert p.avg_price == average_price(execution.value, execution.filled)
        assert p.worst_price == (execution.fills[-1].price if execution.fills else None)
        assert p.levels_consumed == len({f.price for f in execution.fills})
        assert p.covered == (execution.reason is None)
        assert p.unfilled == (execution.cancelled if kind == "base" else execution.quote_left)
    assert (exact.booked_value, exact.fee) == (value, fees)
    # An aggregated book cannot know the split: off by at most a unit per fill.
    unit = len(execution.fills) * D("0.00001")
    assert abs(rough.booked_value - value) <= unit
    assert abs(rough.fee - fees) <= unit


@settings(max_examples=150, deadline=None)
@given(
    resting_orders(),
    st.sampled_from([BUY, SELL]),
    lots,
    st.integers(-8, 8),
    st.sampled_from(["gtc", "ioc", "fok", "moc"]),
)
def test_limit_preview_matches_the_engine(
    orders: list, side: Side, size: int, offset: int, tif: str
) -> None:
    engine = _engine(orders)
    _, detailed = _engine_books(engine)
    amount, price = size * LOT, D("100.00") + offset * TICK
    lp = preview_limit(detailed, BTCUSD, side, amount=amount, price=price, fee_percent=FEE, tif=tif)
    execution = engine.submit_limit(99_999, "me", side, amount, price, now_us=10**6, tif=tif)
    filled = lp.immediate.filled_amount if lp.immediate is not None else 0
    assert filled == execution.filled
    assert lp.resting_amount == (execution.rested.remaining if execution.rested else 0)
    assert lp.cancelled_amount == execution.cancelled
    assert lp.would_cancel == (execution.cancelled == amount and tif in ("fok", "moc"))
    if lp.immediate is not None:
        assert lp.immediate.value == execution.value
        assert (lp.immediate.booked_value, lp.immediate.fee) == _settle(execution, FEE)
