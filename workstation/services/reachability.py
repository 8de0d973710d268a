"""Whether the venue's REST host can be reached, since when, and when we try again.

A venue that cannot be reached (no network, the host down, a simulator not started yet) must
say so in words a trader can act on: the host, since when, and the next retry, instead of
an exception name and a book that waits for ever. One :class:`Reachability` per session:
the session's start and the market data service report what their requests met, and while
the host is down the next try waits a capped, growing pause (``RETRY_DELAYS_S``). New orders
are not offered meanwhile (the ticket reads :attr:`Reachability.reason`); cancels still go,
since one may get through and a refused one changes nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar
from urllib.parse import urlsplit

from ..bitstamp.errors import BitstampError, ExchangeUnavailable, RateLimited, TransportError

__all__ = ["RETRY_DELAYS_S", "Reachability", "host_of"]

_T = TypeVar("_T")

RETRY_DELAYS_S = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
"""Pause before each try after a failure in a row; the last repeats."""


def host_of(url: str) -> str:
    """``HOST[:PORT]`` as the URL names it: what a trader recognises (``www.bitstamp.net``,
    ``127.0.0.1:8765``)."""
    return urlsplit(url).netloc or url


class Reachability:
    """The REST host's reachability. Times are wall-clock seconds (``time.time``)."""

    def __init__(self, url: str, *, clock: Callable[[], float] = time.time) -> None:
        self.host = host_of(url)
        self._clock = clock
        self.down_since: float | None = None
        """When the first failure in a row happened; None while the host answers."""
        self.error = ""
        """What the last failure was (``ConnectError``, ``rate limited``...)."""
        self.failures = 0
        self.next_try_at: float | None = None
        self.refused = False
        """The host answered, but refused (a 429, a 5xx): reached, yet not serving us."""

    @property
    def down(self) -> bool:
        return self.down_since is not None

    @property
    def reason(self) -> str | None:
        """Why new orders cannot be sent now, or None when the host answers."""
        if not self.down:
            return None
        return f"{self.host} refuses requests" if self.refused else f"cannot reach {self.host}"

    def failed(self, error: str, *, wait_s: float | None = None, refused: bool = False) -> float:
        """A request could not reach the host (``refused``: it was refused before it was
        served): returns the pause before the next try, at least ``wait_s`` (a Retry-After)."""
        now = self._clock()
        self.refused = refused
        if self.down_since is None:
            self.down_since = now
        self.error = error
        delay = RETRY_DELAYS_S[min(self.failures, len(RETRY_DELAYS_S) - 1)]
        delay = max(delay, wait_s or 0.0)
        self.failures += 1
        self.next_try_at = now + delay
        return delay

    def failed_on(self, exc: BitstampError) -> float:
        """:meth:`failed` for what a request raised: a transport failure means the host
        could not be reached; a venue error or a reply that does not parse, that it refused
        (a 429's or 5xx's Retry-After is kept)."""
        if isinstance(exc, TransportError):
            return self.failed(exc.message.rpartition(": ")[2])
        wait = exc.retry_after if isinstance(exc, RateLimited | ExchangeUnavailable) else None
        return self.failed(f"{exc.title}: {exc}", wait_s=wait, refused=True)

    async def retry(self, call: Callable[[], Awaitable[_T]]) -> _T:
        """``call()`` until the host answers it: after each failure, the pause this object
        sets (:attr:`next_try_at`), shown meanwhile by :meth:`describe`."""
        while True:
            if self.next_try_at is not None:
                await asyncio.sleep(max(0.0, self.next_try_at - self._clock()))
            try:
                result = await call()
            except BitstampError as exc:  # every parse failure is one too (ProtocolError)
                self.failed_on(exc)
                continue
            self.reached()
            return result

    def reached(self) -> None:
        """The host answered."""
        self.down_since = None
        self.error = ""
        self.failures = 0
        self.next_try_at = None
        self.refused = False

    def describe(self) -> str:
        """``cannot reach 127.0.0.1:8765 since 12:00:03 UTC (ConnectError), retry in 4 s``."""
        if self.down_since is None:
            return f"{self.host} reachable"
        since = dt.datetime.fromtimestamp(self.down_since, tz=dt.UTC).strftime("%H:%M:%S")
        text = f"{self.reason} since {since} UTC"
        if self.error:
            text += f" ({self.error})"
        if self.next_try_at is not None:
            left = self.next_try_at - self._clock()
            text += f", retry in {left:.0f} s" if left >= 0.5 else ", retrying now"
        return text
