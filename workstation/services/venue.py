"""Where the workstation trades: the embedded simulator, an attached one, sandbox or live.

The embedded simulator runs in a child process so its matching and market making never take
time from the UI's event loop. It stops with the app: on a normal exit we terminate it, and if
the app dies without cleaning up, the child sees its stdin close and exits by itself, so no
orphan survives a crash or a Ctrl+C.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from dataclasses import dataclass, field

__all__ = ["EmbeddedSim", "Venue", "VenueError"]

LIVE_REST = "https://www.bitstamp.net"
LIVE_WS = "wss://ws.bitstamp.net/"
SANDBOX_REST = "https://sandbox.bitstamp.net"


class VenueError(RuntimeError):
    """The venue could not be reached or started."""


@dataclass(frozen=True)
class Venue:
    """Everything that differs between environments: two URLs and a key pair."""

    env: str
    """``sim``, ``sandbox`` or ``live``."""
    rest_url: str
    ws_url: str
    api_key: str | None = field(default=None, repr=False)
    api_secret: str | None = field(default=None, repr=False)

    @property
    def has_credentials(self) -> bool:
        return bool(self.api_key and self.api_secret)

    @property
    def label(self) -> str:
        return self.env.upper()


class EmbeddedSim:
    """Start ``workstation sim`` on a free loopback port in a child process.

    ``async with EmbeddedSim(seed=1) as venue:`` yields a :class:`Venue` with the child's URLs
    and its generated demo key pair; leaving the block stops the child.
    """

    def __init__(self, *, seed: int | None = None, startup_timeout_s: float = 20.0) -> None:
        self.seed = seed
        self.startup_timeout_s = startup_timeout_s
        self.process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> Venue:
        args = [sys.executable, "-m", "workstation", "sim", "--port", "0", "--embedded"]
        if self.seed is not None:
            args += ["--seed", str(self.seed)]
        self.process = await asyncio.create_subprocess_exec(
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert self.process.stdout is not None
        try:
            async with asyncio.timeout(self.startup_timeout_s):
                line = await self.process.stdout.readline()
        except TimeoutError:
            await self.stop()
            raise VenueError("the embedded simulator did not start in time") from None
        try:
            ready = json.loads(line)
            return Venue(
                env="sim",
                rest_url=ready["rest_url"],
                ws_url=ready["ws_url"],
                api_key=ready["api_key"],
                api_secret=ready["api_secret"],
            )
        except (ValueError, KeyError):
            await self.stop()
            raise VenueError("the embedded simulator did not report its address") from None

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.returncode is not None:
            return
        if process.stdin is not None:
            process.stdin.close()  # the child exits on stdin EOF
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            async with asyncio.timeout(5):
                await process.wait()
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
