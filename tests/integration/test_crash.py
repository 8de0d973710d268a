"""Issue 12 items 2 and 13: a crash of the real app is a non-zero exit, one line on stderr that
names the log file, and never a secret anywhere (stdout, stderr, the log).

The app runs in a child process against a real simulator, with the simulator's demo key pair
in the environment (``--sim-url``), so a signed session is under way when it crashes. The
crash is planted by the child's launcher (test code): a message handler of the real app raises
with the secret in a local variable and in the exception's message, the two places a
traceback printer can leak it from.
"""

from __future__ import annotations

import asyncio
import os
import re
import stat
import sys
from pathlib import Path

from workstation.sim.server import SimServer

LAUNCHER = """
import sys
from workstation import cli
from workstation.ui.app import WorkstationApp

SECRET = sys.argv.pop()
ORIGINAL = WorkstationApp.on_workstation_app_services_changed

def explode(self, message):
    trading = self.services.trading
    if not (trading and trading.balances):  # crash once signed calls came back
        return ORIGINAL(self, message)
    api_secret = SECRET  # a local variable, as Textual's traceback would print it
    raise RuntimeError(f"planted failure while holding {api_secret}")

WorkstationApp.on_workstation_app_services_changed = explode
sys.exit(cli.main(sys.argv[1:]))
"""

LEAVE_ALT_SCREEN = "\x1b[?1049l"
CONTROL = re.compile(r"\x1b\[[0-9;?<>=]*[A-Za-z]")
"""Terminal mode switches (cursor, mouse): they print nothing."""


async def test_a_crash_exits_non_zero_with_one_line_naming_the_log_and_no_secret(
    sim: SimServer, tmp_path: Path
) -> None:
    demo = sim.exchange.demo
    log_dir = tmp_path / "logs"
    env = {
        **os.environ,
        "BITSTAMP_API_KEY": demo.api_key,
        "BITSTAMP_API_SECRET": demo.secret,
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "COLUMNS": "120",
        "LINES": "40",
    }
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        LAUNCHER,
        "--sim-url",
        sim.rest_url,
        "--journal",
        str(tmp_path / "journal.sqlite3"),
        "--log-dir",
        str(log_dir),
        demo.secret,  # taken off by the launcher, for the planted handler
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    try:
        async with asyncio.timeout(60):
            out, err = await child.communicate()
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
    log_file = log_dir / "workstation.log"
    stderr = err.decode("utf-8", "replace")
    assert child.returncode != 0, stderr
    # Textual draws the screen on stderr; what stays in the terminal is what follows its
    # leaving the alternate screen
    left_on_terminal = CONTROL.sub("", stderr.rpartition(LEAVE_ALT_SCREEN)[2])
    assert left_on_terminal.strip().splitlines() == [
        f"workstation crashed (RuntimeError); the details are in {log_file}"
    ], left_on_terminal
    log = log_file.read_text(encoding="utf-8")
    assert "planted failure while holding ***" in log  # the traceback is there, masked
    assert "Traceback" in log
    assert "/api/v2/account_balances/ -> 200" in log  # the signed session it was in
    for text in (out.decode("utf-8", "replace"), stderr, log):
        assert demo.secret not in text
        assert demo.api_key not in text
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(log_dir.stat().st_mode) == 0o700
