"""How one REST request leaves and comes back: budget, coalescing, retries, the request log.

The rules that keep money safe live here, in one place:

- Every attempt waits for the shared :class:`RateBudget` first, and is counted in
  :class:`RestStats` (every 429 of every caller, latency of market data and trading apart).
- Identical public reads in flight at the same time are sent once; every caller gets the reply.
- Only calls that are safe to repeat (reads) are retried, with exponential backoff and full
  jitter, and only on errors worth retrying (429, 5xx, transport failures). Each retry goes
  through ``httpx.Auth`` again, so it is signed afresh with a new nonce and timestamp.
- An order submission is never retried. If its request may have reached the exchange and no
  trustworthy answer came back (timeout, dropped connection, 5xx, HTML page, a reply that is
  not what Bitstamp sends), the caller gets
  :class:`OutcomeUnknown` carrying the ``client_order_id`` to reconcile with. A failure to
  connect at all means the order never left: that is a plain :class:`TransportError`.
"""

from __future__ import annotations

import asyncio
import random
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING

import msgspec

from .auth import Credentials, ResponseSignatureError, ServerClock
from .error_rules import classify
from .errors import (
    BitstampError,
    ExchangeUnavailable,
    OutcomeUnknown,
    ProtocolError,
    RateLimited,
    TransportError,
    is_retryable,
)
from .ratelimit import RateBudget
from .requestlog import RequestLog, RequestRecord
from .reststats import RestStats

if TYPE_CHECKING:
    import httpx

# httpx (~40 ms of imports, and httpcore's and anyio's ~60 ms more when its client is made) is
# imported on the first request, not with this module: a start from the cached markets draws
# its first book from the WebSocket before any REST (docs/decisions.md, "Cold start").

__all__ = ["RetryPolicy", "Transport", "warm_up"]


