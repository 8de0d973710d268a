"""The desk comes back as the trader left it: the pairs watched, the one shown, the theme
and each pair's book grouping, kept in a file between runs (against a still simulator on
loopback). Today's code forgot them all. A file that cannot be read is ignored with a notice,
and the app starts on the defaults."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from workstation.cli_desk import desk_options
from workstation.services.facade import VenueServices
from workstation.services.venue import Venue
from workstation.sim.server import SimServer
from workstation.ui.app import WorkstationApp, build_app
from workstation.ui.panes.book import OrderBookView
from workstation.ui.screens.pair_picker import PairPicker
from workstation.ui.theme import MONO_THEME

from .harness import until
from .test_app import live


def notices(app: WorkstationApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def start(venue: Venue, desk: Path, **command_line: object) -> WorkstationApp:
    options = desk_options(
        pairs=command_line.get("pairs"),  # type: ignore[arg-type]
        mono=command_line.get("mono"),  # type: ignore[arg-type]
        confirm=True,
        desk_path=desk,
    )
    return build_app(VenueServices(venue), options)


async def test_pairs_theme_and_grouping_come_back_on_the_next_start(
    sim: SimServer, venue: Venue, tmp_path: Path
) -> None:
    desk = tmp_path / "state" / "desk.json"
    app = start(venue, desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: live(app, "btcusd"), "BTC/USD to be live")
        assert app.theme != MONO_THEME
        await pilot.press("p")
        picker = app.screen
        assert isinstance(picker, PairPicker)
        picker.clock = lambda: 0.0  # typing takes no time, however slow the machine
        await pilot.press(*"ethusd", "enter")
        await until(pilot, lambda: app.current == "ethusd", "ETH/USD shown")
        await until(pilot, lambda: live(app, "ethusd"), "ETH/USD to be live")
        app.query_one(OrderBookView).focus()
        await pilot.press("plus", "plus", "m")  # ETH/USD grouped by 5 ticks, monochrome
        assert app.query_one(OrderBookView).group == 5
        await pilot.press("q")
    assert json.loads(desk.read_text())["pairs"] == ["btcusd", "ethusd"]

    again = start(venue, desk)
    async with again.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: again.current == "ethusd", "ETH/USD shown again")
        book = again.query_one(OrderBookView)
        assert again.watched == ["btcusd", "ethusd"]
        assert again.theme == MONO_THEME
        assert book.group == 5
        await pilot.press("left_square_bracket")
        await until(pilot, lambda: again.current == "btcusd", "back to BTC/USD")
        assert book.group == 1  # grouping is per pair
        assert not notices(again)
        await pilot.press("q")


async def test_the_command_line_overrides_the_saved_layout(
    sim: SimServer, venue: Venue, tmp_path: Path
) -> None:
    desk = tmp_path / "desk.json"
    desk.write_text(
        json.dumps(
            {
                "version": 1,
                "pairs": ["btcusd", "ethusd"],
                "shown": "ethusd",
                "mono": True,
                "groups": {"xrpusd": 10},
            }
        )
    )
    app = start(venue, desk, pairs=["xrpusd"], mono=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: live(app, "xrpusd"), "XRP/USD to be live")
        await until(pilot, lambda: app.current == "xrpusd", "XRP/USD shown")
        assert app.watched == ["xrpusd"]
        assert app.theme != MONO_THEME
        assert app.query_one(OrderBookView).group == 10  # not on the command line: kept
        await pilot.press("q")
    saved = json.loads(desk.read_text())
    assert (saved["pairs"], saved["mono"]) == (["xrpusd"], False)


@pytest.mark.parametrize(
    "content",
    [b"{not json", b'{"version": 1, "pairs": "btcusd"}', b"\xff\xfe", b"[]"],
    ids=["not-json", "wrong-shape", "not-utf8", "not-an-object"],
)
async def test_a_corrupt_layout_is_ignored_with_a_notice_and_replaced(
    sim: SimServer,
    venue: Venue,
    tmp_path: Path,
    content: bytes,
    caplog: pytest.LogCaptureFixture,
) -> None:
    desk = tmp_path / "desk.json"
    desk.write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="workstation.cli_desk"):
        app = start(venue, desk)
    assert any("desk layout is ignored" in r.getMessage() for r in caplog.records)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: live(app, "btcusd"), "BTC/USD to be live")
        assert app.watched == ["btcusd"]
        assert app.theme != MONO_THEME
        [notice] = [n for n in notices(app) if "Saved layout unreadable" in n]
        assert "see the log" in notice
        await pilot.press("m", "q")
    assert json.loads(desk.read_text())["mono"] is True  # the next change replaced it


async def test_pairs_the_venue_does_not_trade_fall_back_to_btcusd_with_a_notice(
    sim: SimServer, venue: Venue, tmp_path: Path
) -> None:
    app = start(venue, tmp_path / "desk.json", pairs=["zzzusd"])
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: live(app, "btcusd"), "BTC/USD to be live")
        assert app.watched == ["btcusd"]
        assert "None of the pairs asked for is traded here (zzzusd): BTC/USD" in notices(app)
        await pilot.press("q")
