"""At least 200 forced reconnect cycles while our orders rest and fill (issue 16, counts).

The real services over real loopback sockets: a :class:`MarketHub` (the book) and a
:class:`TradingService` (orders, the private stream, the journal) on one REST client, as the
facade builds them, against a :class:`SimServer` whose market moves on a manual clock. Each
cycle places an order at the touch, forces the streams off (``drop_all``, then
``bts:request_reconnect``, every tenth a net cut) while the order fills, and waits for both
streams to be back. After every cycle: the book resynced and equals the engine's, submits are
allowed again, and every order we placed shows the exchange's state and filled amount. At the
end, every fill the exchange booked is journaled exactly once.

A cycle is fast because the streams back off 10-50 ms (the client takes a ``Backoff``) and the
simulator enforces no request budget (hundreds of snapshots and reconciles a minute).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest

from tests.integration.trading_support import FAST, Changes, fills_as_trades
from workstation.bitstamp.auth import Credentials
from workstation.bitstamp.ratelimit import RateBudget
from workstation.bitstamp.rest import RestClient
from workstation.bitstamp.secret import Secret
from workstation.bitstamp.stream import Backoff, StreamClient
from workstation.domain.common import Side
from workstation.domain.order_request import OrderRequest
from workstation.domain.order_vocabulary import OrderKind, TrackState
from workstation.domain.orders import OrderState
from workstation.services.feed import FeedState, MarketFeed
from workstation.services.hub import MarketHub
from workstation.services.journal import Journal
from workstation.services.trading import TradingService
from workstation.sim.clock import SimClock
from workstation.sim.exchange import SimExchange
from workstation.sim.orderform import OrderForm
from workstation.sim.server import SimServer

from .conftest import scaled
from .tally import Count

SYMBOL = "btcusd"
CYCLES = 200
FAST_BACKOFF = Backoff(base_s=0.01, cap_s=0.05)
AMOUNT = Decimal("0.002")
CUT_EVERY = 10
"""Every tenth cycle is a net cut (refused connections; slower to come back)."""
KEEP_OPEN = 3
"""Orders of the last cycles left resting; older ones are cancelled (funds, book size)."""
SETTLE_S = 15.0
"""How long one cycle may take to come back whole (a loaded 2-core machine)."""

# The order of the terminal states does not matter; a live order only moves forward.
_RANK = {
    TrackState.PENDING: 0,
    TrackState.UNKNOWN: 1,
    TrackState.OPEN: 2,
    TrackState.PARTIALLY_FILLED: 3,
}


@dataclass
class Desk:
    sim: SimServer
    hub: MarketHub
    feed: MarketFeed
    service: TradingService
    journal: Journal
    public: StreamClient
    private: StreamClient
    changes: Changes


@pytest.fixture
async def desk(journal_dir: Path) -> AsyncIterator[Desk]:
    clock = SimClock(manual_start_us=time.time_ns() // 1000)
    exchange = SimExchange(seed=16, speed=5, clock=clock, history_s=60)
    async with SimServer(exchange, rate_limits=None) as sim:
        demo = exchange.demo
        credentials = Credentials(
            key=Secret(demo.api_key), secret=Secret(demo.secret), env="sim", host=sim.host
        )
        budget = RateBudget(per_second=100_000, per_window=10**9)
        rest = RestClient.for_url(
            sim.rest_url, credentials=credentials, budget=budget, timeout_s=5.0
        )
        public = StreamClient(sim.ws_url, heartbeat_s=0.5, idle_timeout_s=5.0, backoff=FAST_BACKOFF)
        private = StreamClient(
            sim.ws_url,
            token_provider=rest.websockets_token,
            heartbeat_s=0.5,
            idle_timeout_s=5.0,
            backoff=FAST_BACKOFF,
        )
        markets = dict(exchange.markets)
        hub = MarketHub(rest, public, markets)
        changes = Changes()
        with Journal(journal_dir / "journal.sqlite3") as journal:
            service = TradingService(
                rest,
                sim.ws_url,
                journal,
                "sim",
                markets,
                listener=changes,
                policy=FAST,
                balances_interval_s=0.2,
                stream=private,
            )
            await hub.start()
            await service.start()
            try:
                feed = await hub.watch(SYMBOL)
                await service.watch(SYMBOL)
                yield Desk(sim, hub, feed, service, journal, public, private, changes)
            finally:
                await service.close()
                await hub.close()
                await rest.aclose()


async def until(condition: Callable[[], bool], what: Callable[[], str]) -> None:
    """Wait (bounded by ``SETTLE_S``) until ``condition()``; fail saying ``what()``."""
    deadline = time.monotonic() + SETTLE_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out: {what()}")
        await asyncio.sleep(0.01)


def book_matches(desk: Desk) -> bool:
    engine = desk.sim.exchange.engines[SYMBOL]
    feed = desk.feed
    return (
        feed.state is FeedState.LIVE
        and not feed.stale
        and feed.book.levels(Side.BUY) == engine.levels(Side.BUY)
        and feed.book.levels(Side.SELL) == engine.levels(Side.SELL)
    )


@dataclass
class Placed:
    """Our orders, in the order placed; ``live`` those not yet seen final and agreeing (a
    final order never changes again, so it is checked no more: cycles stay O(live))."""

    cids: list[str] = field(default_factory=list)
    live: list[str] = field(default_factory=list)

    def add(self, cid: str) -> None:
        self.cids.append(cid)
        self.live.append(cid)

    def settle(self, desk: Desk) -> None:
        self.live = [
            c
            for c in self.live
            if not desk.service.tracker.get(c).state.is_final or disagreements(desk, [c])
        ]


def disagreements(desk: Desk, cids: list[str]) -> list[str]:
    """Our orders whose tracked state or filled amount is not the exchange's."""
    wrong = []
    for cid in cids:
        tracked = desk.service.tracker.get(cid)
        assert tracked.order_id is not None
        record = desk.sim.exchange.orders.get(tracked.order_id)
        assert record is not None, f"{cid} has no order on the exchange"
        live = record.state is OrderState.OPEN
        if tracked.filled != record.traded or tracked.state.is_final == live:
            wrong.append(
                f"{cid}: {tracked.state.value} {tracked.filled} vs {record.state} {record.traded}"
            )
    return wrong


