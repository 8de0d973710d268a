"""WebSocket frames recorded from real Bitstamp: every frame parses, encoders match byte-exact.

Sources: cryptofeed's ``BITSTAMP.ws.1.0`` (24 s, 2022-01-05: 20 subscribes and acks, 717
``diff_order_book`` frames on 9 pairs, 10 ``live_trades`` frames) with the REST snapshots of
``BITSTAMP.http.0.0`` taken during it, and gocryptotrader's ``wsMyOrders.json`` (8 real
``private-my_orders`` frames, 2023).
"""

from __future__ import annotations

import importlib
import json
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from workstation.bitstamp.market_data import parse_order_book
from workstation.bitstamp.stream_frames import (
    BookDiffEvent,
    OrderEventFrame,
    StreamEvent,
    SubscriptionSucceeded,
    TradeEvent,
    encode_subscribe,
    parse_frame,
)
from workstation.domain.common import Side
from workstation.domain.market_data import Trade
from workstation.sim.wire.stream_frames import (
    encode_ack,
    encode_diff_frame,
    encode_trade_frame,
)


@dataclass(frozen=True)
class Line:
    outgoing: bool  # client -> server
    text: str


def _capture(recorded: Path) -> list[Line]:
    """``<url> <- <time>: <json>`` (client to server) and ``<time>: <json>`` (server to client)."""
    lines = []
    for raw in (recorded / "cryptofeed" / "BITSTAMP.ws.1.0").read_text().splitlines():
        if raw.startswith("wss://"):
            if " <- " in raw:
                lines.append(Line(True, raw.split(": ", 1)[1]))
            continue  # "<url> <->" marks the connection opening
        lines.append(Line(False, raw.split(": ", 1)[1]))
    return lines


def _decimals(recorded: Path) -> dict[str, tuple[int, int]]:
    line = (recorded / "cryptofeed" / "BITSTAMP.0").read_text().splitlines()[0]
    rows = json.loads(line.split(": ", 1)[1])
    return {r["url_symbol"]: (r["base_decimals"], r["counter_decimals"]) for r in rows}


@pytest.fixture
def capture(recorded: Path) -> list[Line]:
    return _capture(recorded)


@pytest.fixture
def events(capture: list[Line]) -> list[StreamEvent]:
    return [parse_frame(line.text) for line in capture if not line.outgoing]


def _trades(events: list[StreamEvent]) -> dict[int, Trade]:
    return {e.trade.id: e.trade for e in events if isinstance(e, TradeEvent)}


def test_every_server_frame_parses_into_the_expected_events(events: list[StreamEvent]) -> None:
    kinds = Counter(type(e).__name__ for e in events)
    assert kinds == {"BookDiffEvent": 717, "TradeEvent": 10, "SubscriptionSucceeded": 20}
    per_market = Counter(e.diff.market for e in events if isinstance(e, BookDiffEvent))
    assert per_market == {
        "batbtc": 136,
        "usdteur": 101,
        "bateur": 89,
        "ethusd": 85,
        "usdtusd": 74,
        "xlmgbp": 73,
        "xrpeur": 70,
        "adaeur": 62,
        "galaeur": 27,
    }
    assert {e.trade.market for e in events if isinstance(e, TradeEvent)} == {"ethusd"}


def test_acks_answer_every_subscribe(capture: list[Line], events: list[StreamEvent]) -> None:
    asked = [json.loads(line.text)["data"]["channel"] for line in capture if line.outgoing]
    acked = [e.channel for e in events if isinstance(e, SubscriptionSucceeded)]
    assert len(asked) == 20
    assert acked == asked


def test_diff_microtimestamps_strictly_increase_per_channel(events: list[StreamEvent]) -> None:
    last: dict[str, int] = {}
    for e in events:
        if isinstance(e, BookDiffEvent):
            previous = last.get(e.diff.market, 0)
            assert e.diff.timestamp_us > previous, e.diff.market
            last[e.diff.market] = e.diff.timestamp_us
    assert len(last) == 9


def test_zero_amounts_are_deletes(events: list[StreamEvent]) -> None:
    diffs = [e.diff for e in events if isinstance(e, BookDiffEvent)]
    deletes = [level for d in diffs for level in d.bids + d.asks if level[1] == 0]
    assert len(deletes) == 865
    # The second frame of the capture: adaeur removes the ask at 1.17484 ("0.00000000").
    adaeur = next(d for d in diffs if d.market == "adaeur")
    assert adaeur.timestamp_us == 1641343691310202
    assert adaeur.bids == ()
    assert adaeur.asks == (
        (Decimal("1.17438"), Decimal("853.01809477")),
        (Decimal("1.17484"), Decimal("0")),
    )


def test_named_trade_exact_values(events: list[StreamEvent]) -> None:
    trade = _trades(events)[216000477]
    assert trade == Trade(
        market="ethusd",
        id=216000477,
        price=Decimal("3805.44"),
        amount=Decimal("0.07920000"),
        side=Side.BUY,
        timestamp_us=1641343699596000,
        buy_order_id=1443875737346049,
        sell_order_id=1443875731320832,
    )
    assert trade.timestamp == 1641343699
    # "price":3800.8 beside "price_str":"3800.80": the string twin wins, digits and all.
    assert str(_trades(events)[216000506].price) == "3800.80"
    assert str(trade.amount) == "0.07920000"


