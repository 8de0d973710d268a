"""A stalled market as the trader sees it: the app against a simulator whose market moves,
with channels stalled while the server still answers heartbeats. STALE is read off the
status bar and the panes, never from the services' state, and the tape ends with every
trade the simulator made. The app runs with its own silence limits (2 s for a busy pair)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import pytest

from workstation.services.facade import VenueServices
from workstation.services.feed import FeedState
from workstation.services.venue import Venue
from workstation.sim.clock import SimClock
from workstation.sim.exchange import SimExchange
from workstation.sim.server import SimServer
from workstation.ui.app import WorkstationApp, build_app
from workstation.ui.panes.book import OrderBookView
from workstation.ui.panes.status import StatusBar
from workstation.ui.panes.tape import TradesTapeView

from .harness import real, until

SYMBOL = "btcusd"


@pytest.fixture
async def moving_sim() -> AsyncIterator[SimServer]:
    """A simulator whose market moves (0.1 s of model time every 0.1 s, at speed 5)."""
    clock = SimClock(manual_start_us=time.time_ns() // 1000)
    async with SimServer(SimExchange(seed=11, speed=5, clock=clock, history_s=120)) as server:

        async def run() -> None:
            while True:
                server.exchange.advance(0.1)
                await asyncio.sleep(0.1)

        mover = asyncio.create_task(run())
        yield server
        mover.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await mover


def screen(app: WorkstationApp) -> str:
    """The status bar, the book pane's subtitle and spread line, the tape's subtitle."""
    bar = app.query_one(StatusBar)
    book = app.query_one(OrderBookView)
    tape = app.query_one(TradesTapeView)
    rows = max(1, (book.size.height - 3) // 2)
    return " | ".join(
        (
            str(bar.render()),
            str(book.border_subtitle),
            book.render_line(rows + 1).text,
            f"tape {tape.border_subtitle or ''}",
        )
    )


def tape_stale(app: WorkstationApp) -> bool:
    """The status bar and the tape pane both say the tape is STALE."""
    bar, _, _, tape = screen(app).split(" | ")
    return "tape STALE" in bar and "STALE" in tape


def missing_trades(sim: SimServer, app: WorkstationApp) -> set[int]:
    feed = real(app).hub.feeds[SYMBOL] if real(app).hub else None
    assert feed is not None
    oldest = min(t.timestamp_us for t in feed.tape)
    venue = {t.id for t in sim.exchange.transactions(SYMBOL, 3600) if t.timestamp_us >= oldest}
    return venue - {t.id for t in feed.tape}


@pytest.mark.parametrize("channel", ["*", f"diff_order_book_{SYMBOL}", f"live_trades_{SYMBOL}"])
async def test_a_stall_is_shown_stale_and_the_tape_loses_nothing(
    moving_sim: SimServer, channel: str
) -> None:
    sim = moving_sim
    venue = Venue("sim", sim.rest_url, sim.ws_url)
    app = build_app(VenueServices(venue))
    async with app.run_test(size=(120, 30)) as pilot:
        feed = None

        def live() -> bool:
            nonlocal feed
            feed = real(app).hub.feeds.get(SYMBOL) if real(app).hub else None
            return feed is not None and feed.state is FeedState.LIVE and len(feed.tape) > 0

        await until(pilot, live, "BTC/USD to be live")
        await until(pilot, lambda: "BTC/USD live" in screen(app), "live on screen")
        await pilot.pause(1.0)  # the feed learns the pair's rhythm
        sim.faults.stall(channel)
        book_stalls = channel != f"live_trades_{SYMBOL}"
        if book_stalls:
            await until(pilot, lambda: "BTC/USD STALE" in screen(app), "STALE on the status bar")
            shown = screen(app)
            assert "STALE" in shown.split(" | ")[1], shown  # the book pane says it too
            assert "no book frame" in shown or "resyncing" in shown, shown
            deadline = time.monotonic() + 2.0
            while time.monotonic() < deadline:  # never live while the stall lasts
                assert "BTC/USD live" not in screen(app), screen(app)
                await pilot.pause(0.05)
        if channel != f"diff_order_book_{SYMBOL}":
            await until(pilot, lambda: tape_stale(app), "the tape marked STALE")
        sim.faults.unstall()
        await until(pilot, lambda: "BTC/USD live" in screen(app), "live again")
        await until(pilot, lambda: "STALE" not in screen(app).split(" | ")[3], "tape live again")
        await until(pilot, lambda: not missing_trades(sim, app), "every trade on the tape")
        await pilot.press("q")
