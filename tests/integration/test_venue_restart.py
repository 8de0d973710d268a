"""An order the exchange no longer knows is not "open": the venue is killed and a fresh one
(its own, empty books and a newly funded account) is served on the same port. After the
private stream reconnects, the order ends LOST (journaled), the balances are the new venue's,
and neither a cancel nor a restart of the app brings the order back to "open"."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from workstation.bitstamp.rest import RestClient
from workstation.bitstamp.stream import Backoff, StreamClient
from workstation.bitstamp.transport import RetryPolicy
from workstation.domain.common import Side
from workstation.domain.order_request import OrderRequest
from workstation.domain.order_vocabulary import OrderKind, TrackState
from workstation.services.journal import Journal
from workstation.sim.exchange import SimExchange
from workstation.sim.server import SimServer

from .conftest import credentials_for
from .trading_support import Changes, below_bid, trading_service, until

D = Decimal


def fresh_venue(port: int, key: str, secret: str) -> SimServer:
    """What comes back after a crash that lost everything: same port, same key, nothing else."""
    return SimServer(SimExchange(seed=8, speed=0, api_key=key, api_secret=secret), port=port)


@pytest.fixture
async def first() -> AsyncIterator[SimServer]:
    server = SimServer(SimExchange(seed=7, speed=0))
    async with server:
        yield server


async def test_an_order_the_restarted_venue_does_not_know_ends_lost(
    first: SimServer, journal: Journal, changes: Changes
) -> None:
    demo = first.exchange.demo
    rest = RestClient.for_url(
        first.rest_url,
        credentials=credentials_for(first),
        retry=RetryPolicy(attempts=4, base_s=0.02, cap_s=0.1),
        timeout_s=2.0,
    )
    stream = StreamClient(
        first.ws_url, token_provider=rest.websockets_token, backoff=Backoff(base_s=0.05, cap_s=0.2)
    )
    async with rest, trading_service(first, rest, journal, changes, stream=stream) as service:
        price = below_bid(first, "btcusd", 100)
        request = OrderRequest("btcusd", Side.BUY, OrderKind.LIMIT, D("0.01"), price)
        order = await service.submit(request)
        cid = order.client_order_id
        assert order.state is TrackState.OPEN
        await until(lambda: service.balances["USD"].reserved > 0, "the reserve shown")

        await first.stop()  # the venue dies and loses every order
        async with fresh_venue(first.port, demo.api_key, demo.secret) as second:
            assert second.exchange.open_orders("demo", None) == []
            await until(lambda: service.tracker.get(cid).state.is_final, "the order not open")
            assert service.tracker.get(cid).state is TrackState.LOST
            lost = service.tracker.get(cid)
            assert lost.reason is not None
            assert "no longer knows" in lost.reason
            assert service.open_orders() == []
            assert journal.open_orders("sim") == []
            assert journal.order(cid).state is TrackState.LOST  # type: ignore[union-attr]
            assert [e.kind for e in journal.events(cid)][-1] == "reconciled"
            # The balances are the new venue's: nothing reserved, the new account's funds.
            [usd] = [b for b in second.exchange.balances("demo") if b.currency == "usd"]
            await until(lambda: service.balances["USD"] == usd, "the new venue's balances")
            assert service.balances["USD"].reserved == 0
            # A cancel of it says what it is instead of failing silently.
            assert (await service.cancel(cid)).state is TrackState.LOST
            assert service.submits_allowed

            # And a restart of the app does not bring it back.
            async with trading_service(second, rest, journal, Changes()) as again:
                await until(lambda: again.submits_allowed, "the start's reconcile")
                assert again.open_orders() == []
                assert again.tracker.get(cid).state is TrackState.LOST


async def test_a_restart_against_a_venue_that_lost_the_order_ends_it_lost(
    first: SimServer, journal: Journal, changes: Changes
) -> None:
    """The app was down while the venue lost the order: the start's reconcile finds it gone."""
    demo = first.exchange.demo
    rest = RestClient.for_url(first.rest_url, credentials=credentials_for(first), timeout_s=2.0)
    async with rest:
        async with trading_service(first, rest, journal, changes) as service:
            price = below_bid(first, "btcusd", 100)
            request = OrderRequest("btcusd", Side.BUY, OrderKind.LIMIT, D("0.01"), price)
            cid = (await service.submit(request)).client_order_id
        await first.stop()
        second = fresh_venue(first.port, demo.api_key, demo.secret)
        async with second, trading_service(second, rest, journal, Changes()) as again:
            await until(lambda: again.submits_allowed, "the start's reconcile")
            assert again.open_orders() == []
            assert again.tracker.get(cid).state is TrackState.LOST
