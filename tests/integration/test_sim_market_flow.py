"""The living simulator over real sockets: an order filled by synthetic flow, and the book a
client rebuilds from a REST snapshot plus diff frames equal to the engine's book.

The market runs on a manual clock that starts at the real time, so it moves only when the
test steps it (deterministic for the seed) and signed requests stay inside the 150 s window.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from workstation.bitstamp.errors import OrderNotFound
from workstation.bitstamp.rest import RestClient
from workstation.bitstamp.stream import Backoff, StreamClient
from workstation.bitstamp.stream_frames import BookDiffEvent, SubscriptionSucceeded
from workstation.domain.common import Side
from workstation.domain.orders import OrderState
from workstation.sim.server import SimServer

D = Decimal


async def test_resting_order_is_filled_by_synthetic_flow(
    live_sim: SimServer, live_rest: RestClient
) -> None:
    exchange = live_sim.exchange
    best_bid = exchange.engines["btcusd"].best_bid()
    assert best_bid is not None
    bid = best_bid + D("0.01")  # improve the bid by a tick: first in the queue
    ack = await live_rest.place_limit(
        Side.BUY, "btcusd", amount=D("0.3"), price=bid, client_order_id="join-bid"
    )
    partial = None
    for _ in range(500):  # at most 100 s of sim time, 500 s of model time at speed 5
        exchange.advance(0.2)
        status = await live_rest.order_status(client_order_id="join-bid")
        if status.transactions and partial is None:
            partial = status
        if status.amount_remaining == 0:
            break
    assert partial is not None, "synthetic sellers reached the bid"
    assert 0 < partial.amount_remaining < D("0.3"), "filled in parts, not in one go"
    assert status.state is OrderState.FINISHED
    assert sum(t.base_amount for t in status.transactions) == D("0.3")
    assert {t.price for t in status.transactions} == {bid}
    balances = {b.currency: b for b in await live_rest.account_balances()}
    assert balances["btc"].total == D(5) + D("0.3")
    assert balances["usd"].reserved == 0
    with pytest.raises(OrderNotFound):
        await live_rest.cancel_order(order_id=ack.order_id)


async def test_book_from_snapshot_and_diffs_equals_the_engine(
    live_sim: SimServer, live_rest: RestClient
) -> None:
    stream = StreamClient(live_sim.ws_url, heartbeat_s=1.0, backoff=Backoff(base_s=0.05, cap_s=0.2))
    stream.start()
    try:
        await stream.subscribe("diff_order_book_btcusd")
        buffered: list[BookDiffEvent] = []
        async with asyncio.timeout(10):
            async for event in stream:
                if isinstance(event, SubscriptionSucceeded):
                    break
        live_sim.exchange.advance(1)  # diffs start flowing before the snapshot is taken
        await asyncio.sleep(0.3)
        snapshot = await live_rest.order_book("btcusd")
        for _ in range(20):
            live_sim.exchange.advance(0.5)
            await asyncio.sleep(0.12)  # one publisher period: one diff frame per step
        await asyncio.sleep(0.5)
        while True:
            try:
                async with asyncio.timeout(0.5):
                    event = await stream.next_event()
            except TimeoutError:
                break
            if isinstance(event, BookDiffEvent):
                buffered.append(event)
    finally:
        await stream.close()

    # Reference 7.6: drop diffs at or before the snapshot, apply the rest in order.
    bids = dict(snapshot.bids)
    asks = dict(snapshot.asks)
    applied = 0
    stamps = [e.diff.timestamp_us for e in buffered]
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == len(stamps), "microtimestamps strictly increase"
    for event in buffered:
        if event.diff.timestamp_us <= snapshot.timestamp_us:
            continue
        applied += 1
        for book, changes in ((bids, event.diff.bids), (asks, event.diff.asks)):
            for price, amount in changes:
                if amount == 0:
                    book.pop(price, None)
                else:
                    book[price] = amount
    assert applied >= 15
    assert any(e.diff.timestamp_us <= snapshot.timestamp_us for e in buffered)
    engine = live_sim.exchange.engines["btcusd"]
    assert sorted(bids.items(), reverse=True) == engine.levels(Side.BUY)
    assert sorted(asks.items()) == engine.levels(Side.SELL)
