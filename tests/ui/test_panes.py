"""Each pane against the fake facade (domain values, no simulator): what the trader reads.

The real app runs on :class:`FakeServices`; each test asserts the text a pane draws. The
real-simulator tests (test_app.py, test_trading.py, ...) prove the wiring; these prove the
panes, each in well under a second.
"""

from __future__ import annotations

import io
from decimal import Decimal

import msgspec
import pytest
from rich.console import Console
from rich.text import Text
from textual.pilot import Pilot
from textual.strip import Strip
from textual.widgets import Input

from workstation.domain.common import Side
from workstation.domain.market_data import Trade
from workstation.domain.tracked_order import TrackedOrder
from workstation.services.events import TradingOpened, TradingUnavailable
from workstation.services.refusals import KILL_REASON, SubmitsBlocked
from workstation.services.views import HealthView, Latency, StreamState
from workstation.ui import desk as desk_module
from workstation.ui.app import WorkstationApp, build_app
from workstation.ui.options import AppOptions
from workstation.ui.panes.balances import BalancesView
from workstation.ui.panes.book import OrderBookView
from workstation.ui.panes.orders import OpenOrdersView
from workstation.ui.panes.status import StatusBar
from workstation.ui.panes.tape import TradesTapeView
from workstation.ui.screens.ticket import TicketScreen
from workstation.ui.theme import MONO_THEME

from .fake_services import FakeServices, balance, order, snapshot, trade
from .harness import until

D = Decimal
BOOK = snapshot(
    "btcusd",
    bids=[("60000.00", "0.5"), ("59999.00", "1.25"), ("59990.00", "2")],
    asks=[("60001.00", "0.75"), ("60005.00", "1"), ("60010.00", "3")],
)


def fake() -> FakeServices:
    services = FakeServices()
    services.add_pair(
        "btcusd",
        BOOK,
        trades=[
            trade(1, "60000.00", "0.01", Side.SELL),
            trade(2, "60001.00", "0.25", Side.BUY),
            trade(3, "60001.00", "0.02", Side.BUY),
        ],
    )
    services.taker_fees["btcusd"] = D("0.4")
    return services


def app_on(services: FakeServices) -> WorkstationApp:
    return build_app(services, AppOptions())


async def shown(pilot: Pilot) -> None:
    app = pilot.app
    assert isinstance(app, WorkstationApp)
    await until(pilot, lambda: app.current == "btcusd", "BTC/USD shown")
    await pilot.pause()


def lines(widget: OrderBookView | TradesTapeView) -> list[str]:
    return [widget.render_line(y).text.rstrip() for y in range(widget.size.height)]


async def test_the_book_pane_draws_the_ladder_the_spread_and_the_mid() -> None:
    app = app_on(fake())
    async with app.run_test(size=(120, 40)) as pilot:
        await shown(pilot)
        book = app.query_one(OrderBookView)
        drawn = lines(book)
        assert drawn[0].split() == ["Price", "Amount", "Total", "Value"]
        text = "\n".join(drawn)
        assert "spread 1.00 (0.17 bps)   mid 60000.50" in text
        bid_row = next(line for line in drawn if line.lstrip().startswith("60000.00"))
        assert bid_row.split()[:3] == ["60000.00", "0.50000000", "0.50000000"]
        deep_bid = next(line for line in drawn if line.lstrip().startswith("59999.00"))
        assert deep_bid.split()[:3] == ["59999.00", "1.25000000", "1.75000000"]  # from the touch
        assert book.border_title == "BTC/USD"
        assert "STALE" not in str(book.border_subtitle)


