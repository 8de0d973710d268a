"""Bitstamp v2 request signing, client side (reference section 5).

The signature itself (the message and its HMAC) is in ``signing``, which the simulator's
verification shares; this module is what only a client needs: the credentials, the clock and
the ``httpx.Auth`` that stamps every private request.

`BitstampAuth` is an ``httpx.Auth``: the REST client hands it to httpx once and every private
request is signed on the way out, so no call site builds auth headers by hand. Each pass
through the flow signs afresh (new nonce, new timestamp), so a retried request is a new
signature and never trips Bitstamp's nonce-reuse check (API0004).

Choices where the reference is uncertain (section 5.1, section 11):

* Query string: signed *without* the leading ``?`` (the official examples put "any query
  parameters" between path and content type and never show a ``?``). Only a handful of private
  GETs carry a query; the simulator accepts both forms (``workstation.sim.wire.auth``).
* Host: the URL's host, plus ``:port`` only when the URL carries an explicit non-default port,
  so real Bitstamp is signed as ``www.bitstamp.net``.
* Content type: private bodies must be exactly ``application/x-www-form-urlencoded`` (API0019
  rejects ``; charset=...``); an empty body is sent without Content-Type and signed with ``""``
  (API0020).

Errors raised here (all `AuthError`, a `BitstampError`): `HostMismatchError` before a request
leaves, a plain `AuthError` for a body that cannot be signed, and
`ResponseSignatureError` when an HTTP 200 reply fails its ``X-Server-Auth-Signature`` check.
No message or ``repr`` in this module ever contains the API key or the secret.
"""

from __future__ import annotations

import hmac
import json
import re
import time
import uuid
from collections.abc import Callable, Generator
from dataclasses import dataclass

import httpx

from .errors import BitstampError
from .fields import http_date
from .secret import Secret
from .signing import (
    AUTH_VERSION,
    FORM_CONTENT_TYPE,
    response_signature,
    signature,
    string_to_sign,
)

__all__ = [
    "AuthError",
    "BitstampAuth",
    "Clock",
    "Credentials",
    "HostMismatchError",
    "ResponseSignatureError",
    "ServerClock",
    "new_nonce",
    "wall_clock_ms",
]

_NONCE_RE = re.compile(r"[0-9a-f-]{36}")
_KEY_RE = re.compile(r"[!-~]+")  # visible ASCII, no spaces: it goes into a header
_DEFAULT_PORTS = {"http": 80, "https": 443}

Clock = Callable[[], int]
"""A source of the local time in integer milliseconds since the Unix epoch."""


class AuthError(BitstampError):
    """Base of the signing errors; messages never carry the key or the secret."""

    title = "Request signing failed"


class HostMismatchError(AuthError):
    """A request for one environment was about to be signed for another host."""

    title = "Credentials bound to another host"


class ResponseSignatureError(AuthError):
    """An HTTP 200 reply's ``X-Server-Auth-Signature`` does not match its body (section 5.2)."""

    title = "Reply signature mismatch"


def wall_clock_ms() -> int:
    """The real local time in ms; the default `Clock` (tests inject their own)."""
    return time.time_ns() // 1_000_000


def new_nonce() -> str:
    """A fresh nonce: a lowercase 36-character uuid4, as every official example uses."""
    return str(uuid.uuid4())


@dataclass(frozen=True, slots=True, repr=False)
class Credentials:
    """An API key pair bound to one environment and the host it may be sent to.

    The binding is what stops a live key from signing a request to the sandbox or the
    simulator (and the other way round): `BitstampAuth` refuses any other host. ``repr`` and
    ``str`` never show the key or the secret.
    """

    key: Secret
    secret: Secret
    env: str
    host: str
    port: int | None = None
    """When set, the port too: two simulators on one machine are two environments."""

    def __post_init__(self) -> None:
        if not isinstance(self.key, Secret) or not _KEY_RE.fullmatch(self.key.reveal()):
            raise ValueError("API key must be a non-empty string of visible ASCII characters")
        if not isinstance(self.secret, Secret) or not self.secret:
            raise ValueError("API secret must be a non-empty string")
        if not isinstance(self.env, str) or not self.env:
            raise ValueError("environment name must be a non-empty string")
        if not isinstance(self.host, str) or not self.host or "/" in self.host:
            raise ValueError("host must be a bare host name such as 'www.bitstamp.net'")
        object.__setattr__(self, "host", self.host.lower())

    def __repr__(self) -> str:
        return f"Credentials(env={self.env!r}, host={self.host!r}, key=<hidden>, secret=<hidden>)"

    __str__ = __repr__


