"""The footer of keys: it shows the keys of the pane in focus, is rebuilt only when they
change, and is first built once the book shows prices (``ui/keys_footer.py``). Driven by
Textual's Pilot against the simulator, or the fake services where the test fills the book."""

from __future__ import annotations

import pytest
from textual.widgets._footer import FooterKey

from workstation.services.facade import VenueServices
from workstation.services.venue import Venue
from workstation.ui import app as app_module
from workstation.ui.app import KEYS_AT_LATEST_S, WorkstationApp, build_app
from workstation.ui.keys_footer import KeysFooter
from workstation.ui.options import AppOptions
from workstation.ui.panes.book import OrderBookView
from workstation.ui.panes.orders import OpenOrdersView
from workstation.ui.panes.tape import TradesTapeView

from .fake_services import FakeServices, snapshot
from .harness import until


def footer_keys(app: WorkstationApp) -> list[FooterKey]:
    return list(app.query_one(KeysFooter).query(FooterKey).results(FooterKey))


def footer_text(app: WorkstationApp) -> str:
    """The footer's line as the screen draws it."""
    footer = app.query_one(KeysFooter)
    lines = app.screen._compositor.render_strips()
    return lines[footer.region.y].text


async def test_the_footer_follows_the_focus_and_is_rebuilt_only_when_its_keys_change(
    venue: Venue,
) -> None:
    app = build_app(VenueServices(venue))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: "Quit" in footer_text(app), "the footer's keys")
        await pilot.pause(0.2)
        shown = footer_keys(app)
        text = footer_text(app)
        assert app.focused is app.query_one(OrderBookView)
        assert "Buy" in text
        assert "Cancel" not in text

        await pilot.press("tab")  # the tape: the app's keys again, nothing new
        await until(pilot, lambda: app.focused is app.query_one(TradesTapeView), "the tape")
        await pilot.pause(0.2)
        assert footer_keys(app) == shown  # the same widgets: not rebuilt
        assert all(key.is_attached for key in shown)
        assert footer_text(app) == text

        await pilot.press("o")  # the orders: their keys join the footer
        await until(pilot, lambda: app.focused is app.query_one(OpenOrdersView), "the orders")
        await until(pilot, lambda: "Cancel all" in footer_text(app), "the orders' keys")
        assert "Amend" in footer_text(app)

        await pilot.press("1")  # back to the book: the orders' keys leave the footer
        await until(pilot, lambda: "Cancel all" not in footer_text(app), "the book's keys")
        assert footer_text(app) == text


def fake_market(*, prices: bool) -> FakeServices:
    services = FakeServices()
    services.add_pair("btcusd", BOOK if prices else snapshot("btcusd", bids=[], asks=[]))
    return services


BOOK = snapshot("btcusd", bids=[("60000.00", "0.5")], asks=[("60001.00", "0.75")])


async def test_the_keys_wait_for_the_books_first_prices(monkeypatch: pytest.MonkeyPatch) -> None:
    """A start's first frames go to the book: the footer's keys are built once the book
    has drawn prices, not before (the fallback pushed out of the test's way), and the
    services are told then that the book is drawn (their REST held for it may go)."""
    monkeypatch.setattr(app_module, "KEYS_AT_LATEST_S", 60.0)
    services = fake_market(prices=False)
    app = build_app(services, AppOptions())
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.current == "btcusd", "BTC/USD shown")
        await pilot.pause(0.2)
        assert footer_keys(app) == []
        assert "Quit" not in footer_text(app)
        assert ("book_shown", None) not in services.calls  # the services' REST still held

        pair = services.pairs["btcusd"]
        pair.book.load(BOOK.bids, BOOK.asks, BOOK.timestamp_us)
        pair.version += 1
        services.move("btcusd")
        await until(pilot, lambda: "Quit" in footer_text(app), "the footer's keys")
        assert "60000.00" in "\n".join(s.text for s in app.screen._compositor.render_strips())
        assert not app.query_one(KeysFooter).held
        assert ("book_shown", None) in services.calls  # told once the prices were drawn


async def test_the_keys_are_shown_after_a_second_when_the_book_has_no_prices() -> None:
    """A venue that never gives a book (down, refusing) does not keep the keys away."""
    app = build_app(fake_market(prices=False), AppOptions())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(KEYS_AT_LATEST_S / 2)
        assert "Quit" not in footer_text(app)
        await until(pilot, lambda: "Quit" in footer_text(app), "the footer's keys")
