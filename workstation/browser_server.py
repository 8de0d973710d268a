"""The web server of ``workstation serve``: textual-serve's, with two changes.

- The page is our copy of textual-serve's (``browser_page/app_index.html``) without its one
  outside address, a Google Fonts stylesheet: the font is the Roboto Mono textual-serve ships
  in its static files, so the page, the script and the font all come from this server and
  nothing is fetched elsewhere (the browser test records every request the page makes).
- The server holds every tab's app process and ends it: when the tab goes, and all of them
  when the server stops (Ctrl+C, SIGTERM). textual-serve 1.1.3 asks the app to quit and waits
  for it without a bound, and at shutdown leaves the tabs' handlers to aiohttp's 60 s timeout;
  here an app that has not quit after :data:`QUIT_GRACE_S` is sent SIGTERM, then SIGKILL.
  Each app leads a process group of its own, so what it started (its embedded simulator)
  is waited for and ended with it; a Ctrl+C in the server's terminal reaches the server
  only, which ends the apps itself.

A server killed outright (SIGKILL) cannot do this: its apps' input closes, and Textual's web
driver does not quit on that, so they would stay until killed.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from asyncio.subprocess import Process
from pathlib import Path

from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

__all__ = ["PAGE_DIR", "QUIT_GRACE_S", "AppSession", "BrowserServer"]

PAGE_DIR = Path(__file__).resolve().parent / "browser_page"
"""Our page template (textual-serve's, without the outside font stylesheet)."""

QUIT_GRACE_S = 5.0
"""How long an app asked to quit is given before SIGTERM, and SIGTERM before SIGKILL."""

_log = logging.getLogger("workstation.browser_server")


class AppSession(AppService):
    """One tab's app process, in a process group of its own with whatever it starts (its
    embedded simulator); :meth:`end` ends them all for sure, and may be called any number of
    times from anywhere (the tab's handler, the server's shutdown)."""

    _ending: asyncio.Task[None] | None = None

    async def _open_app_process(self, width: int = 80, height: int = 24) -> Process:
        """textual-serve's (1.1.3), with the app made the leader of a new process group."""
        self._process = process = await asyncio.create_subprocess_shell(
            self.command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self._build_environment(width=width, height=height),
            process_group=0,
        )
        assert process.stdin is not None
        self._stdin = process.stdin
        return process

    async def end(self) -> None:
        if self._ending is None:
            self._ending = asyncio.create_task(self._end())
        await asyncio.shield(self._ending)

    async def _end(self) -> None:
        process = self._process
        if process is None:
            return
        if process.returncode is None:
            await self.send_meta({"type": "quit"})
            for stop in (process.terminate, process.kill):
                try:
                    await asyncio.wait_for(process.wait(), QUIT_GRACE_S)
                    break
                except TimeoutError:
                    _log.warning("app %s has not quit: %s", process.pid, stop.__name__)
                    stop()
            await process.wait()
        await _end_group(process.pid)
        if self._task is not None:
            await self._task  # the reader: ends at the app's end of output
            self._task = None


async def _end_group(group: int) -> None:
    """What the app left in its process group (a simulator still stopping, or orphaned by an
    app that was killed): given :data:`QUIT_GRACE_S`, then SIGTERM, then SIGKILL."""
    for signal_ in (None, signal.SIGTERM, signal.SIGKILL):
        try:
            if signal_ is not None:
                _log.warning("process group %s still running: %s", group, signal_.name)
                os.killpg(group, signal_)
            for _ in range(int(QUIT_GRACE_S / 0.05)):
                os.killpg(group, 0)  # raises once the group is empty
                await asyncio.sleep(0.05)
        except ProcessLookupError:
            return


class BrowserServer(Server):
    """textual-serve's server, with our page and every tab's app ended when it stops."""

    def __init__(self, command: str, *, host: str, port: int, public_url: str) -> None:
        super().__init__(
            command,
            host=host,
            port=port,
            title="Bitstamp workstation",
            public_url=public_url,
            templates_path=PAGE_DIR,
        )
        self.sessions: set[AppSession] = set()
        self._sockets: set[web.WebSocketResponse] = set()

    async def on_startup(self, app: web.Application) -> None:
        self.console.print(
            f"workstation serve: open {self.public_url} (each tab runs its own app); "
            "Ctrl+C stops it",
            highlight=False,
        )

    async def on_shutdown(self, app: web.Application) -> None:
        """Before aiohttp waits for the handlers: end every app, then close every tab."""
        await asyncio.gather(*(session.end() for session in list(self.sessions)))
        await asyncio.gather(*(socket.close() for socket in list(self._sockets)))

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """textual-serve's handler (1.1.3), with the session held and ended for sure."""
        websocket = web.WebSocketResponse(heartbeat=15)
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        await websocket.prepare(request)

        async def close() -> None:
            await websocket.close()

        session = AppSession(
            self.command,
            write_bytes=websocket.send_bytes,
            write_str=websocket.send_str,
            close=close,
            download_manager=self.download_manager,
            debug=self.debug,
        )
        self.sessions.add(session)
        self._sockets.add(websocket)
        try:
            await session.start(width, height)
            await self._process_messages(websocket, session)
        finally:
            try:
                await session.end()
            finally:
                self.sessions.discard(session)
                self._sockets.discard(websocket)
                await websocket.close()
        return websocket
