"""The seeds the fuzz count mutates, and the mutations (plain seeded ``random``).

Seeds are real Bitstamp traffic when ``../shared/fixtures/bitstamp`` is there (WebSocket
frames public and private, REST bodies with their status and headers, error pages), else the
simulator's own: the replies of the scripted REST session of the shape tests and the frames
its WebSocket sent meanwhile. Either way every kind of payload the client reads is seeded.

A mutation works on the bytes (flips, truncation, splices) or, for JSON, on the value (two
fields' values swapped, a field dropped or added, a value of another type, a huge or odd
number, deep nesting, odd text), then encodes it again.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websockets

from tests.protocol.sim_session import rest_session
from workstation.bitstamp.auth import Credentials
from workstation.bitstamp.rest import RestClient
from workstation.bitstamp.secret import Secret
from workstation.sim.server import SimServer

__all__ = ["Seed", "mutate", "recorded_seeds", "sim_seeds"]

BOOK_ROWS = 100
"""Rows kept per side of a full-depth snapshot (thousands): parsing speed, not coverage, is
what the rest would add."""
SIDES = ("bids", "asks")


@dataclass(frozen=True)
class Seed:
    """One payload the client reads: a WebSocket ``frame`` or a REST ``body``."""

    kind: str
    text: bytes
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    endpoint: str = "/api/v2/"


# -- real traffic ----------------------------------------------------------------------------


def _after_colon(line: str) -> str:
    return line.split(": ", 1)[1]


def _trim_book(text: str) -> str:
    """A snapshot's first ``BOOK_ROWS`` rows a side; any other text as it is."""
    try:
        book = json.loads(text)
    except ValueError:
        return text
    if not isinstance(book, dict) or not all(isinstance(book.get(s), list) for s in SIDES):
        return text
    for side in SIDES:
        book[side] = book[side][:BOOK_ROWS]
    return json.dumps(book)