async def test_a_redraw_formats_only_the_lines_whose_figures_changed() -> None:
    """A deep level moved: its row is formatted again; the header, the spread line, the
    readout and the other levels are not (the figures they show did not change)."""
    services = fake()
    app = app_on(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await shown(pilot)
        book = app.query_one(OrderBookView)
        formatted: list[str] = []
        for name in ("_header", "_spread_line", "_readout", "_row"):
            real = getattr(book, name)

            def spy(*args: object, _real: object = real, _name: str = name) -> Strip:
                formatted.append(_name)
                return _real(*args)  # type: ignore[operator, no-any-return]

            setattr(book, name, spy)
        pair = services.pairs["btcusd"]

        def move(bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> None:
            moved = snapshot("btcusd", bids=bids, asks=asks)
            pair.book.load(moved.bids, moved.asks, moved.timestamp_us)
            pair.version += 1
            book.poll()

        bids = [("60000.00", "0.5"), ("59999.00", "1.25"), ("59990.00", "1")]  # was 2
        move(bids, [("60001.00", "0.75"), ("60005.00", "1"), ("60010.00", "3")])
        assert formatted == ["_row"]
        deep_bid = next(line for line in lines(book) if line.lstrip().startswith("59990.00"))
        assert deep_bid.split()[:3] == ["59990.00", "1.00000000", "2.75000000"]

        formatted.clear()  # the touch moves: the spread line and the readout follow it
        move([("60000.50", "0.5"), *bids[1:]], [("60001.00", "0.75")])
        assert {"_spread_line", "_readout"} <= set(formatted)
        assert "_header" not in formatted
        text = "\n".join(lines(book))
        assert "spread 0.50 (0.08 bps)   mid 60000.75" in text
        assert lines(book)[-1].startswith(" bid 60000.50")


async def test_a_theme_change_repaints_the_book_in_the_new_styles() -> None:
    """The pane keeps its row styles between redraws: a new theme must not keep the old."""
    app = app_on(fake())
    async with app.run_test(size=(120, 40)) as pilot:
        await shown(pilot)
        book = app.query_one(OrderBookView)

        def styles() -> list[object]:
            drawn = [book.render_line(y) for y in range(book.size.height)]
            row = next(strip for strip in drawn if strip.text.lstrip().startswith("59999.00"))
            spread = next(strip for strip in drawn if "spread" in strip.text)
            return [s.style for s in [*row, *spread]]

        before = styles()
        await pilot.press("m")  # the monochrome theme
        await until(pilot, lambda: app.theme == MONO_THEME, "the monochrome theme")
        await pilot.pause()
        book.poll()
        assert styles() != before


async def test_a_stale_book_says_so_in_the_pane() -> None:
    services = fake()
    services.pairs["btcusd"].stale_reason = "resyncing: crossed book"
    app = app_on(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await shown(pilot)
        book = app.query_one(OrderBookView)
        assert "STALE" in str(book.border_subtitle)
        assert any(line.endswith("STALE") for line in lines(book) if "spread" in line)
        app.query_one(StatusBar).redraw()  # it redraws 4 times a second: now
        bar = str(app.query_one(StatusBar).render())
        assert "BTC/USD STALE  resyncing: crossed book" in bar


async def test_the_tape_pane_lists_the_newest_trade_first() -> None:
    app = app_on(fake())
    async with app.run_test(size=(120, 40)) as pilot:
        await shown(pilot)
        tape = app.query_one(TradesTapeView)
        drawn = lines(tape)
        assert drawn[0].split() == ["Time", "UTC", "Price", "Amount"]
        assert drawn[1].split() == ["20:26:43", "60001.00", "0.02000000"]
        assert drawn[3].split() == ["20:26:41", "60000.00", "0.01000000"]
        assert tape.border_title == "Trades BTC/USD"


async def test_a_new_trade_moves_the_tape_down_and_only_it_is_formatted() -> None:
    """Under a busy tape every redraw moves every row; each trade's line is formatted once."""
    services = fake()
    app = app_on(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await shown(pilot)
        tape = app.query_one(TradesTapeView)
        formatted: list[int] = []
        real_format = tape._format_trade

        def spy(trade: Trade, width: int) -> Strip:
            formatted.append(trade.id)
            return real_format(trade, width)

        tape._format_trade = spy  # type: ignore[method-assign]
        services.pairs["btcusd"].tape.add(trade(4, "60002.00", "0.03", Side.SELL))
        tape.poll()
        drawn = lines(tape)
        assert [line.split()[1] for line in drawn[1:5]] == [
            "60002.00",
            "60001.00",
            "60001.00",
            "60000.00",
        ]
        assert formatted == [4]
        await pilot.pause()
        assert lines(tape) == drawn  # render_line hands back what the redraw drew
        assert formatted == [4]


async def test_a_new_trade_repaints_the_tape_lines_not_the_whole_pane(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Textual repaints a whole widget, border and all, whenever its border subtitle is set,
    even to the same text: the tape must set it only when it changes."""
    services = fake()
    app = app_on(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await shown(pilot)
        tape = app.query_one(TradesTapeView)
        refreshed: list[tuple[object, ...]] = []
        monkeypatch.setattr(tape, "refresh", lambda *regions, **_: refreshed.append(regions))
        services.pairs["btcusd"].tape.add(trade(4, "60002.00", "0.03", Side.SELL))
        tape.poll()
        assert refreshed
        assert all(regions for regions in refreshed)  # never the whole pane
        refreshed.clear()
        services.pairs["btcusd"].tape_stale = True  # the subtitle changes: the border repaints
        services.pairs["btcusd"].tape.add(trade(5, "60002.00", "0.04", Side.SELL))
        tape.poll()
        assert tape.border_subtitle == "STALE: trades missed, refilled from REST"
        assert () in refreshed


async def test_another_pairs_tape_is_drawn_though_its_trade_ids_are_the_same() -> None:
    services = fake()
    services.add_pair(
        "ethusd",
        snapshot("ethusd", bids=[("3000.00", "1")], asks=[("3001.00", "1")]),
        trades=[trade(n, "3000.50", "0.5", Side.BUY, symbol="ethusd") for n in (1, 2, 3)],
    )
    app = app_on(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await shown(pilot)
        tape = app.query_one(TradesTapeView)
        tape.show("ethusd", "ETH/USD")
        await pilot.pause()
        assert [line.split()[1] for line in lines(tape)[1:4]] == ["3000.50"] * 3


async def test_a_theme_change_repaints_the_tape_in_the_new_styles() -> None:
    app = app_on(fake())
    async with app.run_test(size=(120, 40)) as pilot:
        await shown(pilot)
        tape = app.query_one(TradesTapeView)
        before = [s.style for s in tape.render_line(1)]
        await pilot.press("m")  # the monochrome theme
        await until(pilot, lambda: app.theme == MONO_THEME, "the monochrome theme")
        await pilot.pause()
        assert "60001.00" in tape.render_line(1).text
        assert [s.style for s in tape.render_line(1)] != before


async def test_a_trade_drawn_large_is_drawn_plain_once_the_tape_no_longer_makes_it_large() -> None:
    """Large is ten times the tape's median: a trade's emphasis follows the tape, so a kept
    line must not keep an emphasis the tape no longer gives it."""
    services = fake()
    app = app_on(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await shown(pilot)
        tape = app.query_one(TradesTapeView)

        def emphasised(amount: str) -> bool:  # tape--large: bold reverse
            line = next(
                tape.render_line(y) for y in range(1, 40) if amount in tape.render_line(y).text
            )
            return all(bool(s.style and s.style.reverse) for s in line if s.text.strip())

        assert emphasised("0.25000000")  # the median is 0.02: large from 0.2
        tape_model = services.pairs["btcusd"].tape
        for n in range(4, 12):  # bigger trades lift the median to 1: large from 10
            tape_model.add(trade(n, "60000.00", "1", Side.SELL))
        tape.poll()
        assert not emphasised("0.25000000")


async def test_the_open_orders_pane_lists_our_orders() -> None:
    services = fake()
    services.orders = [
        order("a" * 32, Side.BUY, "0.25", "59950"),
        order("b" * 32, Side.SELL, "0.1", "60100"),
    ]
    app = app_on(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await shown(pilot)
        pane = app.query_one(OpenOrdersView)
        pane.clock = lambda: services.orders[0].created_at.timestamp() + 42  # type: ignore[union-attr]
        pane.show(pane.orders)
        cells = [[str(cell) for cell in pane.get_row_at(row)] for row in range(pane.row_count)]
        assert cells[0][:4] == ["BTC/USD", "BUY", "59950.00", "0.25000000"]
        assert cells[0][6:] == ["42s", "open", "aaaaaaaaaaaa"]
        assert cells[1][:3] == ["BTC/USD", "SELL", "60100.00"]
        assert pane.border_subtitle == "2 live"


async def test_the_balances_pane_values_what_is_held() -> None:
    services = fake()
    services.balances = {
        "USD": balance("USD", "10000", reserved="2500"),
        "BTC": balance("BTC", "0.5"),
        "XRP": balance("XRP", "100"),  # no price: no value, and the total says "at least"
    }
    services.prices = {"BTC": D("60000")}
    app = app_on(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await shown(pilot)
        pane = app.query_one(BalancesView)
        console = Console(file=io.StringIO(), width=pane.size.width, record=True)
        console.print(pane.content)
        rows = [line.split() for line in console.export_text().splitlines()]
        assert rows[0] == ["Cur", "Available", "Reserved", "Total", "Value"]
        assert rows[1] == ["USD", "7500.00", "2500.00", "10000.00", "10,000"]
        assert rows[2] == ["BTC", "0.50000000", "0.00000000", "0.50000000", "30,000"]
        assert rows[3] == ["XRP", "100.00000000", "0.00000000", "100.00000000", "-"]
        assert pane.border_subtitle == "\u2265 40,000.00 USD"


async def test_the_status_bar_reads_the_health_view() -> None:
    services = fake()
    services.health_view = msgspec.structs.replace(
        services.health_view,
        rate_limited=3,
        rest_market=Latency(0.012, 0.030),
        rest_trading=Latency(0.020, 0.045),
        gate_reason="reconciling 2 orders",
    )
    app = app_on(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await shown(pilot)
        bar = app.query_one(StatusBar)
        bar.now = lambda: 1.5  # the fake's last message came at 0.0
        bar.redraw()
        text = str(bar.render())
        assert text.startswith(" SIM   ws connected  BTC/USD live  429s 3 ORDERS RECONCILING ")
        assert "msg 1 s  REST p50/p95 market 12/30 ms orders 20/45 ms" in text
        services.health_view = msgspec.structs.replace(
            services.health_view, connection=StreamState.CONNECTING
        )
        bar.redraw()
        assert "ws connecting" in str(bar.render())
        services.health_view = msgspec.structs.replace(
            services.health_view, gate_reason=KILL_REASON
        )
        bar.redraw()
        assert " KILL SWITCH: NEW ORDERS REFUSED " in str(bar.render())
        assert "RECONCILING" not in str(bar.render())


async def test_the_status_bar_renders_and_repaints_only_a_line_that_changed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """It redraws 4 times a second, and its figures (whole seconds) rarely change."""
    services = fake()
    app = app_on(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await shown(pilot)
        bar = app.query_one(StatusBar)
        bar.now = lambda: 1.5
        bar.redraw()
        rendered: list[str] = []
        refreshed: list[object] = []
        real_render = Text.render

        def render(self: Text, *args: object, **kwargs: object) -> object:
            rendered.append(self.plain)
            return real_render(self, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(Text, "render", render)
        monkeypatch.setattr(bar, "refresh", lambda *regions, **_: refreshed.extend(regions))
        bar.redraw()
        assert rendered == []
        assert refreshed == []
        bar.now = lambda: 2.5
        bar.redraw()
        assert [line for line in rendered if "msg 2 s" in line] == rendered
        assert len(rendered) == 1
        assert [region.width for region in refreshed] == [1]  # type: ignore[attr-defined]


async def test_the_status_bar_marks_keys_from_the_environment() -> None:
    services = fake()
    services.health_view = msgspec.structs.replace(services.health_view, env="live")
    app = app_on(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await shown(pilot)
        bar = app.query_one(StatusBar)
        assert "keys from environment" not in str(bar.render())
        services.health_view = msgspec.structs.replace(
            services.health_view, keys_from_environment=True
        )
        bar.redraw()
        assert str(bar.render()).startswith(" LIVE   keys from environment  ws connected")


async def test_the_ticket_joins_the_touch_and_sends_what_was_confirmed() -> None:
    services = fake()
    services.balances = {"USD": balance("USD", "100000"), "BTC": balance("BTC", "1")}
    app = app_on(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await shown(pilot)
        await pilot.press("b")
        screen = app.screen
        assert isinstance(screen, TicketScreen)
        assert screen.query_one("#price", Input).value == "60000.00"  # our side's touch
        screen.query_one("#amount", Input).value = "0.1"  # typing is test_ticket_input's
        await pilot.press("enter")
        assert screen.confirming
        await pilot.press("y")
        await until(pilot, lambda: len(services.calls) > 2, "the order sent")
        (name, request), *_ = [c for c in services.calls if c[0] == "submit"]
        assert (request.side, request.amount, request.price) == (Side.BUY, D("0.1"), D(60000))
        await until(pilot, lambda: len(app.query_one(OpenOrdersView).orders) == 1, "the order")


@pytest.mark.parametrize(
    ("reason", "notice"),
    [
        ("reconciling 1 order", "Not sent: new orders wait (reconciling 1 order)"),
        (KILL_REASON, f"Not sent: {KILL_REASON}"),  # refused, not waiting
    ],
    ids=["reconciling", "kill-switch"],
)
async def test_a_refused_send_is_told_once_with_its_reason(reason: str, notice: str) -> None:
    services = fake()
    services.balances = {"USD": balance("USD", "100000"), "BTC": balance("BTC", "1")}

    async def blocked(*_: object, **__: object) -> TrackedOrder:
        raise SubmitsBlocked(reason)

    services.submit = blocked  # type: ignore[method-assign]
    app = app_on(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await shown(pilot)
        await pilot.press("b")
        app.screen.query_one("#amount", Input).value = "0.1"
        await pilot.press("enter", "y")
        told = lambda: [n.message for n in app._notifications]  # noqa: E731
        await until(pilot, lambda: bool(told()), "the notice")
        assert told() == [notice]


def trading_starting(services: FakeServices) -> HealthView:
    """Make ``services`` say trading is still opening; returns the view of it open."""
    open_view = services.health_view
    services.health_view = msgspec.structs.replace(
        open_view, trading=False, private_connected=False, trading_starting=True
    )
    return open_view


async def test_a_ticket_asked_for_while_trading_starts_opens_once_it_has() -> None:
    """A start draws the book before trading opens (it reads the account after the book):
    a "b" pressed in between is not answered "unavailable"; the ticket opens when trading
    does. Trading that fails instead drops the wait."""
    services = fake()
    services.balances = {"USD": balance("USD", "100000"), "BTC": balance("BTC", "1")}
    open_view = trading_starting(services)
    app = app_on(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await shown(pilot)
        await pilot.press("b")
        await pilot.pause()
        assert not isinstance(app.screen, TicketScreen)
        assert any("Trading is starting" in str(n.message) for n in app._notifications)
        assert not any("unavailable" in str(n.message) for n in app._notifications)
        services.health_view = open_view
        services.tell(TradingOpened())
        await until(pilot, lambda: isinstance(app.screen, TicketScreen), "the ticket")
        screen = app.screen
        assert isinstance(screen, TicketScreen)
        assert screen.query_one("#price", Input).value == "60000.00"  # as "b" asked


@pytest.mark.parametrize("then", ["unavailable", "too late"])
async def test_a_ticket_waiting_for_trading_is_dropped_when_it_fails_or_comes_late(
    then: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = fake()
    open_view = trading_starting(services)
    app = app_on(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await shown(pilot)
        await pilot.press("b")
        await pilot.pause()
        if then == "unavailable":
            services.tell(TradingUnavailable("the account could not be read"))
        else:
            monkeypatch.setattr(desk_module, "TICKET_WAITS_S", 0.0)
        await pilot.pause()
        services.health_view = open_view
        services.tell(TradingOpened())
        await pilot.pause(0.3)
        assert not isinstance(app.screen, TicketScreen)
