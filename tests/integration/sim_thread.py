"""A real simulator on 127.0.0.1 served from its own thread and event loop.

For tests that call a command which runs ``asyncio.run`` itself (``workstation keys test``
in-process): the simulator cannot share that loop, so it gets one of its own. The
environment table is pointed at it from inside the test (:func:`point_env_at`), never
through a user-facing option.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from workstation.services import venue as venue_module
from workstation.sim.exchange import SimExchange
from workstation.sim.server import SimServer


@contextmanager
def sim_in_thread(api_key: str, api_secret: str) -> Iterator[SimServer]:
    """A still simulator (seed 7, speed 0) whose demo account has this key pair."""
    loop = asyncio.new_event_loop()
    server = SimServer(
        SimExchange(seed=7, speed=0, api_key=api_key, api_secret=api_secret, history_s=60)
    )
    started = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.__aenter__())
        started.set()
        loop.run_forever()
        loop.run_until_complete(server.__aexit__(None, None, None))
        loop.close()

    thread = threading.Thread(target=serve, name="sim", daemon=True)
    thread.start()
    assert started.wait(30), "the simulator did not start"
    try:
        yield server
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)


def point_env_at(monkeypatch: pytest.MonkeyPatch, env: str, sim: SimServer) -> None:
    """Make Bitstamp's ``env`` (sandbox or live) be ``sim`` for this test."""
    hosts = venue_module.Hosts(sim.rest_url, sim.ws_url)
    monkeypatch.setitem(venue_module.BITSTAMP_HOSTS, env, hosts)
