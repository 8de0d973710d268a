"""A venue that cannot be reached or refuses us: an order request that never left the machine
(nothing listens at the venue's address) is refused as "not sent: cannot reach HOST", and the
venue, once up on that address, holds no such order; a first connection answered with 429s
is retried with backoff and said meanwhile."""

from __future__ import annotations

import asyncio
import socket
from decimal import Decimal
from pathlib import Path

from workstation.bitstamp.auth import Credentials
from workstation.bitstamp.rest import RestClient
from workstation.bitstamp.secret import Secret
from workstation.domain.common import Side
from workstation.domain.order_request import OrderRequest
from workstation.domain.order_vocabulary import OrderKind, TrackState
from workstation.services.journal import Journal
from workstation.services.order_tracker import OrderTracker
from workstation.services.session import Session
from workstation.services.venue import Venue
from workstation.sim.exchange import SimExchange
from workstation.sim.faults import HttpFault, HttpFaultKind
from workstation.sim.server import SimServer


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_a_submit_to_an_unreachable_venue_says_not_sent_and_leaves_no_order(
    tmp_path: Path,
) -> None:
    port = free_port()
    exchange = SimExchange(seed=7, speed=0)
    demo = exchange.demo
    credentials = Credentials(
        key=Secret(demo.api_key), secret=Secret(demo.secret), env="sim", host="127.0.0.1"
    )
    rest = RestClient.for_url(f"http://127.0.0.1:{port}", credentials=credentials, timeout_s=2.0)
    with Journal(tmp_path / "journal.sqlite3") as journal:
        tracker = OrderTracker(rest, journal, "sim")
        assert await tracker.reconcile_open() == []  # nothing journaled: the gate opens
        request = OrderRequest(
            "btcusd", Side.BUY, OrderKind.LIMIT, Decimal("0.001"), price=Decimal("50000")
        )
        order = await tracker.submit(request)
        assert order.state is TrackState.REJECTED
        assert order.reason == f"not sent: cannot reach 127.0.0.1:{port}"
        async with SimServer(exchange, port=port) as sim:
            assert sim.port == port
            assert await rest.open_orders() == []
            assert sim.exchange.open_orders("demo", None) == []
    await rest.aclose()


async def test_a_first_connection_refused_with_429_is_retried_and_said(sim: SimServer) -> None:
    """The venue answers the first market loads with 429s: the session waits, says the
    host refuses requests, and opens once the venue serves it again."""
    sim.faults.fail_next(
        "/api/v2/markets/", HttpFault(HttpFaultKind.RATE_LIMIT, retry_after=0.05), times=4
    )
    seen: list[str] = []
    async with Session(Venue("sim", sim.rest_url, sim.ws_url)) as session:
        opening = asyncio.create_task(session.open_market_hub(lambda change: None))
        while not opening.done():
            if session.reach.down:
                seen.append(session.reach.describe())
            await asyncio.sleep(0.02)
        hub = opening.result()
        assert "btcusd" in hub.markets
        assert not session.reach.down
    assert seen, "the refusal was never said"
    assert seen[0].startswith(f"127.0.0.1:{sim.port} refuses requests since")
    assert "retry in" in seen[0]
    assert sim.requests["GET /api/v2/markets/"] == 5
