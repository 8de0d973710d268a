"""A seeded simulator on a frozen clock, in a thread of its own, for tests that run the app
in their own event loop (snapshot tests), and the wait that makes a screen settle."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from decimal import Decimal

from textual.app import App
from textual.pilot import Pilot

from workstation.bitstamp.reststats import RestStats
from workstation.bitstamp.secret import Secret
from workstation.domain.guards import GuardLimits
from workstation.services.facade import VenueServices
from workstation.services.feed import FeedState
from workstation.services.venue import Venue
from workstation.sim.clock import SimClock
from workstation.sim.exchange import SimExchange
from workstation.sim.server import SimServer
from workstation.ui.app import WorkstationApp
from workstation.ui.panes.pairs import PairsLine
from workstation.ui.panes.status import StatusBar


def _roomy(env: str) -> GuardLimits:
    huge = Decimal(10**12)
    return GuardLimits(
        env=env,
        max_notional=dict.fromkeys(("USD", "EUR", "BTC", "USDC"), huge),
        max_amount={},
        price_band_bps=Decimal(2000),
        market_slippage_bps=Decimal(10_000),
    )


ROOMY_GUARDS = {env: _roomy(env) for env in ("sim", "sandbox", "live")}
"""Guards no order of a test reaches: for tests about something else (sizing a whole
balance, a preview walked deep into the book) that the careful defaults would refuse."""

#: 2026-05-28 20:26:40 UTC: every snapshot shows the same day, whatever day it runs.
FROZEN_US = 1_780_000_000_000_000


class SimThread:
    """``with SimThread(seed=3) as venue:``: a manual-clock simulator on 127.0.0.1."""

    def __init__(self, *, seed: int) -> None:
        self.exchange = SimExchange(seed=seed, clock=SimClock(manual_start_us=FROZEN_US))
        self.server = SimServer(self.exchange)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sim", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self.server.start())
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self.server.stop())
        self._loop.close()

    def __enter__(self) -> Venue:
        self._thread.start()
        if not self._ready.wait(20):
            raise RuntimeError("the simulator did not start")
        demo = self.exchange.demo
        key, secret = Secret(demo.api_key), Secret(demo.secret)
        return Venue("sim", self.server.rest_url, self.server.ws_url, key, secret)

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(20)


async def until(pilot: Pilot, condition: Callable[[], bool], what: str) -> None:
    for _ in range(300):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def settle(pilot: Pilot) -> None:
    """Wait until the shown pair is live with its tape and ticker, then freeze the figures
    that depend on when the test runs (message age, REST latency)."""
    app = pilot.app
    assert isinstance(app, WorkstationApp)

    def ready() -> bool:
        services = real(app)
        feed = services.hub.feeds.get(app.current) if services.hub and app.current else None
        trading = services.trading
        account = services.account(app.quote)
        return bool(
            feed is not None
            and feed.state is FeedState.LIVE
            and len(feed.tape)
            and feed.ticker is not None
            and trading is not None
            and trading.submits_allowed
            and trading.balances
            and trading.fee_percent(app.current or "") is not None
            and account is not None
            and account.prices_polled
        )

    await until(pilot, ready, "the pair to be live")
    services = real(app)
    assert services.hub is not None
    assert app.current is not None
    feed = services.hub.feeds[app.current]
    bar = app.query_one(StatusBar)
    bar.now = lambda: feed.health.last_message_at or 0.0
    services.rest_stats = RestStats()  # still figures: no call records into this one
    app.query_one(PairsLine).redraw()
    bar.redraw()
    await pilot.pause(0.3)


def real(app: App[None]) -> VenueServices:
    """The real services behind ``app`` (tests that prove the wiring look inside them)."""
    services = getattr(app, "services", None)
    assert isinstance(services, VenueServices)
    return services