def _raw_http(path: Path) -> Seed:
    raw = path.read_bytes().replace(b"\r\n", b"\n")
    head, _, body = raw.partition(b"\n\n")
    status_line, *lines = head.decode("latin-1").split("\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Seed("body", body, int(status_line.split()[1]), headers, f"/api/v2/{path.stem}/")


def recorded_seeds(folder: Path) -> list[Seed]:
    """Every recorded frame and body in ``folder`` (../shared/fixtures/bitstamp)."""
    seeds = []
    for line in (folder / "cryptofeed" / "BITSTAMP.ws.1.0").read_text().splitlines():
        if line.strip() and not line.startswith("wss://"):
            seeds.append(Seed("frame", _after_colon(line).encode()))
    for line in (folder / "gocryptotrader" / "wsMyOrders.json").read_text().splitlines():
        if line.strip():
            seeds.append(Seed("frame", line.encode()))
    for line in (folder / "cryptofeed" / "BITSTAMP.http.0.0").read_text().splitlines():
        if line.strip():
            url, rest = line.split(" -> ", 1)
            body = _trim_book(_after_colon(rest)).encode()
            seeds.append(Seed("body", body, endpoint=url.split(".net", 1)[1]))
    for line in (folder / "cryptofeed" / "BITSTAMP.0").read_text().splitlines():
        if line.strip():
            body = _after_colon(line).encode()
            seeds.append(Seed("body", body, endpoint="/api/v2/trading-pairs-info/"))
    seeds += [_raw_http(path) for path in sorted((folder / "georlav").glob("*.txt"))]
    return seeds


# -- the simulator's own ---------------------------------------------------------------------

SIM_FRAMES = 200
"""Frames the simulator's corpus waits for (its market moves: diffs and trades)."""
_CHANNELS = ("diff_order_book_btcusd", "order_book_btcusd", "live_trades_btcusd")


async def sim_seeds(sim: SimServer) -> list[Seed]:
    """The scripted REST session's replies, and every frame the simulator's WebSocket sent
    (public channels and our private ones) while it ran."""
    frames: list[bytes] = []
    rest = RestClient.for_url(sim.rest_url, credentials=_credentials(sim), timeout_s=10)
    async with rest, websockets.connect(sim.ws_url) as ws:
        token = await rest.websockets_token()
        for channel in _CHANNELS:
            await ws.send(json.dumps({"event": "bts:subscribe", "data": {"channel": channel}}))
        for base in ("private-my_orders_btcusd", "private-my_trades_btcusd"):
            data = {"channel": f"{base}-{token.user_id}", "auth": token.token}
            await ws.send(json.dumps({"event": "bts:subscribe", "data": data}))
        await ws.send(json.dumps({"event": "bts:heartbeat"}))

        async def read() -> None:
            while True:
                frame = await ws.recv()
                frames.append(frame.encode() if isinstance(frame, str) else frame)

        reader = asyncio.create_task(read())
        replies = await rest_session(sim)
        sim.hub.request_reconnect()
        for _ in range(40):  # the market's own frames too, when it moves (up to 2 s)
            if len(frames) >= SIM_FRAMES:
                break
            await asyncio.sleep(0.05)
        reader.cancel()
    seeds = [Seed("frame", frame) for frame in frames]
    for name, reply in sorted(replies.items()):
        headers = {k.lower(): v for k, v in reply.headers.items()}
        body = _trim_book(reply.text).encode()
        seeds.append(Seed("body", body, reply.status, headers, f"/api/v2/{name}/"))
    return seeds


def _credentials(sim: SimServer) -> Credentials:
    demo = sim.exchange.demo
    return Credentials(Secret(demo.api_key), Secret(demo.secret), "sim", sim.host)


# -- mutations -------------------------------------------------------------------------------

_ODD_NUMBERS: tuple[Any, ...] = (
    "9" * 400,
    "-" + "9" * 60,
    "1e999999",
    "-1E-999999",
    "NaN",
    "Infinity",
    "-0",
    "0." + "0" * 300 + "1",
    "0x1f",
    "1_000",
    " 1",
    "١٢٣",
    "",
    ".",
    "1.2.3",
    10**400,
    -(10**30),
    1e308,
    -0.0,
    0,
    True,
)
_ODD_TEXT = ("", " ", "\x00", "\ud7ff", "é" * 50, "a" * 100_000, "null", "[]", "{}", "💥")


_NEST = "\x00nest\x00"
"""Stands for a deeply nested value until the mutant is encoded (``mutate``)."""


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths to every value inside ``value`` (containers included), shallow first."""
    found = [path]
    if len(path) > 20:
        return found
    if isinstance(value, dict):
        for key, item in value.items():
            found += _leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:20]):
            found += _leaves(item, (*path, index))
    return found


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        value = value[step]
    return value


def _set(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    _get(value, path[:-1])[path[-1]] = new
    return value


def _other_type(rng: random.Random, old: Any) -> Any:
    choices: list[Any] = [None, 0, 1.5, "x", [], {}, False, [old], {"v": old}, str(old)]
    return rng.choice(choices)


def _mutate_value(rng: random.Random, value: Any) -> Any:
    paths = _leaves(value)
    path = rng.choice(paths)
    old = _get(value, path)
    how = rng.randrange(8)
    if how == 0 and len(paths) > 2:  # two fields' values swapped
        other = rng.choice(paths)
        if other[: len(path)] != path and path[: len(other)] != other:
            first, second = _get(value, path), _get(value, other)
            _set(value, path, second)
            _set(value, other, first)
            return value
    if how == 1 and path and isinstance(_get(value, path[:-1]), dict):  # a field dropped
        del _get(value, path[:-1])[path[-1]]
        return value
    if how == 2 and isinstance(old, dict):  # a field added
        old[rng.choice(("extra", "id", "data", "event", "channel", ""))] = rng.choice(_ODD_TEXT)
        return value
    if how == 3:
        return _set(value, path, _other_type(rng, old))
    if how in (4, 5):
        return _set(value, path, rng.choice(_ODD_NUMBERS))
    if how == 6:
        return _set(value, path, _NEST)
    return _set(value, path, rng.choice(_ODD_TEXT))


def _mutate_bytes(rng: random.Random, text: bytes, other: bytes) -> bytes:
    how = rng.randrange(4)
    data = bytearray(text)
    if how == 0 and data:  # byte flips
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data)
    if how == 1:  # truncation
        return bytes(data[: rng.randrange(len(data) + 1)])
    if how == 2:  # a splice of two payloads
        return bytes(data[: rng.randrange(len(data) + 1)]) + other[rng.randrange(len(other) + 1) :]
    return bytes(data) + rng.choice((b"}", b"]", b",", b"\x00", b" " * 10, b"\xff\xfe"))


def mutate(rng: random.Random, seed: Seed, other: Seed) -> bytes:
    """One mutant of ``seed`` (``other`` is what a splice takes its tail from)."""
    if rng.random() < 0.35:
        return _mutate_bytes(rng, seed.text, other.text)
    try:
        value = json.loads(seed.text)
    except ValueError:
        return _mutate_bytes(rng, seed.text, other.text)
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        value = _mutate_value(rng, value)
    text = json.dumps(value, ensure_ascii=rng.random() < 0.5)
    nest = json.dumps(_NEST)
    while nest in text:  # deep nesting, written out: [[[...{"a": 1}...]]]
        depth = rng.choice((2, 64, 600, 5000))
        opener, closer = ("[", "]") if rng.random() < 0.5 else ('{"a":', "}")
        text = text.replace(nest, opener * depth + "1" + closer * depth, 1)
    return text.encode("utf-8", "surrogatepass")
