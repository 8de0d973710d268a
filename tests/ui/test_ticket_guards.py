"""The guards in the ticket and behind it, against a still simulator on loopback: outside
LIVE an order outside a guard is shown with the key to change and refused, nothing sent; on
a venue badged LIVE (the simulator standing in for Bitstamp's host) the confirm step cannot
be passed with Enter or ``y``, only by typing the override, and the services refuse the same
order without it whatever the UI does."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from textual.widgets import Input

from workstation.bitstamp.secret import Secret
from workstation.domain.common import Side
from workstation.domain.guards import Guard
from workstation.domain.order_request import OrderRequest
from workstation.domain.order_vocabulary import OrderKind
from workstation.services.facade import VenueServices
from workstation.services.refusals import GuardRefused
from workstation.services.venue import Venue
from workstation.sim.server import SimServer
from workstation.ui.app import WorkstationApp, build_app
from workstation.ui.screens.ticket import TicketScreen

from .harness import real, until
from .test_trading import ready, sim_orders, text_of, ticket, type_text

D = Decimal
BUY_PATH = "POST /api/v2/buy/btcusd/"
SELL_MARKET_PATH = "POST /api/v2/sell/market/btcusd/"


def live_venue(sim: SimServer) -> Venue:
    """LIVE's badge and rules on the simulator's address: how a test reaches the live code
    path (never through a user-facing option)."""
    demo = sim.exchange.demo
    return Venue("live", sim.rest_url, sim.ws_url, Secret(demo.api_key), Secret(demo.secret))


def notices(app: WorkstationApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def far_price(sim: SimServer) -> Decimal:
    """A buy limit 8 % under the best bid: outside the default 500 bps band, and resting."""
    best_bid = sim.exchange.engines["btcusd"].best_bid()
    assert best_bid is not None
    return (best_bid * D("0.92")).quantize(D("0.01"))


async def test_outside_live_a_limit_outside_the_band_is_shown_and_refused(
    sim: SimServer, venue: Venue, tmp_path: Path
) -> None:
    app = build_app(VenueServices(venue, journal_path=tmp_path / "journal.sqlite3"))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: ready(app), "trading to be ready")
        price = far_price(sim)
        await pilot.press("b")
        screen = ticket(app)
        await type_text(pilot, "0.01")
        await pilot.press("tab")
        await type_text(pilot, f"{price:.2f}")
        problems = lambda: text_of(screen, "#ticket-problems")  # noqa: E731
        await until(pilot, lambda: "outside the guards" in problems(), "the breach")
        assert "\u2716 sim.price_band_bps: price" in problems()
        assert "bps below the mid" in problems()
        assert "the band is 500 bps" in problems()
        assert "refused; change them in the built-in defaults" in problems()

        await pilot.press("enter")
        assert app.screen is screen
        assert not screen.confirming  # refused at Enter: no confirm step
        assert "Refused, outside a guard: sim.price_band_bps" in notices(app)
        await pilot.press("y", "enter")
        assert app.screen is screen
        await pilot.pause(0.3)
        assert sim.requests.get(BUY_PATH, 0) == 0
        assert sim_orders(sim) == []
        await pilot.press("escape", "q")


async def test_outside_live_a_market_sell_walking_past_the_protection_is_refused(
    sim: SimServer, venue: Venue, tmp_path: Path
) -> None:
    app = build_app(VenueServices(venue, journal_path=tmp_path / "journal.sqlite3"))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: ready(app), "trading to be ready")
        await pilot.press("s", "tab", "tab", "right", "shift+tab")  # a market sell
        screen = ticket(app)
        assert screen.kind is OrderKind.MARKET
        await type_text(pilot, "5")
        problems = lambda: text_of(screen, "#ticket-problems")  # noqa: E731
        await until(pilot, lambda: "market-order protection" in problems(), "the breach")
        assert "\u2716 sim.market_slippage_bps: walked slippage" in problems()
        await pilot.press("enter")
        assert not screen.confirming
        await pilot.pause(0.3)
        assert sim.requests.get(SELL_MARKET_PATH, 0) == 0
        await pilot.press("escape", "q")


async def test_on_live_an_order_outside_a_guard_needs_the_override_typed(
    sim: SimServer, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.sqlite3"
    app = build_app(VenueServices(live_venue(sim), journal_path=journal))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: ready(app), "trading to be ready")
        assert real(app).env == "live"
        price = far_price(sim)
        await pilot.press("b")
        screen = ticket(app)
        await type_text(pilot, "0.01")
        await pilot.press("tab")
        await type_text(pilot, f"{price:.2f}")
        problems = lambda: text_of(screen, "#ticket-problems")  # noqa: E731
        await until(pilot, lambda: "outside the guards" in problems(), "the breach")
        assert "\u26a0 live.price_band_bps: price" in problems()
        assert "LIVE asks you to type override" in problems()

        await pilot.press("enter")
        assert screen.confirming
        hint = text_of(screen, "#ticket-hint")
        assert "LIVE SEND?" in hint
        assert "type override + enter to send anyway \u00b7 esc back" in hint
        override = screen.query_one("#override", Input)
        row = screen.query_one("#override-row")
        assert row.display
        assert screen.focused is override

        # neither Enter on an empty field, nor y, nor Enter from elsewhere, nor a wrong word
        await pilot.press("enter")
        screen.set_focus(None)
        await pilot.press("y", "enter")
        override.focus()
        await type_text(pilot, "yes")
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert app.screen is screen
        assert screen.confirming
        assert sim.requests.get(BUY_PATH, 0) == 0
        assert any("type override" in n.lower() for n in notices(app))

        # Esc goes back to the form; the next confirm asks again from an empty field
        await pilot.press("escape")
        assert not screen.confirming
        assert not row.display
        await pilot.press("enter")
        assert screen.confirming
        assert override.value == ""
        await type_text(pilot, "override")
        await pilot.press("enter")
        assert not isinstance(app.screen, TicketScreen)
        await until(pilot, lambda: len(sim_orders(sim)) == 1, "the order at the exchange")
        (placed,) = sim_orders(sim)
        assert (placed.amount, placed.price) == (D("0.01"), price)
        assert sim.requests[BUY_PATH] == 1
        services = real(app)
        assert services.journal is not None
        (intent,) = [
            e for e in services.journal.events(placed.client_order_id) if e.kind == "intent"
        ]
        assert intent.detail["preview"]["guards_overridden"] == "live.price_band_bps"
        await pilot.press("q")


async def test_on_live_an_order_inside_the_guards_sends_with_the_confirm_step(
    sim: SimServer, tmp_path: Path
) -> None:
    app = build_app(VenueServices(live_venue(sim), journal_path=tmp_path / "journal.sqlite3"))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: ready(app), "trading to be ready")
        await pilot.press("b")
        screen = ticket(app)
        await type_text(pilot, "0.01")
        await until(pilot, lambda: "rests 0.01 BTC" in text_of(screen, "#ticket-preview"), "it")
        assert "outside the guards" not in text_of(screen, "#ticket-problems")
        await pilot.press("enter")
        assert screen.confirming
        assert not screen.query_one("#override-row").display
        await pilot.press("y")
        await until(pilot, lambda: len(sim_orders(sim)) == 1, "the order at the exchange")
        await pilot.press("q")


@pytest.mark.parametrize("env", ["sim", "live"])
async def test_the_services_refuse_an_order_outside_a_guard_without_its_acceptance(
    sim: SimServer, tmp_path: Path, env: str
) -> None:
    """The UI is not the only gate: a submit straight to the services is checked again."""
    demo = sim.exchange.demo
    venue = Venue(env, sim.rest_url, sim.ws_url, Secret(demo.api_key), Secret(demo.secret))
    services = VenueServices(venue, journal_path=tmp_path / "journal.sqlite3")
    await services.open(["btcusd"])
    try:
        for _ in range(200):
            view = services.market("btcusd")
            trading = services.trading
            if trading and trading.submits_allowed and view and view.live and not view.stale:
                break
            await _sleep()
        price = far_price(sim)
        request = OrderRequest("btcusd", Side.BUY, OrderKind.LIMIT, D("0.01"), price)
        with pytest.raises(GuardRefused) as refused:
            await services.submit(request)
        (breach,) = refused.value.breaches
        assert (breach.guard, breach.key) == (Guard.PRICE_BAND, f"{env}.price_band_bps")
        assert "change it in the built-in defaults" in str(refused.value)
        # the wrong guard accepted is no acceptance
        with pytest.raises(GuardRefused):
            await services.submit(request, accepted=frozenset({Guard.MAX_NOTIONAL}))
        if env == "sim":  # outside LIVE not even an acceptance sends it
            with pytest.raises(GuardRefused, match="sim never sends an order outside a guard"):
                await services.submit(request, accepted=frozenset({Guard.PRICE_BAND}))
        assert sim.requests.get(BUY_PATH, 0) == 0
        assert services.journal is not None
        assert list(services.journal.raw_rows("orders")) == []  # nothing journaled either
        if env == "live":
            order = await services.submit(request, accepted=frozenset({Guard.PRICE_BAND}))
            assert order.price == price
            assert sim.requests[BUY_PATH] == 1
    finally:
        await services.close()


async def test_the_services_refuse_an_amend_outside_a_guard(sim: SimServer, tmp_path: Path) -> None:
    """An amend is a new order at the exchange: its new terms meet the same guards."""
    demo = sim.exchange.demo
    venue = Venue("sim", sim.rest_url, sim.ws_url, Secret(demo.api_key), Secret(demo.secret))
    services = VenueServices(venue, journal_path=tmp_path / "journal.sqlite3")
    await services.open(["btcusd"])
    try:
        for _ in range(200):
            view = services.market("btcusd")
            trading = services.trading
            if trading and trading.submits_allowed and view and view.live and not view.stale:
                break
            await _sleep()
        bid = sim.exchange.engines["btcusd"].best_bid()
        assert bid is not None
        near = OrderRequest("btcusd", Side.BUY, OrderKind.LIMIT, D("0.01"), bid - 1)
        order = await services.submit(near)
        with pytest.raises(GuardRefused) as refused:
            await services.amend(order.client_order_id, price=far_price(sim), amount=None)
        assert [b.key for b in refused.value.breaches] == ["sim.price_band_bps"]
        with pytest.raises(GuardRefused) as refused:
            await services.amend(order.client_order_id, price=None, amount=D(1))
        assert [b.key for b in refused.value.breaches] == [
            "sim.max_notional.USD",
            "sim.max_amount.btcusd",
        ]
        assert sim.requests.get("POST /api/v2/replace_order/", 0) == 0
        (resting,) = sim_orders(sim)
        assert (resting.price, resting.amount) == (bid - 1, D("0.01"))
    finally:
        await services.close()


async def _sleep() -> None:
    import asyncio

    await asyncio.sleep(0.05)


async def test_the_live_override_step_fits_at_80x24(sim: SimServer, tmp_path: Path) -> None:
    """The longest LIVE confirm step: a GTD limit outside three guards, every line and the
    override field on screen at 80x24."""
    from workstation.domain.order_vocabulary import TimeInForce
    from workstation.ui.choice import Choice

    from .test_layout import on_screen, screen_text

    app = build_app(VenueServices(live_venue(sim), journal_path=tmp_path / "journal.sqlite3"))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: ready(app), "trading to be ready")
        await pilot.press("b", *"1.4", "tab", *f"{far_price(sim):.2f}")
        screen = ticket(app)
        screen.query_one("#tif", Choice).select(TimeInForce.GTD)
        await until(pilot, lambda: len(screen.breaches) == 3, "three breaches")
        await pilot.press("enter")
        await until(pilot, lambda: "LIVE SEND?" in screen_text(app), "the confirm step")
        await pilot.pause(0.5)  # the order-by-order walk
        text = screen_text(app)
        assert "type override + enter to send anyway \u00b7 esc back" in text, text
        for key in ("live.max_notional.USD", "live.max_amount.btcusd", "live.price_band_bps"):
            assert key in text, text
        assert "Expires" in text
        assert on_screen(app, screen.query_one("#ticket"))
        assert on_screen(app, screen.query_one("#override", Input))
        await pilot.press("escape", "escape", "q")
