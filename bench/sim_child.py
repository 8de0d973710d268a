"""``workstation sim`` as its own process, as a trader runs it, for the benches that attach the
app to it: its URLs and demo keys read from the banner it prints, stopped with SIGINT."""

from __future__ import annotations

import contextlib
import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

__all__ = ["RunningSim", "running_sim"]

_BANNER = {
    "rest_url": re.compile(r"^\s*REST\s+(\S+?)/api/v2/\s*$"),
    "ws_url": re.compile(r"^\s*WebSocket\s+(\S+)\s*$"),
    "api_key": re.compile(r"^\s*API key\s+(\S+)\s*$"),
    "api_secret": re.compile(r"^\s*API secret\s+(\S+)\s*$"),
}


@dataclass(frozen=True)
class RunningSim:
    """A simulator process and what the app needs to attach to it."""

    pid: int
    rest_url: str
    ws_url: str
    api_key: str
    api_secret: str


def _read_banner(fd: int, timeout_s: float) -> dict[str, str]:
    """The banner's fields, read from the raw pipe (a buffered reader would hide lines from
    ``select``)."""
    found: dict[str, str] = {}
    text = ""
    deadline = time.monotonic() + timeout_s
    while len(found) < len(_BANNER):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            break
        data = os.read(fd, 65536)
        if not data:
            break
        text += data.decode()
        for line in text.splitlines():
            for key, pattern in _BANNER.items():
                if match := pattern.match(line):
                    found[key] = match.group(1)
    return found


@contextlib.contextmanager
def running_sim(
    speed: float, seed: int, log: IO[str], *, extra: tuple[str, ...] = ()
) -> Iterator[RunningSim]:
    """``workstation sim --port 0 --speed S --seed N`` until the block ends (SIGINT, then
    SIGKILL if it lingers). Its stderr goes to ``log``, shown if it never prints a banner."""
    process = subprocess.Popen(
        [sys.executable, "-m", "workstation", "sim", "--port", "0", "--speed", f"{speed:g}"]
        + ["--seed", str(seed), *extra],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=log,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        banner = _read_banner(process.stdout.fileno(), 60)
        if len(banner) < len(_BANNER):
            log.seek(0)
            raise RuntimeError(f"the simulator printed no banner:\n{log.read()[-2000:]}")
        yield RunningSim(pid=process.pid, **banner)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
