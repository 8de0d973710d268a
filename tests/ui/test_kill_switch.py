"""The kill switch as a trader uses it, against a still simulator on loopback: ctrl+k from
the main screen, from inside a ticket and from the help; one confirm that says how many
orders on how many pairs (Esc cancels nothing); every open order of the account cancelled on
every pair, those placed elsewhere too; each order's outcome listed; and all of it while the
market stream is dead."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest
from textual.widgets import Static

from workstation.bitstamp.stream import ConnectionState
from workstation.domain.common import Side
from workstation.domain.order_request import OrderRequest
from workstation.domain.order_vocabulary import OrderKind
from workstation.services.facade import VenueServices
from workstation.services.feed import FeedState
from workstation.services.venue import Venue
from workstation.sim.faults import HttpFault, HttpFaultKind
from workstation.sim.server import SimServer
from workstation.ui.app import WorkstationApp, build_app
from workstation.ui.screens.help import HelpScreen
from workstation.ui.screens.kill_confirm import KillConfirm
from workstation.ui.screens.kill_outcome import KillOutcome
from workstation.ui.screens.ticket import TicketScreen

from .harness import real, until
from .test_account_orders import client_ids, notices, place_elsewhere
from .test_panes import app_on, fake, shown
from .test_trading import ready

D = Decimal


def sim_orders(sim: SimServer) -> list:
    return sim.exchange.open_orders("demo", None)


async def rest_orders(app: WorkstationApp, sim: SimServer) -> None:
    """Two of ours on BTC/USD, one on ETH/USD, one placed elsewhere on BTC/USD."""
    trading = real(app).trading
    assert trading is not None
    for symbol, count in (("btcusd", 2), ("ethusd", 1)):
        bid = sim.exchange.engines[symbol].best_bid()
        assert bid is not None
        for i in range(count):
            price = (bid * D("0.9")).quantize(D("0.01")) - i
            await trading.submit(OrderRequest(symbol, Side.BUY, OrderKind.LIMIT, D("0.01"), price))
    bid = sim.exchange.engines["btcusd"].best_bid()
    assert bid is not None
    await place_elsewhere(sim, (bid * D("0.9")).quantize(D("0.01")) - 10)


def outcome_lines(app: WorkstationApp) -> list[str]:
    screen = app.screen
    assert isinstance(screen, KillOutcome)
    return str(screen.query_one("#kill-orders", Static).render()).splitlines()


def reported(app: WorkstationApp) -> bool:
    return isinstance(app.screen, KillOutcome) and app.screen.outcomes is not None


async def start(sim: SimServer, venue: Venue, tmp_path: Path) -> WorkstationApp:
    return build_app(VenueServices(venue, journal_path=tmp_path / "journal.sqlite3"))


async def test_from_the_main_screen_esc_cancels_nothing_and_enter_cancels_every_order(
    sim: SimServer, venue: Venue, tmp_path: Path
) -> None:
    app = await start(sim, venue, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: ready(app), "trading to be ready")
        await rest_orders(app, sim)
        await until(pilot, lambda: len(client_ids(app)) == 4, "the four orders listed")
        assert len(sim_orders(sim)) == 4

        await pilot.press("ctrl+k")
        await until(pilot, lambda: isinstance(app.screen, KillConfirm), "the confirm")
        question = str(app.screen.query_one("#kill-question", Static).render())
        assert "Cancel 4 open orders on 2 pairs (BTC/USD 3, ETH/USD 1)?" in question
        await pilot.press("escape")
        await pilot.pause(0.3)
        assert not isinstance(app.screen, KillConfirm | KillOutcome)
        assert len(sim_orders(sim)) == 4  # backing out cancelled nothing

        await pilot.press("ctrl+k")
        await until(pilot, lambda: isinstance(app.screen, KillConfirm), "the confirm again")
        await pilot.press("enter")
        await until(pilot, lambda: reported(app), "the outcome")
        assert sim_orders(sim) == []
        lines = outcome_lines(app)
        assert len(lines) == 4
        assert all(line.startswith("cancelled") for line in lines)
        assert sum("(placed elsewhere)" in line for line in lines) == 1
        assert sum("ETH/USD" in line for line in lines) == 1
        summary = str(app.screen.query_one("#kill-summary", Static).render())
        assert summary.startswith("4 cancelled, 0 already gone, 0 failed")
        await pilot.press("escape")
        await until(pilot, lambda: len(app.screen_stack) == 1, "the report closed")
        await until(pilot, lambda: client_ids(app) == [], "the open orders pane emptied")
        await pilot.press("q")


@pytest.mark.parametrize("opener", [("b",), ("question_mark",)], ids=["ticket", "help"])
async def test_from_a_ticket_or_the_help_it_closes_them_and_cancels_everything(
    sim: SimServer, venue: Venue, tmp_path: Path, opener: tuple[str, ...]
) -> None:
    app = await start(sim, venue, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: ready(app), "trading to be ready")
        await rest_orders(app, sim)
        await until(pilot, lambda: len(client_ids(app)) == 4, "the four orders listed")
        await pilot.press(*opener)
        kind = TicketScreen if opener == ("b",) else HelpScreen
        await until(pilot, lambda: isinstance(app.screen, kind), "the screen open")
        await pilot.press("ctrl+k")
        await until(pilot, lambda: isinstance(app.screen, KillConfirm), "the confirm")
        await pilot.press("y")
        await until(pilot, lambda: reported(app), "the outcome")
        assert not any(isinstance(s, kind) for s in app.screen_stack)  # closed, nothing sent
        assert sim_orders(sim) == []
        assert [line.split()[0] for line in outcome_lines(app)] == ["cancelled"] * 4
        await pilot.press("escape", "q")


async def test_with_the_market_stream_dead_every_order_is_still_cancelled(
    sim: SimServer, venue: Venue, tmp_path: Path
) -> None:
    app = await start(sim, venue, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: ready(app), "trading to be ready")
        await rest_orders(app, sim)
        await until(pilot, lambda: len(client_ids(app)) == 4, "the four orders listed")
        sim.faults.silence()  # no frame, no heartbeat reply, on any socket
        await sim.hub.drop_all()  # the streams up now are gone, the private one too
        session = real(app).session
        assert session is not None
        await session.close_streams()  # and the market stream is not coming back

        hub = real(app).hub
        assert hub is not None

        def down() -> bool:
            return hub.stream.state is ConnectionState.CLOSED

        assert down()
        await pilot.press("ctrl+k")
        await until(pilot, lambda: isinstance(app.screen, KillConfirm), "the confirm")
        await pilot.press("enter")
        await until(pilot, lambda: reported(app), "the outcome")
        assert down()
        assert sim_orders(sim) == []
        assert [line.split()[0] for line in outcome_lines(app)] == ["cancelled"] * 4
        await pilot.press("escape", "q")


async def test_each_order_s_outcome_is_shown_cancelled_gone_or_failed_with_why(
    sim: SimServer, venue: Venue, tmp_path: Path
) -> None:
    """The cancel-all gets no usable reply: nothing is sent again; each order's state is
    asked, and the report says which are still live and why."""
    app = await start(sim, venue, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: ready(app), "trading to be ready")
        await rest_orders(app, sim)
        await until(pilot, lambda: len(client_ids(app)) == 4, "the four orders listed")
        sim.faults.fail_next("/api/v2/cancel_all_orders/", HttpFault(HttpFaultKind.SERVER_ERROR))
        await pilot.press("ctrl+k", "enter")
        await until(pilot, lambda: reported(app), "the outcome")
        lines = outcome_lines(app)
        assert len(lines) == 4
        assert all(line.startswith("failed") for line in lines)
        assert all("(still open)" in line for line in lines)
        assert len(sim_orders(sim)) == 4  # not sent again blindly
        assert sum(n for r, n in sim.requests.items() if "cancel_all_orders" in r) == 1
        summary = str(app.screen.query_one("#kill-summary", Static).render())
        assert "4 failed" in summary
        assert "still live" in summary

        # one filled while the private stream was silent: "already gone: filled"
        await pilot.press("escape")
        trading = real(app).trading
        assert trading is not None
        engine = sim.exchange.engines["btcusd"]
        best_bid = engine.best_bid()
        assert best_bid is not None
        price = best_bid + D("0.01")  # first in line for the taker below
        await trading.submit(OrderRequest("btcusd", Side.BUY, OrderKind.LIMIT, D("0.01"), price))
        await until(pilot, lambda: len(client_ids(app)) == 5, "the fifth order listed")
        sim.faults.silence()  # the app does not hear of the fill
        sim.exchange.synthetic_take("btcusd", "~taker", Side.SELL, D("0.01"), price)
        assert len(sim_orders(sim)) == 4
        await pilot.press("ctrl+k", "enter")
        await until(pilot, lambda: reported(app), "the second outcome")
        lines = outcome_lines(app)
        assert [line.split()[0] for line in lines] == ["cancelled"] * 4 + ["already"]
        assert lines[-1].endswith(f"BUY 0.01 BTC/USD at {price}: filled")
        assert sim_orders(sim) == []
        assert trading.open_orders() == []
        await pilot.press("escape", "q")


async def test_a_cancel_all_whose_reply_is_lost_is_reconciled_not_sent_again(
    sim: SimServer, venue: Venue, tmp_path: Path
) -> None:
    """The exchange carries out the cancel-all and the connection drops before the reply:
    its outcome is unknown. Each order's state is asked (all cancelled, as the exchange says)
    and the cancel-all is not sent a second time."""
    app = await start(sim, venue, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: ready(app), "trading to be ready")
        await rest_orders(app, sim)
        await until(pilot, lambda: len(client_ids(app)) == 4, "the four orders listed")
        sim.faults.fail_next(
            "/api/v2/cancel_all_orders/", HttpFault(HttpFaultKind.DROP_AFTER_ACCEPT)
        )
        await pilot.press("ctrl+k", "enter")
        await until(pilot, lambda: reported(app), "the outcome")
        assert sim_orders(sim) == []
        assert sum(n for r, n in sim.requests.items() if "cancel_all_orders" in r) == 1
        lines = outcome_lines(app)
        assert [line.split()[0] for line in lines] == ["cancelled"] * 4, lines
        await pilot.press("escape", "q")


async def test_without_trading_the_key_says_so_and_asks_nothing() -> None:
    services = fake()
    services.health_view = msgspec.structs.replace(services.health_view, trading=False)
    app = app_on(services)
    async with app.run_test(size=(100, 30)) as pilot:
        await shown(pilot)
        await pilot.press("ctrl+k")
        await pilot.pause()
        assert not isinstance(app.screen, KillConfirm)
        assert any("Kill switch: no trading" in n for n in notices(app))
        assert not [c for c in services.calls if c[0].startswith("cancel") or c[0] == "kill"]


async def test_a_kill_that_cannot_run_is_shown_failed_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    services = fake()  # its kill raises NotImplementedError
    app = app_on(services)
    async with app.run_test(size=(100, 30)) as pilot:
        await shown(pilot)
        await pilot.press("ctrl+k")
        await until(pilot, lambda: isinstance(app.screen, KillConfirm), "the confirm")
        question = str(app.screen.query_one("#kill-question", Static).render())
        assert question == "No open order is known. Send cancel-all anyway?"
        await pilot.press("y")
        await until(pilot, lambda: reported(app), "the outcome")
        summary = str(app.screen.query_one("#kill-summary", Static).render())
        assert summary == "Kill switch failed: NotImplementedError"
        assert [c for c in services.calls if c[0] in ("cancel_all", "kill")] == [("kill", None)]
        assert any("Kill switch failed" in n for n in notices(app))
    assert any(r.getMessage() == "kill switch failed" for r in caplog.records)


async def test_with_the_streams_dead_from_the_start_the_orders_are_still_killed(
    sim: SimServer, venue: Venue, tmp_path: Path
) -> None:
    """No frame ever arrives (market or private): the open orders come from REST alone, and
    the kill switch cancels them."""
    bid = sim.exchange.engines["btcusd"].best_bid()
    assert bid is not None
    for step in (100, 200):
        await place_elsewhere(sim, bid - step)
    sim.faults.silence()
    app = await start(sim, venue, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: len(client_ids(app)) == 2, "the two orders, from REST")
        hub = real(app).hub
        assert hub is not None
        assert hub.feeds
        assert all(feed.state is not FeedState.LIVE for feed in hub.feeds.values())
        await pilot.press("ctrl+k")
        await until(pilot, lambda: isinstance(app.screen, KillConfirm), "the confirm")
        await pilot.press("enter")
        await until(pilot, lambda: reported(app), "the outcome")
        assert sim_orders(sim) == []
        assert [line.split()[0] for line in outcome_lines(app)] == ["cancelled"] * 2
        await pilot.press("escape", "q")


async def test_an_order_on_its_way_when_the_kill_fires_is_awaited_and_cancelled_too(
    sim: SimServer, venue: Venue, tmp_path: Path
) -> None:
    """A submit the exchange receives only after the cancel-all: the kill waits for its
    outcome (never sending it again), cancels it, and lists it; nothing is left open."""
    app = await start(sim, venue, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: ready(app), "trading to be ready")
        trading = real(app).trading
        assert trading is not None
        bid = sim.exchange.engines["btcusd"].best_bid()
        assert bid is not None
        price = (bid * D("0.9")).quantize(D("0.01"))
        await trading.submit(OrderRequest("btcusd", Side.BUY, OrderKind.LIMIT, D("0.01"), price))
        await until(pilot, lambda: len(client_ids(app)) == 1, "the resting order listed")
        sim.faults.fail_next("/api/v2/buy/", HttpFault(HttpFaultKind.DELAY, seconds=1.5))
        late = OrderRequest("btcusd", Side.BUY, OrderKind.LIMIT, D("0.02"), price - 1)
        on_its_way = asyncio.create_task(trading.submit(late))
        await until(
            pilot, lambda: sim.requests["POST /api/v2/buy/btcusd/"] == 2, "the late submit sent"
        )
        await pilot.press("ctrl+k")
        await until(pilot, lambda: isinstance(app.screen, KillConfirm), "the confirm")
        await pilot.press("enter")
        await until(pilot, lambda: reported(app), "the outcome")
        await asyncio.wait_for(on_its_way, 10)  # landed at the exchange by now
        assert sim_orders(sim) == []
        lines = outcome_lines(app)
        assert [line.split()[0] for line in lines] == ["cancelled"] * 2, lines
        assert any(f"BUY 0.02 BTC/USD at {price - 1}" in line for line in lines), lines
        assert sim.requests["POST /api/v2/buy/btcusd/"] == 2  # never sent again
        await pilot.press("escape", "q")
