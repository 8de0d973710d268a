"""The floor under a cold start: a bare Textual app that draws what the cold-start bench waits
for (a rounded box with three rows of two prices), no network, no services, none of our code.

``python -m bench.bare_textual`` is started by ``bench/cold_start.py`` in the same
pseudo-terminal, beside the workstation, so its time is what Python and Textual alone cost
on this machine: the part of the workstation's start that is not ours to cut.
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Static

ROWS = "\n".join(f" {60000 + n}.00  {60001 + n}.00" for n in range(3))


class BareBook(App[None]):
    CSS = "Static { border: round $primary; width: 40; height: 5; }"

    def compose(self) -> ComposeResult:
        yield Static(ROWS)


if __name__ == "__main__":
    BareBook().run()