def test_a_sweep_is_one_trade_per_level(events: list[StreamEvent]) -> None:
    """A taker selling through 5 price levels (6 makers): one frame per fill, same sell order,
    same microtimestamp, falling prices (reference 7.4)."""
    trades = _trades(events)
    sweep = [trades[i] for i in range(216000500, 216000506)]
    assert {t.sell_order_id for t in sweep} == {1443875826016256}
    assert {t.timestamp_us for t in sweep} == {1641343721243000}
    assert all(t.side is Side.SELL for t in sweep)
    prices = [t.price for t in sweep]
    assert prices == sorted(prices, reverse=True)
    assert len(set(prices)) == 5
    assert sum(t.amount for t in sweep) == Decimal("27.93677842")


def test_snapshot_plus_newer_diffs_gives_uncrossed_books(
    recorded: Path, events: list[StreamEvent]
) -> None:
    """Reference 7.6 with the capture's own REST snapshots: drop covered diffs, apply the rest."""
    snapshots = {}
    for line in (recorded / "cryptofeed" / "BITSTAMP.http.0.0").read_text().splitlines():
        if line.strip():
            url, rest = line.split(" -> ", 1)
            market = url.rsplit("/", 1)[1]
            snapshots[market] = parse_order_book(rest.split(": ", 1)[1], market)
    books = {m: (dict(s.bids), dict(s.asks)) for m, s in snapshots.items()}
    dropped: Counter[str] = Counter()
    for e in events:
        if not isinstance(e, BookDiffEvent):
            continue
        diff = e.diff
        if diff.timestamp_us <= snapshots[diff.market].timestamp_us:
            dropped[diff.market] += 1
            continue
        for side, rows in zip(books[diff.market], (diff.bids, diff.asks), strict=True):
            for price, amount in rows:
                if amount == 0:
                    side.pop(price, None)
                else:
                    side[price] = amount
    assert sum(dropped.values()) == 102
    assert min(dropped.values()) >= 2
    assert max(dropped.values()) == 25
    for market, (bids, asks) in books.items():
        assert max(bids) < min(asks), market
    assert (max(books["ethusd"][0]), min(books["ethusd"][1])) == (
        Decimal("3800.78"),
        Decimal("3803.58"),
    )


def test_encoders_reproduce_recorded_frames_byte_for_byte(
    recorded: Path, capture: list[Line]
) -> None:
    decimals = _decimals(recorded)
    checked = Counter()
    for line in capture:
        if line.outgoing:
            channel = json.loads(line.text)["data"]["channel"]
            assert encode_subscribe(channel) == line.text
            checked["subscribe"] += 1
            continue
        event = parse_frame(line.text)
        if isinstance(event, SubscriptionSucceeded):
            assert encode_ack(event.channel) == line.text
        elif isinstance(event, TradeEvent):
            base, counter = decimals[event.trade.market]
            assert encode_trade_frame(event.trade, base, counter) == line.text
        else:
            assert isinstance(event, BookDiffEvent)
            base, counter = decimals[event.diff.market]
            assert encode_diff_frame(event.diff, base, counter) == line.text
        checked[type(event).__name__] += 1
    assert checked == {
        "subscribe": 20,
        "SubscriptionSucceeded": 20,
        "TradeEvent": 10,
        "BookDiffEvent": 717,
    }


def test_encoded_trade_frame_has_the_recorded_keys_and_json_types(
    capture: list[Line],
) -> None:
    """A trade the simulator made up has exactly a real frame's keys, key order and types."""
    recorded = next(json.loads(line.text) for line in capture if '"event":"trade"' in line.text)
    trade = Trade(
        "btcusd", 7, Decimal("41000.5"), Decimal("0.1234"), Side.SELL, 1700000000123000, 11, 12
    )
    ours = json.loads(encode_trade_frame(trade, 8, 2))
    assert list(ours) == list(recorded) == ["data", "channel", "event"]
    assert list(ours["data"]) == list(recorded["data"])
    ours_types = {key: type(value) for key, value in ours["data"].items()}
    assert ours_types == {key: type(value) for key, value in recorded["data"].items()}
    assert ours_types["amount"] is float
    assert ours_types["amount_str"] is str
    assert ours["data"]["amount_str"] == "0.12340000"
    assert ours["data"]["price_str"] == "41000.50"
    assert ours["channel"] == "live_trades_btcusd"
    assert (ours["data"]["type"], ours["data"]["timestamp"]) == (1, "1700000000")


def test_private_my_orders_frames_dispatch_to_order_frames(recorded: Path) -> None:
    module = "workstation.bitstamp.order_frames"
    try:
        importlib.import_module(module).parse_order_event  # noqa: B018
    except (ImportError, AttributeError) as exc:
        pytest.skip(f"{module}.parse_order_event not available: {exc}")
    lines = (recorded / "gocryptotrader" / "wsMyOrders.json").read_text().splitlines()
    frames = [parse_frame(line) for line in lines if line.strip()]
    assert len(frames) == 8
    assert all(isinstance(f, OrderEventFrame) for f in frames)
    events = [f.order_event for f in frames if isinstance(f, OrderEventFrame)]
    assert [e.kind.value for e in events[:3]] == ["order_created", "order_changed", "order_deleted"]
    changed = events[1]
    assert (changed.market, changed.order_id) == ("btcusd", 1658864794234880)
    assert changed.client_order_id == "test_market_buy"
    assert changed.amount == Decimal("0.00000001")  # "amount":1e-8, "amount_str":"0.00000001"
    assert changed.price == Decimal("25862")
