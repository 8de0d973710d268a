"""``workstation serve`` in a real headless Chromium (Debian's, driven by Playwright): the
page shows the book with prices, ``b`` opens a buy ticket, an amount typed shows its preview,
every request the page makes goes to the server itself, and Ctrl+C (SIGINT to its process
group) or a SIGTERM to the server alone ends it with every app it started.

The terminal's text is read from xterm.js's own buffer: the page's script keeps its terminal
to itself, so an init script catches the object as the script stores it (``.terminal = ...``)
and the test reads its rows through xterm's public buffer API.

Skipped where /usr/bin/chromium is missing, unless ``WORKSTATION_REQUIRE_BROWSER=1`` (set by
``.ci/run``) says a browser is required: then it fails. ``WORKSTATION_SCREENSHOTS=1`` writes
the page to ``screenshots/serve-browser.png`` (a plain run never touches the checkout).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Page

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
REQUIRE = "WORKSTATION_REQUIRE_BROWSER"
SCREENSHOTS = "WORKSTATION_SCREENSHOTS"
SCREENSHOT = REPO / "screenshots" / "serve-browser.png"

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

HOLD_TERMINAL = """
Object.defineProperty(Object.prototype, "terminal", {
  configurable: true,
  get() { return undefined; },
  set(value) {
    Object.defineProperty(this, "terminal", {
      value, writable: true, configurable: true, enumerable: true,
    });
    if (value && value.buffer && typeof value.onData === "function") {
      window.__workstationTerminal = value;
    }
  },
});
"""
"""Keeps the page's xterm.js terminal where the test can read it (textual.js assigns it to
``this.terminal`` of its own object; the setter stores it as a plain property there)."""

READ_SCREEN = """() => {
  const terminal = window.__workstationTerminal;
  if (!terminal) return null;
  const buffer = terminal.buffer.active;
  const rows = [];
  for (let y = 0; y < terminal.rows; y++) {
    const line = buffer.getLine(buffer.viewportY + y);
    rows.push(line ? line.translateToString(true) : "");
  }
  return rows.join("\\n");
}"""

BOOK_ROW = re.compile(r"│\s+\d{4,6}\.\d{2}\s+\d+\.\d{8}\s+\d+\.\d{8}")
AMOUNT = re.compile(r"Amount BTC\s+0\.01\b")
TICKET_PRICE = re.compile(r"Price USD\s+(\d+\.\d{2})")
HOLDS = re.compile(r"Holds\s+([\d,]+\.\d{2}) USD")


def _browser() -> Path:
    """Chromium, or a skip (a failure when a browser is required)."""
    missing = None
    if not CHROMIUM.exists():
        missing = f"{CHROMIUM} is not installed (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401 - only whether it is there
        except ImportError:
            missing = "playwright is not installed (pip install -e '.[test]')"
    if missing is None:
        return CHROMIUM
    if os.environ.get(REQUIRE) == "1":
        pytest.fail(f"{missing}, and {REQUIRE}=1 says a browser is required")
    pytest.skip(missing)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _processes() -> Iterator[tuple[int, int, int]]:
    """(pid, parent, session) of every live process (zombies left out), from /proc."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        state, ppid, _pgrp, session = stat.rsplit(")", 1)[1].split()[:4]  # after "pid (name)"
        if state != "Z":
            yield int(entry.name), int(ppid), int(session)


def _in_session(sid: int) -> set[int]:
    """Every live process of session ``sid``: the server started one of its own, so its
    apps and their simulators are in it, even once the server is gone."""
    return {pid for pid, _, session in _processes() if session == sid}


def _children(parent: int) -> set[int]:
    return {pid for pid, ppid, _ in _processes() if ppid == parent}


