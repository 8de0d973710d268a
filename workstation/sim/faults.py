"""Fault injection: the ways a real exchange misbehaves, on demand, plus its request budget.

Tests (and ``workstation sim`` flags) arm a fault; the server consults this object on every
request or frame. HTTP faults are queued per path prefix and consumed one by one, so a test
can say "the next order submission is accepted but never answered" and nothing else changes.
WebSocket faults (stall, silence, dropped diff frames, malformed frames) are consulted by the
:class:`~workstation.sim.ws.StreamHub` each time it publishes or writes a frame. Faults that
repeat on a timer (dropping every socket, ``bts:request_reconnect``) belong to the server,
which owns the tasks: see ``SimServer.drop_ws_every`` and ``SimServer.arm``.

:class:`RateLimiter` is no fault: it is the limit the real exchange enforces (reference section
6), answered with the same 429 as :attr:`HttpFaultKind.RATE_LIMIT`.
"""

from __future__ import annotations

import enum
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = [
    "FaultPlan",
    "Faults",
    "HttpFault",
    "HttpFaultKind",
    "MalformedFrame",
    "RateLimiter",
    "RateLimits",
]

DIFF_PREFIX = "diff_order_book_"


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


class MalformedFrame(enum.Enum):
    """How the hub corrupts the next frame of a channel (see :meth:`Faults.malform_next`)."""

    TRUNCATED = "truncated"
    """The real frame cut in half: not JSON at all."""
    WRONG_SHAPE = "wrong_shape"
    """Valid JSON with the real event and channel, but ``data`` is not the documented object."""


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """Faults armed when the simulator starts (the ``workstation sim --fault-*`` flags)."""

    delay_ms: int = 0
    """Delay every REST response by this much."""
    rate_limit_every: int = 0
    """Answer every Nth REST request with 429 (0 = never)."""
    rate_limit_retry_after_s: float = 1.0
    """The Retry-After of those periodic 429s."""
    clock_skew_ms: int = 0
    """Server clock offset (Date header, auth timestamp window)."""
    drop_ws_every_s: float | None = None
    """Abruptly close every WebSocket this often."""
    reconnect_every_s: float | None = None
    """Send ``bts:request_reconnect`` to every WebSocket this often."""

    def describe(self) -> list[str]:
        """One short phrase per armed fault, for the startup banner."""
        parts = []
        if self.delay_ms:
            parts.append(f"REST replies delayed {self.delay_ms} ms")
        if self.rate_limit_every:
            parts.append(f"one REST request in {self.rate_limit_every} answered 429")
        if self.clock_skew_ms:
            parts.append(f"clock skewed {self.clock_skew_ms:+d} ms")
        if self.drop_ws_every_s:
            parts.append(f"WebSockets dropped every {self.drop_ws_every_s:g} s")
        if self.reconnect_every_s:
            parts.append(f"bts:request_reconnect every {self.reconnect_every_s:g} s")
        return parts


