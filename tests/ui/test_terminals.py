"""The app where colour is missing: NO_COLOR (Textual greys every line through its
monochrome filter) and the monochrome theme, against the fake facade."""

from __future__ import annotations

import pytest
from rich.color import ColorSystem

from workstation.domain.desk_layout import DeskLayout
from workstation.ui.app import WorkstationApp, build_app
from workstation.ui.options import AppOptions
from workstation.ui.panes.book import OrderBookView
from workstation.ui.panes.tape import TradesTapeView
from workstation.ui.screens.help import HelpScreen
from workstation.ui.screens.ticket import TicketScreen
from workstation.ui.theme import MONO_THEME

from .harness import until
from .test_panes import app_on, fake


def _text(app: WorkstationApp, pane: type[OrderBookView | TradesTapeView]) -> str:
    widget = app.query_one(pane)
    return "\n".join(widget.render_line(y).text for y in range(widget.size.height))


async def test_no_color_draws_every_screen(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under NO_COLOR Textual's monochrome filter read the style of every segment, and the
    tape's blank lines had none: the app crashed at its first frame (AttributeError)."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = app_on(fake())
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.no_color
        await until(pilot, lambda: "60001.00" in _text(app, OrderBookView), "the book")
        assert "60001.00" in _text(app, TradesTapeView)
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help")
        await pilot.press("escape", "b")
        await until(pilot, lambda: isinstance(app.screen, TicketScreen), "the ticket")
        await pilot.press("escape")
        await pilot.pause(0.1)
    assert app.return_code in (None, 0)


async def test_no_color_starts_monochrome_without_keeping_it_as_the_choice() -> None:
    """NO_COLOR is this run's; the layout keeps the trader's own theme until they change
    it (``m``), so a session under NO_COLOR does not leave the next one monochrome."""
    kept: list[DeskLayout] = []
    app = build_app(fake(), AppOptions(no_color=True, remember=kept.append))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: bool(kept), "the layout kept")
        assert app.theme == MONO_THEME
        assert kept[-1].mono is False
        await pilot.press("m")
        await until(pilot, lambda: app.theme != MONO_THEME, "the colour theme")
        await pilot.press("m")
        await until(pilot, lambda: kept[-1].mono is True, "monochrome kept, now chosen")


@pytest.mark.parametrize(
    ("term", "sixteen"),
    [("linux", True), ("screen", True), ("xterm", True), ("xterm-256color", False)],
)
async def test_in_16_colours_the_depth_bars_keep_their_side(
    monkeypatch: pytest.MonkeyPatch, term: str, sixteen: bool
) -> None:
    """In 16 colours the ask bar's tint fell into the background and the text over either
    bar took the pane's colour: a level's side showed by its place alone. There both bars
    are grey under text in the side's colour."""
    monkeypatch.setenv("TERM", term)
    monkeypatch.delenv("COLORTERM", raising=False)
    monkeypatch.delenv("TEXTUAL_COLOR_SYSTEM", raising=False)
    # as in a terminal: headless, the app never takes the 16 colours' styles (snapshots)
    monkeypatch.setattr(WorkstationApp, "is_headless", property(lambda _: False))
    app = app_on(fake())
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: "60001.00" in _text(app, OrderBookView), "the book")
        assert app.has_class("-ansi16") is sixteen
        book = app.query_one(OrderBookView)
        for side in ("bid", "ask"):
            text = book.get_component_rich_style(f"book--{side}")
            bar = book.get_component_rich_style(f"book--{side}-bar")
            assert (bar.color == text.color) is sixteen, side
            if sixteen:
                assert bar.bgcolor is not None
                assert bar.bgcolor.downgrade(ColorSystem.STANDARD).number == 8
