"""The simulator under connection abuse (issue 17): a WebSocket reader that never reads is
dropped for real, its TCP connection closed and its backlog freed, and connections that never
finish a request head, or sit idle between requests, are closed after the idle timeout. Raw
sockets, so the client does exactly as little as an abuser would."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import socket
import time
from collections.abc import AsyncIterator, Callable

import pytest
import websockets

from workstation.sim.exchange import SimExchange
from workstation.sim.server import MAX_REQUEST_LINE, SimServer

BACKLOG_BYTES = 64 * 1024
"""The slow-reader bound the tests run with (the default is 16 MiB)."""
IDLE_TIMEOUT_S = 1.0
BUSY = (
    "detail_order_book_btcusd",
    "diff_order_book_btcusd",
    "live_orders_btcusd",
    "live_trades_btcusd",
    "order_book_btcusd",
)
"""Every public channel of one market: about 1 MB/s at speed 1000."""


@pytest.fixture
async def busy_sim() -> AsyncIterator[SimServer]:
    """A market moving at speed 1000 with a small per-reader backlog bound."""
    server = SimServer(SimExchange(seed=7, speed=1000), ws_backlog_bytes=BACKLOG_BYTES)
    async with server:
        yield server


@pytest.fixture
async def quick_sim() -> AsyncIterator[SimServer]:
    """A still market whose connections time out after a second without a request."""
    server = SimServer(SimExchange(seed=7, speed=0), idle_timeout_s=IDLE_TIMEOUT_S)
    async with server:
        yield server


async def connect(sim: SimServer) -> socket.socket:
    """A raw TCP connection with a tiny receive buffer, so a client that does not read
    pushes back on the server within a few kilobytes."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (sim.host, sim.port))
    return sock


def masked_text_frame(text: str) -> bytes:
    data = text.encode()
    assert len(data) < 126
    mask = os.urandom(4)
    return (
        bytes([0x81, 0x80 | len(data)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))
    )