class RetryPolicy(msgspec.Struct, frozen=True):
    """Exponential backoff with full jitter, for calls that are safe to repeat."""

    attempts: int = 4
    """Attempts in all, the first included."""
    base_s: float = 0.25
    cap_s: float = 8.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (attempt counts from 0)."""
        return rng.uniform(0.0, min(self.cap_s, self.base_s * (2**attempt)))


def warm_up() -> None:
    """Import now what a client's first request would import: httpcore with h11, and the
    asyncio backend of anyio that httpcore's locks load on first use (60-70 ms of CPU,
    measured on the way to the first book). For a caller with time to spare, in a worker
    thread: the app waiting for its embedded simulator's ready line pays it there instead
    of after it (docs/decisions.md, "Cold start")."""
    import importlib

    importlib.import_module("httpx")
    importlib.import_module("httpcore")
    # anyio.Lock() and anyio.Event() import their backend by this name on first use
    importlib.import_module("anyio._backends._asyncio")


class Transport:
    """Sends requests to one Bitstamp environment over one ``httpx.AsyncClient``, made on the
    first request (with the signer, when there are credentials).

    Args:
        base_url: ``https://www.bitstamp.net`` or a simulator's ``http://127.0.0.1:PORT``.
        auth: signs private calls (a ``BitstampAuth``); None for a public-only client.
        credentials: the keys to sign with, when no ``auth`` is given: a ``BitstampAuth``
            is made from them (and ``clock``) with the first signed request.
        budget: the environment's shared rate budget.
        stats: where every attempt is counted (429s, latency) for the status bar.
        http: an existing client to use (its lifetime stays with the caller).
        clock: learns the server's time from the ``Date`` of every reply, public ones too
            (share it with the signer, so its first signed request is already on time).
    """

    def __init__(
        self,
        base_url: str,
        *,
        auth: httpx.Auth | None = None,
        credentials: Credentials | None = None,
        budget: RateBudget | None = None,
        retry: RetryPolicy | None = None,
        log: RequestLog | None = None,
        stats: RestStats | None = None,
        timeout_s: float = 10.0,
        http: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        clock: ServerClock | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._auth = auth
        self._credentials = credentials
        self.budget = budget or RateBudget()
        self.retry = retry or RetryPolicy()
        self.log = log or RequestLog()
        self.stats = stats or RestStats()
        self._owns_http = http is None
        self._http = http
        self._timeout_s = timeout_s
        self._closed = False
        self.clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._inflight: dict[tuple[str, tuple[tuple[str, str], ...]], asyncio.Future[bytes]] = {}

    @property
    def has_credentials(self) -> bool:
        return self._auth is not None or self._credentials is not None

    async def aclose(self) -> None:
        self._closed = True
        if self._owns_http and self._http is not None:
            await self._http.aclose()

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            if self._closed:  # as httpx says of a closed client: never a new one after close
                raise RuntimeError("Cannot send a request, as the client has been closed.")
            import httpx

            self._http = httpx.AsyncClient(
                base_url=self.base_url,
                timeout=httpx.Timeout(self._timeout_s),
                headers={"User-Agent": "bitstamp-workstation"},
                verify=_tls_for(self.base_url),
            )
        return self._http

    def _signer(self) -> httpx.Auth | None:
        if self._auth is None and self._credentials is not None:
            from .request_auth import BitstampAuth

            self._auth = BitstampAuth(self._credentials, clock=self.clock)
        return self._auth

    async def get_public(self, path: str, params: Mapping[str, str] | None = None) -> bytes:
        """A public GET: coalesced with identical reads in flight, retried when it fails."""
        query = tuple(sorted((params or {}).items()))
        key = (path, query)
        shared = self._inflight.get(key)
        if shared is None:
            shared = asyncio.ensure_future(self._send("GET", path, params=dict(query), safe=True))
            self._inflight[key] = shared
            shared.add_done_callback(lambda done: self._forget_inflight(key, done))
        return await asyncio.shield(shared)

    def _forget_inflight(
        self, key: tuple[str, tuple[tuple[str, str], ...]], done: asyncio.Future[bytes]
    ) -> None:
        if self._inflight.get(key) is done:
            del self._inflight[key]
        if not done.cancelled():
            done.exception()  # marks it retrieved when every waiter was cancelled

    async def post_private(
        self,
        path: str,
        data: Mapping[str, str] | None = None,
        *,
        safe: bool,
        client_order_id: str | None = None,
    ) -> bytes:
        """A signed POST. ``safe`` says it may be repeated (a read); submits pass their id."""
        if not self.has_credentials:
            raise BitstampError(f"{path} needs API credentials, and this client has none")
        return await self._send(
            "POST", path, data=dict(data or {}), safe=safe, client_order_id=client_order_id
        )

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        safe: bool,
        client_order_id: str | None = None,
    ) -> bytes:
        import httpx  # imported by the client's first request (_client): a lookup here

        http = self._client()
        auth = self._signer() if method == "POST" else None
        attempt = 0
        while True:
            await self.budget.acquire()
            started = time.perf_counter()
            sent_ms = self.clock.local_ms() if self.clock is not None else 0
            status: int | None = None
            request: httpx.Request | None = None
            response: httpx.Response | None = None
            try:
                response = await http.request(
                    method,
                    path,
                    params=params or None,
                    data=data or None,
                    auth=auth if auth is not None else httpx.USE_CLIENT_DEFAULT,
                )
                request, status = response.request, response.status_code
                self._observe_date(response, sent_ms)
                error = classify(
                    status=status, headers=response.headers, body=response.content, endpoint=path
                )
            except httpx.TransportError as exc:
                request = _request_of(exc)
                error = self._transport_failure(exc, path, client_order_id)
            except ResponseSignatureError as exc:
                error = ProtocolError(f"{path}: {exc}")
            answered_in = None if status is None else time.perf_counter() - started
            self._record(method, path, status, started, attempt, request, response, error)
            limited = isinstance(error, RateLimited)
            self.stats.record(
                signed=auth is not None,
                seconds=answered_in,
                rate_limited=limited,
                server_error=status is not None and status >= 500,
            )
            if error is None:
                assert response is not None
                return response.content
            if isinstance(error, RateLimited):
                self.budget.pause(error.retry_after or self.retry.delay(attempt, self._rng))
            if client_order_id is not None and isinstance(
                error, ExchangeUnavailable | ProtocolError
            ):
                # A 5xx, an error page or an unreadable reply after the order reached the
                # exchange: it may exist.
                raise OutcomeUnknown(client_order_id, path, cause=error.message) from None
            attempt += 1
            if not safe or not is_retryable(error) or attempt >= self.retry.attempts:
                raise error
            wait = self.retry.delay(attempt - 1, self._rng)
            if isinstance(error, RateLimited) and error.retry_after:
                wait = max(wait, error.retry_after)
            await self._sleep(wait)

    def _observe_date(self, response: httpx.Response, sent_ms: int) -> None:
        date = response.headers.get("Date")
        if self.clock is not None and date is not None:
            self.clock.observe_date(date, sent_ms, self.clock.local_ms())

    @staticmethod
    def _transport_failure(
        exc: httpx.TransportError, path: str, client_order_id: str | None
    ) -> BitstampError:
        import httpx

        reason = f"{path}: {type(exc).__name__}"
        # failures that prove the request never reached the server
        not_sent = (
            httpx.ConnectError,
            httpx.ConnectTimeout,
            httpx.PoolTimeout,
            httpx.UnsupportedProtocol,
        )
        if client_order_id is not None and not isinstance(exc, not_sent):
            return OutcomeUnknown(client_order_id, path)
        return TransportError(reason)

    def _record(
        self,
        method: str,
        path: str,
        status: int | None,
        started: float,
        attempt: int,
        request: httpx.Request | None,
        response: httpx.Response | None,
        error: BitstampError | None,
    ) -> None:
        self.log.add(
            RequestRecord(
                method=method,
                endpoint=path,
                status=status,
                latency_ms=(time.perf_counter() - started) * 1000.0,
                attempt=attempt,
                nonce=request.headers.get("X-Auth-Nonce") if request is not None else None,
                request_id=(
                    response.headers.get("X-Bts-Request-Trace-Id") if response is not None else None
                ),
                outcome="ok" if error is None else type(error).__name__,
                code=None if error is None else error.code,
            )
        )


def _request_of(exc: httpx.TransportError) -> httpx.Request | None:
    try:
        return exc.request
    except RuntimeError:  # httpx raises when the error was not tied to a request
        return None


def _tls_for(base_url: str) -> ssl.SSLContext | bool:
    """httpx's default TLS (the CA bundle loaded: 30-60 ms of CPU at every start) for an
    https venue; for a plain-http one (a simulator on loopback) a context with no CA at all,
    which costs nothing and would refuse any certificate if TLS were ever attempted."""
    if base_url.startswith("http://"):
        return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    return True
