"""The real app in a real terminal: tmux runs ``workstation`` (embedded simulator, no keys),
we read the screen twice, bring the balances and the help with plain keys and quit with ``q``.
Skipped where tmux is not installed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

WORKSTATION = Path(sys.executable).with_name("workstation")
PRICE = re.compile(r"\b\d{4,6}\.\d{2}\b")


class Tmux:
    """A private tmux server (its own socket), killed at the end whatever happens."""

    def __init__(self) -> None:
        self.socket = f"ws-test-{uuid.uuid4().hex[:8]}"

    def run(self, *args: str) -> str:
        out = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=10
        )
        return out.stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p")

    def kill(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=10)


def descendants(pid: int) -> set[int]:
    found: set[int] = set()
    todo = [pid]
    while todo:
        out = subprocess.run(
            ["pgrep", "-P", str(todo.pop())], capture_output=True, text=True, timeout=5
        )
        for line in out.stdout.split():
            child = int(line)
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_for(condition, within: float, what: str, screen=None) -> None:
    """Poll ``condition``; on timeout the error shows ``screen()`` (what the user saw)."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            seen = f"; the screen:\n{screen()}" if screen is not None else ""
            raise AssertionError(f"timed out waiting for {what}{seen}")
        time.sleep(0.2)


def book_and_tape(screen: str) -> str:
    return "\n".join(line for line in screen.splitlines() if PRICE.search(line))


def test_app_in_tmux_shows_a_moving_market_and_quits_clean(tmp_path: Path) -> None:
    assert WORKSTATION.exists(), f"{WORKSTATION} (the console script) is not installed"
    tmux = Tmux()
    done = tmp_path / "exit-status"
    try:
        # the size is also given to the app itself: under pytest the terminal size it reads
        # from the pane has come back as 80x24 whatever tmux was told
        command = (
            f"TERM=xterm-256color COLUMNS=100 LINES=30 {WORKSTATION} --seed 5; echo $? > {done}"
        )
        tmux.run("new-session", "-d", "-x", "100", "-y", "30", command)
        tmux.run("resize-window", "-x", "100", "-y", "30")  # -x/-y alone are not always kept
        pane_pid = int(tmux.run("list-panes", "-F", "#{pane_pid}").strip())
        wait_for(lambda: "spread " in tmux.screen(), 30, "the order book", tmux.screen)
        wait_for(
            lambda: len(PRICE.findall(tmux.screen())) > 30, 15, "book and tape rows", tmux.screen
        )
        first = tmux.screen()
        assert "SIM" in first
        assert "Time UTC" in first
        processes = descendants(pane_pid)
        assert len(processes) >= 2, "the app and its simulator child"
        wait_for(lambda: book_and_tape(tmux.screen()) != book_and_tape(first), 20, "a move")
        # 30 rows: the balances share the place under the market; a plain key brings them
        assert "Available" not in first
        tmux.run("send-keys", "4")
        wait_for(lambda: "Available" in tmux.screen(), 10, "the balances", tmux.screen)
        assert "Open orders" not in tmux.screen()
        tmux.run("send-keys", "?")  # the help, every line whole
        wait_for(lambda: "esc closes" in tmux.screen(), 10, "the help", tmux.screen)
        assert "go to the book / trades / open orders / balances" in tmux.screen()
        tmux.run("send-keys", "Escape")
        wait_for(lambda: "esc closes" not in tmux.screen(), 10, "the help to close")
        tmux.run("send-keys", "q")
        wait_for(done.exists, 15, "the app to exit")
        assert done.read_text().strip() == "0"
        wait_for(lambda: not any(alive(p) for p in processes), 10, "no process left behind")
    finally:
        tmux.kill()


@pytest.mark.parametrize("typed_ahead", ["s", "p", "?b"])
def test_keys_typed_right_after_q_still_quit_clean(tmp_path: Path, typed_ahead: str) -> None:
    """`q` and the next keys in one burst (a fast typist, a paste, a slow SSH link): a
    ticket, the pair picker or the help used to open on an app already closing, never
    composed, and the app crashed on its way out with exit status 1."""
    tmux = Tmux()
    done = tmp_path / "exit-status"
    try:
        command = (
            f"TERM=xterm-256color COLUMNS=80 LINES=24 {WORKSTATION} --seed 5; echo $? > {done}"
        )
        tmux.run("new-session", "-d", "-x", "80", "-y", "24", command)
        wait_for(lambda: "spread " in tmux.screen(), 30, "the order book", tmux.screen)
        tmux.run("send-keys", "-l", "q" + typed_ahead)
        wait_for(done.exists, 20, "the app to exit", tmux.screen)
        assert done.read_text().strip() == "0", tmux.screen()
    finally:
        tmux.kill()