def take_from(desk: Desk, order_side: Side, price: Decimal, amount: Decimal) -> None:
    """Another client of the account trades against our order's price level."""
    side = Side.SELL if order_side is Side.BUY else Side.BUY
    form = OrderForm("limit", side, SYMBOL, {"amount": str(amount), "price": str(price)})
    desk.sim.exchange.place("demo", form)


def at_touch(desk: Desk, side: Side) -> Decimal:
    """One tick inside the spread on our side: first in the queue, not marketable."""
    engine = desk.sim.exchange.engines[SYMBOL]
    tick = engine.market.tick
    bid, ask = engine.best_bid(), engine.best_ask()
    assert bid is not None
    assert ask is not None
    price = bid + tick if side is Side.BUY else ask - tick
    return price if bid < price < ask else (bid if side is Side.BUY else ask)


async def force_reconnect(desk: Desk, cycle: int, fill: Callable[[], None]) -> str:
    """Cut the streams one way (by the cycle's number) and fill while they are down."""
    sim = desk.sim
    if cycle % CUT_EVERY == CUT_EVERY - 1:
        async with sim.net_cut():
            fill()
            sim.exchange.advance(0.3)
            await asyncio.sleep(0.03)
        return "net cut"
    if cycle % 2 == 0:
        await sim.hub.drop_all()
        fill()
        return "drop"
    sim.hub.request_reconnect()
    fill()
    return "request_reconnect"


