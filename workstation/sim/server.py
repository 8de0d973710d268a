"""The simulator's server: REST v2 under ``/api/v2/`` and WebSocket v2 at ``/``, one port.

aiohttp.web does the HTTP; this module adds what makes it Bitstamp: paths with and without the
trailing slash, an HTML 404 for unknown paths and markets, v2 signature verification with the
lenient host forms real clients need, ``X-Server-Auth-Signature`` on authenticated replies, and
the fault injection hooks of :mod:`workstation.sim.faults`.

Bound to 127.0.0.1 unless ``allow_remote`` says otherwise: the simulator holds demo keys and
is not meant to face a network.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from collections import Counter
from collections.abc import Awaitable, Callable

from aiohttp import web

from ..bitstamp.auth_server import AuthRejected, response_signature, verify_request
from ..bitstamp.errors import error_body
from .exchange import SimExchange
from .faults import Faults, HttpFault, HttpFaultKind
from .httpreply import HTML_404, html_error_page, json_reply
from .routes import USER, add_routes
from .ws import StreamHub

__all__ = ["SimServer"]

_log = logging.getLogger("workstation.sim")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class SimServer:
    """A running simulator endpoint around one :class:`SimExchange`.

    ``async with SimServer(exchange) as sim:`` binds a free loopback port (``port=0``), then
    ``sim.rest_url`` / ``sim.ws_url`` point clients at it.
    """

    def __init__(
        self,
        exchange: SimExchange,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: Faults | None = None,
        allow_remote: bool = False,
    ) -> None:
        if not allow_remote and not is_loopback(host):
            raise ValueError(f"refusing to bind {host}: not a loopback address (allow_remote)")
        self.exchange = exchange
        self.host = host
        self.port = port
        self.faults = faults or Faults()
        self.requests: Counter[str] = Counter()
        """Requests received per ``METHOD path``, for tests (coalescing, retries)."""
        self.hub = StreamHub(
            self.faults,
            set(exchange.markets),
            exchange.check_ws_token,
            on_subscribe=exchange.on_first_subscriber,
        )
        exchange.attach_publisher(self.hub)
        self._runner: web.AppRunner | None = None
        self._stopping = asyncio.Event()

    @property
    def rest_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}/"

    def build_app(self) -> web.Application:
        app = web.Application(
            middlewares=[self._count, self._faults_middleware, self._auth],
            client_max_size=1 << 20,
        )
        app.router.add_get("/", self.hub.handle)
        add_routes(app, self.exchange)
        return app

    async def start(self) -> None:
        self._runner = web.AppRunner(
            self.build_app(), access_log=None, handle_signals=False, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        sockets = site._server.sockets if site._server is not None else ()  # noqa: SLF001
        if sockets:
            self.port = sockets[0].getsockname()[1]
        await self.exchange.start()

    async def stop(self) -> None:
        self._stopping.set()
        await self.exchange.stop()
        await self.hub.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SimServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- middlewares ----------------------------------------------------------------------

    @web.middleware
    async def _count(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.requests[f"{request.method} {request.path}"] += 1
        try:
            return await handler(request)
        except web.HTTPNotFound:
            return web.Response(status=404, text=HTML_404, content_type="text/html")
        except web.HTTPMethodNotAllowed:
            return json_reply(error_body("POST method not allowed for this request."), 405)

    @web.middleware
    async def _faults_middleware(
        self, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        fault = self.faults.take_http(request.path) if request.path != "/" else None
        if fault is None:
            return await handler(request)
        return await self._apply_fault(fault, request, handler)

    async def _apply_fault(
        self, fault: HttpFault, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        kind = fault.kind
        if kind is HttpFaultKind.RATE_LIMIT:
            headers = {}
            if fault.retry_after is not None:
                headers["Retry-After"] = f"{fault.retry_after:g}"
            body = error_body("Rate limit exceeded", response_code="400.002")
            return json_reply(body, 429, headers=headers)
        if kind is HttpFaultKind.RATE_LIMIT_TEXT:
            seconds = int(fault.retry_after or 60)
            return web.Response(status=403, text=f"blocked for {seconds} seconds")
        if kind is HttpFaultKind.SERVER_ERROR:
            reason = "Order cancellation failed due to internal error. Please try again."
            return json_reply(error_body(reason, response_code="500.001"), fault.status)
        if kind is HttpFaultKind.HTML_ERROR:
            return web.Response(
                status=fault.status, text=html_error_page(fault.status), content_type="text/html"
            )
        if kind is HttpFaultKind.MALFORMED:
            return web.Response(status=200, text="{not json", content_type="application/json")
        if kind is HttpFaultKind.DELAY:
            await self._wait(fault.seconds)
            return await handler(request)
        response = await handler(request)  # HANG / DROP: the request takes effect first
        if kind is HttpFaultKind.DROP_AFTER_ACCEPT:
            if request.transport is not None:
                request.transport.abort()
            return response
        await self._wait(fault.seconds or 60.0)
        return response

    async def _wait(self, seconds: float) -> None:
        """Sleep, but end early when the server stops (so tests never wait on a hang)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    @web.middleware
    async def _auth(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method != "POST" or not request.path.startswith("/api/v2/"):
            return await handler(request)
        body = await request.read()
        host, _, port = request.host.partition(":")
        try:
            api_key = verify_request(
                method=request.method,
                host=host,
                port=int(port) if port.isdigit() else None,
                scheme=request.scheme,
                path=request.path,
                query=request.query_string,
                headers=request.headers,
                body=body,
                lookup_secret=self.exchange.secret_for_key,
                nonces=self.exchange.nonces,
                now_ms=self.exchange.clock.now_ms() + self.faults.clock_skew_ms,
            )
        except AuthRejected as exc:
            return json_reply(error_body(exc.reason, code=exc.code), 403)
        request[USER] = self.exchange.user_for_key(api_key)
        response = await handler(request)
        if response.status == 200 and isinstance(response, web.Response) and response.body:
            payload = response.body
            assert isinstance(payload, bytes)
            response.headers["X-Server-Auth-Signature"] = response_signature(
                self.exchange.secret_for_key(api_key) or "",
                nonce=request.headers["X-Auth-Nonce"],
                timestamp=request.headers["X-Auth-Timestamp"],
                content_type=response.headers.get("Content-Type", "application/json"),
                body=payload,
            )
        return response
