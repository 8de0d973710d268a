"""The status bar's REST figures come from the session's one count (issue 12, item 10): every
429 any caller was answered, market data and trading alike, and the latency of both."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

from workstation.bitstamp.errors import BitstampError
from workstation.services.facade import VenueServices
from workstation.services.venue import Venue
from workstation.sim.faults import HttpFault, HttpFaultKind
from workstation.sim.server import SimServer
from workstation.ui.app import build_app
from workstation.ui.panes.status import StatusBar

from .harness import real, until
from .test_trading import ready


async def test_the_status_bar_counts_every_429_of_market_data_and_trading(
    sim: SimServer, venue: Venue, tmp_path: Path
) -> None:
    app = build_app(VenueServices(venue, journal_path=tmp_path / "journal.sqlite3"))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: ready(app), "the market and the account")
        assert real(app).hub is not None
        assert real(app).trading is not None
        limited = HttpFault(HttpFaultKind.RATE_LIMIT, retry_after=0.01)
        sim.faults.fail_next("/api/v2/transactions/", limited, times=2)
        sim.faults.fail_next("/api/v2/account_balances/", limited, times=3)
        # Through the clients the market hub and the trading service call with: each call
        # is retried past its 429s, and every one of the five is counted.
        await real(app).hub.rest.transactions("btcusd", "minute")
        await real(app).trading.rest.account_balances()
        bar = app.query_one(StatusBar)
        await until(pilot, lambda: "429s 5" in str(bar.render()), "five 429s on the status bar")
        text = str(bar.render())
        assert re.search(r"REST p50/p95 market \d+/\d+ ms orders \d+/\d+ ms", text), text
        await pilot.press("q")
    assert app.return_code == 0


async def test_the_status_bar_counts_5xx_answers_and_html_error_pages(
    sim: SimServer, venue: Venue, tmp_path: Path
) -> None:
    """A venue answering 500s, or a CDN's HTML 502 page in front of it, is worth the trader's
    eye: the session's count of them is on the status bar (none: nothing shown)."""
    app = build_app(VenueServices(venue, journal_path=tmp_path / "journal.sqlite3"))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: ready(app), "the market and the account")
        assert real(app).hub is not None
        bar = app.query_one(StatusBar)
        assert "5xx" not in str(bar.render())
        sim.faults.fail_next("/api/v2/transactions/", HttpFault(HttpFaultKind.SERVER_ERROR))
        sim.faults.fail_next(
            "/api/v2/transactions/", HttpFault(HttpFaultKind.HTML_ERROR, status=502)
        )
        for _ in range(2):
            with contextlib.suppress(BitstampError):  # retried or raised: counted either way
                await real(app).hub.rest.transactions("btcusd", "minute")
        await until(pilot, lambda: "5xx 2" in str(bar.render()), "two 5xx on the status bar")
        await pilot.press("q")
    assert app.return_code == 0
