"""One key, one action: the Enter that sends an order from the confirm step closes the ticket
and does nothing else (before, it also reached the app's Enter and opened a ticket at the
book cursor, which swallowed the next keys)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from workstation.services.facade import VenueServices
from workstation.services.venue import Venue
from workstation.sim.server import SimServer
from workstation.ui.app import build_app
from workstation.ui.panes.book import OrderBookView
from workstation.ui.panes.orders import OpenOrdersView

from .harness import until
from .test_trading import ready, rows, sim_orders, ticket, type_text

D = Decimal


async def test_the_enter_that_sends_opens_nothing_and_focus_stays(
    sim: SimServer, venue: Venue, tmp_path: Path
) -> None:
    app = build_app(VenueServices(venue, journal_path=tmp_path / "journal.sqlite3"))
    engine = sim.exchange.engines["btcusd"]
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: ready(app), "trading to be ready")
        await pilot.pause(0.2)
        book = app.query_one(OrderBookView)
        await pilot.press("up")  # the cursor on the best ask: Enter there would open a SELL
        assert book.cursor_level() is not None
        assert app.focused is book
        bid = engine.best_bid()
        assert bid is not None

        await pilot.press("b")
        screen = ticket(app)
        await type_text(pilot, "0.001")
        await pilot.press("tab")
        await type_text(pilot, f"{bid - 25:.2f}")
        await pilot.press("enter")
        assert screen.confirming
        await pilot.press("enter")  # sends

        await until(pilot, lambda: len(sim_orders(sim)) == 1, "the order at the simulator")
        await pilot.pause(0.2)
        assert len(app.screen_stack) == 1, f"a screen opened: {app.screen!r}"
        assert app.focused is book  # where it was before the ticket

        await until(pilot, lambda: len(rows(app)) == 1, "the order listed")
        await pilot.press("o", "c")  # go to the orders, cancel: no ticket takes the keys
        assert len(app.screen_stack) == 1
        assert app.focused is app.query_one(OpenOrdersView)
        await until(pilot, lambda: sim_orders(sim) == [], "the cancel at the simulator")
        await pilot.press("q")
