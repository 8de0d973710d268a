"""A cold start shows the book first: the account's reads wait until a watched book is live
(``facade.BOOK_FIRST_S``), and never longer than that bound."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from workstation.services.facade import BOOK_FIRST_S
from workstation.services.feed import FeedState
from workstation.sim.faults import HttpFault, HttpFaultKind

from .market_support import manual_sim, until
from .trading_support import demo_services

MARKET = "btcusd"
ACCOUNT_READS = (
    "/api/v2/account_balances/",
    "/api/v2/fees/trading/",
    "/api/v2/open_orders/all/",
    "/api/v2/websockets_token/",
)


async def test_the_account_is_read_after_the_book_is_live(tmp_path: Path) -> None:
    async with manual_sim(history_s=60) as sim:
        services = demo_services(sim, tmp_path)
        await services.open([MARKET])
        try:
            assert services.trading is not None
            assert services.session is not None
            answered = [r.endpoint for r in services.session.rest.transport.log]
            snapshot = answered.index(f"/api/v2/order_book/{MARKET}/")
            first_account = min(i for i, path in enumerate(answered) if path in ACCOUNT_READS)
            assert snapshot < first_account, answered
        finally:
            await services.close()


async def test_trading_opens_though_no_book_gets_live(tmp_path: Path) -> None:
    """A book that never syncs must not keep the account (and the kill switch)
    away: trading opens once the wait's bound has passed."""
    async with manual_sim(history_s=60) as sim:
        services = demo_services(sim, tmp_path)
        snapshots_fail = HttpFault(HttpFaultKind.SERVER_ERROR, status=500)
        sim.faults.fail_next("/api/v2/order_book/", snapshots_fail, times=1000)  # never live
        started = time.monotonic()
        await services.open([MARKET])
        try:
            took = time.monotonic() - started
            assert services.trading is not None
            assert services.hub is not None
            assert services.hub.feeds[MARKET].state is not FeedState.LIVE
            assert BOOK_FIRST_S <= took < BOOK_FIRST_S + 10
        finally:
            sim.faults.withdraw_next("/api/v2/order_book/")
            await services.close()


async def test_health_says_trading_is_starting_until_it_has_opened(tmp_path: Path) -> None:
    """Between the book and the account the UI is told trading is on its way (a ticket
    asked for then follows), never that it is unavailable; once open, no longer starting."""
    async with manual_sim(history_s=60) as sim:
        services = demo_services(sim, tmp_path)
        opening = asyncio.ensure_future(services.open([MARKET]))
        try:
            await until(lambda: services.hub is not None, what="the market hub")
            health = services.health()
            assert health.trading_starting
            assert not health.trading
            await opening
            health = services.health()
            assert health.trading
            assert not health.trading_starting
        finally:
            await services.close()
