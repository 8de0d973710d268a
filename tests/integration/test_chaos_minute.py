"""The chaos minute (:mod:`workstation.sim.chaos`): ``workstation sim --chaos`` plays it, and
the workstation's own services ride out one minute of it with orders resting and filling,
then agree with the simulator on everything: the book, every order's state, each fill once,
the balances; health shows what happened, and new orders go out again."""

from __future__ import annotations

import asyncio
import json

import websockets
from websockets.exceptions import ConnectionClosed

from workstation.sim.chaos import ChaosFault, chaos_minute

from .conftest import sim_process

# -- the command -------------------------------------------------------------------------------


async def test_sim_command_prints_the_minute_and_plays_it() -> None:
    """The banner lists the seed's minute; its WebSocket drop then closes a subscribed socket
    (within the minute's first 8 s)."""
    steps = chaos_minute(2)
    async with sim_process("--chaos", "--seed", "2") as child:
        assert "Fault      the chaos minute of seed 2 (60 s), over and over:" in child.banner
        for step in steps:
            assert f"Fault      {step.describe()}" in child.banner
        [drop] = [s for s in steps if s.fault is ChaosFault.DROP_WS]
        conn = await websockets.connect(child.ws_url, open_timeout=5)
        channel = {"channel": "live_trades_btcusd"}
        await conn.send(json.dumps({"event": "bts:subscribe", "data": channel}))
        closed = False
        async with asyncio.timeout(drop.at_s + 5):
            try:
                while True:
                    await conn.recv()
            except ConnectionClosed:
                closed = True
        assert closed
