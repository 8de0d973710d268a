"""Fault injection: the ways a real exchange misbehaves, on demand.

Tests (and ``workstation sim`` flags) arm a fault; the server consults this object on every
request or frame. HTTP faults are queued per path prefix and consumed one by one, so a test
can say "the next order submission is accepted but never answered" and nothing else changes.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass, field

__all__ = ["Faults", "HttpFault", "HttpFaultKind"]


class HttpFaultKind(enum.Enum):
    RATE_LIMIT = "429"
    """HTTP 429; with ``retry_after`` the Retry-After header is set."""
    RATE_LIMIT_TEXT = "blocked"
    """HTTP 403 text/plain "blocked for N seconds" (older Bitstamp behaviour)."""
    SERVER_ERROR = "5xx"
    """A JSON 500-class error (``status`` is the HTTP status)."""
    HTML_ERROR = "html"
    """A CDN-style HTML error page with ``status``."""
    DELAY = "delay"
    """Answer normally after ``seconds``."""
    HANG_AFTER_ACCEPT = "hang"
    """Process the request (an order is placed) and then never answer."""
    DROP_AFTER_ACCEPT = "drop"
    """Process the request and then close the connection without a response."""
    MALFORMED = "malformed"
    """HTTP 200 with a body that is not JSON."""


@dataclass(frozen=True, slots=True)
class HttpFault:
    kind: HttpFaultKind
    status: int = 500
    retry_after: float | None = None
    seconds: float = 0.0


@dataclass
class Faults:
    """Armed faults. Every field is safe to change while the server runs."""

    _http: dict[str, deque[HttpFault]] = field(default_factory=dict)
    clock_skew_ms: int = 0
    """Added to the server's clock (auth timestamp window, Date header, timestamps)."""
    stalled_channels: set[str] = field(default_factory=set)
    """Channels whose frames are withheld (a silent gap), ``"*"`` for every channel."""
    ws_silent: bool = False
    """Send nothing at all on any socket (not even heartbeat replies): trips idle timeouts."""
    dropped_diff_frames: int = 0
    """Skip this many upcoming diff_order_book frames (a gap the client cannot see)."""

    def fail_next(self, path_prefix: str, fault: HttpFault, times: int = 1) -> None:
        """Apply ``fault`` to the next ``times`` requests whose path starts with the prefix."""
        queue = self._http.setdefault(path_prefix, deque())
        queue.extend([fault] * times)

    def take_http(self, path: str) -> HttpFault | None:
        """The fault for this request, if one is armed for a matching prefix (longest first)."""
        for prefix in sorted(self._http, key=len, reverse=True):
            queue = self._http[prefix]
            if path.startswith(prefix) and queue:
                fault = queue.popleft()
                if not queue:
                    del self._http[prefix]
                return fault
        return None

    def clear(self) -> None:
        self._http.clear()
        self.clock_skew_ms = 0
        self.stalled_channels.clear()
        self.ws_silent = False
        self.dropped_diff_frames = 0

    def withholds(self, channel: str) -> bool:
        return self.ws_silent or "*" in self.stalled_channels or channel in self.stalled_channels
