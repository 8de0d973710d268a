"""Issue 14: sandbox and live as a trader starts them, with simulators standing in for
Bitstamp's hosts (the environment table patched from inside the test, never an option).

- Without keys, ``--env live`` and ``--env sandbox`` watch the market: book, tape, ticker, a
  WATCH ONLY badge, a ticket that prices an order on the real book and says how to add keys
  where SEND would be; nothing is ever signed and no stream token is asked for (checked at
  the simulators: no ``X-Auth`` header, no POST, no private subscription).
- Sandbox without a WebSocket of its own reads market data from live and never sends live's
  stream a sandbox token; its own orders are followed over REST and show their true state.
"""

from __future__ import annotations

import argparse
import socket
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from keyring.backends import fail
from textual.pilot import Pilot
from textual.widgets import Input, Static

from workstation import cli_trading
from workstation.bitstamp.secret import Secret
from workstation.domain.common import Side
from workstation.domain.order_request import OrderRequest
from workstation.domain.order_vocabulary import OrderKind, TrackState
from workstation.services import venue as venues
from workstation.services.facade import VenueServices
from workstation.services.feed import FeedState
from workstation.services.venue import Hosts, bitstamp_venue
from workstation.sim.exchange import SimExchange
from workstation.sim.server import SimServer
from workstation.ui.app import WorkstationApp, build_app
from workstation.ui.panes.balances import BalancesView
from workstation.ui.panes.book import OrderBookView
from workstation.ui.panes.orders import OpenOrdersView
from workstation.ui.panes.status import StatusBar
from workstation.ui.panes.tape import TradesTapeView
from workstation.ui.screens.ticket import TicketScreen

from ..keyring_support import installed
from ..unit.cli_support import MemoryKeyring
from .harness import real, until

D = Decimal
TOKEN = "POST /api/v2/websockets_token/"


@pytest.fixture
async def other_sim() -> AsyncIterator[SimServer]:
    """A second exchange on another loopback port (sandbox, when ``sim`` stands in for live)."""
    async with SimServer(SimExchange(seed=12, speed=0, history_s=900)) as server:
        yield server


def point(monkeypatch: pytest.MonkeyPatch, env: str, server: SimServer, *, ws: bool) -> None:
    """Bitstamp's ``env`` answers at ``server`` (its WebSocket too when ``ws``)."""
    hosts = Hosts(server.rest_url, server.ws_url if ws else None)
    monkeypatch.setitem(venues.BITSTAMP_HOSTS, env, hosts)


def market_ready(app: WorkstationApp) -> bool:
    services = real(app)
    feed = services.hub.feeds.get("btcusd") if services.hub else None
    return bool(
        feed is not None
        and feed.state is FeedState.LIVE
        and len(feed.tape)
        and feed.ticker is not None
        and app.current == "btcusd"
    )


def line(widget: OrderBookView | TradesTapeView, y: int) -> str:
    return widget.render_line(y).text


def status(app: WorkstationApp) -> str:
    return str(app.query_one(StatusBar).render())


