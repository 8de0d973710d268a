"""An order request that never left the machine (nothing listens at the venue's address):
it is refused as "not sent: cannot reach HOST", and the venue, once it is up on that
address, holds no such order."""

from __future__ import annotations

import socket
from decimal import Decimal
from pathlib import Path

from workstation.bitstamp.auth import Credentials
from workstation.bitstamp.rest import RestClient
from workstation.domain.common import Side
from workstation.domain.markets import OrderKind
from workstation.domain.order_request import OrderRequest
from workstation.services.journal import Journal
from workstation.services.orders import OrderTracker, TrackState
from workstation.sim.exchange import SimExchange
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
    credentials = Credentials(key=demo.api_key, secret=demo.secret, env="sim", host="127.0.0.1")
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
