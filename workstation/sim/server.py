"""The simulator's server: REST v2 under ``/api/v2/`` and WebSocket v2 at ``/``, one port.

aiohttp.web does the HTTP; this module adds what makes it Bitstamp: paths with and without the
trailing slash, an HTML 404 for unknown paths and markets, v2 signature verification with the
lenient host forms real clients need, ``X-Server-Auth-Signature`` on authenticated replies,
Bitstamp's API0021 for a URL longer than 2,000 characters, a deadline on request bodies,
Bitstamp's request budget (HTTP 429 past 400 requests/s or 10,000 per 10 minutes, reference
section 6: per API key once its signature verified, per client address otherwise), a
``Date`` header on the exchange clock, and the fault injection hooks of
:mod:`workstation.sim.faults`, including the periodic ones this server runs as its own tasks
and the net cut (:meth:`SimServer.net_cut`), which only the server can do: it owns the
listening socket and the connections.

Bound to 127.0.0.1 unless ``allow_remote`` says otherwise: the simulator holds demo keys and
is not meant to face a network.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import ipaddress
import logging
import math
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable

from aiohttp import hdrs, web

from ..bitstamp.signing import response_signature
from .chaos import chaos_minute, play_minute
from .exchange import SimExchange
from .faultplan import FaultPlan
from .faults import WRONG_SHAPE_BODY, Faults, HttpFault, HttpFaultKind, MalformedFrame
from .httpreply import HTML_404, html_error_page, json_reply
from .periodic import MIN_PERIOD_S, Periodic
from .ratelimit import RateLimiter, RateLimits
from .routes import USER, add_routes
from .wire.auth import REASONS, AuthRejected, verify_request
from .wire.error_bodies import error_body
from .ws import SEND_QUEUE_BYTES, StreamHub

__all__ = ["BITSTAMP_LIMITS", "SimServer"]

_log = logging.getLogger("workstation.sim")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_API_KEY = web.RequestKey("api_key", str)
"""The API key whose signature verified: the caller whose budget the request spends."""
_AUTH_REJECTED = web.RequestKey("auth_rejected", AuthRejected)
"""Why a request that needs a signature failed verification (answered 403 after faults)."""
_UNREADABLE = web.RequestKey("unreadable", web.HTTPException)
"""Why the body of a request that needs a signature could not be read (413 past 1 MiB)."""

BITSTAMP_LIMITS = RateLimits()
"""400 requests per second and 10,000 per 10 minutes per API key or IP (reference section 6)."""

IDLE_TIMEOUT_S = 20.0
"""How long a connection may sit without a complete request head before it is closed: idle
between keep-alive requests, or still sending its first head (aiohttp's keep-alive timer runs
from the connection's start and closes it while it waits for a head, so it is the header
timeout too). 20 s: longer than an HTTP client keeps an idle pooled connection (httpx, ours:
5 s; aiohttp, ccxt's: 15 s), so the client lets go first and never reuses one being closed; short
enough that 500 connections that never finish their headers are gone in 20 s, not 75
(aiohttp's default; issue 17). A request being handled, a WebSocket included, is not idle."""

BODY_TIMEOUT_S = 10.0
"""How long a request body may take to arrive once its head has: a signed request whose body
has not come in by then is answered 408 and its connection closed (a body trickled a byte at
a time would otherwise hold the connection for as long as the client likes: the idle timeout
only runs while no request is in progress). An unread body (of a request answered without
it) is drained for as long before the connection closes. Loopback bodies of at most 1 MiB
take milliseconds."""

MAX_URL_CHARS = 2000
"""Bitstamp answers API0021 "URL longer than 2000 chars" past this (reference 6); counted on
the request target (path and query as sent), whatever host the client addressed."""

MAX_REQUEST_LINE = 64 << 10
"""The longest request line aiohttp will parse (its default is 8,190 bytes, past which it
answers a plain-text 400 itself): every URL up to 64 KiB reaches the application and gets
API0021. A longer line still gets aiohttp's 400; bounding it bounds what a connection that
never ends its request line can make the server hold."""

#: Names of the periodic faults a server can run (see ``SimServer.arm``).
DROP_WS = "drop-ws"
RECONNECT = "request-reconnect"
STALL = "stall"
MALFORM = "malformed"
NET_CUT = "net-cut"
CHAOS = "chaos"
MALFORM_KINDS = (MalformedFrame.TRUNCATED, MalformedFrame.WRONG_SHAPE)
"""What ``malform_every`` does to frames, in turn."""


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

    Args:
        rate_limits: the REST budget per API key once its signature verified, per client
            address for every other request (an ``X-Auth`` header is only a claim); past it
            every request is answered 429 until the window has room again. None disables it.
        idle_timeout_s: see :data:`IDLE_TIMEOUT_S` (tests make it short).
        body_timeout_s: see :data:`BODY_TIMEOUT_S` (tests make it short).
        ws_backlog_bytes: how far behind a WebSocket reader may fall, in bytes, before it
            is dropped (:data:`~workstation.sim.ws.SEND_QUEUE_BYTES`).
    """

    def __init__(
        self,
        exchange: SimExchange,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: Faults | None = None,
        rate_limits: RateLimits | None = BITSTAMP_LIMITS,
        allow_remote: bool = False,
        idle_timeout_s: float = IDLE_TIMEOUT_S,
        body_timeout_s: float = BODY_TIMEOUT_S,
        ws_backlog_bytes: int = SEND_QUEUE_BYTES,
    ) -> None:
        if not allow_remote and not is_loopback(host):
            raise ValueError(f"refusing to bind {host}: not a loopback address (allow_remote)")
        self.exchange = exchange
        self.host = host
        self.port = port
        self.faults = faults or Faults()
        self.requests: Counter[str] = Counter()
        """Requests received per ``METHOD path``, for tests (coalescing, retries)."""
        self.auth_claims: Counter[str] = Counter()
        """Requests that carried an ``X-Auth*`` header (signed, or claiming to be), per
        ``METHOD path``, for tests: a client watching without keys sends none."""
        self.hub = StreamHub(
            self.faults,
            set(exchange.markets),
            exchange.check_ws_token,
            on_subscribe=exchange.on_first_subscriber,
            backlog_bytes=ws_backlog_bytes,
        )
        self.idle_timeout_s = idle_timeout_s
        self.body_timeout_s = body_timeout_s
        exchange.attach_publisher(self.hub)
        self.rate_limiter = RateLimiter(rate_limits) if rate_limits is not None else None
        """None when the budget is not enforced; ``rate_limiter.refused`` counts the 429s."""
        self._periodic = Periodic()
        self._toggled: tuple[str, ...] = ()
        """The channels the intermittent stall switches (``toggle_stall_every``)."""
        self._toggled_off = False
        """Whether those channels are stalled right now."""
        self._malform_rounds = 0
        """Rounds of ``malform_every`` that armed a corruption."""
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        """The listening socket; None while the net is cut."""
        self._cuts = 0
        """Net cuts in force now (they may overlap: the net is back when the last ends)."""
        self.net_cuts_started = 0
        """How many net cuts began (overlapping ones count once), for tests."""
        self._stopping = asyncio.Event()

    @property
    def rest_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}/"

    @property
    def open_connections(self) -> int:
        """TCP connections open now, REST and WebSocket alike (for tests)."""
        server = self._runner.server if self._runner is not None else None
        return len(server.connections) if server is not None else 0

    def build_app(self) -> web.Application:
        app = web.Application(
            middlewares=[
                self._count,
                self._url_length,
                self._authenticate,
                self._rate_limit,
                self._faults_middleware,
                self._signed,
            ],
            client_max_size=1 << 20,
        )
        app.router.add_get("/", self.hub.handle)
        add_routes(app, self.exchange)
        return app

    async def start(self) -> None:
        self._runner = web.AppRunner(
            self.build_app(),
            access_log=None,
            handle_signals=False,
            shutdown_timeout=1.0,
            keepalive_timeout=self.idle_timeout_s,
            lingering_time=self.body_timeout_s,
            max_line_size=MAX_REQUEST_LINE,
        )
        await self._runner.setup()
        await self._listen()
        addresses = self._runner.addresses  # each listening socket's (host, port, ...)
        if addresses:
            self.port = addresses[0][1]
        await self.exchange.start()
        self._periodic.start()

    async def _listen(self) -> None:
        assert self._runner is not None
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self._site = site

    async def stop(self) -> None:
        self._stopping.set()
        await self._periodic.stop()  # a periodic net cut under way ends without reopening
        await self.exchange.stop()
        await self.hub.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            self._site = None

    async def __aenter__(self) -> SimServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- faults that repeat --------------------------------------------------------------------

    def arm(self, plan: FaultPlan) -> None:
        """Arm every fault of ``plan`` (what the ``workstation sim --fault-*`` flags ask)."""
        self.drop_ws_every(plan.drop_ws_every_s)
        self.request_reconnect_every(plan.reconnect_every_s)
        if plan.stall_period_s is not None and plan.stall_channels:
            self.toggle_stall_every(plan.stall_period_s, plan.stall_channels)
        else:
            self.toggle_stall_every(None)
        self.malform_every(plan.malformed_every_s)
        if plan.net_cut_s is not None and plan.net_cut_every_s is not None:
            self.cut_net_every(plan.net_cut_every_s, plan.net_cut_s)
        else:
            self.cut_net_every(None)
        self.play_chaos(plan.chaos_seed)
        self.faults.apply(plan)  # after the toggle's own unstall: permanent stalls stay

    def clear_faults(self) -> None:
        """Back to normal service: per-request faults cleared, periodic ones stopped."""
        self.drop_ws_every(None)
        self.request_reconnect_every(None)
        self.toggle_stall_every(None)
        self.malform_every(None)
        self.cut_net_every(None)
        self.play_chaos(None)
        self.faults.clear()

    @property
    def periodic_faults(self) -> dict[str, float]:
        """The periodic faults armed, by name, with their period in seconds."""
        return self._periodic.intervals

    @property
    def periodic_runs(self) -> Counter[str]:
        """How often each periodic fault fired (``"drop-ws"``, ``"request-reconnect"``,
        ``"stall"``, ``"malformed"``, ``"net-cut"``: counted once the cut is over,
        ``"chaos"``: minutes played to their end), for tests."""
        return self._periodic.runs

    def drop_ws_every(self, seconds: float | None) -> None:
        """Abruptly close every WebSocket connection each ``seconds`` (None: stop doing so)."""
        self._periodic.schedule(DROP_WS, seconds, self.hub.drop_all)

    def request_reconnect_every(self, seconds: float | None) -> None:
        """Send ``bts:request_reconnect`` to every connection each ``seconds`` (None: stop)."""
        self._periodic.schedule(RECONNECT, seconds, self.hub.request_reconnect)

    def toggle_stall_every(self, seconds: float | None, channels: Iterable[str] = ("*",)) -> None:
        """Stall ``channels`` intermittently: they flow for ``seconds``, then their frames are
        withheld for ``seconds``, and so on (a feed that goes quiet and comes back). None
        stops that and resumes the channels it had stalled."""
        self._periodic.schedule(STALL, seconds, self._toggle_stall)  # validates first
        if self._toggled_off:
            for channel in self._toggled:
                self.faults.unstall(channel)
        self._toggled = tuple(channels) if seconds is not None else ()
        self._toggled_off = False

    def _toggle_stall(self) -> None:
        self._toggled_off = not self._toggled_off
        for channel in self._toggled:
            if self._toggled_off:
                self.faults.stall(channel)
            else:
                self.faults.unstall(channel)

    def malform_every(self, seconds: float | None) -> None:
        """Each ``seconds``, corrupt the next frame of every channel that has subscribers:
        cut in half (not JSON) and wrong-shaped JSON in turn, round by round. A channel
        holds at most one pending corruption, so a quiet channel does not pile them up
        (None: stop; corruptions already armed stay until used or ``clear_faults``)."""
        self._periodic.schedule(MALFORM, seconds, self._malform_subscribed)
        self._malform_rounds = 0

    def _malform_subscribed(self) -> None:
        kind = MALFORM_KINDS[self._malform_rounds % len(MALFORM_KINDS)]
        armed = False
        for channel in self.hub.subscribed_channels():
            if not self.faults.malformed_pending(channel):
                self.faults.malform_next(channel, kind)
                armed = True
        if armed:  # the next kind once this one is in use
            self._malform_rounds += 1

    def play_chaos(self, seed: int | None) -> None:
        """Play the chaos minute of ``seed`` (:mod:`workstation.sim.chaos`) over and over,
        the next one as soon as one ends (None: stop; a minute under way closes its
        windows as its task unwinds)."""
        if seed is None:
            self._periodic.schedule(CHAOS, None, lambda: None)
            return
        steps = chaos_minute(seed)
        self._periodic.schedule(CHAOS, MIN_PERIOD_S, lambda: play_minute(self, steps))

    # -- the net cut ----------------------------------------------------------------------

    @property
    def net_is_cut(self) -> bool:
        """Whether a net cut is in force: connections are refused."""
        return self._cuts > 0

    @contextlib.asynccontextmanager
    async def net_cut(self) -> AsyncIterator[None]:
        """Cut the network for as long as the block runs: the listening socket is closed (a
        client connecting gets ECONNREFUSED, or ECONNRESET if its connect was caught in the
        accept queue as the socket closed, as when a real link or host goes down) and every
        open connection, keep-alive HTTP and WebSocket alike, is aborted (reset, no close
        frame). On leaving, the server listens again on the same port. The exchange runs on
        throughout: books move, orders rest and fill, balances change; clients must resync.
        Cuts may overlap; the network is back when the last one ends (or never, once the
        server is stopping).

        Raises:
            RuntimeError: the server is not running.
            OSError: on leaving, the port could not be bound again (taken meanwhile).
        """
        if self._runner is None:
            raise RuntimeError("the simulator is not running: no network to cut")
        await self._cut()
        try:
            yield
        finally:
            await self._restore()

    async def cut_net(self, seconds: float) -> None:
        """Cut the network for ``seconds`` (see :meth:`net_cut`); a stop ends it early."""
        _check_cut(seconds)
        async with self.net_cut():
            await self._wait(seconds)

    def cut_net_every(self, seconds: float | None, cut_s: float = 1.0) -> None:
        """Keep the network up for ``seconds``, then cut it for ``cut_s``, and so on (the
        first cut after ``seconds``; None stops, and a cut under way ends as its task
        unwinds)."""
        if seconds is not None:
            _check_cut(cut_s)
        self._periodic.schedule(NET_CUT, seconds, lambda: self.cut_net(cut_s))

    async def _cut(self) -> None:
        self._cuts += 1
        if self._cuts > 1:
            return
        self.net_cuts_started += 1
        _log.info("fault: network cut")
        site, self._site = self._site, None
        if site is not None:
            await site.stop()  # closes the listening socket only
        await self.hub.drop_all()
        server = self._runner.server if self._runner is not None else None
        for handler in tuple(server.connections if server is not None else ()):
            transport = handler.transport
            if transport is not None:
                transport.abort()

    async def _restore(self) -> None:
        self._cuts -= 1
        if self._cuts or self._runner is None or self._stopping.is_set():
            return
        await self._listen()
        _log.info("fault: network back on port %d", self.port)

    # -- middlewares ----------------------------------------------------------------------

    @web.middleware
    async def _count(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.requests[f"{request.method} {request.path}"] += 1
        if any(name.lower().startswith("x-auth") for name in request.headers):
            self.auth_claims[f"{request.method} {request.path}"] += 1
        try:
            response = await handler(request)
        except web.HTTPNotFound:
            response = web.Response(status=404, text=HTML_404, content_type="text/html")
        except web.HTTPMethodNotAllowed:
            response = json_reply(error_body("POST method not allowed for this request."), 405)
        if not response.prepared:  # a WebSocket has sent its headers already
            response.headers[hdrs.DATE] = self.http_date()
        return response

    def http_date(self) -> str:
        """The ``Date`` header: the exchange clock plus any clock skew fault. Clients learn
        the server's time from it (the auth timestamp window is on the same clock)."""
        ms = self.exchange.clock.now_ms() + self.faults.clock_skew_ms
        return email.utils.formatdate(ms / 1000, usegmt=True)

    @web.middleware
    async def _url_length(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Bitstamp's API0021 for a URL past :data:`MAX_URL_CHARS`, before anything else is
        done with the request (no signature checked, no budget spent, no fault applied)."""
        if len(request.raw_path) > MAX_URL_CHARS:
            body = error_body(REASONS["API0021"], code="API0021")
            return json_reply(body, AuthRejected.http_status)
        return await handler(request)

    @web.middleware
    async def _rate_limit(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        limiter = self.rate_limiter
        if limiter is None or request.path == "/":  # REST only, not the WebSocket upgrade
            return await handler(request)
        wait = limiter.admit(_caller(request))  # after _authenticate: the key is verified
        if wait is None:
            return await handler(request)
        return _too_many_requests(wait)

    @web.middleware
    async def _faults_middleware(
        self, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        if request.path == "/":
            return await handler(request)
        if self.faults.delay_ms > 0:
            await self._wait(self.faults.delay_ms / 1000)
        fault = self.faults.take_http(request.path, request.method)
        if fault is None:
            return await handler(request)
        return await self._apply_fault(fault, request, handler)

    async def _apply_fault(
        self, fault: HttpFault, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        kind = fault.kind
        if kind is HttpFaultKind.RATE_LIMIT:
            return _too_many_requests(fault.retry_after)
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
        if kind is HttpFaultKind.WRONG_SHAPE:
            await handler(request)  # the request takes effect (an order is placed)
            return web.Response(status=200, text=WRONG_SHAPE_BODY, content_type="application/json")
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
        """Sleep, but end early when the server stops (so tests never wait on a hang);
        an infinite ``seconds`` waits for the stop alone."""
        timeout = seconds if math.isfinite(seconds) else None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout)

    @web.middleware
    async def _authenticate(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Verify a signed request's signature before the budget is charged, so that only a
        verified key is charged (anyone can write someone else's key in ``X-Auth``); a
        rejection is answered by `_signed`, after the faults, as before."""
        if not _needs_signature(request):
            return await handler(request)
        try:
            async with asyncio.timeout(self.body_timeout_s):
                body = await request.read()
        except web.HTTPException as exc:  # answered after the budget and faults, as before
            request[_UNREADABLE] = exc
            return await handler(request)
        except TimeoutError:
            _log.info("closing a connection whose request body was late: %s", request.path)
            response = json_reply(error_body(_BODY_LATE), 408)
            response.force_close()  # the rest of the body may still come: not a next request
            return response
        host, _, port = request.host.partition(":")
        try:
            request[_API_KEY] = verify_request(
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
            request[_AUTH_REJECTED] = exc
        return await handler(request)

    @web.middleware
    async def _signed(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Answer a rejected signature 403; serve a verified one as its user, signing the
        reply (``X-Server-Auth-Signature``)."""
        if not _needs_signature(request):
            return await handler(request)
        unreadable = request.get(_UNREADABLE)
        if unreadable is not None:
            raise unreadable
        rejected = request.get(_AUTH_REJECTED)
        if rejected is not None:
            return json_reply(error_body(rejected.reason, code=rejected.code), 403)
        api_key = request[_API_KEY]
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


_BODY_LATE = "Request body not received in time."
"""The answer to a body late past :data:`BODY_TIMEOUT_S` (our wording: Bitstamp's is not
recorded)."""


def _check_cut(seconds: float) -> None:
    if not (math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"a net cut lasts a positive number of seconds, not {seconds!r}")


def _needs_signature(request: web.Request) -> bool:
    """Private REST calls: every POST under ``/api/v2/``."""
    return request.method == "POST" and request.path.startswith("/api/v2/")


def _caller(request: web.Request) -> str:
    """Whose budget a request spends: its API key once the signature verified, else the
    client address, whatever ``X-Auth`` claims (issue 17)."""
    api_key = request.get(_API_KEY)
    if api_key is not None:
        return "key " + api_key
    return "ip " + (request.remote or "unknown")


def _too_many_requests(retry_after: float | None) -> web.Response:
    """HTTP 429 with Bitstamp's 400.002 body; Retry-After in seconds (decimals allowed)."""
    headers = {}
    if retry_after is not None:
        headers["Retry-After"] = f"{retry_after:.3f}".rstrip("0").rstrip(".") or "0"
    body = error_body("Rate limit exceeded", response_code="400.002")
    return json_reply(body, 429, headers=headers)
