"""A venue that cannot be reached, as the trader sees it: the status bar names the host,
since when and the next retry; the app keeps trying and the book arrives once the venue is
up, without a restart; and no ticket offers SEND while the venue cannot be reached."""

from __future__ import annotations

import socket
from pathlib import Path

from textual.widgets import Static

from workstation.bitstamp.secret import Secret
from workstation.services.facade import VenueServices
from workstation.services.venue import Venue
from workstation.sim.exchange import SimExchange
from workstation.sim.server import SimServer
from workstation.ui.app import WorkstationApp, build_app
from workstation.ui.panes.book import OrderBookView
from workstation.ui.panes.status import StatusBar
from workstation.ui.screens.ticket import TicketScreen

from .harness import until
from .test_trading import BUY_PATH, ready, type_text


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def status(app: WorkstationApp) -> str:
    return str(app.query_one(StatusBar).render())


async def test_a_venue_down_at_start_is_retried_and_the_book_arrives_without_a_restart() -> None:
    port = free_port()
    venue = Venue("sim", f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/")
    app = build_app(VenueServices(venue))
    async with app.run_test(size=(120, 30)) as pilot:
        await until(
            pilot,
            lambda: (
                f"cannot reach 127.0.0.1:{port} since" in status(app) and "retry in" in status(app)
            ),
            "the host, since when and the next retry on the status bar",
        )
        async with SimServer(SimExchange(seed=11, speed=0, history_s=900), port=port) as sim:
            await until(pilot, lambda: "BTC/USD live" in status(app), "the book, no restart")
            assert "cannot reach" not in status(app)
            book = app.query_one(OrderBookView)
            rows = (book.size.height - 3) // 2
            best_bid = sim.exchange.engines["btcusd"].best_bid()
            await until(
                pilot,
                lambda: book.render_line(rows + 2).text.split()[:1] == [f"{best_bid}"],
                "the best bid on screen",
            )
            await pilot.press("q")


async def test_no_ticket_offers_send_while_the_venue_cannot_be_reached(tmp_path: Path) -> None:
    port = free_port()
    exchange = SimExchange(seed=11, speed=0, history_s=900)
    demo = exchange.demo
    sim = SimServer(exchange, port=port)
    await sim.start()
    venue = Venue("sim", sim.rest_url, sim.ws_url, Secret(demo.api_key), Secret(demo.secret))
    app = build_app(VenueServices(venue, journal_path=tmp_path / "journal.sqlite3"))
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: ready(app), "trading to be ready")
            await sim.stop()
            await until(
                pilot, lambda: f"cannot reach 127.0.0.1:{port}" in status(app), "unreachable"
            )
            await pilot.press("b")
            screen = app.screen
            assert isinstance(screen, TicketScreen)
            await type_text(pilot, "0.001")
            await pilot.press("enter")
            assert not screen.confirming, "SEND? offered while the venue cannot be reached"
            problems = str(screen.query_one("#ticket-problems", Static).render())
            assert f"cannot reach 127.0.0.1:{port}" in problems
            await pilot.press("escape")
            await pilot.press("q")
    finally:
        await sim.stop()
    assert sim.requests.get(BUY_PATH, 0) == 0
