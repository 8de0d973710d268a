"""Issue 12 item 11 at session level: no signed request reaches a host outside the chosen
environment. A session's key pair is bound to its venue's host *and port*, so a request the
client is somehow pointed elsewhere with (an absolute URL, a second simulator on the same
machine) is refused before it is signed, and the other host never sees a connection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from workstation.bitstamp.auth import HostMismatchError
from workstation.bitstamp.secret import Secret
from workstation.services.session import Session
from workstation.services.venue import Venue, attached_sim_venue, bitstamp_venue
from workstation.sim.server import SimServer

KEY = "AbCdEf0123456789AbCdEf0123456789"
SECRET = "s3cr3tS3CR3Ts3cr3tS3CR3Ts3cr3t99"


@pytest.fixture
async def other_host() -> AsyncIterator[tuple[str, list[bytes]]]:
    """A listener on another loopback port that records whatever reaches it."""
    seen: list[bytes] = []

    async def record(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(2):
                seen.append(await reader.read(4096))
        except TimeoutError:
            seen.append(b"")
        writer.close()

    server = await asyncio.start_server(record, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", seen
    finally:
        server.close()
        await server.wait_closed()


async def test_a_sim_session_signs_for_its_own_simulator_only(
    sim: SimServer, other_host: tuple[str, list[bytes]]
) -> None:
    demo = sim.exchange.demo
    venue = attached_sim_venue(sim.rest_url, demo.api_key, demo.secret)
    other_url, seen = other_host
    async with Session(venue) as session:
        balances = await session.rest.account_balances()  # signed, at the chosen simulator: fine
        assert balances
        with pytest.raises(HostMismatchError, match="refusing to sign"):
            await session.rest.transport.post_private(
                f"{other_url}/api/v2/account_balances/", safe=True
            )
    await asyncio.sleep(0.05)
    assert seen == []


@pytest.mark.parametrize("env", ["live", "sandbox"])
async def test_a_bitstamp_session_never_signs_for_a_simulator(
    env: str, other_host: tuple[str, list[bytes]]
) -> None:
    other_url, seen = other_host
    async with Session(bitstamp_venue(env, Secret(KEY), Secret(SECRET))) as session:
        with pytest.raises(HostMismatchError):
            await session.rest.transport.post_private(
                f"{other_url}/api/v2/account_balances/", safe=True
            )
    assert seen == []


async def test_a_sim_badge_cannot_be_put_on_bitstamps_host() -> None:
    with pytest.raises(ValueError, match="Bitstamp"):
        Venue(
            "sim", "https://www.bitstamp.net", "wss://ws.bitstamp.net/", Secret(KEY), Secret(SECRET)
        )