@dataclass
class Faults:
    """Armed faults. Every field is safe to change while the server runs."""

    _http: dict[str, deque[HttpFault]] = field(default_factory=dict)
    clock_skew_ms: int = 0
    """Added to the server's clock for the auth timestamp window and the ``Date`` header.
    Timestamps inside payloads stay on the exchange clock."""
    stalled_channels: set[str] = field(default_factory=set)
    """Channels whose frames are withheld (lost, not queued), ``"*"`` for every channel."""
    ws_silent: bool = False
    """Send nothing at all on any socket (not even heartbeat replies): trips idle timeouts."""
    dropped_diff_frames: int = 0
    """Skip this many upcoming diff_order_book frames on any channel (an invisible gap)."""
    dropped_diff_by_channel: dict[str, int] = field(default_factory=dict)
    """Per-channel counts of diff frames still to skip; consumed before the any-channel count."""
    delay_ms: int = 0
    """Delay every REST response by this much."""
    rate_limit_every: int = 0
    """Answer every Nth REST request with 429 (0 = off)."""
    rate_limit_retry_after_s: float = 1.0
    _malformed: dict[str, deque[MalformedFrame | str]] = field(default_factory=dict)
    _rest_requests: int = 0

    # -- HTTP ---------------------------------------------------------------------------------

    def fail_next(self, path_prefix: str, fault: HttpFault, times: int = 1) -> None:
        """Apply ``fault`` to the next ``times`` requests whose path starts with the prefix."""
        queue = self._http.setdefault(path_prefix, deque())
        queue.extend([fault] * times)

    def delay_responses(self, ms: int) -> None:
        """Delay every REST response by ``ms`` (0 restores normal service)."""
        if ms < 0:
            raise ValueError("a delay cannot be negative")
        self.delay_ms = ms

    def answer_429_every(self, n: int, retry_after_s: float = 1.0) -> None:
        """Answer every ``n``-th REST request (counting from now) with 429; 0 turns it off."""
        if n < 0 or retry_after_s < 0:
            raise ValueError("n and retry_after_s cannot be negative")
        self.rate_limit_every = n
        self.rate_limit_retry_after_s = retry_after_s
        self._rest_requests = 0

    def take_http(self, path: str) -> HttpFault | None:
        """The fault for this REST request: a queued one for a matching prefix (longest first),
        else the periodic 429 when this request is the Nth. Call once per request."""
        self._rest_requests += 1
        for prefix in sorted(self._http, key=len, reverse=True):
            queue = self._http[prefix]
            if path.startswith(prefix) and queue:
                fault = queue.popleft()
                if not queue:
                    del self._http[prefix]
                return fault
        every = self.rate_limit_every
        if every > 0 and self._rest_requests % every == 0:
            return HttpFault(HttpFaultKind.RATE_LIMIT, retry_after=self.rate_limit_retry_after_s)
        return None

    # -- clock --------------------------------------------------------------------------------

    def skew_clock(self, ms: int) -> None:
        """Run the server's clock ``ms`` ahead (negative: behind); 0 restores it."""
        self.clock_skew_ms = ms

    # -- WebSocket ----------------------------------------------------------------------------

    def stall(self, channel: str = "*") -> None:
        """Withhold every frame of ``channel`` (``"*"``: of all channels) until unstalled."""
        self.stalled_channels.add(channel)

    def unstall(self, channel: str | None = None) -> None:
        """Resume ``channel`` (None: every stalled channel). Withheld frames are gone."""
        if channel is None:
            self.stalled_channels.clear()
        else:
            self.stalled_channels.discard(channel)

    def silence(self, on: bool = True) -> None:
        """Stop (or resume) sending anything at all on every socket."""
        self.ws_silent = on

    def withholds(self, channel: str) -> bool:
        return self.ws_silent or "*" in self.stalled_channels or channel in self.stalled_channels

    def drop_diff_frames(self, n: int, channel: str | None = None) -> None:
        """Silently skip the next ``n`` ``diff_order_book`` frames: of ``channel`` (a full
        name such as ``diff_order_book_btcusd``) or, with None, of whichever channel comes
        next. The book a client builds from diffs goes wrong with no error to notice."""
        if n < 0:
            raise ValueError("n cannot be negative")
        if channel is None:
            self.dropped_diff_frames += n
            return
        if not channel.startswith(DIFF_PREFIX):
            raise ValueError(f"{channel!r} is not a {DIFF_PREFIX}* channel")
        self.dropped_diff_by_channel[channel] = self.dropped_diff_by_channel.get(channel, 0) + n

    def take_diff_drop(self, channel: str) -> bool:
        """Whether this diff frame of ``channel`` is to be dropped (consumes one drop)."""
        pending = self.dropped_diff_by_channel.get(channel, 0)
        if pending > 0:
            if pending == 1:
                del self.dropped_diff_by_channel[channel]
            else:
                self.dropped_diff_by_channel[channel] = pending - 1
            return True
        if self.dropped_diff_frames > 0:
            self.dropped_diff_frames -= 1
            return True
        return False

    def malform_next(
        self,
        channel: str,
        frame: MalformedFrame | str = MalformedFrame.TRUNCATED,
        *,
        times: int = 1,
    ) -> None:
        """Replace the next ``times`` frames published on ``channel`` by malformed ones: a
        :class:`MalformedFrame` kind built from the real frame, or this exact text."""
        if times < 0:
            raise ValueError("times cannot be negative")
        if times:
            self._malformed.setdefault(channel, deque()).extend([frame] * times)

    def take_malformed(self, channel: str) -> MalformedFrame | str | None:
        """The corruption armed for this frame of ``channel``, if any (consumes it)."""
        queue = self._malformed.get(channel)
        if not queue:
            return None
        fault = queue.popleft()
        if not queue:
            del self._malformed[channel]
        return fault

    # -- all ------------------------------------------------------------------------------------

    def apply(self, plan: FaultPlan) -> None:
        """Arm the per-request parts of ``plan`` (the server arms the periodic ones)."""
        self.delay_responses(plan.delay_ms)
        self.answer_429_every(plan.rate_limit_every, plan.rate_limit_retry_after_s)
        self.skew_clock(plan.clock_skew_ms)

    def clear(self) -> None:
        """Back to normal service (the server's periodic faults are cleared separately)."""
        self._http.clear()
        self.clock_skew_ms = 0
        self.stalled_channels.clear()
        self.ws_silent = False
        self.dropped_diff_frames = 0
        self.dropped_diff_by_channel.clear()
        self.delay_ms = 0
        self.rate_limit_every = 0
        self.rate_limit_retry_after_s = 1.0
        self._malformed.clear()
        self._rest_requests = 0


