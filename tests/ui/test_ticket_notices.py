"""What the trader is told when an order fills: the base amount that traded, the average
price and the fee, with their currencies, as the notification on screen reads.

Before, an instant buy of 5000 USD said "BUY 5000 BTC/USD: filled" (it bought 0.0746 BTC)."""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from textual.widgets._toast import Toast

from workstation.domain.common import Side
from workstation.domain.order_vocabulary import OrderKind, TrackState
from workstation.domain.tracked_order import TrackedOrder
from workstation.services.facade import VenueServices
from workstation.services.venue import Venue
from workstation.sim.catalog import DEFAULT_MARKETS
from workstation.sim.server import SimServer
from workstation.ui.app import WorkstationApp, build_app
from workstation.ui.desk import notice_text

from .harness import real, until
from .test_trading import ready, ticket, type_text

D = Decimal
MARKETS = {m.symbol: m for m in DEFAULT_MARKETS}


def toasts(app: WorkstationApp) -> list[str]:
    """The notifications on screen, as the trader reads them."""
    return [str(toast.render()) for toast in app.screen.query(Toast)]


async def test_an_instant_buy_in_usd_is_told_in_btc_with_its_price_and_fee(
    sim: SimServer, venue: Venue, tmp_path: Path
) -> None:
    app = build_app(VenueServices(venue, journal_path=tmp_path / "journal.sqlite3"))
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await until(pilot, lambda: ready(app), "trading to be ready")
        await pilot.press("b", "tab", "tab", "right", "right", "shift+tab")  # instant (USD)
        screen = ticket(app)
        assert screen.kind is OrderKind.INSTANT
        await type_text(pilot, "5000")
        await until(pilot, lambda: screen.check is not None and screen.check.request, "ready")
        await pilot.press("enter", "y")
        trading = real(app).trading
        assert trading is not None
        await until(
            pilot,
            lambda: any(o.state is TrackState.FILLED for o in trading.tracker.orders.values()),
            "the instant buy to fill",
        )
        (order,) = trading.tracker.orders.values()
        told = lambda: [t for t in toasts(app) if "filled" in t]  # noqa: E731
        await until(pilot, lambda: bool(told()), "the fill notice")
        (text,) = told()
        assert "5000" not in text  # the quote it was sized in is not what it bought
        assert order.avg_price is not None
        avg = f"{order.avg_price:.2f}"
        assert text == (
            f"BUY {order.filled.normalize():f} BTC on BTC/USD: filled at avg {avg} USD, "
            f"fee {order.fee:.5f} USD"
        )
        assert D("0.07") < order.filled < D("0.08")  # about 5000 / 67000 less the fee
        assert re.search(r"fee \d+\.\d{5} USD$", text)
        await pilot.press("q")


def _order(**changes: object) -> TrackedOrder:
    base = TrackedOrder(
        "c1", "sim", "btcusd", Side.BUY, "instant", D(5000), None, TrackState.FILLED
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_notices_before_and_without_a_complete_fill_name_their_units() -> None:
    market = MARKETS["btcusd"]
    rejected = _order(state=TrackState.REJECTED, amount_in_quote=True, reason="not enough USD")
    assert notice_text(rejected, market, "rejected") == (
        "BUY 5000 USD on BTC/USD: rejected (not enough USD)"
    )
    expired = _order(
        kind="limit",
        side=Side.SELL,
        amount=D("0.05"),
        price=D(67000),
        state=TrackState.EXPIRED,
        filled=D("0.01"),
        filled_quote=D("670.00000"),
        fee=D("2.68000"),
    )
    assert notice_text(expired, market, "expired") == (
        "SELL 0.05 BTC on BTC/USD: expired; 0.01 BTC filled at avg 67000.00 USD, fee 2.68000 USD"
    )
    never_left = _order(
        state=TrackState.REJECTED, amount_in_quote=True, reason="not sent: cannot reach 10.0.0.1"
    )
    assert notice_text(never_left, market, "rejected") == (
        "BUY 5000 USD on BTC/USD: not sent: cannot reach 10.0.0.1"
    )
    unknown_pair = _order(market="zzzusd", state=TrackState.UNKNOWN)
    assert (
        notice_text(unknown_pair, None, "outcome unknown") == "BUY 5000 on zzzusd: outcome unknown"
    )
