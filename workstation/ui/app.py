"""The workstation app. For now a single screen that shows the venue and a live ticker.

The full screen (book, tape, orders, balances, ticket) arrives with the market-data issue; this
app already follows its rules: it never touches the network in an event handler (a worker
does) and it reaches the exchange only through :mod:`workstation.services`.
"""

from __future__ import annotations

import asyncio
import contextlib

from textual.app import App, ComposeResult
from textual.widgets import Footer, Static

from ..paths import styles_path
from ..services.session import Session
from ..services.venue import EmbeddedSim, Venue

__all__ = ["WorkstationApp", "run_app"]

DEFAULT_MARKET = "btcusd"


class WorkstationApp(App[None]):
    """Connects to ``venue`` (or starts the embedded simulator) and shows BTC/USD live."""

    CSS_PATH = str(styles_path("app.tcss"))
    TITLE = "Bitstamp workstation"
    BINDINGS = [("q", "quit", "Quit")]

    def __init__(self, venue: Venue | None = None, *, seed: int | None = None) -> None:
        super().__init__()
        self._venue = venue
        self._seed = seed

    def compose(self) -> ComposeResult:
        yield Static("Starting the simulator…", id="venue")
        yield Static("", id="ticker")
        yield Static("", id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.run_worker(self._connect(), exclusive=True, exit_on_error=False, name="connect")

    async def _connect(self) -> None:
        async with contextlib.AsyncExitStack() as stack:
            venue = self._venue or await stack.enter_async_context(EmbeddedSim(seed=self._seed))
            session = await stack.enter_async_context(Session(venue))
            self.query_one("#venue", Static).update(
                f"{venue.label}  connected to {venue.rest_url}  (WebSocket {venue.ws_url})"
            )
            while True:
                try:
                    ticker = await session.ticker(DEFAULT_MARKET)
                except Exception as exc:  # noqa: BLE001 - shown to the trader, then retried
                    self.query_one("#status", Static).update(f"ticker unavailable: {exc}")
                else:
                    self.query_one("#ticker", Static).update(
                        f"BTC/USD  last {ticker.last:f}   bid {ticker.bid:f}   ask {ticker.ask:f}"
                        f"   24h volume {ticker.volume:f}"
                    )
                    self.query_one("#status", Static).update("")
                await asyncio.sleep(1.0)


def run_app(*, venue: Venue | None = None, seed: int | None = None) -> int:
    WorkstationApp(venue, seed=seed).run()
    return 0
