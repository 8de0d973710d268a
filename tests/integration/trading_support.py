"""What the trading service tests share: a change recorder, bounded waits, and views of the
journal and the simulator to compare (fills, resting orders)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from workstation.bitstamp.rest import RestClient
from workstation.bitstamp.secret import Secret
from workstation.domain.common import Side
from workstation.domain.order_request import OrderRequest
from workstation.domain.order_vocabulary import OrderKind, TrackState
from workstation.domain.orders import OpenOrder
from workstation.domain.tracked_order import TrackedOrder
from workstation.services.events import OrderChanged, SubmitGateChanged, TradingEvent
from workstation.services.facade import VenueServices
from workstation.services.journal import Journal
from workstation.services.reconciler import ReconcilePolicy
from workstation.services.trading import TradingService
from workstation.services.venue import Venue
from workstation.sim.orderform import OrderForm
from workstation.sim.server import SimServer

D = Decimal
E = TypeVar("E")
FAST = ReconcilePolicy(first_s=0.05, cap_s=0.2, not_found_grace_s=0.5, give_up_after_s=20)


def demo_services(sim: SimServer, tmp_path: Path) -> VenueServices:
    """The facade on ``sim`` with its demo account's keys, journaling under ``tmp_path``
    (not opened yet)."""
    demo = sim.exchange.demo
    venue = Venue("sim", sim.rest_url, sim.ws_url, Secret(demo.api_key), Secret(demo.secret))
    return VenueServices(venue, journal_path=tmp_path / "journal.sqlite3")


class Recorder:
    """Every order snapshot the tracker publishes, in order."""

    def __init__(self) -> None:
        self.seen: list[TrackedOrder] = []

    def __call__(self, order: TrackedOrder) -> None:
        self.seen.append(order)

    def states(self, cid: str) -> list[TrackState]:
        """The states ``cid`` went through, repeats folded."""
        states = [o.state for o in self.seen if o.client_order_id == cid]
        return [s for i, s in enumerate(states) if i == 0 or states[i - 1] is not s]


class Changes:
    """Every event the trading service told its listener, in order."""

    def __init__(self) -> None:
        self.seen: list[TradingEvent] = []

    def __call__(self, change: TradingEvent) -> None:
        self.seen.append(change)

    def of(self, kind: type[E]) -> list[E]:
        return [c for c in self.seen if isinstance(c, kind)]

    def states(self, cid: str) -> list[TrackState]:
        """The order's states as the listener saw them, repeats collapsed."""
        states = [c.order.state for c in self.of(OrderChanged) if c.order.client_order_id == cid]
        return [s for i, s in enumerate(states) if i == 0 or states[i - 1] is not s]

    def gates(self) -> list[str]:
        return [c.reason or "" for c in self.of(SubmitGateChanged)]


async def until(condition: Callable[[], bool], what: str, within: float = 15.0) -> None:
    """Wait (bounded) until ``condition()`` holds; fail with ``what`` otherwise."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def trading_service(
    sim: SimServer, rest: RestClient, journal: Journal, changes: Changes, **options: Any
) -> AsyncIterator[TradingService]:
    """A started service on the simulator; closed (and its sockets with it) on exit."""
    service = TradingService(
        rest,
        sim.ws_url,
        journal,
        "sim",
        dict(sim.exchange.markets),
        listener=changes,
        policy=options.pop("policy", FAST),
        **options,
    )
    try:
        await service.start()
        yield service
    finally:
        await service.close()


def journal_fills(journal: Journal, cid: str) -> list[dict[str, Any]]:
    return [e.detail for e in journal.events(cid) if e.kind == "fill"]


def kinds(journal: Journal, cid: str) -> list[str]:
    return [e.kind for e in journal.events(cid)]


def sim_trades(sim: SimServer, order_id: int | None, base: str = "btc") -> list[tuple[D, D]]:
    """The simulator's user_transactions of one order: (base amount, price), oldest first."""
    rows = sim.exchange.user_transactions(
        "demo",
        None,
        offset=0,
        limit=10_000,
        descending=False,
        since_id=None,
        since_timestamp=None,
    )
    return [(abs(r.amounts[base]), r.rate) for r in rows if r.order_id == order_id]  # type: ignore[misc]


def fills_as_trades(journal: Journal, cid: str) -> list[tuple[D, D]]:
    return [(D(f["base_amount"]), D(f["price"])) for f in journal_fills(journal, cid)]


def sim_orders(sim: SimServer, cid: str) -> list[OpenOrder]:
    return [o for o in sim.exchange.open_orders("demo", None) if o.client_order_id == cid]


def above_bid(sim: SimServer, market: str = "btcusd", ticks: int = 1) -> D:
    """A bid that improves the best bid by ``ticks``: first in the queue, not marketable."""
    engine = sim.exchange.engines[market]
    best = engine.best_bid()
    assert best is not None
    return best + ticks * engine.market.tick


def below_bid(sim: SimServer, market: str, ticks: int) -> D:
    """A bid ``ticks`` under the best bid: it rests and nothing reaches it."""
    engine = sim.exchange.engines[market]
    best = engine.best_bid()
    assert best is not None
    return best - ticks * engine.market.tick


def sell_into(sim: SimServer, amount: str, price: D, market: str = "btcusd") -> None:
    """A marketable sell straight into the simulator (another client of the same account)."""
    form = OrderForm("limit", Side.SELL, market, {"amount": amount, "price": str(price)})
    sim.exchange.place("demo", form)


def sim_balance(sim: SimServer, currency: str) -> D:
    [row] = [b for b in sim.exchange.balances("demo") if b.currency == currency.lower()]
    return row.total


def limit_at(price: D, amount: str = "0.01", market: str = "btcusd") -> OrderRequest:
    """A limit buy (a bid that rests when ``price`` is under the best ask)."""
    return OrderRequest(market, Side.BUY, OrderKind.LIMIT, D(amount), price)
