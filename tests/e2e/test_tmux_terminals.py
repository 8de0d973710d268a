"""The real app under the terminals its traders use, in tmux at 80x24: TERM=linux and screen
(16 colours), monochrome three ways (NO_COLOR, ``--mono``, the config file's ``theme``),
and xterm, tmux-256color, xterm-256color. Each reads the book and the tape from the screen;
the 16-colour and monochrome ones open a buy ticket, type an amount and read its preview.

What reaches the terminal is checked from tmux's own record of the pane (``capture-pane
-e``): in 16 colours no 256-colour or 24-bit colour at all, and bids apart from asks; in
monochrome no hue, only greys (Textual greys NO_COLOR's screen; the monochrome theme is
greys). COLORTERM is removed: it would ask for 24-bit colour whatever TERM says. Skipped
where tmux is not installed."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.e2e.test_tmux import PRICE, WORKSTATION, Tmux, wait_for

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

SGR = re.compile(r"\x1b\[([0-9;]*)m")
SIXTEEN_GREYS = {0, 7, 8, 15}
CUBE_GREYS = {16, 59, 102, 145, 188, 231}  # r = g = b in the 6x6x6 cube


def colours(escaped: str) -> set[tuple[str, int | tuple[int, int, int]]]:
    """Every colour the pane's text or background uses, read from its SGR sequences:
    ("16", n) for the 16 colours, ("256", n), ("rgb", (r, g, b)); the defaults left out."""
    found: set[tuple[str, int | tuple[int, int, int]]] = set()
    for match in SGR.finditer(escaped):
        params = [int(p) if p else 0 for p in match.group(1).split(";")]
        i = 0
        while i < len(params):
            p = params[i]
            if p in (38, 48) and i + 1 < len(params):
                if params[i + 1] == 5:
                    found.add(("256", params[i + 2]))
                    i += 3
                    continue
                if params[i + 1] == 2:
                    found.add(("rgb", (params[i + 2], params[i + 3], params[i + 4])))
                    i += 5
                    continue
            if 30 <= p <= 37 or 40 <= p <= 47:
                found.add(("16", p % 10))
            elif 90 <= p <= 97 or 100 <= p <= 107:
                found.add(("16", p % 10 + 8))
            i += 1
    return found


def is_grey(colour: tuple[str, int | tuple[int, int, int]]) -> bool:
    kind, value = colour
    if kind == "16":
        return value in SIXTEEN_GREYS
    if kind == "256":
        assert isinstance(value, int)
        return value in SIXTEEN_GREYS or value in CUBE_GREYS or value >= 232
    assert isinstance(value, tuple)
    return value[0] == value[1] == value[2]


class App80x24:
    """``workstation`` (the embedded simulator) in a private tmux at 80x24, with its own
    config, state and data folders, TERM as given and no COLORTERM or NO_COLOR but those
    given."""

    def __init__(self, tmp_path: Path, term: str, env: str = "", args: str = "") -> None:
        self.tmux = Tmux()
        folders = " ".join(
            f"XDG_{kind}_HOME={tmp_path / kind.lower()}"
            for kind in ("CONFIG", "STATE", "DATA", "CACHE")
        )
        self.config = tmp_path / "config" / "bitstamp-workstation" / "config.toml"
        self.command = (
            "env -u COLORTERM -u NO_COLOR -u TEXTUAL_COLOR_SYSTEM "
            f"TERM={term} COLUMNS=80 LINES=24 {folders} {env} {WORKSTATION} --seed 5 {args}"
        )

    def start(self) -> None:
        self.tmux.run("new-session", "-d", "-x", "80", "-y", "24", self.command)
        self.tmux.run("resize-window", "-x", "80", "-y", "24")

    def screen(self) -> str:
        return self.tmux.screen()

    def escaped(self) -> str:
        return self.tmux.run("capture-pane", "-p", "-e")

    def read_book_and_tape(self) -> str:
        """Waits for a book with levels on both sides and a tape; the screen then."""
        # generous: the machine that runs the suite may be busy with other apps
        wait_for(lambda: "spread " in self.screen(), 60, "the order book", self.screen)
        wait_for(lambda: len(PRICE.findall(self.screen())) > 16, 40, "levels", self.screen)
        screen = self.screen()
        assert "Time UTC" in screen, screen
        rows = [line.split("│") for line in screen.splitlines()]
        book = [row[1] for row in rows if len(row) == 5]  # │book││tape│
        tape = [row[3] for row in rows if len(row) == 5]
        spread = next(i for i, text in enumerate(book) if "spread " in text)
        assert any(PRICE.search(text) for text in book[:spread]), screen  # asks above
        assert any(PRICE.search(text) for text in book[spread + 1 :]), screen  # bids below
        assert sum(1 for text in tape if PRICE.search(text)) > 4, screen
        return screen

    def read_a_ticket(self) -> str:
        """b, 0.01: the buy ticket's preview, read from the screen."""
        self.tmux.run("send-keys", "b")
        wait_for(lambda: "BUY BTC/USD" in self.screen(), 30, "the ticket", self.screen)
        self.tmux.run("send-keys", "-l", "0.01")
        wait_for(lambda: "rests 0.01 BTC at" in self.screen(), 30, "the preview", self.screen)
        screen = self.screen()
        assert "Amount BTC     0.01" in screen, screen
        return screen


