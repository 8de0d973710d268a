"""What a trader can reach and read at small terminal sizes (80x24 is the floor).

Driven by Textual's Pilot against the simulator on loopback; every check reads what the screen
actually draws (the compositor's lines), so a pane that is laid out off screen or a label cut
at the border fails here.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from textual.app import App
from textual.widget import Widget

from workstation.domain.common import Side
from workstation.domain.order_request import OrderRequest
from workstation.domain.order_vocabulary import OrderKind, TimeInForce
from workstation.services.facade import VenueServices
from workstation.services.feed import FeedState
from workstation.services.venue import Venue
from workstation.sim.server import SimServer
from workstation.ui.app import WorkstationApp, build_app
from workstation.ui.choice import Choice
from workstation.ui.panes.balances import BalancesView
from workstation.ui.panes.book import OrderBookView
from workstation.ui.panes.orders import OpenOrdersView
from workstation.ui.panes.status import StatusBar
from workstation.ui.panes.tape import TradesTapeView
from workstation.ui.screens.help import KEYS, HelpScreen

from .harness import ROOMY_GUARDS, real, until

SIZES = [(80, 24), (100, 30), (120, 40)]
"""The floor, the common laptop split and the roomy layout (where every pane has a place)."""


def screen_text(app: App[None]) -> str:
    """The lines the screen draws right now, as a trader reads them."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def on_screen(app: App[None], widget: Widget) -> bool:
    """Shown, not empty and wholly inside the terminal."""
    region = widget.region
    return bool(widget.display and region.area and app.screen.region.contains_region(region))


async def ready(pilot, app: WorkstationApp) -> None:
    def trading() -> bool:
        feed = real(app).hub.feeds.get("btcusd") if real(app).hub else None
        return bool(
            feed is not None
            and feed.state is FeedState.LIVE
            and real(app).trading is not None
            and real(app).trading.balances
        )

    await until(pilot, trading, "BTC/USD live with balances")
    await pilot.pause(0.2)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_every_pane_is_reachable(venue: Venue, size: tuple[int, int]) -> None:
    app = build_app(VenueServices(venue))
    async with app.run_test(size=size) as pilot:
        await ready(pilot, app)
        for pane in (OrderBookView, TradesTapeView, OpenOrdersView, StatusBar):
            assert on_screen(app, app.query_one(pane)), pane.__name__

        balances = app.query_one(BalancesView)
        await pilot.press("4")
        await pilot.pause(0.1)
        assert on_screen(app, balances)
        assert app.focused is balances
        text = screen_text(app)
        assert "Balances" in text
        for currency in real(app).trading.balances:  # every currency held, on its own line
            assert f" {currency.upper()} " in text, currency
        for pane in (OrderBookView, TradesTapeView, StatusBar):
            assert on_screen(app, app.query_one(pane)), pane.__name__
        await pilot.press("enter")  # Enter opens a ticket from the book only
        await pilot.press("2", "enter")
        assert app.focused is app.query_one(TradesTapeView)
        assert app.screen is app.screen_stack[0]
        await pilot.press("4")

        await pilot.press("o")  # open orders come back where they were
        await pilot.pause(0.1)
        orders = app.query_one(OpenOrdersView)
        assert on_screen(app, orders)
        assert app.focused is orders
        await pilot.press("1")
        assert app.focused is app.query_one(OrderBookView)
        await pilot.press("q")


@pytest.mark.parametrize("size", [(80, 24), (160, 50)], ids=["80x24", "160x50"])
async def test_help_shows_every_key_whole(venue: Venue, size: tuple[int, int]) -> None:
    app = build_app(VenueServices(venue))
    async with app.run_test(size=size) as pilot:
        await pilot.press("question_mark")
        await pilot.pause(0.2)
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        for key, does in KEYS:
            assert does in text, does
            assert key in text, key
        assert "esc closes" in text
        await pilot.press("escape")
        await pilot.press("q")


async def test_ticket_choices_are_shown_whole_at_80_columns(venue: Venue) -> None:
    app = build_app(VenueServices(venue))
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        for side in ("b", "s"):
            await pilot.press(side)
            await pilot.pause(0.1)
            kind = app.screen.query_one("#kind", Choice)
            tif = app.screen.query_one("#tif", Choice)
            for _ in kind.options:
                if tif.display:
                    for _ in tif.options:
                        tif.action_step(1)
                        await pilot.pause(0.05)
                        label = tif.options[tif.index][0]
                        text = screen_text(app)
                        assert f"Time in force \u2039 {label} \u203a" in text, text
                        assert on_screen(app, tif)
                kind.action_step(1)
                await pilot.pause(0.05)
                label = kind.options[kind.index][0]
                text = screen_text(app)
                assert f"Kind \u2039 {label} \u203a" in text, text
                assert on_screen(app, kind)
            await pilot.press("escape")
        await pilot.press("q")


async def test_the_longest_ticket_keeps_its_send_line_at_80x24(
    sim: SimServer, venue: Venue
) -> None:
    """A GTD limit buy that crosses the book, at the confirm step: every line on screen
    (1.4 BTC is over the default guards: they are out of the way here)."""
    app = build_app(VenueServices(venue, guards=ROOMY_GUARDS))
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        ask = sim.exchange.engines["btcusd"].best_ask()
        assert ask is not None
        await pilot.press("b", *"1.4", "tab", *f"{ask + 20}")  # part fills, the rest rests
        tif = app.screen.query_one("#tif", Choice)
        tif.select(TimeInForce.GTD)
        await pilot.pause(0.5)  # the preview follows the book every 250 ms
        await pilot.press("enter")
        await until(pilot, lambda: "SEND?" in screen_text(app), "the confirm step")
        text = screen_text(app)
        assert "enter or y sends" in text, text
        assert "Expires" in text
        assert on_screen(app, app.screen.query_one("#ticket"))
        await pilot.press("escape", "escape", "q")


async def test_an_open_order_is_shown_whole_at_80_columns(sim: SimServer, venue: Venue) -> None:
    app = build_app(VenueServices(venue))
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        assert real(app).trading is not None
        bid = sim.exchange.engines["btcusd"].best_bid()
        assert bid is not None
        request = OrderRequest("btcusd", Side.BUY, OrderKind.LIMIT, Decimal("0.01"), bid - 500)
        await real(app).trading.submit(request)
        orders = app.query_one(OpenOrdersView)
        await until(pilot, lambda: len(orders.orders) == 1, "the order in open orders")
        await pilot.pause(0.1)
        order = orders.orders[0]
        line = next(line for line in screen_text(app).splitlines() if "BTC/USD  BUY" in line)
        for figure in (f"{bid - 500}", "0.01000000", "open", order.client_order_id[:12]):
            assert figure in line, line
        await pilot.press("q")
