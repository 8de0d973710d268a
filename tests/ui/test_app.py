"""The app as a user sees it, driven by Textual's Pilot against a simulator on loopback.

The simulator's market stands still here (speed 0), so what the screen shows can be checked
against the engine exactly.
"""

from __future__ import annotations

from decimal import Decimal

from textual.widgets import OptionList, Static

from workstation.bitstamp.secret import Secret
from workstation.domain.common import Side
from workstation.services.facade import VenueServices
from workstation.services.feed import FeedState
from workstation.services.venue import Venue
from workstation.sim.server import SimServer
from workstation.ui.app import WorkstationApp, build_app
from workstation.ui.panes.book import OrderBookView
from workstation.ui.panes.status import StatusBar
from workstation.ui.panes.tape import TradesTapeView
from workstation.ui.screens.help import HelpScreen
from workstation.ui.screens.pair_picker import PairPicker

from .harness import real, until


def line(widget: OrderBookView | TradesTapeView, y: int) -> str:
    return widget.render_line(y).text


def live(app: WorkstationApp, symbol: str) -> bool:
    feed = real(app).hub.feeds.get(symbol) if real(app).hub else None
    return feed is not None and feed.state is FeedState.LIVE and app.current == symbol


async def test_the_screen_shows_book_tape_and_status(sim: SimServer, venue: Venue) -> None:
    app = build_app(VenueServices(venue))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: live(app, "btcusd"), "BTC/USD to be live")
        book = app.query_one(OrderBookView)
        rows = (book.size.height - 3) // 2
        await until(
            pilot,
            lambda: "spread" in line(book, rows + 1) and line(book, rows).strip() != "",
            "the ladder",
        )
        assert line(book, 0).split() == ["Price", "Amount", "Total", "Value"]
        engine = sim.exchange.engines["btcusd"]
        best_bid, best_ask = engine.best_bid(), engine.best_ask()
        assert line(book, rows).split()[0] == f"{best_ask}"  # best ask right above the spread
        assert line(book, rows + 2).split()[0] == f"{best_bid}"
        spread = best_ask - best_bid
        assert f"spread {spread}" in line(book, rows + 1)
        tape = app.query_one(TradesTapeView)
        await until(pilot, lambda: line(tape, 1).strip() != "", "the tape")
        newest = sim.exchange.transactions("btcusd", 3600)[0]
        assert f"{newest.price}" in line(tape, 1)
        bar = app.query_one(StatusBar)
        await until(pilot, lambda: "BTC/USD live" in str(bar.render()), "the status bar")
        status = str(bar.render())
        assert status.lstrip().startswith("SIM")
        assert "ws connected" in status
        assert "resyncs 0" in status
        await pilot.press("q")
    assert app.return_code == 0


async def test_cursor_grouping_help_and_pair_switch(sim: SimServer, venue: Venue) -> None:
    app = build_app(VenueServices(venue))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: live(app, "btcusd"), "BTC/USD to be live")
        book = app.query_one(OrderBookView)
        await pilot.pause(0.2)
        engine = sim.exchange.engines["btcusd"]
        bids = engine.levels(Side.BUY, 3)

        await pilot.press("down", "down")
        readout = line(book, book.size.height - 1)
        cum = sum(amount for _, amount in bids)
        assert readout.startswith(f" bid {bids[2][0]}")
        assert f"cum {cum:.8f} BTC" in readout
        await pilot.press("up", "up", "up")
        assert line(book, book.size.height - 1).startswith(f" ask {engine.best_ask()}")

        await pilot.press("plus", "plus", "plus")  # 1 -> 2 -> 5 -> 10 ticks
        await pilot.pause(0.1)
        assert book.group == 10
        assert "group 0.1" in str(book.border_subtitle)
        rows = (book.size.height - 3) // 2
        grouped_bid = Decimal(line(book, rows + 2).split()[0])
        assert grouped_bid == (engine.best_bid() * 10).to_integral_value("ROUND_FLOOR") / 10
        grouped_ask = Decimal(line(book, rows).split()[0])
        assert grouped_ask == (engine.best_ask() * 10).to_integral_value("ROUND_CEILING") / 10
        await pilot.press("minus", "minus", "minus")
        assert book.group == 1

        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)

        await pilot.press("p")
        assert isinstance(app.screen, PairPicker)
        await pilot.press("x", "enter")  # jump to XRP/EUR, then XRP/USD? the first x pair
        await until(pilot, lambda: app.current is not None and app.current.startswith("xrp"), "XRP")
        symbol = app.current
        assert symbol is not None
        await until(pilot, lambda: live(app, symbol), f"{symbol} to be live")
        assert app.watched == ["btcusd", symbol]
        assert book.border_title == app.services.markets[symbol].name
        await pilot.pause(0.2)
        assert line(book, rows + 2).split()[0] == f"{sim.exchange.engines[symbol].best_bid()}"
        await pilot.press("right_square_bracket")
        await until(pilot, lambda: app.current == "btcusd", "back to BTC/USD")
        await pilot.press("q")


async def test_an_unreachable_venue_is_said_on_screen() -> None:
    venue = Venue(
        "sandbox", "http://127.0.0.1:9", "ws://127.0.0.1:9/", Secret("k" * 32), Secret("s" * 32)
    )
    app = build_app(VenueServices(venue))
    async with app.run_test(size=(100, 24)) as pilot:
        bar = app.query_one(StatusBar)
        await until(pilot, lambda: "cannot reach 127.0.0.1:9 since" in str(bar.render()), "it")
        text = str(bar.render())
        assert text.lstrip().startswith("SANDBOX")
        assert "s" * 32 not in text
        await pilot.press("q")
    assert app.return_code == 0


async def test_the_pair_picker_jumps_by_the_letters_typed(sim: SimServer, venue: Venue) -> None:
    """Typed letters accumulate into a prefix of the pair's name ('/' optional); Backspace
    takes one back; after a pause the next letter starts a new prefix."""
    app = build_app(VenueServices(venue))
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: live(app, "btcusd"), "BTC/USD to be live")
        now = [0.0]

        async def open_picker() -> PairPicker:
            await pilot.press("p")
            picker = app.screen
            assert isinstance(picker, PairPicker)
            picker.clock = lambda: now[0]  # typing takes no time, however slow the machine
            return picker

        def highlighted() -> str | None:
            option_list = app.screen.query_one(OptionList)
            assert option_list.highlighted is not None
            return option_list.get_option_at_index(option_list.highlighted).id

        await open_picker()
        await pilot.press(*"xrp/usd")
        assert highlighted() == "xrpusd"
        await pilot.press("enter")
        await until(pilot, lambda: app.current == "xrpusd", "XRP/USD shown")

        picker = await open_picker()
        await pilot.press(*"ltc")
        assert highlighted() == "ltcusd"
        assert "ltc" in str(picker.query_one("#picker-title", Static).render())
        await pilot.press("backspace", "backspace", "i")  # "li"
        assert highlighted() == "linkusd"
        await pilot.press("backspace", "backspace", *"ethu")  # "ethu": '/' is optional
        assert highlighted() == "ethusd"
        now[0] += 5  # a pause: the next letter starts a new prefix
        await pilot.press("b", "t")
        assert highlighted() == "btceur"  # the first BT pair (they are listed by name)
        await pilot.press("c", "u")
        assert highlighted() == "btcusd"
        await pilot.press("z")  # no pair starts "btcuz": the highlight stays
        assert highlighted() == "btcusd"
        await pilot.press("escape")
        assert app.current == "xrpusd"
        await pilot.press("q")
