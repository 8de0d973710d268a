"""The log after a signed session with errors (issue 12 item 13): the request log (endpoint,
status, latency, nonce, Bitstamp's request id and error code), the stream's connection and the
feeds' resyncs are in it; the key pair is not."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from workstation.bitstamp.errors import BitstampError
from workstation.bitstamp.rest import RestClient
from workstation.services import logs
from workstation.services.session import Session
from workstation.services.venue import attached_sim_venue
from workstation.sim.faultplan import FaultPlan
from workstation.sim.server import SimServer

from .conftest import credentials_for

NONCE = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}"


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield logs.configure_logging(tmp_path / "log" / "workstation.log", "DEBUG")
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


async def test_a_signed_session_with_errors_is_logged_without_its_secrets(
    sim: SimServer, log_file: Path
) -> None:
    demo = sim.exchange.demo
    sim.arm(FaultPlan(server_error_every=3))
    venue = attached_sim_venue(sim.rest_url, demo.api_key, demo.secret)
    async with Session(venue) as session:
        await session.open_market_hub(lambda change: None)
        assert session.hub is not None
        await session.hub.watch("btcusd")
        for _ in range(4):
            await session.rest.account_balances()  # some answered 500, retried
        async with asyncio.timeout(5):
            while not session.hub.feeds["btcusd"].book.best_bid():  # noqa: ASYNC110
                await asyncio.sleep(0.02)
    # a key pair the simulator does not know: Bitstamp's error code is logged
    stranger = RestClient.for_url(sim.rest_url, credentials=credentials_for(sim, secret="x" * 32))
    async with stranger:
        with pytest.raises(BitstampError):
            await stranger.account_balances()

    text = log_file.read_text(encoding="utf-8")  # noqa: ASYNC240 - the session is over
    assert re.search(
        rf"POST /api/v2/account_balances/ -> 200 in [\d.]+ ms \(attempt \d, nonce {NONCE}", text
    )
    assert re.search(r"POST /api/v2/account_balances/ -> 500 .*: ExchangeUnavailable", text)
    assert re.search(r"-> 403 .*API0005", text)  # the error code of the refused signature
    assert "GET /api/v2/order_book/btcusd/ -> 200" in text
    assert re.search(r"workstation.bitstamp.stream: ws://127.0.0.1:\d+/ connected", text)
    assert "workstation.services.hub: market btcusd: live" in text
    for secret in (demo.secret, demo.api_key, "x" * 32):
        assert secret not in text