def notices(app: WorkstationApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def text_of(screen: TicketScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def posts(server: SimServer) -> list[str]:
    return [path for path in server.requests if path.startswith("POST ")]


async def type_text(pilot: Pilot, text: str) -> None:
    await pilot.press(*[c if c != "." else "full_stop" for c in text])


@pytest.mark.parametrize("env", ["live", "sandbox"])
async def test_without_keys_the_real_market_is_watched_and_nothing_is_signed(
    env: str,
    sim: SimServer,
    other_sim: SimServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    # ``sim`` stands in for live (REST and WebSocket); sandbox, with no WebSocket of its own,
    # answers at ``other_sim`` and shows live's market.
    point(monkeypatch, "live", sim, ws=True)
    point(monkeypatch, "sandbox", other_sim, ws=False)
    # How run_tui decides: live with no OS keyring at all, sandbox with nothing stored.
    backend = fail.Keyring() if env == "live" else MemoryKeyring()
    with installed(backend):
        venue = cli_trading._venue_for(argparse.Namespace(allow_plaintext_keyring=False), env, None)
    notice = capsys.readouterr().err
    assert f"WATCH ONLY on {env}" in notice
    assert f"`workstation keys set --env {env}`" in notice
    assert not venue.has_credentials

    journal = tmp_path / "journal.sqlite3"
    app = build_app(VenueServices(venue, journal_path=journal))
    engine = sim.exchange.engines["btcusd"]
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: market_ready(app), "the market to be live")
        assert real(app).trading is None

        # the badge
        await until(pilot, lambda: "BTC/USD live" in status(app), "the status bar")
        bar = status(app)
        assert bar.lstrip().startswith(f"{env.upper()}  WATCH ONLY")
        assert ("market data LIVE" in bar) is (env == "sandbox")

        # the book and tape are the exchange's (live's, for sandbox)
        book = app.query_one(OrderBookView)
        rows = (book.size.height - 3) // 2
        await until(pilot, lambda: "spread" in line(book, rows + 1), "the ladder")
        best_bid, best_ask = engine.best_bid(), engine.best_ask()
        assert best_bid is not None
        assert best_ask is not None
        assert line(book, rows).split()[0] == f"{best_ask}"
        assert line(book, rows + 2).split()[0] == f"{best_bid}"
        tape = app.query_one(TradesTapeView)
        await until(pilot, lambda: line(tape, 1).strip() != "", "the tape")
        newest = sim.exchange.transactions("btcusd", 3600)[0]
        assert f"{newest.price}" in line(tape, 1)

        # the account panes say keys are needed, instead of erroring
        orders = app.query_one(OpenOrdersView)
        assert str(orders.get_row_at(0)[0]) == (
            f"Open orders need API keys: add them with `workstation keys set --env {env}`"
        )
        balances = str(app.query_one(BalancesView).render())
        assert f"Balances need API keys: add them with `workstation keys set --env {env}`" in (
            " ".join(balances.split())
        )

        # a ticket, priced on the real book; where SEND would be, how to add keys
        await pilot.press("b")
        screen = app.screen
        assert isinstance(screen, TicketScreen)
        assert screen.query_one("#price", Input).value == f"{best_bid:.2f}"
        await type_text(pilot, "0.02")
        await until(
            pilot, lambda: "rests 0.02 BTC" in text_of(screen, "#ticket-preview"), "preview"
        )
        hint = text_of(screen, "#ticket-hint")
        assert "WATCH ONLY" in hint
        assert f"add them with `workstation keys set --env {env}`" in hint
        await pilot.press("enter")  # review: refused, nothing changes
        assert not screen.confirming
        assert any("nothing is sent without API keys" in n for n in notices(app))
        # a market order is walked on the book too
        await pilot.press("tab", "tab", "right")  # amount -> price -> kind: market
        await until(pilot, lambda: screen.kind is OrderKind.MARKET, "the market kind")
        await until(pilot, lambda: "Avg price" in text_of(screen, "#ticket-preview"), "the walk")
        assert f"{best_ask}" in text_of(screen, "#ticket-preview")
        await pilot.press("escape")
        assert not isinstance(app.screen, TicketScreen)

        # keys that would need keys say so and change nothing
        await pilot.press("o", "c", "a", "k")
        told = notices(app)
        for what in ("Cancel", "Amend", "Cancel all"):
            assert any(n.startswith(f"{what}: watch only, no API keys") for n in told), what
        assert not isinstance(app.screen, TicketScreen)
        await pilot.press("q")
    assert app.return_code == 0

    # nothing signed, no token, no private channel, no journal: at every simulator
    for server in (sim, other_sim):
        assert server.auth_claims == {}
        assert posts(server) == []
        assert server.hub.private_asked == 0
    assert not journal.exists()
    if env == "live":
        assert other_sim.requests == {}  # sandbox's host: never asked
    else:  # sandbox's own host gave its markets; the book and tape came from live
        assert not [path for path in other_sim.requests if "order_book" in path]
        assert "GET /" not in other_sim.requests  # no WebSocket opened on sandbox


async def test_sandbox_without_a_websocket_never_sends_live_a_token_and_follows_its_orders(
    sim: SimServer, other_sim: SimServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Before: sandbox's private stream was opened on live's WebSocket host with a token
    sandbox had issued. Now sandbox asks for no token, and its orders are followed by REST."""
    live, sandbox = sim, other_sim
    point(monkeypatch, "live", live, ws=True)
    point(monkeypatch, "sandbox", sandbox, ws=False)
    demo = sandbox.exchange.demo
    venue = bitstamp_venue("sandbox", Secret(demo.api_key), Secret(demo.secret))
    services = VenueServices(venue, journal_path=tmp_path / "journal.sqlite3")
    app = build_app(services)
    engine = sandbox.exchange.engines["btcusd"]

    def trading_ready() -> bool:
        trading = services.trading
        return bool(
            market_ready(app)
            and trading is not None
            and trading.submits_allowed
            and "USD" in trading.balances
        )

    def state_of(cid: str) -> TrackState | None:
        trading = services.trading
        order = trading.tracker.orders.get(cid) if trading else None
        return None if order is None else order.state

    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, trading_ready, "trading to be ready")
        await until(pilot, lambda: "orders by REST" in status(app), "the status bar")
        assert "market data LIVE" in status(app)
        assert "WATCH ONLY" not in status(app)

        best_bid = engine.best_bid()
        assert best_bid is not None
        price = best_bid + D("0.01")
        resting = await services.submit(
            OrderRequest("btcusd", Side.BUY, OrderKind.LIMIT, D("0.02"), price)
        )
        rows = lambda: app.query_one(OpenOrdersView).orders  # noqa: E731
        await until(pilot, lambda: [o.client_order_id for o in rows()] == [
            resting.client_order_id
        ], "the order in open orders")  # fmt: skip

        # a taker on sandbox fills part of it: no stream says so, the poll finds it
        sandbox.exchange.synthetic_take("btcusd", "~taker", Side.SELL, D("0.005"), price)
        await until(
            pilot,
            lambda: bool(rows()) and rows()[0].filled == D("0.005"),
            "the partial fill, by REST",
        )
        assert rows()[0].state is TrackState.PARTIALLY_FILLED

        # a second order filled whole, by a taker: FILLED with its fill
        filled = await services.submit(
            OrderRequest("btcusd", Side.BUY, OrderKind.LIMIT, D("0.01"), price + D("0.01"))
        )
        sandbox.exchange.synthetic_take("btcusd", "~taker", Side.SELL, D("0.01"), price + D("0.01"))
        await until(
            pilot, lambda: state_of(filled.client_order_id) is TrackState.FILLED, "the fill"
        )

        # cancelled from the pane: gone, and the exchange agrees
        await pilot.press("o", "c")
        await until(pilot, lambda: rows() == [], "the cancel")
        assert state_of(resting.client_order_id) is TrackState.CANCELLED
        assert sandbox.exchange.open_orders("demo", None) == []
        await pilot.press("q")

    # live's stream never saw a private subscription, a token or a signed request
    assert live.hub.private_asked == 0
    assert live.auth_claims == {}
    assert posts(live) == []
    # sandbox issued no stream token, and no WebSocket was opened on it
    assert sandbox.requests[TOKEN] == 0
    assert "GET /" not in sandbox.requests
    assert sandbox.requests["POST /api/v2/order_status/"] > 0


async def test_a_sandbox_websocket_given_carries_its_private_stream(
    sim: SimServer, other_sim: SimServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """With ``--sandbox-ws-url``, sandbox is one exchange: market data and the private
    stream from sandbox's own hosts; live is not contacted at all."""
    live, sandbox = sim, other_sim
    point(monkeypatch, "live", live, ws=True)
    point(monkeypatch, "sandbox", sandbox, ws=False)
    demo = sandbox.exchange.demo
    venue = bitstamp_venue(
        "sandbox", Secret(demo.api_key), Secret(demo.secret), sandbox_ws_url=sandbox.ws_url
    )
    services = VenueServices(venue, journal_path=tmp_path / "journal.sqlite3")
    try:
        await services.open(["btcusd"])
        trading = services.trading
        assert trading is not None
        assert not trading.orders_polled
        assert services.health().market_from == ""
    finally:
        await services.close()
    assert sandbox.requests[TOKEN] >= 1
    assert sandbox.hub.private_asked >= 2  # orders and trades of btcusd
    assert live.requests == {}


async def test_sandbox_names_lives_host_when_its_market_data_cannot_be_reached(
    other_sim: SimServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sandbox answers, live (where its market data comes from) does not: the status bar
    names live's host, not sandbox's."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    down = f"127.0.0.1:{port}"
    monkeypatch.setitem(venues.BITSTAMP_HOSTS, "live", Hosts(f"http://{down}", f"ws://{down}/"))
    point(monkeypatch, "sandbox", other_sim, ws=False)
    app = build_app(VenueServices(bitstamp_venue("sandbox")))
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: f"cannot reach {down} since" in status(app), "live's host")
        assert real(app).markets  # sandbox's markets came
        await pilot.press("q")


async def test_the_services_refuse_what_needs_keys_and_say_how_to_add_them() -> None:
    """Behind the UI's own refusals: the facade of a keyless venue refuses every command
    that would sign, before any network, naming the command that adds keys."""
    services = VenueServices(bitstamp_venue("live"))
    health = services.health()
    assert (health.watch_only, health.add_keys) == (True, "`workstation keys set --env live`")
    request = OrderRequest("btcusd", Side.BUY, OrderKind.LIMIT, D("0.01"), D("50000"))
    for command in (
        services.submit(request),
        services.cancel("abc"),
        services.amend("abc", price=D("1"), amount=None),
        services.cancel_all(None),
        services.kill(),
    ):
        with pytest.raises(RuntimeError, match=r"watch only: no API keys; add them with `work"):
            await command
    assert services.account("USD") is None
