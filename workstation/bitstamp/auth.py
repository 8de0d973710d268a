"""Bitstamp v2 request signing, client side (reference section 5).

The signature itself (the message and its HMAC) is in ``signing``, which the simulator's
verification shares; this module is what only a client needs: the credentials, the clock,
the nonces and the errors. The ``httpx.Auth`` that stamps every private request with them is
``request_auth.BitstampAuth``, a module of its own so that a start (which reads the market
before it signs anything) does not import httpx for it.

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

import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from .errors import BitstampError
from .fields import http_date
from .secret import Secret

__all__ = [
    "AuthError",
    "Clock",
    "Credentials",
    "HostMismatchError",
    "ResponseSignatureError",
    "ServerClock",
    "new_nonce",
    "wall_clock_ms",
]

_KEY_RE = re.compile(r"[!-~]+")  # visible ASCII, no spaces: it goes into a header

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
