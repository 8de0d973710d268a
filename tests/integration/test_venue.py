"""The embedded simulator as a child process, and the `workstation sim` command."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import pytest

from workstation.bitstamp.auth import Credentials
from workstation.bitstamp.rest import RestClient
from workstation.bitstamp.secret import Secret
from workstation.services.venue import EmbeddedSim

from .market_support import until


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_embedded_sim_serves_and_stops() -> None:
    sim = EmbeddedSim(seed=3)
    async with sim as venue:
        assert sim.process is not None
        pid = sim.process.pid
        assert venue.rest_url.startswith("http://127.0.0.1:")
        creds = Credentials(
            key=venue.api_key or Secret(""),
            secret=venue.api_secret or Secret(""),
            env="sim",
            host="127.0.0.1",
        )
        async with RestClient.for_url(venue.rest_url, credentials=creds) as client:
            assert (await client.ticker("btcusd")).market == "btcusd"
            assert {b.currency for b in await client.account_balances()} >= {"btc", "usd"}
        assert "secret" not in repr(venue)
        assert (venue.api_secret or Secret("")).reveal() not in repr(venue)
    assert not alive(pid)


async def test_a_start_cancelled_before_the_ready_line_stops_the_child() -> None:
    """An app told to quit while its simulator is still starting must not leave it running
    (it did, until the child noticed on its own about a second later)."""
    sim = EmbeddedSim()
    start = asyncio.create_task(sim.__aenter__())
    await until(lambda: sim.process is not None, 10, "the child started")
    process = sim.process
    assert process is not None
    start.cancel()
    with pytest.raises(asyncio.CancelledError):
        await start
    assert process.returncode is not None, "the child was still running after the cancel"
    assert sim.process is None


async def test_embedded_sim_exits_when_its_parent_goes_away() -> None:
    sim = EmbeddedSim()
    await sim.__aenter__()
    process = sim.process
    assert process is not None
    assert process.stdin is not None
    process.stdin.close()  # what the OS does when the parent dies: the pipe closes
    code = await asyncio.to_thread(process.wait, 10)
    assert code == 0
    await sim.stop()


async def test_sim_command_prints_urls_and_exits_cleanly_on_ctrl_c() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "workstation",
        "sim",
        "--port",
        "0",
        "--api-key",
        "demokey",
        "--api-secret",
        "demosecret",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    lines = []
    async with asyncio.timeout(20):
        while not any("ex.urls" in line for line in lines):
            lines.append((await process.stdout.readline()).decode())
    text = "".join(lines)
    assert "REST       http://127.0.0.1:" in text
    assert "WebSocket  ws://127.0.0.1:" in text
    assert "demokey" in text
    assert "demosecret" in text
    assert "ccxt.bitstamp" in text
    process.send_signal(signal.SIGINT)
    async with asyncio.timeout(10):
        assert await process.wait() == 0


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.1"])
async def test_sim_command_refuses_a_non_loopback_address(host: str) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "workstation",
        "sim",
        "--host",
        host,
        "--port",
        "0",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await process.communicate()
    assert process.returncode == 2
    assert b"--allow-remote" in err


def test_a_sim_spawned_before_any_event_loop_is_entered_later_and_stopped() -> None:
    """The CLI spawns the embedded simulator first thing (its start-up overlaps the UI's):
    no event loop runs yet; the loop that enters it later gets its venue."""
    sim = EmbeddedSim(seed=3)
    sim.spawn()
    assert sim.process is not None
    pid = sim.process.pid
    assert alive(pid)

    async def use() -> str:
        async with sim as venue:
            return venue.rest_url

    assert asyncio.run(use()).startswith("http://127.0.0.1:")
    assert not alive(pid)


async def test_services_stop_a_spawned_sim_they_never_opened() -> None:
    """An app that quits (or fails) before its services open still ends the simulator the
    CLI spawned for it, at once rather than when this process ends."""
    from workstation.services.facade import VenueServices

    sim = EmbeddedSim()
    sim.spawn()
    process = sim.process
    assert process is not None
    services = VenueServices(embedded=sim)
    await services.close()
    assert process.poll() is not None


def test_a_child_started_before_the_command_line_is_the_one_used() -> None:
    """``workstation.launch`` starts the child before the command line's imports; the
    embedded simulator takes it over rather than starting a second one."""
    from workstation.services.sim_process import SimProcess

    started = SimProcess(3)
    sim = EmbeddedSim(seed=3, started=started)
    sim.spawn()
    assert sim.process is started.process
    assert sim.run_id == started.run_id

    async def use() -> str:
        async with sim as venue:
            return venue.rest_url

    assert asyncio.run(use()).startswith("http://127.0.0.1:")
    assert started.process.poll() is not None


def test_a_child_started_for_another_seed_is_ended_and_a_new_one_started() -> None:
    from workstation.services.sim_process import SimProcess

    started = SimProcess(4)
    sim = EmbeddedSim(seed=3, started=started)
    sim.spawn()
    try:
        assert started.process.poll() is not None, "the child of seed 4 still runs"
        assert sim.process is not None
        assert sim.process is not started.process
    finally:
        sim.end_after_loop()
    assert sim.process is None
