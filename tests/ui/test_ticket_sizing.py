"""``max`` through the ticket, as a trader types it, against a still simulator: market and
instant buys and sells of the whole balance are accepted by the exchange and spend it.

Before, a market buy of ``max`` was refused by the ticket itself ("not enough USD: the order
needs 100420.33, 100000.00 available"): it was sized at the best ask and held what the walk
through deeper levels cost."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from textual.pilot import Pilot

from workstation.domain.order_vocabulary import OrderKind, TrackState
from workstation.services.facade import VenueServices
from workstation.services.venue import Venue
from workstation.sim.server import SimServer
from workstation.ui.app import WorkstationApp, build_app

from .harness import ROOMY_GUARDS, real, until
from .test_trading import ready, text_of, ticket, type_text

D = Decimal


async def _send_max(app: WorkstationApp, pilot: Pilot, side: str, kind_steps: int) -> None:
    """A ticket of ``side``, the kind ``kind_steps`` to the right of limit, amount ``max``."""
    await pilot.press(side[0], "tab", "tab", *["right"] * kind_steps, "shift+tab")
    screen = ticket(app)
    await type_text(pilot, "max")
    await until(
        pilot,
        lambda: screen.check is not None and screen.check.request is not None,
        f"a {side} order of max ({text_of(screen, '#ticket-problems')})",
    )
    assert "\u2716" not in text_of(screen, "#ticket-problems")
    await pilot.press("enter")
    assert screen.confirming
    await pilot.press("y")
    assert len(app.screen_stack) == 1


async def test_max_market_and_instant_buys_and_sells_are_accepted(
    sim: SimServer, venue: Venue, tmp_path: Path
) -> None:
    app = build_app(
        VenueServices(venue, journal_path=tmp_path / "journal.sqlite3", guards=ROOMY_GUARDS)
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: ready(app), "trading to be ready")
        trading = real(app).trading
        assert trading is not None
        await until(pilot, lambda: "BTC" in trading.balances, "the BTC balance")

        def available(currency: str) -> Decimal:
            return trading.balances[currency].available

        steps = [
            ("buy", 1, OrderKind.MARKET, "USD"),
            ("sell", 1, OrderKind.MARKET, "BTC"),
            ("buy", 2, OrderKind.INSTANT, "USD"),
            ("sell", 2, OrderKind.INSTANT, "BTC"),
        ]
        for number, (side, kind_steps, kind, spent) in enumerate(steps, 1):
            before = available(spent)
            await _send_max(app, pilot, side, kind_steps)
            await until(pilot, lambda n=number: len(trading.tracker.orders) == n, "the order")
            order = list(trading.tracker.orders.values())[-1]
            assert (order.side.value, order.kind) == (side, kind.value)
            await until(
                pilot,
                lambda o=order.client_order_id: trading.tracker.orders[o].state.is_final,
                f"the {side} {kind.value} order to finish",
            )
            final = trading.tracker.orders[order.client_order_id]
            assert final.state is TrackState.FILLED, (final.state, final.reason)
            # all of it was spent: what is left is less than one step of the order
            dust = D("0.05") if spent == "USD" else D("0.00000001")
            await until(pilot, lambda c=spent, d=dust: available(c) < d, f"{spent} spent")
            assert before > 1
        assert sim.exchange.open_orders("demo", None) == []
        await pilot.press("q")
