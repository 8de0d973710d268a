"""The key test, reached from the help: every key the app binds, marked as it arrives with
what arrived; the keys never pressed stay unmarked; Esc or q pressed twice leaves (once, it
is tested like any other key), and no key acts meanwhile (not even the kill switch)."""

from __future__ import annotations

import subprocess
import sys

from textual.widgets import Static

from workstation.ui.app import WorkstationApp
from workstation.ui.key_inventory import key_label, keys_in_use
from workstation.ui.kill_switch import KILL_KEY
from workstation.ui.panes.orders import OpenOrdersView
from workstation.ui.screens.help import HelpScreen
from workstation.ui.screens.key_test import KeyTestScreen
from workstation.ui.screens.ticket import TicketScreen

from .harness import until
from .test_panes import app_on, fake


def _cells(screen: KeyTestScreen) -> dict[str, str]:
    """Each listed key's line as drawn, by Textual's key name."""
    return {
        use.key: str(screen.query_one(f"#key-{index}", Static).render())
        for index, use in enumerate(screen.keys)
    }


async def _open(app: WorkstationApp, pilot) -> KeyTestScreen:  # type: ignore[no-untyped-def]
    await until(pilot, lambda: app.current is not None, "a pair shown")
    await pilot.press("question_mark")
    await until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help")
    await pilot.press("t")
    await until(pilot, lambda: isinstance(app.screen, KeyTestScreen), "the key test")
    screen = app.screen
    assert isinstance(screen, KeyTestScreen)
    return screen


def test_the_inventory_lists_the_keys_of_screens_not_yet_opened() -> None:
    """A start imports the screens a key opens only when it opens them (the ticket, the kill
    switch's): the inventory still lists their keys. In a fresh interpreter, where no test
    has imported them."""
    code = (
        "from textual.app import App; from workstation.ui.key_inventory import keys_in_use; "
        "print(' '.join(use.key for use in keys_in_use(App())))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    keys = done.stdout.split()
    assert "y" in keys  # the ticket's Send
    assert KILL_KEY in keys


def test_the_inventory_is_read_from_the_bindings() -> None:
    """Every key of the app's, a pane's and a screen's bindings is listed, once."""
    keys = [use.key for use in keys_in_use(app_on(fake()))]
    assert len(keys) == len(set(keys))
    for binding in [*WorkstationApp.BINDINGS, *OpenOrdersView.BINDINGS, *TicketScreen.BINDINGS]:
        for key in binding.key.split(","):  # type: ignore[union-attr]
            assert key in keys
    assert {KILL_KEY, "tab", "shift+tab", "ctrl+q", "ctrl+p", "escape", "t"} <= set(keys)
    assert [key_label("question_mark"), key_label("ctrl+k")] == ["?", "ctrl+k"]


async def test_the_key_test_is_reached_from_the_help_and_marks_what_arrives() -> None:
    app = app_on(fake())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(app, pilot)
        assert all(line.startswith("[ ] ") for line in _cells(screen).values())
        await pilot.press(KILL_KEY, "b", "shift+tab", "question_mark")
        await pilot.pause()
        cells = _cells(screen)
        assert cells[KILL_KEY].startswith("[x] ctrl+k    ctrl+k ")  # the pilot sends no char
        assert cells["b"] == "[x] b         b 'b'"
        assert cells["shift+tab"].startswith("[x] shift+tab shift+tab")
        assert cells["question_mark"] == "[x] ?         question_mark '?'"
        unpressed = [key for key, line in cells.items() if line.startswith("[ ] ")]
        assert set(unpressed) == set(cells) - {KILL_KEY, "b", "shift+tab", "question_mark"}
        assert {"q", "escape"} <= set(unpressed)
        assert isinstance(app.screen, KeyTestScreen)  # no key acted: no kill confirm, no ticket
        assert "last: question_mark '?'" in str(app.screen.query_one("#key-test-last").render())


async def test_escape_once_is_tested_twice_leaves_and_q_likewise() -> None:
    app = app_on(fake())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(app, pilot)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, KeyTestScreen)
        assert _cells(screen)["escape"].startswith("[x] escape    escape ")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "back to the help")

        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, KeyTestScreen), "the key test again")
        await pilot.press("q", "x", "q")  # not twice in a row: stays
        await pilot.pause()
        assert isinstance(app.screen, KeyTestScreen)
        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "back to the help")
        await pilot.press("escape")
        await until(pilot, lambda: len(app.screen_stack) == 1, "the main screen")
        assert app.return_code is None  # q under the key test never quit the app
