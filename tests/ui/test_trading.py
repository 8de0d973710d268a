"""Trading as a user does it, with the keys, against a still simulator on loopback: ticket,
preview, confirm, open orders, partial fill by a synthetic taker, cancel, amend, cancel all,
a ticket from the book cursor, an instant buy in USD, and invalid input that sends nothing."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static

from workstation.domain.common import Side
from workstation.domain.order_request import OrderRequest
from workstation.domain.order_vocabulary import OrderKind, TrackState
from workstation.services.facade import VenueServices
from workstation.services.feed import FeedState
from workstation.services.venue import Venue
from workstation.sim.server import SimServer
from workstation.ui.app import WorkstationApp, build_app
from workstation.ui.panes.orders import OpenOrdersView
from workstation.ui.screens.ask import AskScreen
from workstation.ui.screens.ticket import TicketScreen

from .harness import ROOMY_GUARDS, real, until

D = Decimal
BUY_PATH = "POST /api/v2/buy/btcusd/"


def ready(app: WorkstationApp) -> bool:
    feed = real(app).hub.feeds.get("btcusd") if real(app).hub else None
    trading = real(app).trading
    return bool(
        feed is not None
        and feed.state is FeedState.LIVE
        and trading is not None
        and trading.submits_allowed
        and trading.private_connected
        and "USD" in trading.balances
        and trading.fee_percent("btcusd") is not None
    )


def ticket(app: WorkstationApp) -> TicketScreen:
    screen = app.screen
    assert isinstance(screen, TicketScreen)
    return screen


def text_of(screen: TicketScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def sim_orders(sim: SimServer) -> list:
    return sim.exchange.open_orders("demo", None)


def rows(app: WorkstationApp) -> list:
    return app.query_one(OpenOrdersView).orders


async def type_text(pilot: Pilot, text: str) -> None:
    await pilot.press(*[c if c != "." else "full_stop" for c in text])


async def test_buy_ticket_preview_confirm_partial_fill_and_cancel(
    sim: SimServer, venue: Venue, tmp_path: Path
) -> None:
    app = build_app(VenueServices(venue, journal_path=tmp_path / "journal.sqlite3"))
    engine = sim.exchange.engines["btcusd"]
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: ready(app), "trading to be ready")
        best_bid, best_ask = engine.best_bid(), engine.best_ask()
        assert best_bid is not None
        assert best_ask is not None
        price = best_bid + D("0.01")  # improve the bid: first in line for the taker below
        assert price < best_ask

        await pilot.press("b")
        screen = ticket(app)
        assert screen.focused is screen.query_one("#amount", Input)
        price_field = screen.query_one("#price", Input)
        assert price_field.value == f"{best_bid:.2f}"  # joins our side's touch
        await type_text(pilot, "0.02")
        await pilot.press("tab")
        assert screen.focused is price_field
        await type_text(pilot, f"{price:.2f}")  # the selected text is replaced
        assert price_field.value == f"{price:.2f}"
        preview = lambda: text_of(screen, "#ticket-preview")  # noqa: E731
        await until(pilot, lambda: "rests 0.02 BTC" in preview(), "the preview")

        await pilot.press("enter")
        assert screen.confirming
        assert "BUY 0.02 BTC at" in text_of(screen, "#ticket-hint")
        assert sim.requests.get(BUY_PATH, 0) == 0  # nothing sent before the confirm
        await pilot.press("y")
        assert not isinstance(app.screen, TicketScreen)

        await until(pilot, lambda: len(rows(app)) == 1, "the order in open orders")
        order = rows(app)[0]
        assert (order.side, order.amount, order.price) == (Side.BUY, D("0.02"), price)
        placed = sim_orders(sim)
        assert [(o.client_order_id, o.amount, o.price) for o in placed] == [
            (order.client_order_id, D("0.02000000"), price)
        ]
        assert sim.requests[BUY_PATH] == 1

        # a synthetic taker sells 0.005 into it: the pane learns it from the private stream
        sim.exchange.synthetic_take("btcusd", "~taker", Side.SELL, D("0.005"), price)
        await until(
            pilot,
            lambda: bool(rows(app)) and rows(app)[0].filled == D("0.005"),
            "the partial fill",
        )
        assert rows(app)[0].state is TrackState.PARTIALLY_FILLED

        await pilot.press("o", "c")
        await until(pilot, lambda: rows(app) == [], "the cancel")
        assert sim_orders(sim) == []
        assert real(app).trading is not None
        final = real(app).trading.tracker.orders[order.client_order_id]
        assert (final.state, final.filled) == (TrackState.CANCELLED, D("0.005"))
        await pilot.press("q")


async def test_amend_and_cancel_all(sim: SimServer, venue: Venue, tmp_path: Path) -> None:
    app = build_app(VenueServices(venue, journal_path=tmp_path / "journal.sqlite3"))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: ready(app), "trading to be ready")
        trading = real(app).trading
        assert trading is not None
        btc_bid = sim.exchange.engines["btcusd"].best_bid()
        eth_bid = sim.exchange.engines["ethusd"].best_bid()
        assert btc_bid is not None
        assert eth_bid is not None
        low, eth_low = btc_bid - 100, eth_bid - 10
        for market, price in (("ethusd", eth_low), ("btcusd", low), ("btcusd", low - 1)):
            amount = D("0.01") if market == "btcusd" else D("0.2")
            request = OrderRequest(market, Side.BUY, OrderKind.LIMIT, amount, price)
            await trading.submit(request)
        await until(pilot, lambda: len(rows(app)) == 3, "three open orders")

        await pilot.press("o")
        amended = app.query_one(OpenOrdersView).selected  # newest first: BTC/USD at low - 1
        assert amended is not None
        assert (amended.market, amended.price) == ("btcusd", low - 1)
        await pilot.press("a")
        screen = ticket(app)
        assert screen.query_one("#amount", Input).value == f"{amended.remaining:.8f}"
        await pilot.press("tab")
        new_price = amended.price - 5 if amended.price else None
        assert new_price is not None
        await type_text(pilot, f"{new_price:.2f}")
        await pilot.press("enter", "enter")  # review, then send from the confirm step
        await until(
            pilot,
            lambda: any(o.price == new_price for o in sim_orders(sim)),
            "the amended order at the exchange",
        )
        assert len(sim_orders(sim)) == 3
        old = trading.tracker.orders[amended.client_order_id]
        assert old.state is TrackState.CANCELLED

        await until(pilot, lambda: len(rows(app)) == 3, "the amended order listed")
        await pilot.press("k")
        assert isinstance(app.screen, AskScreen)
        await pilot.press("y")  # this pair only
        await until(pilot, lambda: len(sim_orders(sim)) == 1, "BTC/USD orders cancelled")
        assert sim_orders(sim)[0].price == eth_low
        await until(pilot, lambda: len(rows(app)) == 1, "one order left on screen")
        await pilot.press("k", "a")  # every pair
        await until(pilot, lambda: sim_orders(sim) == [], "every order cancelled")
        await until(pilot, lambda: rows(app) == [], "no order left on screen")
        await pilot.press("q")


async def test_ticket_from_the_book_cursor_joins_that_level(
    sim: SimServer, venue: Venue, tmp_path: Path
) -> None:
    app = build_app(VenueServices(venue, journal_path=tmp_path / "journal.sqlite3"))
    engine = sim.exchange.engines["btcusd"]
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: ready(app), "trading to be ready")
        await pilot.pause(0.2)
        await pilot.press("down", "down", "enter")  # the third bid level
        screen = ticket(app)
        third_bid = engine.levels(Side.BUY, 3)[2][0]
        assert screen.side is Side.BUY
        assert screen.query_one("#price", Input).value == f"{third_bid:.2f}"
        await pilot.press("escape")
        await pilot.press("up", "up", "up", "enter")  # the best ask: a sell joining it
        screen = ticket(app)
        assert screen.side is Side.SELL
        assert screen.query_one("#price", Input).value == f"{engine.best_ask():.2f}"
        await pilot.press("escape")
        await pilot.press("l")  # lift the offer: a buy at the best ask
        screen = ticket(app)
        assert (screen.side, screen.query_one("#price", Input).value) == (
            Side.BUY,
            f"{engine.best_ask():.2f}",
        )
        await pilot.press("escape")
        assert not isinstance(app.screen, TicketScreen)
        await pilot.press("q")


async def test_instant_buy_sized_in_usd(sim: SimServer, venue: Venue, tmp_path: Path) -> None:
    app = build_app(VenueServices(venue, journal_path=tmp_path / "journal.sqlite3"))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: ready(app), "trading to be ready")
        usd_before = real(app).trading.balances["USD"].available if real(app).trading else None
        await pilot.press("b", "tab", "tab")  # amount -> price -> kind
        screen = ticket(app)
        await pilot.press("right", "right")  # limit -> market -> instant (USD)
        assert screen.kind is OrderKind.INSTANT
        assert str(screen.query_one("#amount-label").render()) == "Amount USD"
        assert not screen.query_one("#price-row").display
        await pilot.press("shift+tab")
        await type_text(pilot, "100")
        await until(pilot, lambda: "Avg price" in text_of(screen, "#ticket-preview"), "preview")
        preview = text_of(screen, "#ticket-preview")
        await pilot.press("enter", "y")
        trading = real(app).trading
        assert trading is not None
        await until(
            pilot,
            lambda: any(o.state is TrackState.FILLED for o in trading.tracker.orders.values()),
            "the instant buy to fill",
        )
        (order,) = trading.tracker.orders.values()
        assert (order.kind, order.amount) == ("instant", D("100"))
        await until(
            pilot,
            lambda: trading.balances["USD"].available < (usd_before or 0) - 99,
            "the USD balance to drop",
        )
        spent = (usd_before or 0) - trading.balances["USD"].available
        assert f"Total     {spent:.5f} USD" in preview  # the preview said what it would cost
        await pilot.press("q")


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("abc", "amount is not a number"),
        ("NaN", "amount must be a number, not 'NaN'"),
        ("-1", "amount cannot be negative"),
        ("0", "amount must be greater than zero"),
        ("99999999", "not enough USD"),
        ("0.000463001", "0.000463001 -> 0.00046300"),
        ("\u0663", "amount must use the digits 0-9 only"),
        (" 0.01", "amount has spaces around it"),
    ],
)
async def test_invalid_amounts_are_explained_and_nothing_is_sent(
    sim: SimServer, venue: Venue, tmp_path: Path, typed: str, shown: str
) -> None:
    app = build_app(VenueServices(venue, journal_path=tmp_path / "journal.sqlite3"))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: ready(app), "trading to be ready")
        await pilot.press("b")
        screen = ticket(app)
        screen.query_one("#amount", Input).insert_text_at_cursor(typed)  # as if pasted
        await until(pilot, lambda: shown in text_of(screen, "#ticket-problems"), shown)
        await pilot.press("enter")
        assert not screen.confirming
        await pilot.press("enter", "y")
        assert app.screen is screen  # still editing: nothing to confirm
        await pilot.press("escape")
        assert not isinstance(app.screen, TicketScreen)
        assert sim.requests.get(BUY_PATH, 0) == 0
        assert sim_orders(sim) == []
        assert real(app).trading is not None
        assert real(app).trading.tracker.orders == {}
        await pilot.press("q")


async def test_market_buy_costs_what_the_preview_said(
    sim: SimServer, venue: Venue, tmp_path: Path
) -> None:
    """On a still book the preview's fee and total are what the exchange books, to the last
    decimal, and its average price is the fills' average (deeper than the default guards
    allow, so with guards out of the way)."""
    services = VenueServices(venue, journal_path=tmp_path / "journal.sqlite3", guards=ROOMY_GUARDS)
    app = build_app(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: ready(app), "trading to be ready")
        await pilot.press("b", "tab", "tab", "right", "shift+tab")  # a market buy
        screen = ticket(app)
        assert screen.kind is OrderKind.MARKET
        await type_text(pilot, "0.3")  # several levels deep
        await until(pilot, lambda: "Avg price" in text_of(screen, "#ticket-preview"), "preview")
        await pilot.press("enter")
        # the confirm step walks the order-by-order book: fees are charged per maker order
        await until(pilot, lambda: screen.exact, "the exact preview")
        assert "order-by-order" in text_of(screen, "#ticket-hint")
        await pilot.press("y")
        trading = real(app).trading
        assert trading is not None
        await until(
            pilot,
            lambda: any(o.state is TrackState.FILLED for o in trading.tracker.orders.values()),
            "the market buy to fill",
        )
        (order,) = trading.tracker.orders.values()
        assert real(app).journal is not None
        events = real(app).journal.events(order.client_order_id)
        preview = next(e for e in events if e.kind == "intent").detail["preview"]
        fills = [e.detail for e in events if e.kind == "fill"]
        assert len(fills) >= 2
        base = sum(D(f["base_amount"]) for f in fills)
        quote = sum(D(f["quote_amount"]) for f in fills)
        fee = sum(D(f["fee"]) for f in fills)
        assert base == D("0.3")
        assert D(preview["filled_amount"]) == base
        assert D(preview["fee"]) == fee
        assert D(preview["total"]) == quote + fee
        assert round(D(preview["avg_price"]), 2) == round(quote / base, 2)
        await pilot.press("q")


async def test_a_restart_shows_the_same_orders_and_fills(
    sim: SimServer, venue: Venue, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.sqlite3"
    app = build_app(VenueServices(venue, journal_path=journal))
    engine = sim.exchange.engines["btcusd"]
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: ready(app), "trading to be ready")
        trading = real(app).trading
        assert trading is not None
        best_bid = engine.best_bid()
        assert best_bid is not None
        price = best_bid + D("0.01")
        resting = await trading.submit(
            OrderRequest("btcusd", Side.BUY, OrderKind.LIMIT, D("0.03"), price)
        )
        sim.exchange.synthetic_take("btcusd", "~taker", Side.SELL, D("0.01"), price)
        await until(pilot, lambda: bool(rows(app)) and rows(app)[0].filled == D("0.01"), "fill")
        before = rows(app)
        await pilot.press("q")
    # the exchange moves on while the app is down: another fill
    sim.exchange.synthetic_take("btcusd", "~taker", Side.SELL, D("0.005"), price)

    again = build_app(VenueServices(venue, journal_path=journal))
    async with again.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: ready(again), "trading to be ready again")
        # The pane first shows what the journal remembered, then the reconciled order (its
        # OrderChanged reaches the pane as a message, after the tracker itself is ready).
        await until(
            pilot,
            lambda: len(rows(again)) == 1 and rows(again)[0].filled == D("0.015"),
            "the order listed again with the fill made while the app was down",
        )
        (order,) = rows(again)
        assert order.client_order_id == resting.client_order_id == before[0].client_order_id
        assert (order.filled, order.remaining) == (D("0.015"), D("0.015"))
        assert order.state is TrackState.PARTIALLY_FILLED
        assert real(again).journal is not None
        fills = [e for e in real(again).journal.events(order.client_order_id) if e.kind == "fill"]
        assert sorted(D(f.detail["base_amount"]) for f in fills) == [D("0.005"), D("0.01")]
        await pilot.press("q")
