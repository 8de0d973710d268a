"""The key test: every key the workstation uses (``ui/key_inventory.py``), each marked when
the terminal delivers it, with what arrived (Textual's key name and the character). A key
an SSH client, tmux or the terminal swallows stays unmarked, so the trader knows which.

Every key is tested, Esc and ``q`` too: the first press of either marks it, the same key
pressed again right after leaves. While the test is on top no key acts (the app's
``check_action`` refuses every action), the kill switch, quit and the palette included.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual import events
from textual.app import ComposeResult
from textual.containers import Container, Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from ..key_inventory import KeyUse, key_label

__all__ = ["LEAVE_KEYS", "KeyTestScreen", "arrival"]

LEAVE_KEYS = ("escape", "q")
"""Pressed twice in a row, either leaves; the first press is tested like any other key."""

_LABEL_W = 9


def arrival(event: events.Key) -> str:
    """What the terminal delivered: Textual's key name and the character (``-``: none)."""
    character = "-" if event.character is None else repr(event.character)
    return f"{event.key} {character}"


class KeyTestScreen(ModalScreen[None]):
    """Each key in ``keys``, unmarked until it arrives; then a mark and what arrived."""

    TRIES_KEYS = True
    """The app runs no action while this screen is on top (``WorkstationApp.check_action``):
    its keys are being tried, not used. A flag rather than an isinstance check, so the app
    need not import this screen before the help opens it."""

    def __init__(self, keys: Sequence[KeyUse]) -> None:
        super().__init__()
        self.keys = list(keys)
        self.arrived: dict[str, str] = {}
        """Key name -> what arrived for it, for the keys marked so far."""
        self._previous: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="key-test") as box:
            box.border_title = "Key test"
            box.border_subtitle = "esc esc or q q leaves"
            yield Static(
                "Press each key: it is marked with what arrived. Unmarked: never arrived.",
                id="key-test-hint",
            )
            with Container(id="key-test-grid"):
                for index, use in enumerate(self.keys):
                    yield Static(
                        self._cell(use), id=f"key-{index}", classes="key-test-key", markup=False
                    )
            yield Static("last: nothing yet", id="key-test-last", markup=False)

    def _cell(self, use: KeyUse) -> str:
        got = self.arrived.get(use.key)
        mark = "x" if got is not None else " "
        return f"[{mark}] {key_label(use.key).ljust(_LABEL_W)} {got or ''}".rstrip()

    def on_key(self, event: events.Key) -> None:
        event.stop()
        event.prevent_default()
        got = arrival(event)
        self.query_one("#key-test-last", Static).update(f"last: {got}")
        if event.key in LEAVE_KEYS and event.key == self._previous:
            self.dismiss()
            return
        self._previous = event.key
        for index, use in enumerate(self.keys):
            if use.key in event.aliases:
                self.arrived[use.key] = got
                cell = self.query_one(f"#key-{index}", Static)
                cell.update(self._cell(use))
                cell.add_class("-arrived")