def test_colours_are_read_from_sgr_sequences() -> None:
    escaped = "\x1b[91m a \x1b[38;5;245;48;2;1;2;3m b \x1b[1;7;100m c \x1b[39;49m"
    assert colours(escaped) == {("16", 9), ("256", 245), ("rgb", (1, 2, 3)), ("16", 8)}
    greys = {colour: is_grey(colour) for colour in colours(escaped)}
    assert greys == {
        ("16", 9): False,
        ("256", 245): True,
        ("rgb", (1, 2, 3)): False,
        ("16", 8): True,
    }


@pytest.mark.parametrize("term", ["linux", "screen"])
def test_16_colours_read_book_tape_and_ticket(tmp_path: Path, term: str) -> None:
    app = App80x24(tmp_path, term)
    try:
        app.start()
        app.read_book_and_tape()
        used = colours(app.escaped())
        assert {kind for kind, _ in used} == {"16"}, used  # nothing past the 16 colours
        assert {("16", 9), ("16", 10)} <= used, used  # asks in red, bids in green
        assert ("16", 8) in used, used  # the depth bars' grey
        app.read_a_ticket()
        assert {kind for kind, _ in colours(app.escaped())} == {"16"}
    finally:
        app.tmux.kill()


MONOCHROME = {
    "NO_COLOR": ("xterm-256color", "NO_COLOR=1", ""),
    "--mono": ("linux", "", "--mono"),
    "config theme": ("screen", "", ""),
}


@pytest.mark.parametrize("how", list(MONOCHROME))
def test_monochrome_reads_book_tape_and_ticket_in_greys_only(tmp_path: Path, how: str) -> None:
    term, env, args = MONOCHROME[how]
    app = App80x24(tmp_path, term, env, args)
    if how == "config theme":
        app.config.parent.mkdir(parents=True)
        app.config.write_text('theme = "mono"\n', encoding="utf-8")
    try:
        app.start()
        app.read_book_and_tape()
        used = colours(app.escaped())
        assert used, "no colour at all: the greys that draw the bars and panels are missing"
        assert all(is_grey(c) for c in used), sorted(c for c in used if not is_grey(c))
        app.read_a_ticket()
        used = colours(app.escaped())
        assert all(is_grey(c) for c in used), sorted(c for c in used if not is_grey(c))
    finally:
        app.tmux.kill()


@pytest.mark.parametrize(
    ("term", "kinds"),
    [("xterm", {"16"}), ("tmux-256color", {"256"}), ("xterm-256color", {"256"})],
)
def test_other_terminals_show_the_book(tmp_path: Path, term: str, kinds: set[str]) -> None:
    """xterm has 16 colours; the 256-colour ones get 256 (some of them the 16 too, which
    the 256 include), never 24-bit colour without COLORTERM."""
    app = App80x24(tmp_path, term)
    try:
        app.start()
        app.read_book_and_tape()
        used = {kind for kind, _ in colours(app.escaped())}
        assert kinds <= used <= kinds | {"16"}, used
    finally:
        app.tmux.kill()


def test_no_mono_on_the_command_line_wins_over_no_color(tmp_path: Path) -> None:
    """no-color.org: a per-run choice overrides NO_COLOR. Under --no-mono the book is in
    colour: not greyed by Textual, not in the monochrome theme."""
    app = App80x24(tmp_path, "xterm-256color", "NO_COLOR=1", "--no-mono")
    try:
        app.start()
        app.read_book_and_tape()
        used = colours(app.escaped())
        assert not all(is_grey(c) for c in used), used
    finally:
        app.tmux.kill()


def test_the_key_test_marks_what_a_real_terminal_delivers(tmp_path: Path) -> None:
    """? then t: the key test. ctrl+k, shift+tab and esc sent through tmux are marked with
    what arrived (ctrl+k's character, the ^K byte, included); the kill switch never opens;
    esc again leaves."""
    app = App80x24(tmp_path, "screen")
    try:
        app.start()
        app.read_book_and_tape()
        app.tmux.run("send-keys", "?")
        wait_for(lambda: "esc closes" in app.screen(), 20, "the help", app.screen)
        app.tmux.run("send-keys", "t")
        wait_for(lambda: "esc esc or q q leaves" in app.screen(), 20, "key test", app.screen)
        listed = app.screen()
        for key in ("ctrl+k", "ctrl+q", "tab", "y", "c", "?"):  # the app's, a ticket's, a pane's
            assert f"[ ] {key}" in listed, listed
        for key in ("C-k", "BTab", "Escape"):
            app.tmux.run("send-keys", key)
        marked = ("[x] ctrl+k    ctrl+k '\\x0b'", "[x] shift+tab shift+tab", "[x] escape")
        wait_for(lambda: all(m in app.screen() for m in marked), 20, "the marks", app.screen)
        screen = app.screen()
        assert "[ ] ctrl+q" in screen, screen
        assert "Cancel" not in screen, screen  # the kill switch's confirm never opened
        app.tmux.run("send-keys", "Escape")
        wait_for(lambda: "Key test" not in app.screen(), 20, "the key test to close")
        assert "esc closes" in app.screen()  # back on the help
    finally:
        app.tmux.kill()