def _command_line(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "(gone)"


def _wait(what: str, until: Callable[[], object], seconds: float, seen: Callable[[], str]) -> None:
    deadline = time.monotonic() + seconds
    while not until():
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within {seconds:.0f} s; last seen:\n{seen()}")
        time.sleep(0.2)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``workstation serve`` on a free loopback port, on a seeded embedded simulator, with
    its own XDG directories; killed with all its session if the test has not ended it."""
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        **{
            f"XDG_{d}_HOME": str(tmp_path / d.lower()) for d in ("DATA", "STATE", "CONFIG", "CACHE")
        },
    }
    env.pop("BITSTAMP_API_KEY", None)
    env.pop("BITSTAMP_API_SECRET", None)
    command = [sys.executable, "-m", "workstation", "serve", "--port", str(port), "--seed", "7"]
    with (tmp_path / "serve.out").open("wb") as out, (tmp_path / "serve.err").open("wb") as err:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=err, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"

    def answers() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                return reply.status == 200
        except OSError:
            return process.poll() is not None  # ended: said below

    try:
        _wait("page from the server", answers, 30, lambda: (tmp_path / "serve.err").read_text())
        assert process.poll() is None, (tmp_path / "serve.err").read_text()
        yield process, url
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        for pid in _in_session(process.pid):
            os.kill(pid, signal.SIGKILL)


def _screen(page: Page) -> str:
    return page.evaluate(READ_SCREEN) or ""


def _to_server(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)  # kill, systemd: the server alone


def _ctrl_c(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGINT)  # a terminal's Ctrl+C: its whole process group


@pytest.mark.parametrize(
    ("stop", "second_tab"),
    [(_ctrl_c, False), (_to_server, True)],
    ids=["ctrl-c", "a-second-tab-then-sigterm-to-server"],
)
def test_the_app_in_a_browser_shows_the_book_and_previews_a_typed_order(
    server: tuple[subprocess.Popen[bytes], str],
    tmp_path: Path,
    stop: Callable[[subprocess.Popen[bytes]], None],
    second_tab: bool,
) -> None:
    """With ``second_tab``: a second tab runs an app of its own, and closing the first one
    ends the first app while the server runs on."""
    chromium = _browser()
    from playwright.sync_api import sync_playwright

    process, url = server
    fetched: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),  # a fresh user data dir
            executable_path=str(chromium),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 820},
        )
        try:
            page = browser.new_page()
            page.on("request", lambda request: fetched.append(request.url))
            page.on("websocket", lambda websocket: fetched.append(websocket.url))
            page.add_init_script(HOLD_TERMINAL)
            page.goto(url)
            seen = lambda: _screen(page)  # noqa: E731

            def book_priced() -> bool:
                screen = seen()
                return "spread" in screen and len(BOOK_ROW.findall(screen)) >= 10

            _wait("book with prices", book_priced, 60, seen)
            page.focus("textarea.xterm-helper-textarea")  # the keys go to the terminal
            page.keyboard.press("b")
            _wait("buy ticket", lambda: "BUY BTC/USD" in seen(), 20, seen)
            page.keyboard.type("0.01")
            shown: list[str] = []

            def previewed() -> bool:
                shown[:] = [seen()]  # one reading for all three
                return all(r.search(shown[0]) for r in (AMOUNT, TICKET_PRICE, HOLDS))

            _wait("preview of 0.01 BTC", previewed, 20, seen)
            price = TICKET_PRICE.search(shown[0])
            holds = HOLDS.search(shown[0])
            assert price is not None, shown[0]
            assert holds is not None, shown[0]
            cost = Decimal("0.01") * Decimal(price[1])
            held = Decimal(holds[1].replace(",", ""))
            # a buy holds its cost and fee: what rests at the limit price, what fills at the
            # asks below it (the fee is 0.4%, the asks within 1% of the touch)
            assert cost * Decimal("0.99") <= held <= cost * Decimal("1.01"), (
                f"holds {held} for a cost of {cost}\n{shown[0]}"
            )
            if os.environ.get(SCREENSHOTS) == "1":
                page.wait_for_timeout(300)  # the last frame painted
                page.screenshot(path=str(SCREENSHOT))

            # the tab's app (the server's child) and its embedded simulator (the app's)
            running = lambda: _in_session(process.pid) - {process.pid}  # noqa: E731
            first = running()
            assert len(_children(process.pid)) == 1, f"not one app per tab: {first}"
            if second_tab:
                browser.new_page().goto(url)
                two = lambda: len(_children(process.pid)) == 2  # noqa: E731
                _wait("second tab's app", two, 30, lambda: str(running()))
                page.close()
                gone = lambda: not first & running()  # noqa: E731
                _wait("first tab's app and simulator ended", gone, 20, lambda: str(running()))
                assert len(_children(process.pid)) == 1, running()
            stop(process)  # with a tab still open
            assert process.wait(timeout=30) == 0
        finally:
            browser.close()
    err = (tmp_path / "serve.err").read_text() + (tmp_path / "serve.out").read_text()
    left = {pid: _command_line(pid) for pid in _in_session(process.pid)}
    assert left == {}, f"processes left behind by the server: {left}\n{err[-3000:]}"
    assert "Traceback" not in err, err
    origins = {u.split("/")[0] + "//" + u.split("/")[2] for u in fetched}
    assert origins == {url.rstrip("/"), url.replace("http", "ws").rstrip("/")}, fetched


@pytest.mark.parametrize("required", [None, "1"])
def test_without_chromium_it_skips_unless_a_browser_is_required(
    required: str | None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys.modules[__name__], "CHROMIUM", tmp_path / "no-chromium")
    if required is None:
        monkeypatch.delenv(REQUIRE, raising=False)
    else:
        monkeypatch.setenv(REQUIRE, required)
    outcome = pytest.skip.Exception if required is None else pytest.fail.Exception
    with pytest.raises(outcome, match="no-chromium is not installed") as raised:
        _browser()
    assert (REQUIRE in str(raised.value)) == (required is not None)
