"""The open orders pane shows every open order of the account: one placed elsewhere (here a
second, separately signed REST client straight to the simulator) is listed and marked
``ext``. A cancel that fails says so on screen, with the reason and the order's state."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from workstation.bitstamp.auth import Credentials
from workstation.bitstamp.rest import RestClient
from workstation.bitstamp.secret import Secret
from workstation.domain.common import Side
from workstation.domain.order_request import OrderRequest
from workstation.domain.order_vocabulary import OrderKind
from workstation.services.facade import VenueServices
from workstation.services.venue import Venue
from workstation.sim.faults import HttpFault, HttpFaultKind
from workstation.sim.server import SimServer
from workstation.ui.app import WorkstationApp, build_app
from workstation.ui.panes.orders import OpenOrdersView

from .harness import real, until
from .test_trading import ready

D = Decimal


def client_ids(app: WorkstationApp) -> list[str]:
    view = app.query_one(OpenOrdersView)
    return [str(view.get_row_at(i)[-1]) for i in range(view.row_count)]


def notices(app: WorkstationApp) -> list[str]:
    return [str(n.message) for n in app._notifications]  # what is on screen


async def place_elsewhere(sim: SimServer, price: D) -> int:
    demo = sim.exchange.demo
    credentials = Credentials(
        key=Secret(demo.api_key), secret=Secret(demo.secret), env="sim", host=sim.host
    )
    async with RestClient.for_url(sim.rest_url, credentials=credentials, timeout_s=5.0) as web:
        body = await web.transport.post_private(
            "/api/v2/buy/btcusd/", {"amount": "0.01", "price": str(price)}, safe=False
        )
    return int(json.loads(body)["id"])


async def test_an_order_placed_elsewhere_is_listed_and_marked(
    sim: SimServer, venue: Venue, tmp_path: Path
) -> None:
    bid = sim.exchange.engines["btcusd"].best_bid()
    assert bid is not None
    await place_elsewhere(sim, bid - 100)  # before the app starts
    app = build_app(VenueServices(venue, journal_path=tmp_path / "journal.sqlite3"))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: ready(app), "trading to be ready")
        await until(pilot, lambda: len(client_ids(app)) == 1, "the order placed elsewhere")
        assert client_ids(app)[0].startswith("ext")
        await place_elsewhere(sim, bid - 200)  # while it runs
        await until(pilot, lambda: len(client_ids(app)) == 2, "the second one")
        assert all(cid.startswith("ext") for cid in client_ids(app))
        trading = real(app).trading
        assert trading is not None
        ours = await trading.submit(
            OrderRequest("btcusd", Side.BUY, OrderKind.LIMIT, D("0.01"), bid - 300)
        )
        await until(pilot, lambda: len(client_ids(app)) == 3, "ours too")
        assert client_ids(app)[0] == ours.client_order_id[:12]  # ours: no marker
        await pilot.press("q")


async def test_a_failed_cancel_is_shown_with_its_reason(
    sim: SimServer, venue: Venue, tmp_path: Path
) -> None:
    bid = sim.exchange.engines["btcusd"].best_bid()
    assert bid is not None
    app = build_app(VenueServices(venue, journal_path=tmp_path / "journal.sqlite3"))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: ready(app), "trading to be ready")
        trading = real(app).trading
        assert trading is not None
        await trading.submit(
            OrderRequest("btcusd", Side.BUY, OrderKind.LIMIT, D("0.01"), bid - 100)
        )
        await until(pilot, lambda: len(client_ids(app)) == 1, "the order listed")
        sim.faults.fail_next("/api/v2/cancel_order/", HttpFault(HttpFaultKind.SERVER_ERROR))
        await pilot.press("o", "c")
        await until(
            pilot, lambda: any("Cancel failed" in n for n in notices(app)), "the failure shown"
        )
        [text] = [n for n in notices(app) if "Cancel failed" in n]
        assert "still open" in text
        assert len(client_ids(app)) == 1
        assert len(sim.exchange.open_orders("demo", None)) == 1

        sim.faults.fail_next("/api/v2/cancel_all_orders/", HttpFault(HttpFaultKind.SERVER_ERROR))
        await pilot.press("k", "a")
        await until(pilot, lambda: any("Cancel all" in n for n in notices(app)), "the report")
        [text] = [n for n in notices(app) if "Cancel all" in n]
        assert "0 cancelled" in text
        assert "1 failed" in text
        await pilot.press("q")
