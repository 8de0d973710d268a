"""The real app in a pseudo-terminal for the benches that watch it from outside: its command
line, a clean environment (temp XDG dirs: no saved desk, config or journal of the user's),
and the screen read back as a trader sees it (pyte)."""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from .tty_bytes import ScreenMeter, TtyChild

__all__ = ["PYCACHE", "app_argv", "app_env", "book_top", "spawn_app", "tape_rows"]

_NUMBER = re.compile(r"\d[\d,]*\.\d+")

PYCACHE = Path(tempfile.gettempdir()) / "workstation-bench-pycache"
"""Where the app's bytecode is cached between the bench's runs (``PYTHONPYCACHEPREFIX``)."""


def app_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "workstation", *args]


def app_env(
    home: str, *, api_key: str | None = None, api_secret: str | None = None
) -> dict[str, str]:
    """The environment of an app run: XDG dirs under ``home``, a plain local xterm; the
    simulator's demo keys when attaching to one (``--sim-url`` reads them from here)."""
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "XDG_DATA_HOME": os.path.join(home, "data"),
        "XDG_STATE_HOME": os.path.join(home, "state"),
        "XDG_CONFIG_HOME": os.path.join(home, "config"),
        "XDG_CACHE_HOME": os.path.join(home, "cache"),
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("COLUMNS", "LINES", "NO_COLOR", "TEXTUAL", "SSH_CONNECTION"):
        env.pop(name, None)
    for name in ("BITSTAMP_API_KEY", "BITSTAMP_API_SECRET"):
        env.pop(name, None)
    # A user's install keeps its bytecode; a sandbox may forbid writing it, and then every
    # start compiles ~100 of our modules from source (0.8 s of CPU measured). The app gets a
    # bytecode cache of its own, outside the tree, so a measured start is a user's second one.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    if api_key is not None and api_secret is not None:
        env["BITSTAMP_API_KEY"], env["BITSTAMP_API_SECRET"] = api_key, api_secret
    return env


def spawn_app(
    args: Sequence[str], env: dict[str, str], columns: int = 120, lines: int = 40
) -> tuple[TtyChild, ScreenMeter]:
    """``python -m workstation ARGS`` on a fresh pty of the size, and the screen it draws."""
    return TtyChild(app_argv(*args), env, columns, lines), ScreenMeter(columns, lines)


def _box(lines: list[str], title: str) -> tuple[int, int, int] | None:
    """(top line, left column, right column) of the box whose top border holds ``title``."""
    for top, line in enumerate(lines):
        at = line.find(title)
        if at < 0:
            continue
        left = line.rfind("╭", 0, at)
        right = line.find("╮", at)
        if left >= 0 and right > left:
            return top, left, right
    return None


def book_top(screen: list[str]) -> tuple[str, str] | None:
    """(best bid, best ask) as the book pane shows them: the rows just below and above its
    ``spread`` line. None when the pane shows no such line (not up yet, or hidden)."""
    for row, line in enumerate(screen[1:-1], start=1):
        at = line.find("spread ")
        if at < 0:
            continue
        left = line.rfind("│", 0, at)
        right = line.find("│", at)
        asks = _NUMBER.findall(screen[row - 1][left + 1 : right])
        bids = _NUMBER.findall(screen[row + 1][left + 1 : right])
        if asks and bids:
            return bids[0].replace(",", ""), asks[0].replace(",", "")
        return None
    return None


def tape_rows(screen: list[str]) -> set[tuple[str, str]]:
    """The (price, amount) of every row of the trades tape pane, as shown."""
    box = _box(screen, "Trades")
    if box is None:
        return set()
    top, left, right = box
    rows = set()
    for line in screen[top + 1 :]:
        if line[left : left + 1] == "╰":
            break
        numbers = _NUMBER.findall(line[left + 1 : right])
        if len(numbers) >= 2:
            rows.add((numbers[0].replace(",", ""), numbers[1].replace(",", "")))
    return rows
