"""The chaos minute (:mod:`workstation.sim.chaos`): ``workstation sim --chaos`` plays it, and
the workstation's own services ride out one minute of it with orders resting and filling,
then agree with the simulator on everything: the book, every order's state, each fill once,
the balances; health shows what happened, and new orders go out again."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import websockets
from websockets.exceptions import ConnectionClosed

from workstation.bitstamp.errors import BitstampError
from workstation.bitstamp.requestlog import RequestRecord
from workstation.bitstamp.rest import RestClient
from workstation.bitstamp.reststats import RestStats
from workstation.bitstamp.transport import RetryPolicy
from workstation.cli_sim import parse_sim_args
from workstation.domain.common import Side
from workstation.domain.order_request import OrderRequest
from workstation.domain.order_vocabulary import OrderKind, TrackState
from workstation.domain.orders import OrderAck, OrderState
from workstation.services.events import OrderChanged, ServiceEvent
from workstation.services.facade import VenueServices
from workstation.services.trading import SWEEP_EVERY_S, TradingService
from workstation.services.views import StreamState
from workstation.sim.chaos import MINUTE_S, ChaosFault, chaos_minute, play_minute
from workstation.sim.clock import SimClock
from workstation.sim.exchange import SimExchange
from workstation.sim.faults import HttpFault, HttpFaultKind
from workstation.sim.orderform import OrderForm, SimRejection
from workstation.sim.periodic import MIN_PERIOD_S
from workstation.sim.server import SimServer

from .conftest import sim_process
from .market_support import manual_sim, until
from .trading_support import demo_services, sell_into

D = Decimal

# -- the command -------------------------------------------------------------------------------


async def test_sim_command_prints_the_minute_and_plays_it() -> None:
    """The banner lists the seed's minute; its WebSocket drop then closes a subscribed socket
    (within the minute's first 8 s)."""
    steps = chaos_minute(2)
    async with sim_process("--chaos", "--seed", "2") as child:
        assert "Fault      the chaos minute of seed 2 (60 s), over and over:" in child.banner
        for step in steps:
            assert f"Fault      {step.describe()}" in child.banner
        [drop] = [s for s in steps if s.fault is ChaosFault.DROP_WS]
        conn = await websockets.connect(child.ws_url, open_timeout=5)
        channel = {"channel": "live_trades_btcusd"}
        await conn.send(json.dumps({"event": "bts:subscribe", "data": channel}))
        closed = False
        async with asyncio.timeout(drop.at_s + 5):
            try:
                while True:
                    await conn.recv()
            except ConnectionClosed:
                closed = True
        assert closed


async def test_clearing_the_faults_stops_the_minute_and_closes_its_window(sim: SimServer) -> None:
    sim.arm(parse_sim_args(["--chaos", "--seed", "1"]).faults)
    assert sim.periodic_faults == {"chaos": MIN_PERIOD_S}
    [hang] = [s for s in chaos_minute(1) if s.fault is ChaosFault.HANG_ORDER]
    await until(lambda: sim.faults.order_hang_every == 1, hang.at_s + 5, "the hang window")
    assert len(_steps_waiting()) == len(chaos_minute(1))  # the hang's in its window
    sim.clear_faults()
    assert sim.periodic_faults == {}
    await until(lambda: not _steps_waiting(), 5, "every step of the minute cancelled")
    assert sim.faults.order_hang_every == 0
    assert sim.periodic_runs["chaos"] == 0


def _steps_waiting() -> list[asyncio.Task[object]]:
    """The chaos steps still waiting for their time (or in their window)."""
    return [
        task
        for task in asyncio.all_tasks()
        if getattr(task.get_coro(), "__qualname__", "") == "_play"
    ]


# -- health counts the 5xx answers --------------------------------------------------------------


async def test_the_session_counts_5xx_and_html_error_answers(sim: SimServer) -> None:
    """The minute's 500s and 502s must show in health (only 429s were counted)."""
    stats = RestStats()
    retry = RetryPolicy(attempts=3, base_s=0.01, cap_s=0.05)
    async with RestClient.for_url(sim.rest_url, stats=stats, retry=retry, timeout_s=5.0) as rest:
        sim.faults.fail_next("/api/v2/ticker/", HttpFault(HttpFaultKind.SERVER_ERROR, status=500))
        sim.faults.fail_next("/api/v2/", HttpFault(HttpFaultKind.HTML_ERROR, status=502))
        sim.faults.fail_next("/api/v2/", HttpFault(HttpFaultKind.RATE_LIMIT, retry_after=0.01))
        with contextlib.suppress(BitstampError):
            await rest.ticker(MARKET)
        for _ in range(3):
            with contextlib.suppress(BitstampError):
                await rest.ticker(MARKET)
    assert stats.server_errors == 2
    assert stats.rate_limited == 1


# -- the stall: a private channel that goes quiet while its socket lives -----------------------


async def test_a_fill_while_the_private_channels_are_stalled_is_learned(tmp_path: Path) -> None:
    """The minute's stall withholds every channel's frames while heartbeats are answered, so
    the private stream stays "connected" and its fill events are lost; nothing on the stream
    tells. Found by the chaos minute (a later reconnect in the minute hid it): the order stayed
    OPEN at the services, FILLED at the exchange, until the next reconnect."""
    async with manual_sim(history_s=60) as sim:
        services = demo_services(sim, tmp_path)
        await services.open([MARKET])
        try:
            trading = services.trading
            assert trading is not None
            await until(
                lambda: trading.submits_allowed and trading.private_connected, 20, "trading"
            )
            best = sim.exchange.engines[MARKET].best_bid()
            assert best is not None
            price = best + sim.exchange.engines[MARKET].market.tick  # first in the queue
            bid = await services.submit(
                OrderRequest(MARKET, Side.BUY, OrderKind.LIMIT, AMOUNT, price)
            )
            assert bid.state is TrackState.OPEN
            sim.faults.stall("*")
            sell_into(sim, str(AMOUNT), price)  # another client of the account sells into it
            assert sim.exchange.orders.find("demo", None, bid.client_order_id).state is (
                OrderState.FINISHED
            )
            await asyncio.sleep(1.0)
            sim.faults.unstall("*")
            assert trading.private_connected  # the socket never dropped
            await until(
                lambda: trading.tracker.orders[bid.client_order_id].state is TrackState.FILLED,
                SWEEP_EVERY_S + 5,
                "the fill learned without a reconnect",
            )
            assert trading.tracker.orders[bid.client_order_id].filled == AMOUNT
        finally:
            await services.close()


# -- the services through one minute -----------------------------------------------------------

SEED = 3
"""The minute played (its skew is +200 s: ahead of every signed timestamp)."""
MARKET = "btcusd"
AMOUNT = D("0.001")
SETTLE_S = 45.0
"""How long the services get, once the faults are off, to agree with the simulator: a chase
of an unknown order trusts "not found" only after 15 s (``ReconcilePolicy``)."""
_TRUE_STATE = {
    OrderState.FINISHED: TrackState.FILLED,
    OrderState.CANCELED: TrackState.CANCELLED,
    OrderState.EXPIRED: TrackState.EXPIRED,
}


@dataclass
class Witness:
    """What health and the request log showed while the minute played."""

    stream_down: bool = False
    private_down: bool = False
    reach_down: bool = False
    book_stale: bool = False
    skew_learned_ms: int = 0
    """The largest server clock offset the services learned (from ``Date``)."""
    states: dict[str, list[TrackState]] = field(default_factory=dict)
    """Every state each order was told to be in, repeats folded."""
    statuses: Counter[int | None] = field(default_factory=Counter)
    records: list[RequestRecord] = field(default_factory=list)
    _seen: set[RequestRecord] = field(default_factory=set)

    def told(self, event: ServiceEvent) -> None:
        if isinstance(event, OrderChanged):
            seen = self.states.setdefault(event.order.client_order_id, [])
            if not seen or seen[-1] is not event.order.state:
                seen.append(event.order.state)

    def look(self, services: VenueServices) -> None:
        health = services.health()
        self.stream_down |= health.connection is not StreamState.CONNECTED
        self.private_down |= not health.private_connected
        self.reach_down |= health.reach_down
        view = services.market(MARKET)
        self.book_stale |= view is None or view.stale
        assert services.session is not None
        clock = services.session.rest.server_clock
        assert clock is not None
        self.skew_learned_ms = max(self.skew_learned_ms, abs(clock.offset_ms))
        for record in services.session.rest.transport.log:
            if record not in self._seen:
                self._seen.add(record)
                self.records.append(record)
                self.statuses[record.status] += 1


@dataclass
class Trader:
    """Orders through the facade while the minute plays: bids that rest (deep, and at the
    touch where the market's takers fill them), orders that cross and fill at once, cancels;
    one submit into the hang window and one into the drop window. Refusals are expected
    (the gate closes on every reconnect, a 429 refuses an order); the outcome of each call
    is kept, the truth is checked afterwards."""

    services: VenueServices
    sim: SimServer
    outcomes: list[str] = field(default_factory=list)
    calls: list[asyncio.Task[None]] = field(default_factory=list)
    windows: dict[ChaosFault, str] = field(default_factory=dict)
    """The client_order_id sent into the hang and drop windows."""
    hold: bool = False
    """The regular orders wait while a hang or drop window is open: one order each."""

    def touch(self, side: Side, away: str) -> D:
        """``away`` (a fraction) from the touch of our side into the book, away from the
        other side (negative: through it, so it fills), on the price grid."""
        engine = self.sim.exchange.engines[MARKET]
        best = engine.best_bid() if side is Side.BUY else engine.best_ask()
        assert best is not None
        sign = -1 if side is Side.BUY else 1
        price = best * (1 + sign * D(away))
        return price.quantize(engine.market.tick)

    def send(self, side: Side, price: D) -> None:
        request = OrderRequest(MARKET, side, OrderKind.LIMIT, AMOUNT, price)
        self.calls.append(asyncio.create_task(self._submit(request)))

    async def _submit(self, request: OrderRequest) -> None:
        async with asyncio.timeout(40):
            try:
                order = await self.services.submit(request)
            except Exception as exc:  # noqa: BLE001 - every outcome is kept and judged later
                self.outcomes.append(f"{request.side.value} refused: {type(exc).__name__}")
                return
        self.outcomes.append(f"{request.side.value} {order.state.value}")

    async def _one(self, trading: TradingService) -> str:
        """Send one crossing buy; its client_order_id once its intent is journaled."""
        before = {o.client_order_id for o in trading.recent_orders(10_000)}
        price = self.touch(Side.BUY, "-0.001")
        submit = OrderRequest(MARKET, Side.BUY, OrderKind.LIMIT, AMOUNT, price)
        self.calls.append(asyncio.create_task(self._submit(submit)))
        await until(lambda: len(trading.recent_orders(10_000)) > len(before), 5, "the intent")
        [cid] = {o.client_order_id for o in trading.recent_orders(10_000)} - before
        return cid

    def cancel_newest(self, keep: str) -> None:
        """Cancel our newest resting order, except ``keep``."""
        trading = self.services.trading
        assert trading is not None
        resting = [
            o
            for o in trading.open_orders(MARKET)
            if o.state is TrackState.OPEN and o.client_order_id != keep
        ]
        if resting:
            cid = resting[0].client_order_id
            self.calls.append(asyncio.create_task(self._cancel(cid)))

    async def _cancel(self, cid: str) -> None:
        async with asyncio.timeout(40):
            try:
                order = await self.services.cancel(cid)
            except Exception as exc:  # noqa: BLE001 - judged against the simulator later
                self.outcomes.append(f"cancel failed: {type(exc).__name__}")
                return
        self.outcomes.append(f"cancel {order.state.value}")

    async def into_window(self, fault: ChaosFault, armed: Callable[[], bool], at: float) -> None:
        """Send one crossing buy while ``fault``'s window is open (it starts at ``at`` s);
        if the gate is closed then, try again until the window closes."""
        trading = self.services.trading
        assert trading is not None
        await until(armed, at + 10, f"the {fault.name} window")
        self.hold = True
        try:
            while armed():
                if trading.submits_allowed:
                    self.windows[fault] = await self._one(trading)
                    await until(lambda: not armed(), 10, f"the {fault.name} window to close")
                    return
                await asyncio.sleep(0.05)
        finally:
            self.hold = False
        raise AssertionError(f"submits were refused all through the {fault.name} window")

    async def trade(self, started: float, keep: str) -> None:
        """One action every 2 s through the minute, in turn: a deep bid, a bid at the touch,
        a crossing buy, a crossing sell, a cancel of the newest resting order (but
        ``keep``, which rests through the minute)."""
        loop = asyncio.get_running_loop()
        turn = 0
        while loop.time() - started < MINUTE_S - 3:
            if self.hold:
                await asyncio.sleep(0.1)
                continue
            action = turn % 5
            if action == 0:
                self.send(Side.BUY, self.touch(Side.BUY, "0.02"))
            elif action == 1:
                self.send(Side.BUY, self.touch(Side.BUY, "0"))
            elif action == 2:
                self.send(Side.BUY, self.touch(Side.BUY, "-0.001"))
            elif action == 3:
                self.send(Side.SELL, self.touch(Side.SELL, "-0.001"))
            else:
                self.cancel_newest(keep)
            turn += 1
            await asyncio.sleep(2.0)


async def _every(interval: float, action: Callable[[], object]) -> None:
    while True:
        action()
        await asyncio.sleep(interval)


async def test_the_services_ride_out_the_chaos_minute(tmp_path: Path) -> None:
    clock = SimClock(manual_start_us=time.time_ns() // 1000)
    exchange = SimExchange(seed=SEED, speed=3, clock=clock, history_s=120)
    async with SimServer(exchange) as sim:
        services = demo_services(sim, tmp_path)
        engine = exchange.engines[MARKET]
        reached: Counter[str] = Counter()
        """Order submissions carried out by the exchange, by client_order_id."""
        place = exchange.place

        def counted(owner: str, form: OrderForm) -> OrderAck:
            reached[form.fields.get("client_order_id", "")] += 1
            return place(owner, form)

        exchange.place = counted  # type: ignore[method-assign]
        try:
            witness = Witness()
            services.listen(witness.told)
            await services.open([MARKET])
            trading = services.trading
            assert trading is not None
            await until(lambda: _settled(services, sim), 30, "the services ready")
            view = services.market(MARKET)
            assert view is not None
            health = services.health()
            reconnects, rate_limited = view.reconnects, health.rate_limited
            server_errors = health.server_errors
            trader = Trader(services, sim)
            deep = OrderRequest(
                MARKET, Side.BUY, OrderKind.LIMIT, AMOUNT, trader.touch(Side.BUY, "0.02")
            )
            rests = await services.submit(deep)
            assert rests.state is TrackState.OPEN

            loop = asyncio.get_running_loop()
            last = loop.time()

            def move_market() -> None:  # the market moves at wall-clock pace
                nonlocal last
                now = loop.time()
                exchange.advance(now - last)
                last = now

            steps = chaos_minute(SEED)
            at = {step.fault: step.at_s for step in steps}
            started = loop.time()
            background = [
                asyncio.create_task(_every(0.2, move_market)),
                asyncio.create_task(_every(0.05, lambda: witness.look(services))),
            ]
            script = [
                asyncio.create_task(trader.trade(started, rests.client_order_id)),
                asyncio.create_task(
                    trader.into_window(
                        ChaosFault.HANG_ORDER,
                        lambda: sim.faults.order_hang_every == 1,
                        at[ChaosFault.HANG_ORDER],
                    )
                ),
                asyncio.create_task(
                    trader.into_window(
                        ChaosFault.DROP_ORDER,
                        lambda: sim.faults.order_drop_every == 1,
                        at[ChaosFault.DROP_ORDER],
                    )
                ),
            ]
            try:
                async with asyncio.timeout(MINUTE_S + 10):
                    await play_minute(sim, steps)
                    await asyncio.gather(*script)
            finally:
                sim.clear_faults()
                for task in background:
                    task.cancel()
                for task in script:
                    task.cancel()
            assert sim.periodic_faults == {}
            async with asyncio.timeout(45):  # a hung submit ends at the REST timeout (10 s)
                await asyncio.gather(*trader.calls)
            await until(lambda: _settled(services, sim), SETTLE_S, "the services to settle")

            # the book is the simulator's
            view = services.market(MARKET)
            assert view is not None
            assert view.book.levels(Side.BUY) == engine.levels(Side.BUY)
            assert view.book.levels(Side.SELL) == engine.levels(Side.SELL)

            # every order in its true state, each fill once
            orders = {o.client_order_id: o for o in trading.recent_orders(10_000)}
            journal = services.journal
            assert journal is not None
            assert len(orders) >= 12, trader.outcomes
            assert set(trader.windows) == {ChaosFault.HANG_ORDER, ChaosFault.DROP_ORDER}
            trades = [
                tx
                for tx in exchange.user_transactions(
                    "demo",
                    None,
                    offset=0,
                    limit=100_000,
                    descending=False,
                    since_id=None,
                    since_timestamp=None,
                )
                if tx.order_id is not None
            ]
            placed: dict[str, int] = {}
            for cid, order in orders.items():
                try:
                    truth = exchange.orders.find("demo", None, cid)
                except SimRejection:
                    assert order.state is TrackState.REJECTED, order
                    assert order.fill_tids == frozenset(), order
                    continue
                placed[cid] = truth.order_id
                assert order.order_id == truth.order_id, order
                expected = _TRUE_STATE.get(truth.state)
                if expected is None:  # open
                    expected = TrackState.PARTIALLY_FILLED if truth.traded else TrackState.OPEN
                assert order.state is expected, (order, truth)
                assert order.filled == truth.traded, (order, truth)
                assert order.fill_tids == {tx.tid for tx in truth.transactions}, (order, truth)
                mine = [tx for tx in trades if tx.order_id == truth.order_id]
                assert len(mine) == len(order.fill_tids), (order, mine)
                assert sum(abs(tx.amounts["btc"]) for tx in mine) == order.filled
                fills = [e for e in journal.events(cid) if e.kind == "fill"]
                assert len(fills) == len(order.fill_tids), (cid, fills)
            assert {tx.order_id for tx in trades} <= set(placed.values())  # no fill elsewhere
            assert sum(len(o.fill_tids) for o in orders.values()) == len(trades)
            assert trades, "nothing filled during the minute"
            assert orders[rests.client_order_id].state is TrackState.OPEN
            assert any(o.state is TrackState.CANCELLED for o in orders.values())
            for fault, cid in trader.windows.items():  # no reply: found by its cid
                assert orders[cid].state is TrackState.FILLED, (fault, witness.states.get(cid))
                assert orders[cid].order_id == placed[cid], fault
            # each order reached the exchange once at most, whatever its reply (never resent)
            assert set(reached.values()) == {1}, reached
            assert set(reached) == set(placed)
            resting = {(o.client_order_id, o.order_id) for o in exchange.open_orders("demo", None)}
            assert resting <= set(placed.items())

            # the balances are the simulator's
            assert _balances(services) == _sim_balances(sim)

            # health showed what happened
            view = services.market(MARKET)
            assert view is not None
            assert view.reconnects >= reconnects + 3  # drop, reconnect request, net cut
            assert services.health().rate_limited >= rate_limited + 6
            assert services.health().server_errors >= server_errors + 4  # 500s and 502s
            assert witness.stream_down
            assert witness.private_down
            assert witness.statuses[429] >= 6
            assert witness.statuses[500] >= 2
            assert witness.statuses[502] >= 2
            assert witness.statuses[None] >= 1  # the cut, the hang's timeout, the drop
            assert witness.book_stale  # the stall, the cut
            assert witness.reach_down  # the cut
            assert witness.skew_learned_ms > 150_000
            assert sim.net_cuts_started == 1

            # and a new order goes out
            new = await services.submit(
                OrderRequest(
                    MARKET, Side.BUY, OrderKind.LIMIT, AMOUNT, trader.touch(Side.BUY, "0.02")
                )
            )
            assert new.state is TrackState.OPEN
            assert exchange.orders.find("demo", None, new.client_order_id).state is OrderState.OPEN
        finally:
            await services.close()


def _settled(services: VenueServices, sim: SimServer) -> bool:
    """The book is the simulator's, both streams are up, no order is unresolved, new orders
    are allowed and the balances are the simulator's."""
    trading = services.trading
    view = services.market(MARKET)
    health = services.health()
    engine = sim.exchange.engines[MARKET]
    return (
        trading is not None
        and view is not None
        and view.live
        and not view.stale
        and health.connection is StreamState.CONNECTED
        and health.private_connected
        and trading.submits_allowed
        and not any(
            o.state in (TrackState.PENDING, TrackState.UNKNOWN)
            for o in trading.recent_orders(10_000)
        )
        and view.book.levels(Side.BUY) == engine.levels(Side.BUY)
        and view.book.levels(Side.SELL) == engine.levels(Side.SELL)
        and _balances(services) == _sim_balances(sim)
    )


def _balances(services: VenueServices) -> dict[str, tuple[D, D]]:
    trading = services.trading
    assert trading is not None
    return {c.upper(): (b.total, b.available) for c, b in trading.balances.items()}


def _sim_balances(sim: SimServer) -> dict[str, tuple[D, D]]:
    return {b.currency.upper(): (b.total, b.available) for b in sim.exchange.balances("demo")}
