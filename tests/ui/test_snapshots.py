"""Snapshots of the main screen against a seeded simulator on a frozen clock.

Regenerate after an intended change with ``pytest tests/ui/test_snapshots.py
--snapshot-update`` and look at the SVGs in ``tests/ui/__snapshots__/`` before committing.
"""

from __future__ import annotations

import datetime as dt
import gc
from decimal import Decimal

import pytest
from textual.widgets import Input

from workstation.domain.common import Side
from workstation.domain.order_request import OrderRequest
from workstation.domain.order_vocabulary import OrderKind
from workstation.services import submitter
from workstation.services.facade import VenueServices
from workstation.services.journal import Journal
from workstation.ui.app import WorkstationApp, build_app
from workstation.ui.options import AppOptions
from workstation.ui.panes.orders import OpenOrdersView

from .harness import FROZEN_US, SimThread, real, settle, until

# Known leak, kept visible here rather than in whichever test runs the garbage collector
# next: snap_compare runs the app with App.run(), whose asyncio.run() ends while an httpx
# connection may still be opening (anyio's connect_tcp, cancelled); that socket is never
# closed. The app under run_test (tests/ui/test_app.py, test_trading.py) leaks nothing.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


@pytest.fixture(autouse=True)
def _collect_leaks_here():
    yield
    gc.collect()


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
def test_main_screen(snap_compare, size: tuple[int, int]) -> None:
    with SimThread(seed=3) as venue:
        assert snap_compare(build_app(VenueServices(venue)), terminal_size=size, run_before=settle)


def test_main_screen_monochrome_with_a_cursor(snap_compare) -> None:
    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("down", "down", "down", "plus")
        await settle(pilot)

    with SimThread(seed=3) as venue:
        app = build_app(VenueServices(venue), AppOptions(mono=True))
        assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)


def test_ticket_with_a_market_order_preview(snap_compare) -> None:
    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("b", "tab", "tab", "right", "shift+tab")  # a market buy
        await pilot.press("1", "full_stop", "5")
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False  # a blinking cursor is drawn or not, run to run
        await pilot.pause(0.5)

    with SimThread(seed=3) as venue:
        assert snap_compare(
            build_app(VenueServices(venue)), terminal_size=(120, 40), run_before=run_before
        )


def test_open_orders_pane(snap_compare, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = iter(f"{n:08x}{'0' * 24}" for n in range(0xC0FFEE0, 0xC0FFEE0 + 10))
    monkeypatch.setattr(submitter, "new_client_order_id", lambda: next(ids))
    # the journal's clock stands still, so every order is the same age on every run
    frozen = dt.datetime.fromtimestamp(FROZEN_US / 1e6, dt.UTC)
    monkeypatch.setattr(Journal.__init__, "__kwdefaults__", {"now": lambda: frozen})

    async def run_before(pilot) -> None:
        await settle(pilot)
        app = pilot.app
        assert isinstance(app, WorkstationApp)
        assert real(app).trading is not None
        assert real(app).hub is not None
        book = real(app).hub.feeds["btcusd"].book
        bid, ask = book.best_bid(), book.best_ask()
        assert bid is not None
        assert ask is not None
        for side, price, amount in (
            (Side.BUY, bid - 50, "0.01"),
            (Side.BUY, bid - 75, "0.25"),
            (Side.SELL, ask + 40, "0.1"),
        ):
            request = OrderRequest("btcusd", side, OrderKind.LIMIT, Decimal(amount), price)
            await real(app).trading.submit(request)
        trading = real(app).trading

        def reserved() -> bool:  # the balances refresh is throttled: wait for the last one
            balances = trading.balances
            return balances["BTC"].reserved == Decimal("0.1") and balances["USD"].reserved > 17000

        await until(pilot, reserved, "the balances to hold the orders' funds")
        view = app.query_one(OpenOrdersView)
        view.clock = lambda: frozen.timestamp() + 42
        view.show(view.orders)  # redraw the ages with that clock now
        await pilot.press("o", "down")
        await settle(pilot)

    with SimThread(seed=3) as venue:
        assert snap_compare(
            build_app(VenueServices(venue)), terminal_size=(120, 40), run_before=run_before
        )


def test_help_at_80x24(snap_compare) -> None:
    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause(0.3)

    with SimThread(seed=3) as venue:
        assert snap_compare(
            build_app(VenueServices(venue)), terminal_size=(80, 24), run_before=run_before
        )


def test_balances_at_80x24(snap_compare) -> None:
    """Key 4 brings the balances where the open orders are."""

    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("4")
        await pilot.pause(0.3)

    with SimThread(seed=3) as venue:
        assert snap_compare(
            build_app(VenueServices(venue)), terminal_size=(80, 24), run_before=run_before
        )


@pytest.mark.parametrize(
    ("side", "steps", "amount"),
    [("b", 0, "0.1"), ("b", 1, "0.1"), ("s", 3, "1000")],
    ids=["limit-buy", "market-buy", "instant-sell-usd"],
)
def test_ticket_kinds_at_80x24(snap_compare, side: str, steps: int, amount: str) -> None:
    """Every kind's ticket whole at 80 columns (the choices were cut: ``Kind ‹ instant``)."""

    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press(side, "shift+tab", "shift+tab")  # Amount -> Time in force -> Kind
        await pilot.press(*["right"] * steps)
        pilot.app.screen.query_one("#amount", Input).focus()
        await pilot.press(*amount)
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False  # a blinking cursor is drawn or not, run to run
        await pilot.pause(0.5)

    with SimThread(seed=3) as venue:
        assert snap_compare(
            build_app(VenueServices(venue)), terminal_size=(80, 24), run_before=run_before
        )