class ServerClock:
    """Local time corrected by the learned offset to the server's clock.

    Bitstamp rejects timestamps more than 150 s from its own time (API0017), so a machine
    whose clock is off by minutes must learn the server's time from its replies. All reads of
    the time go through the injected ``local_ms`` clock.
    """

    def __init__(self, local_ms: Clock = wall_clock_ms, *, offset_ms: int = 0) -> None:
        self._local_ms = local_ms
        self._offset_ms = offset_ms
        self.dates_seen = 0
        """Replies whose ``Date`` was read: 0 means the offset was never learned."""

    @property
    def offset_ms(self) -> int:
        """Server time minus local time, in ms, as last learned."""
        return self._offset_ms

    def local_ms(self) -> int:
        """The uncorrected local time."""
        return self._local_ms()

    def now_ms(self) -> int:
        """Best estimate of the server's current time."""
        return self._local_ms() + self._offset_ms

    def observe(self, server_ms: int, sent_ms: int, received_ms: int) -> None:
        """Learn from a precise server time stamped somewhere between send and receive.

        The server's reading is assumed to sit at the midpoint of the round trip.
        """
        if received_ms < sent_ms:
            raise ValueError("received_ms is earlier than sent_ms")
        self._offset_ms = server_ms - (sent_ms + received_ms) // 2

    def observe_date(self, date_header: str, sent_ms: int, received_ms: int) -> bool:
        """Learn from an HTTP ``Date`` header; returns True when the offset changed.

        The header has 1 s resolution, so it only bounds the offset to an interval; the
        current offset is kept while it lies inside that interval (no jitter from rounding),
        otherwise the interval's midpoint is taken.
        """
        server_date = http_date(date_header)
        if server_date is None or received_ms < sent_ms:
            return False
        self.dates_seen += 1
        server_second_ms = int(server_date.timestamp()) * 1000
        low = server_second_ms - received_ms
        high = server_second_ms + 999 - sent_ms
        if low <= self._offset_ms <= high:
            return False
        self._offset_ms = (low + high) // 2
        return True


def _is_timestamp_rejection(response: httpx.Response) -> bool:
    if response.status_code != 403:
        return False
    try:
        payload = json.loads(response.content)
    except ValueError:
        return False
    return isinstance(payload, dict) and payload.get("code") == "API0017"