async def one_cycle(desk: Desk, cycle: int, placed: Placed) -> str:
    """Place an order at the touch, force a reconnect while it fills, and wait until the
    book, the gate and every order placed so far are the exchange's again; how it was cut."""
    side = Side.BUY if cycle % 2 == 0 else Side.SELL
    price = at_touch(desk, side)
    order = await desk.service.submit(OrderRequest(SYMBOL, side, OrderKind.LIMIT, AMOUNT, price))
    assert order.state in (TrackState.OPEN, TrackState.PARTIALLY_FILLED, TrackState.FILLED)
    placed.add(order.client_order_id)
    desk.sim.exchange.advance(0.2)  # the market moves; its flow may fill us too
    public, private = desk.public.reconnects, desk.private.reconnects
    resyncs = desk.feed.health.resyncs
    how = await force_reconnect(desk, cycle, lambda: take_from(desk, side, price, AMOUNT / 2))
    await until(
        lambda: desk.public.reconnects > public and desk.private.reconnects > private,
        lambda: f"cycle {cycle} ({how}): both streams to reconnect",
    )
    await until(
        lambda: desk.feed.health.resyncs > resyncs and book_matches(desk),
        lambda: (
            f"cycle {cycle} ({how}): the book resynced to the engine's "
            f"(state {desk.feed.state}, resyncs {desk.feed.health.resyncs})"
        ),
    )
    await until(
        lambda: (
            desk.service.submits_allowed
            and desk.service.private_connected
            and not disagreements(desk, placed.live)
        ),
        lambda: (
            f"cycle {cycle} ({how}): orders reconciled; gate "
            f"{desk.service.gate_reason!r}; wrong {disagreements(desk, placed.live)[:3]}"
        ),
    )
    if cycle >= KEEP_OPEN:
        old = desk.service.tracker.get(placed.cids[cycle - KEEP_OPEN])
        if not old.state.is_final:
            await desk.service.cancel(old.client_order_id)
    placed.settle(desk)
    return how


def exchange_fills(sim: SimServer) -> dict[int | None, list[tuple[Decimal, Decimal]]]:
    """Every fill the exchange booked for the account, (base amount, price) by order, oldest
    first (one pass: the soak books thousands)."""
    rows = sim.exchange.user_transactions(
        "demo",
        None,
        offset=0,
        limit=10**9,
        descending=False,
        since_id=None,
        since_timestamp=None,
    )
    fills: dict[int | None, list[tuple[Decimal, Decimal]]] = {}
    for row in rows:
        if row.order_id is not None and row.rate is not None:
            fills.setdefault(row.order_id, []).append((abs(row.amounts["btc"]), row.rate))
    return fills


async def test_reconnect_cycles_lose_and_double_no_fill_or_state(
    desk: Desk, count: Callable[[str, int], Count]
) -> None:
    target = scaled(CYCLES)
    cycles = count("reconnect cycles", target)
    placed = Placed()
    kinds: dict[str, int] = {}
    await until(lambda: book_matches(desk) and desk.service.submits_allowed, lambda: "a start")
    for cycle in range(target):
        how = await one_cycle(desk, cycle, placed)
        kinds[how] = kinds.get(how, 0) + 1
        cycles.done += 1

    # No fill lost or counted twice: the journal holds exactly what the exchange booked.
    await asyncio.sleep(0.3)
    fills = 0
    booked_by_order = exchange_fills(desk.sim)
    for cid in placed.cids:
        tracked = desk.service.tracker.get(cid)
        booked = booked_by_order.get(tracked.order_id, [])
        assert fills_as_trades(desk.journal, cid) == booked, cid
        fills += len(booked)
        states = desk.changes.states(cid)
        live = [s for s in states if not s.is_final]
        assert [_RANK[s] for s in live] == sorted(_RANK[s] for s in live), (cid, states)
        assert sum(s.is_final for s in states) <= 1, (cid, states)
    assert disagreements(desk, placed.cids) == []
    assert fills >= target // 2, f"only {fills} fills in {target} cycles"
    assert kinds.get("net cut", 0) >= target // CUT_EVERY
    cycles.note = f"{fills} fills, " + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
