"""A bounded log of REST requests: what left, what came back, how long it took.

It exists so a trader (and the next engineer) can see why a call failed. It records the
endpoint path, status, latency, nonce and the server's trace id: never a header value, a body,
a key or a secret, so it is safe to show on screen and to write to disk.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterator

import msgspec

__all__ = ["RequestLog", "RequestRecord"]

_log = logging.getLogger("workstation.bitstamp.rest")


class RequestRecord(msgspec.Struct, frozen=True):
    """One attempt at one request."""

    method: str
    endpoint: str
    """The URL path, e.g. ``/api/v2/order_book/btcusd/`` (the query is left out)."""
    status: int | None
    """HTTP status, or None when no response came back."""
    latency_ms: float
    attempt: int
    nonce: str | None
    request_id: str | None
    """The server's trace id (``X-Bts-Request-Trace-Id``) when it sent one."""
    outcome: str
    """``ok``, an error class name, or a transport failure name."""
    code: str | None = None
    """Bitstamp's error code (``API0005``...) when the reply carried one."""


class RequestLog:
    """The last ``capacity`` request records, newest last; also written to ``logging`` at INFO."""

    def __init__(self, capacity: int = 500) -> None:
        self._records: deque[RequestRecord] = deque(maxlen=capacity)

    def add(self, record: RequestRecord) -> None:
        self._records.append(record)
        _log.info(
            "%s %s -> %s in %.1f ms (attempt %d, nonce %s, request id %s): %s%s",
            record.method,
            record.endpoint,
            record.status,
            record.latency_ms,
            record.attempt,
            record.nonce,
            record.request_id,
            record.outcome,
            f" {record.code}" if record.code else "",
        )

    def __iter__(self) -> Iterator[RequestRecord]:
        return iter(tuple(self._records))

    def __len__(self) -> int:
        return len(self._records)

    def latencies_ms(self) -> list[float]:
        """Latencies of the answered requests, oldest first (for p50/p95 health figures)."""
        return [r.latency_ms for r in self._records if r.status is not None]