class BitstampAuth(httpx.Auth):
    """Signs private requests with Bitstamp's v2 header scheme (reference 5.1, 5.2).

    Args:
        credentials: the key pair and the host it is bound to.
        clock: server clock shared by every request of one environment; its offset is
            learned from each response's ``Date`` header.
        nonce_factory: returns a lowercase 36-character nonce per attempt.
        require_response_signature: treat a 200 reply without ``X-Server-Auth-Signature``
            as forged (real Bitstamp always sends it on authenticated replies).
        retry_on_clock_skew: when the server answers API0017 and its ``Date`` moved our
            clock estimate, re-sign once and resend (the rejected request never executed).
    """

    requires_request_body = True
    requires_response_body = True

    def __init__(
        self,
        credentials: Credentials,
        *,
        clock: ServerClock | None = None,
        nonce_factory: Callable[[], str] = new_nonce,
        require_response_signature: bool = False,
        retry_on_clock_skew: bool = True,
    ) -> None:
        self._credentials = credentials
        self._clock = clock if clock is not None else ServerClock()
        self._nonce_factory = nonce_factory
        self._require_response_signature = require_response_signature
        self._retry_on_clock_skew = retry_on_clock_skew

    def __repr__(self) -> str:
        return f"BitstampAuth(env={self._credentials.env!r}, host={self._credentials.host!r})"

    @property
    def clock(self) -> ServerClock:
        """The server clock this auth stamps requests with."""
        return self._clock

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Sign, send, learn the clock from the reply, verify the reply's signature."""
        retried = False
        while True:
            signed_offset = self._clock.offset_ms
            nonce, timestamp = self._sign(request)
            sent_ms = self._clock.local_ms()
            response = yield request
            received_ms = self._clock.local_ms()
            date = response.headers.get("Date")
            moved = date is not None and self._clock.observe_date(date, sent_ms, received_ms)
            # a request in flight alongside the one that taught us the offset was signed with
            # the old one: it deserves its one re-sign too
            moved = moved or self._clock.offset_ms != signed_offset
            if (
                moved
                and not retried
                and self._retry_on_clock_skew
                and _is_timestamp_rejection(response)
            ):
                retried = True
                continue
            self._verify_response(request, response, nonce, timestamp)
            return

    def _sign(self, request: httpx.Request) -> tuple[str, str]:
        """Set the five X-Auth headers on ``request``; returns the nonce and timestamp used."""
        creds = self._credentials
        url = request.url
        port = url.port or _DEFAULT_PORTS.get(url.scheme)
        if url.host.lower() != creds.host or creds.port not in (None, port):
            bound = creds.host if creds.port is None else f"{creds.host}:{creds.port}"
            raise HostMismatchError(
                f"credentials for environment {creds.env!r} are bound to host {bound!r}; "
                f"refusing to sign a request to {url.netloc.decode('ascii')!r}"
            )
        body = request.content
        if body:
            content_type = request.headers.get("Content-Type")
            if content_type != FORM_CONTENT_TYPE:
                raise AuthError(
                    f"a signed request body must be sent as {FORM_CONTENT_TYPE!r}, "
                    f"got Content-Type {content_type!r} (Bitstamp answers API0019)"
                )
        else:
            # Bitstamp answers API0020 if Content-Type comes with an empty body (5.1).
            request.headers.pop("Content-Type", None)
            content_type = ""
        nonce = self._nonce_factory()
        if not isinstance(nonce, str) or not _NONCE_RE.fullmatch(nonce):
            raise AuthError("nonce factory must return a lowercase 36-character string")
        timestamp = str(self._clock.now_ms())
        raw_path, _, _ = url.raw_path.decode("ascii").partition("?")
        message = string_to_sign(
            api_key=creds.key.reveal(),
            method=request.method,
            host=url.netloc.decode("ascii"),
            path=raw_path,
            query=url.query.decode("ascii"),
            content_type=content_type,
            nonce=nonce,
            timestamp_ms=timestamp,
            body="",
        )
        request.headers["X-Auth"] = f"BITSTAMP {creds.key.reveal()}"
        request.headers["X-Auth-Signature"] = signature(creds.secret, message.encode() + body)
        request.headers["X-Auth-Nonce"] = nonce
        request.headers["X-Auth-Timestamp"] = timestamp
        request.headers["X-Auth-Version"] = AUTH_VERSION
        return nonce, timestamp

    def _verify_response(
        self, request: httpx.Request, response: httpx.Response, nonce: str, timestamp: str
    ) -> None:
        """Check ``X-Server-Auth-Signature`` on HTTP 200 replies, as the official examples do."""
        if response.status_code != 200:
            return
        received = response.headers.get("X-Server-Auth-Signature")
        where = f"{request.method} {request.url.path}"
        if received is None:
            if self._require_response_signature:
                raise ResponseSignatureError(f"reply to {where} carries no X-Server-Auth-Signature")
            return
        expected = response_signature(
            self._credentials.secret,
            nonce,
            timestamp,
            response.headers.get("Content-Type", ""),
            response.content,
        )
        if not hmac.compare_digest(expected.encode(), received.strip().lower().encode()):
            raise ResponseSignatureError(
                f"X-Server-Auth-Signature on the reply to {where} does not match its body"
            )
