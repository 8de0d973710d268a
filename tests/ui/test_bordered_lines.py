"""The book's and the tape's lines are bordered once per line drawn, and drawn as Textual draws.

``BorderedLines`` replaces Textual's ``StylesCache`` for the two market panes: the lines
between the side borders are put together once, and a line the pane hands back unchanged (a
trade that moved down a line) gets back the same ``Strip``, with what Textual keeps on it (its
filtered copy, its cuts). What is drawn must be Textual's to the cell, in every state that
changes the border: focus, a stale book, a theme, a resize.
"""

from __future__ import annotations

import asyncio

from rich.segment import Segment
from rich.style import Style as RichStyle
from textual._styles_cache import StylesCache
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.pilot import Pilot
from textual.strip import Strip
from textual.widget import Widget

from workstation.domain.common import Side
from workstation.ui.app import WorkstationApp, build_app
from workstation.ui.bordered_lines import BorderedLines
from workstation.ui.options import AppOptions
from workstation.ui.pace import MOVE_HZ
from workstation.ui.panes.book import OrderBookView
from workstation.ui.panes.tape import TradesTapeView

from .fake_services import FakeServices, snapshot, trade
from .harness import until

BIDS = [(f"{60000 - i}.00", f"0.{i + 1}") for i in range(30)]
ASKS = [(f"{60001 + i}.00", f"0.{i + 1}") for i in range(30)]


def fake() -> FakeServices:
    services = FakeServices()
    services.add_pair(
        "btcusd",
        snapshot("btcusd", bids=BIDS, asks=ASKS),
        trades=[trade(n, f"60000.{n:02d}", "0.01", Side.SELL) for n in range(1, 40)],
    )
    return services


def whole(widget: Widget) -> list[Strip]:
    """Every line of ``widget`` as the screen gets it, border included."""
    return widget.render_lines(Region(0, 0, *widget.outer_size))


def as_textual_draws(widget: Widget) -> list[Strip]:
    """The same lines drawn by Textual's own ``StylesCache``, filters applied as it does."""
    strips = StylesCache().render_widget(widget, Region(0, 0, *widget.outer_size))
    _, background = widget.background_colors
    for line_filter in widget.get_line_filters():
        strips = [strip.apply_filter(line_filter, background) for strip in strips]
    return strips


def assert_drawn_as_textual_draws(*widgets: Widget) -> None:
    for widget in widgets:
        ours, textuals = whole(widget), as_textual_draws(widget)
        assert len(ours) == len(textuals)
        for y, (mine, theirs) in enumerate(zip(ours, textuals, strict=True)):
            assert list(mine) == list(theirs), f"{type(widget).__name__} line {y}"


async def shown(app: WorkstationApp, pilot: Pilot[None]) -> tuple[OrderBookView, TradesTapeView]:
    await until(pilot, lambda: app.current == "btcusd", "BTC/USD shown")
    book, tape = app.query_one(OrderBookView), app.query_one(TradesTapeView)
    await until(pilot, lambda: "60000.39" in whole(tape)[2].text, "the tape drawn")
    return book, tape


async def test_a_trade_that_moves_down_a_line_keeps_its_drawn_line() -> None:
    services = fake()
    app = build_app(services, AppOptions(refresh_hz=0.01))
    async with app.run_test(size=(120, 40)) as pilot:
        _, tape = await shown(app, pilot)
        before = whole(tape)
        rows = [y for y, strip in enumerate(before) if "60000." in strip.text]
        assert len(rows) > 10

        await asyncio.sleep(2 / MOVE_HZ)
        services.pairs["btcusd"].tape.merge([trade(40, "60000.40", "0.01", Side.BUY)])
        services.move("btcusd")
        await until(pilot, lambda: "60000.40" in whole(tape)[rows[0]].text, "the new trade")

        after = whole(tape)
        for y in rows[:-1]:
            assert after[y + 1].text == before[y].text  # the trade moved down a line ...
            assert after[y + 1] is before[y]  # ... and was not bordered and filtered again


