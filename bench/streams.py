"""The two frame streams every contender replays: real recorded Bitstamp traffic, and the
simulator at ``--speed 100`` run in-process (no sockets) so frames come out fast.

A stream is its frames exactly as a WebSocket client receives them (text) plus one snapshot
per pair, with Decimal levels, for each contender to load in its own representation.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from workstation.sim.clock import SimClock
from workstation.sim.exchange import SimExchange

from .common import REPO

__all__ = [
    "Snapshot",
    "Stream",
    "count_rows",
    "fixtures_dir",
    "load_recorded",
    "sim_stream",
]

Level = tuple[Decimal, Decimal]
DIFF_PREFIX = "diff_order_book_"
SIM_START_US = 1_700_000_000_000_000
"""A fixed start for the simulator's manual clock, so the stream is the same on every run."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One pair's starting book, and the decimals our book needs for it."""

    market: str
    price_places: int
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    timestamp_us: int


@dataclass(frozen=True, slots=True)
class Stream:
    name: str
    title: str
    frames: list[str]
    snapshots: dict[str, Snapshot]
    note: str

    @property
    def pairs(self) -> int:
        return len(self.snapshots)


def count_rows(frames: list[str]) -> int:
    """Changed levels across all frames: the real work (a frame carries 1 to 100s of them)."""
    total = 0
    for text in frames:
        data = json.loads(text)["data"]
        total += len(data["bids"]) + len(data["asks"])
    return total


def fixtures_dir() -> Path:
    """Where the recorded traffic lives: ``$BITSTAMP_FIXTURES`` or ``../shared/fixtures``."""
    default = REPO.parent / "shared" / "fixtures" / "bitstamp"
    return Path(os.environ.get("BITSTAMP_FIXTURES", default))


def _channel(text: str) -> str:
    return json.loads(text)["channel"]


def _decimals(text: str) -> int:
    return len(text.partition(".")[2])


def _rest_snapshot(market: str, body: dict[str, object]) -> Snapshot:
    """A REST ``order_book`` body -> Snapshot; price decimals counted in the price text (the
    market's quote decimals, which the trading-pairs list would also give)."""
    bids = body["bids"]
    asks = body["asks"]
    assert isinstance(bids, list)
    assert isinstance(asks, list)
    places = max(_decimals(row[0]) for row in bids + asks)
    return Snapshot(
        market=market,
        price_places=places,
        bids=tuple((Decimal(p), Decimal(a)) for p, a in bids),
        asks=tuple((Decimal(p), Decimal(a)) for p, a in asks),
        timestamp_us=int(str(body["microtimestamp"])),
    )


def load_recorded(folder: Path) -> Stream | None:
    """The cryptofeed capture's diff frames on the REST snapshots recorded with them.

    Frames at or before their pair's snapshot are dropped, as the feed drops them (reference
    7.6): what is left is exactly what a client applies. ``None`` when the capture is absent.
    """
    capture = folder / "cryptofeed"
    ws_file, http_file = capture / "BITSTAMP.ws.1.0", capture / "BITSTAMP.http.0.0"
    if not (ws_file.is_file() and http_file.is_file()):
        return None
    snapshots: dict[str, Snapshot] = {}
    for line in http_file.read_text().splitlines():
        head, sep, payload = line.partition(": ")
        url = head.split(" ")[0]
        if sep and "/api/v2/order_book/" in url:
            market = url.rstrip("/").rsplit("/", 1)[1]
            snapshots[market] = _rest_snapshot(market, json.loads(payload))
    recorded: list[str] = []
    for line in ws_file.read_text().splitlines():
        head, sep, payload = line.partition(": ")
        if not sep or "<-" in head.split(" "):  # no payload, or client -> server
            continue
        msg = json.loads(payload)
        if msg.get("event") == "data" and str(msg.get("channel")).startswith(DIFF_PREFIX):
            recorded.append(payload)
    frames = []
    for text in recorded:
        msg = json.loads(text)
        snap = snapshots.get(msg["channel"][len(DIFF_PREFIX) :])
        if snap is not None and int(msg["data"]["microtimestamp"]) > snap.timestamp_us:
            frames.append(text)
    used = {_channel(text)[len(DIFF_PREFIX) :] for text in frames}
    return Stream(
        name="recorded",
        title="recorded Bitstamp",
        frames=frames,
        snapshots={m: s for m, s in snapshots.items() if m in used},
        note=(
            f"{len(recorded)} real diff_order_book frames (2022-01, cryptofeed capture); "
            f"{len(frames)} come after their pair's recorded REST snapshot and are replayed on it"
        ),
    )


class _Collector:
    """A Publisher that keeps the diff frames of the pairs we replay, and nothing else."""

    def __init__(self, pairs: tuple[str, ...]) -> None:
        self.channels = {DIFF_PREFIX + p for p in pairs}
        self.frames: list[str] = []

    def publish(self, channel: str, frame: str) -> None:
        if channel in self.channels:
            self.frames.append(frame)

    def has_subscribers(self, channel: str) -> bool:
        return channel in self.channels


def sim_stream(pairs: tuple[str, ...], seconds: float, *, seed: int = 1) -> Stream:
    """``seconds`` of simulated market at ``--speed 100``: one diff frame per pair per 100 ms,
    made on a manual clock so no time is spent waiting."""
    exchange = SimExchange(
        seed=seed, speed=100, clock=SimClock(manual_start_us=SIM_START_US), history_s=0
    )
    collector = _Collector(pairs)
    exchange.attach_publisher(collector)
    exchange.data.publish_book_changes()  # the opening book's changes are in the snapshot
    collector.frames.clear()
    snapshots = {}
    for symbol in pairs:
        book = exchange.data.book(symbol)
        snapshots[symbol] = Snapshot(
            market=symbol,
            price_places=exchange.markets[symbol].quote_decimals,
            bids=book.bids,
            asks=book.asks,
            timestamp_us=book.timestamp_us,
        )
    for _ in range(round(seconds / 0.1)):
        exchange.advance(0.1)
        exchange.data.publish_book_changes()
    return Stream(
        name="sim_speed_100",
        title="sim --speed 100",
        frames=collector.frames,
        snapshots=snapshots,
        note=f"{seconds:g} s of the simulator at --speed 100 (seed {seed}), {len(pairs)} pairs",
    )