async def non_reader(sim: SimServer) -> socket.socket:
    """A WebSocket client that upgrades, subscribes to every busy channel, and never reads."""
    sock = await connect(sim)
    loop = asyncio.get_running_loop()
    key = base64.b64encode(os.urandom(16)).decode()
    head = (
        f"GET / HTTP/1.1\r\nHost: {sim.host}:{sim.port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    await loop.sock_sendall(sock, head.encode())
    for channel in BUSY:
        subscribe = json.dumps({"event": "bts:subscribe", "data": {"channel": channel}})
        await loop.sock_sendall(sock, masked_text_frame(subscribe))
    return sock


async def closed_by_server(sock: socket.socket, within: float) -> None:
    """Read (and discard) until the server's end closes: EOF or a reset."""
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(within):
        while True:
            try:
                if not await loop.sock_recv(sock, 1 << 16):
                    return
            except ConnectionResetError:
                return


async def until(condition: Callable[[], bool], within: float, every: float = 0.01) -> None:
    async with asyncio.timeout(within):
        while True:
            if condition():
                return
            await asyncio.sleep(every)


# -- slow readers ----------------------------------------------------------------------------


async def test_a_reader_that_never_reads_is_disconnected(busy_sim: SimServer) -> None:
    sock = await non_reader(busy_sim)
    try:
        backlog: list[int] = []

        def dropped() -> bool:
            backlog.append(busy_sim.hub.backlog_bytes)
            return busy_sim.hub.slow_readers_dropped > 0

        await until(dropped, within=20)
        assert max(backlog) <= BACKLOG_BYTES
        await until(lambda: busy_sim.open_connections == 0, within=5)
        assert busy_sim.hub.connection_count == 0
        await closed_by_server(sock, within=5)
    finally:
        sock.close()


async def test_slow_readers_leave_nothing_behind(busy_sim: SimServer) -> None:
    """The memory a slow reader held is the hub's backlog: bounded per reader while they
    are connected, and nothing once they were dropped; the market keeps serving others."""
    socks = [await non_reader(busy_sim) for _ in range(3)]
    try:
        peak = 0

        def all_dropped() -> bool:
            nonlocal peak
            peak = max(peak, busy_sim.hub.backlog_bytes)
            return busy_sim.hub.slow_readers_dropped >= 3

        await until(all_dropped, within=20)
        assert peak <= 3 * BACKLOG_BYTES
        await until(lambda: busy_sim.open_connections == 0, within=5)
        assert busy_sim.hub.backlog_bytes == 0
        for sock in socks:
            await closed_by_server(sock, within=5)
        async with websockets.connect(busy_sim.ws_url, open_timeout=10) as ws:
            await ws.send(json.dumps({"event": "bts:heartbeat"}))
            async with asyncio.timeout(10):
                assert json.loads(await ws.recv())["event"] == "bts:heartbeat"
    finally:
        for sock in socks:
            sock.close()


# -- half-open and idle connections -----------------------------------------------------------


@pytest.mark.parametrize("trickle", [False, True], ids=["partial-head", "trickled-head"])
async def test_a_request_head_never_finished_is_timed_out(
    quick_sim: SimServer, trickle: bool
) -> None:
    """Part of a request head, then nothing (or a byte now and then, as slowloris does):
    the server closes the connection once the idle timeout has passed since it opened."""
    loop = asyncio.get_running_loop()
    sock = await connect(quick_sim)
    started = time.monotonic()
    try:
        await loop.sock_sendall(sock, b"GET /api/v2/ticker/btcusd/ HTTP/1.1\r\nHost: x\r\n")

        async def trickle_headers() -> None:
            for n in range(100):
                await asyncio.sleep(0.2)
                await loop.sock_sendall(sock, f"X-{n}: y\r\n".encode())

        trickler = asyncio.create_task(trickle_headers()) if trickle else None
        try:
            await closed_by_server(sock, within=IDLE_TIMEOUT_S + 4)
        finally:
            if trickler is not None:
                trickler.cancel()
                with contextlib.suppress(asyncio.CancelledError, OSError):
                    await trickler
        assert time.monotonic() - started >= IDLE_TIMEOUT_S * 0.9
        await until(lambda: quick_sim.open_connections == 0, within=2)
    finally:
        sock.close()


async def test_an_idle_keep_alive_connection_is_timed_out(quick_sim: SimServer) -> None:
    loop = asyncio.get_running_loop()
    sock = await connect(quick_sim)
    try:
        request = (
            b"GET /api/v2/ticker/btcusd/ HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n"
        )
        await loop.sock_sendall(sock, request)
        reply = b""
        async with asyncio.timeout(5):
            while b"\r\n\r\n" not in reply:
                reply += await loop.sock_recv(sock, 1 << 16)
        assert reply.startswith(b"HTTP/1.1 200")
        answered = time.monotonic()
        await closed_by_server(sock, within=IDLE_TIMEOUT_S + 4)
        assert time.monotonic() - answered >= IDLE_TIMEOUT_S * 0.9
    finally:
        sock.close()


async def test_an_open_websocket_is_not_idle(quick_sim: SimServer) -> None:
    """The idle timeout is for connections between requests: a WebSocket quiet for longer
    still answers."""
    async with websockets.connect(quick_sim.ws_url, open_timeout=10, ping_interval=None) as ws:
        await asyncio.sleep(IDLE_TIMEOUT_S * 2.5)
        await ws.send(json.dumps({"event": "bts:heartbeat"}))
        async with asyncio.timeout(5):
            assert json.loads(await ws.recv())["event"] == "bts:heartbeat"


# -- slow request bodies -------------------------------------------------------------------------

BODY_TIMEOUT_S = 1.0


@pytest.fixture
async def body_sim() -> AsyncIterator[SimServer]:
    """A still market that waits a second for a request body once its head has come."""
    server = SimServer(SimExchange(seed=7, speed=0), body_timeout_s=BODY_TIMEOUT_S)
    async with server:
        yield server


def signed_head(content_length: int) -> bytes:
    """The head of a private POST (forged auth: the body never comes, so it is never checked)."""
    return (
        "POST /api/v2/account_balances/ HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        "X-Auth: BITSTAMP key\r\nX-Auth-Signature: 00\r\nX-Auth-Nonce: n\r\n"
        "X-Auth-Timestamp: 1\r\nX-Auth-Version: v2\r\n"
        f"Content-Length: {content_length}\r\n\r\n"
    ).encode()


@pytest.mark.parametrize("trickle", [False, True], ids=["stalled-body", "trickled-body"])
async def test_a_request_body_never_finished_is_timed_out(
    body_sim: SimServer, trickle: bool
) -> None:
    """A complete head, then part of the body and nothing more (or a byte now and then):
    the server answers 408 with Bitstamp's error shape once the body deadline passed, and
    closes the connection. The old server waited for the body as long as the client kept
    the connection open."""
    loop = asyncio.get_running_loop()
    sock = await connect(body_sim)
    try:
        await loop.sock_sendall(sock, signed_head(100) + b"amount=1")
        sent = time.monotonic()

        async def trickle_body() -> None:
            for _ in range(80):
                await asyncio.sleep(0.2)
                await loop.sock_sendall(sock, b"0")

        trickler = asyncio.create_task(trickle_body()) if trickle else None
        reply = b""
        try:
            async with asyncio.timeout(BODY_TIMEOUT_S * 2 + 4):
                while True:
                    try:
                        chunk = await loop.sock_recv(sock, 1 << 16)
                    except ConnectionResetError:
                        break
                    if not chunk:
                        break
                    reply += chunk
        finally:
            if trickler is not None:
                trickler.cancel()
                with contextlib.suppress(asyncio.CancelledError, OSError):
                    await trickler
        assert time.monotonic() - sent >= BODY_TIMEOUT_S * 0.9
        head, _, body = reply.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408"), reply[:200]
        assert b"application/json" in head
        assert json.loads(body) == {
            "status": "error",
            "reason": "Request body not received in time.",
        }
        await until(lambda: body_sim.open_connections == 0, within=2)
    finally:
        sock.close()


async def test_a_body_that_arrives_in_time_is_served(body_sim: SimServer) -> None:
    """The deadline is for the whole body, not a timer that fires on honest slow starts:
    a body sent in pieces within the deadline is read and answered (here: the forged
    signature's 403)."""
    loop = asyncio.get_running_loop()
    sock = await connect(body_sim)
    try:
        form = b"amount=1&price=2"
        await loop.sock_sendall(sock, signed_head(len(form)) + form[:5])
        await asyncio.sleep(BODY_TIMEOUT_S / 4)
        await loop.sock_sendall(sock, form[5:])
        reply = b""
        async with asyncio.timeout(5):
            while b"}" not in reply:
                reply += await loop.sock_recv(sock, 1 << 16)
        assert reply.startswith(b"HTTP/1.1 403"), reply[:200]
        assert b'"code":"API0' in reply
    finally:
        sock.close()


# -- request lines -------------------------------------------------------------------------------


async def test_a_request_line_past_64_kib_is_refused_and_the_server_lives(
    quick_sim: SimServer,
) -> None:
    """URLs up to MAX_REQUEST_LINE get Bitstamp's API0021 (test_sim_bad_input.py); past it
    aiohttp refuses the line itself (a plain 400, connection closed): the bound on what a
    connection that never ends its request line can make the server hold."""
    reader, writer = await asyncio.open_connection(quick_sim.host, quick_sim.port)
    try:
        target = "/api/v2/ticker/btcusd/?pad=" + "a" * MAX_REQUEST_LINE
        writer.write(f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        await writer.drain()
        async with asyncio.timeout(10):
            status_line = await reader.readline()
            assert status_line.split()[1:2] == [b"400"], status_line
            await reader.read()  # until the server closes
    finally:
        writer.close()
    async with websockets.connect(quick_sim.ws_url, open_timeout=10) as ws:
        await ws.send(json.dumps({"event": "bts:heartbeat"}))
        async with asyncio.timeout(10):
            assert json.loads(await ws.recv())["event"] == "bts:heartbeat"