async def test_the_panes_draw_what_textual_draws_in_every_state_of_their_border() -> None:
    services = fake()
    app = build_app(services, AppOptions(refresh_hz=0.01))
    async with app.run_test(size=(120, 40)) as pilot:
        book, tape = await shown(app, pilot)
        assert_drawn_as_textual_draws(book, tape)

        book.focus()  # the focused pane's border is brighter
        await pilot.pause()
        assert_drawn_as_textual_draws(book, tape)
        tape.focus()
        await pilot.pause()
        assert_drawn_as_textual_draws(book, tape)

        services.pairs["btcusd"].stale_reason = "no frame for 5 s"  # a stale book's border
        services.pairs["btcusd"].version += 1
        services.move("btcusd")
        await until(pilot, lambda: book.has_class("-stale"), "the book stale")
        await pilot.pause()
        assert_drawn_as_textual_draws(book, tape)

        await pilot.press("m")  # the monochrome theme
        await pilot.pause()
        assert_drawn_as_textual_draws(book, tape)

        await pilot.resize_terminal(90, 30)
        await pilot.pause()
        await pilot.pause()
        assert_drawn_as_textual_draws(book, tape)


class Constant(Widget):
    """A pane whose every line is one and the same ``Strip``, bordered by ``BorderedLines``."""

    DEFAULT_CSS = "Constant { border: round green; height: 6; }"
    LINE = Strip.blank(10)

    def __init__(self) -> None:
        super().__init__()
        self._styles_cache = BorderedLines()

    def render_line(self, y: int) -> Strip:
        return self.LINE


class OnePane(App[None]):
    def compose(self) -> ComposeResult:
        yield Constant()


async def test_a_new_border_colour_borders_even_an_unchanged_line_again() -> None:
    app = OnePane()
    async with app.run_test(size=(20, 8)) as pilot:
        pane = app.query_one(Constant)
        assert_drawn_as_textual_draws(pane)
        pane.styles.border = ("round", "red")  # inline: the pane's lines are not forgotten
        await pilot.pause()
        assert_drawn_as_textual_draws(pane)


class AnsiColoured(Constant):
    """A pane whose line has an ANSI colour and a dim one: ``ANSIToTruecolor`` changes both."""

    LINE = Strip(
        [
            Segment("60000.00", RichStyle(color="red")),
            Segment(" 0.5", RichStyle(color="#33cc33", dim=True)),
            Segment(" ok", RichStyle(color="#cccccc")),
        ]
    )


class AnsiPane(App[None]):
    def compose(self) -> ComposeResult:
        yield AnsiColoured()


async def test_a_line_the_truecolor_filter_would_change_is_converted_as_textual_converts_it() -> (
    None
):
    app = AnsiPane()
    async with app.run_test(size=(20, 8)):
        pane = app.query_one(AnsiColoured)
        assert_drawn_as_textual_draws(pane)
        assert "\x1b[31m" not in whole(pane)[1].render(app.console)  # red is true colour now


async def test_a_line_the_truecolor_filter_would_leave_as_it_is_is_not_copied() -> None:
    """Textual's filter copies every line it filters into a new ``Strip`` (seven caches
    each); a line in true colour and not dim would come out the same, so it is kept as it
    is, and one that would not is converted as Textual converts it."""
    app = OnePane()
    async with app.run_test(size=(20, 8)):
        pane = app.query_one(Constant)
        whole(pane)  # a render: the cache holds the app's filters
        cache = pane._styles_cache
        assert isinstance(cache, BorderedLines)
        _, background = pane.background_colors
        line = Strip([Segment("60000.00", RichStyle(color="#ff0000", bold=True)), Segment(" ")])
        assert cache._filtered(line, background) is line
        # an equal style, another object: the filter's cache answers with the first one
        again = Strip([Segment("0.5", RichStyle(color="#ff0000", bold=True))])
        assert cache._filtered(again, background) is again
        for ansi in AnsiColoured.LINE, Strip([Segment("x", RichStyle(dim=True, color="#ffffff"))]):
            expected = ansi
            for line_filter in pane.get_line_filters():
                expected = expected.apply_filter(line_filter, background)
            assert list(cache._filtered(ansi, background)) == list(expected)
            assert list(expected) != list(ansi)