# -- the exchange's own request budget ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Bitstamp's REST budget per API key (or per IP for public calls), reference section 6:
    400 requests per second and 10,000 per 10 minutes. The window lengths can be shortened so
    a test can cross a limit and see it lift within milliseconds."""

    per_second: int = 400
    per_10min: int = 10_000
    second_s: float = 1.0
    """Length of the short window."""
    ten_min_s: float = 600.0
    """Length of the long window."""

    def __post_init__(self) -> None:
        if self.per_second < 1 or self.per_10min < 1 or self.second_s <= 0 or self.ten_min_s <= 0:
            raise ValueError("rate limits and windows must be positive")


class RateLimiter:
    """Sliding-window request counting per caller identity, as the exchange does it.

    Only admitted requests count: a client that keeps calling while refused is not pushed
    further out, so its budget comes back once the window has passed. Time is monotonic
    seconds, not the exchange clock: the budget limits real request rates, while the
    exchange clock may be frozen (snapshot tests) or skewed by a fault.
    """

    def __init__(self, limits: RateLimits, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._short: dict[str, deque[float]] = {}
        self._long: dict[str, deque[float]] = {}
        self.refused = 0
        """Requests answered 429 so far (a figure for tests and the banner)."""

    def admit(self, identity: str) -> float | None:
        """Count a request from ``identity``; None when admitted, else seconds until the
        budget allows one more (for Retry-After)."""
        now = self._clock()
        limits = self.limits
        short = self._prune(self._short, identity, now - limits.second_s)
        long = self._prune(self._long, identity, now - limits.ten_min_s)
        waits = []
        if len(short) >= limits.per_second:
            waits.append(short[-limits.per_second] + limits.second_s - now)
        if len(long) >= limits.per_10min:
            waits.append(long[-limits.per_10min] + limits.ten_min_s - now)
        if waits:
            self.refused += 1
            return max(0.001, math.ceil(max(waits) * 1000) / 1000)
        short.append(now)
        long.append(now)
        return None

    @staticmethod
    def _prune(windows: dict[str, deque[float]], identity: str, horizon: float) -> deque[float]:
        stamps = windows.setdefault(identity, deque())
        while stamps and stamps[0] <= horizon:
            stamps.popleft()
        return stamps
