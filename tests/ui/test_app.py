"""The app as a user sees it, driven by Textual's Pilot against a simulator on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from textual.widgets import Static

from workstation.services.venue import Venue
from workstation.sim.exchange import SimExchange
from workstation.sim.server import SimServer
from workstation.ui.app import WorkstationApp


@pytest.fixture
async def venue() -> AsyncIterator[Venue]:
    async with SimServer(SimExchange(seed=11)) as sim:
        demo = sim.exchange.demo
        yield Venue("sim", sim.rest_url, sim.ws_url, demo.api_key, demo.secret)


async def test_app_shows_the_venue_and_a_live_ticker(venue: Venue) -> None:
    app = WorkstationApp(venue)
    async with app.run_test(size=(100, 20)) as pilot:
        for _ in range(50):
            await pilot.pause(0.05)
            ticker = str(app.query_one("#ticker", Static).render())
            if "last" in ticker:
                break
        banner = str(app.query_one("#venue", Static).render())
        assert banner.startswith("SIM")
        assert venue.rest_url in banner
        assert "BTC/USD" in ticker
        assert "bid 6" in ticker
        assert "E-" not in ticker
        await pilot.press("q")
    assert app.return_code == 0
