"""Fault injection: the ways a real exchange misbehaves, on demand.

Tests (and ``workstation sim`` flags, through :class:`~workstation.sim.faultplan.FaultPlan`)
arm a fault; the server consults this object on every request or frame. HTTP faults are
queued per path prefix and consumed one by one, so a test can say "the next order submission
is accepted but never answered" and nothing else changes. Periodic HTTP faults hit every Nth
request. WebSocket faults (stall, silence, dropped diff frames, malformed frames) are consulted
by the :class:`~workstation.sim.ws.StreamHub` each time it publishes or writes a frame. Faults
that repeat on a timer (dropping every socket, ``bts:request_reconnect``, intermittent stalls,
periodic corruption, net cuts) belong to the server, which owns the tasks, the listening
socket and the connections: see ``SimServer.arm`` and ``SimServer.net_cut``.

Every-Nth counting: each periodic fault has its own counter, started (at zero) when it is
armed, and every request it applies to counts, whichever fault that request ends up with. So
each keeps its own rhythm; when two fall on the same request, one wins in this order and the
others simply miss that turn (nothing is deferred):

1. a queued fault (:meth:`Faults.fail_next`, longest matching prefix first);
2. 429 every N (:meth:`Faults.answer_429_every`);
3. JSON 5xx every N (:meth:`Faults.answer_5xx_every`);
4. HTML error page every N (:meth:`Faults.answer_html_every`);
5. an order placed but never answered (:meth:`Faults.hang_orders_every`);
6. an order placed, then its connection dropped (:meth:`Faults.drop_orders_every`);
7. a request carried out, then answered with valid JSON of the wrong shape
   (:meth:`Faults.answer_wrong_shape_every`).

2-4 count every REST request that reaches the fault layer (one refused by the exchange's own
request budget never does); 5-6 count only order submissions (:func:`is_order_submission`);
7 counts only requests under its chosen path prefixes (order submissions by default).
"""

from __future__ import annotations

import enum
import math
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .faultplan import FaultPlan

__all__ = [
    "HTML_ERROR_STATUS",
    "JSON_ERROR_STATUS",
    "Faults",
    "HttpFault",
    "HttpFaultKind",
    "WRONG_SHAPE_BODY",
    "MalformedFrame",
    "is_order_submission",
]

DIFF_PREFIX = "diff_order_book_"
ORDER_PREFIXES = ("/api/v2/buy/", "/api/v2/sell/")
"""Limit, market and instant submissions all live under these (reference section 4.3)."""
JSON_ERROR_STATUS = 500
"""Status of the periodic JSON 5xx: Bitstamp's own 500.0xx errors come as HTTP 500."""
HTML_ERROR_STATUS = 502
"""Status of the periodic HTML error page: what a CDN in front of a failing origin answers."""
WRONG_SHAPE_BODY = '{"status": "ok"}'
"""The wrong-shaped reply: valid JSON, HTTP 200, no error marker, none of the fields asked."""

# Names of the every-Nth counters.
_RATE_LIMIT, _SERVER_ERROR, _HTML_ERROR = "429", "5xx", "html"
_ORDER_HANG, _ORDER_DROP, _WRONG_SHAPE = "hang", "drop", "wrong_shape"


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
    """Process the request (an order is placed) and then answer only after ``seconds``
    (0: 60 s; ``math.inf``: never, until the server stops)."""
    DROP_AFTER_ACCEPT = "drop"
    """Process the request and then close the connection without a response."""
    MALFORMED = "malformed"
    """HTTP 200 with a body that is not JSON."""
    WRONG_SHAPE = "wrong_shape"
    """Process the request (an order is placed), then answer HTTP 200 with valid JSON of the
    wrong shape (:data:`WRONG_SHAPE_BODY`): the client cannot read what happened."""


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


def is_order_submission(method: str, path: str) -> bool:
    """Whether a request submits an order: a POST under ``/api/v2/buy/`` or ``/api/v2/sell/``."""
    return method == "POST" and path.startswith(ORDER_PREFIXES)


def _check_every(n: int) -> None:
    if n < 0:
        raise ValueError("n cannot be negative")


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
    diff_drop_every: int = 0
    """Skip every Nth diff_order_book frame of each channel, counted per channel (0 = off)."""
    delay_ms: int = 0
    """Delay every REST response by this much."""
    rate_limit_every: int = 0
    """Answer every Nth REST request with 429 (0 = off)."""
    rate_limit_retry_after_s: float | None = 1.0
    """Retry-After of those 429s; None sends them without the header."""
    server_error_every: int = 0
    """Answer every Nth REST request with a JSON 5xx error (0 = off)."""
    server_error_status: int = JSON_ERROR_STATUS
    html_error_every: int = 0
    """Answer every Nth REST request with an HTML error page (0 = off)."""
    html_error_status: int = HTML_ERROR_STATUS
    order_hang_every: int = 0
    """Place every Nth submitted order and never answer (0 = off)."""
    order_drop_every: int = 0
    """Place every Nth submitted order, then drop the connection unanswered (0 = off)."""
    wrong_shape_every: int = 0
    """Carry out every Nth request under ``wrong_shape_paths``, then answer it with valid
    JSON of the wrong shape (0 = off)."""
    wrong_shape_paths: tuple[str, ...] = ORDER_PREFIXES
    """Path prefixes whose requests the wrong-shape fault counts (order submissions)."""
    _malformed: dict[str, deque[MalformedFrame | str]] = field(default_factory=dict)
    _counts: dict[str, int] = field(default_factory=dict)
    """Requests counted by each every-Nth HTTP fault since it was armed."""
    _diff_counts: dict[str, int] = field(default_factory=dict)
    """Diff frames counted per channel since ``drop_diffs_every`` was armed."""

    # -- HTTP ---------------------------------------------------------------------------------

    def fail_next(self, path_prefix: str, fault: HttpFault, times: int = 1) -> None:
        """Apply ``fault`` to the next ``times`` requests whose path starts with the prefix."""
        queue = self._http.setdefault(path_prefix, deque())
        queue.extend([fault] * times)

    def withdraw_next(self, path_prefix: str) -> int:
        """Take back the faults :meth:`fail_next` queued under exactly ``path_prefix`` that no
        request has met yet; returns how many there were."""
        return len(self._http.pop(path_prefix, ()))

    def delay_responses(self, ms: int) -> None:
        """Delay every REST response by ``ms`` (0 restores normal service)."""
        if ms < 0:
            raise ValueError("a delay cannot be negative")
        self.delay_ms = ms

    def answer_429_every(self, n: int, retry_after_s: float | None = 1.0) -> None:
        """Answer every ``n``-th REST request (counting from now) with 429; 0 turns it off.
        ``retry_after_s`` None leaves the Retry-After header out."""
        _check_every(n)
        if retry_after_s is not None and not retry_after_s >= 0:
            raise ValueError("retry_after_s cannot be negative")
        self.rate_limit_every = n
        self.rate_limit_retry_after_s = retry_after_s
        self._counts.pop(_RATE_LIMIT, None)

    def answer_5xx_every(self, n: int, status: int = JSON_ERROR_STATUS) -> None:
        """Answer every ``n``-th REST request (counting from now) with a JSON error of this
        5xx ``status``; 0 turns it off."""
        _check_every(n)
        if not 500 <= status <= 599:
            raise ValueError(f"{status} is not a 5xx status")
        self.server_error_every, self.server_error_status = n, status
        self._counts.pop(_SERVER_ERROR, None)

    def answer_html_every(self, n: int, status: int = HTML_ERROR_STATUS) -> None:
        """Answer every ``n``-th REST request (counting from now) with a CDN-style HTML error
        page of this 4xx/5xx ``status``; 0 turns it off."""
        _check_every(n)
        if not 400 <= status <= 599:
            raise ValueError(f"{status} is not an error status")
        self.html_error_every, self.html_error_status = n, status
        self._counts.pop(_HTML_ERROR, None)

    def hang_orders_every(self, n: int) -> None:
        """Every ``n``-th order submission (counting from now) is processed, so the order is
        placed, and never answered (until the server stops); 0 turns it off."""
        _check_every(n)
        self.order_hang_every = n
        self._counts.pop(_ORDER_HANG, None)

    def drop_orders_every(self, n: int) -> None:
        """Every ``n``-th order submission (counting from now) is processed, so the order is
        placed, and its connection closed without a reply; 0 turns it off."""
        _check_every(n)
        self.order_drop_every = n
        self._counts.pop(_ORDER_DROP, None)

    def answer_wrong_shape_every(
        self, n: int, paths: tuple[str, ...] | list[str] = ORDER_PREFIXES
    ) -> None:
        """Carry out every ``n``-th request (counting from now) whose path starts with one of
        ``paths`` (an order is placed), then answer HTTP 200 ``{"status": "ok"}``; 0 turns it
        off."""
        _check_every(n)
        if not paths or not all(p.startswith("/") for p in paths):
            raise ValueError("wrong-shape paths must be one or more paths starting with /")
        self.wrong_shape_every, self.wrong_shape_paths = n, tuple(paths)
        self._counts.pop(_WRONG_SHAPE, None)

    def take_http(self, path: str, method: str = "GET") -> HttpFault | None:
        """The fault for this REST request, by the precedence in the module docstring, or
        None. Call once per request: it counts the request for every every-Nth fault."""
        order = is_order_submission(method, path)
        due = {
            _RATE_LIMIT: self._tick(_RATE_LIMIT, self.rate_limit_every),
            _SERVER_ERROR: self._tick(_SERVER_ERROR, self.server_error_every),
            _HTML_ERROR: self._tick(_HTML_ERROR, self.html_error_every),
            _ORDER_HANG: order and self._tick(_ORDER_HANG, self.order_hang_every),
            _ORDER_DROP: order and self._tick(_ORDER_DROP, self.order_drop_every),
            _WRONG_SHAPE: path.startswith(self.wrong_shape_paths)
            and self._tick(_WRONG_SHAPE, self.wrong_shape_every),
        }
        for prefix in sorted(self._http, key=len, reverse=True):
            queue = self._http[prefix]
            if path.startswith(prefix) and queue:
                fault = queue.popleft()
                if not queue:
                    del self._http[prefix]
                return fault
        if due[_RATE_LIMIT]:
            return HttpFault(HttpFaultKind.RATE_LIMIT, retry_after=self.rate_limit_retry_after_s)
        if due[_SERVER_ERROR]:
            return HttpFault(HttpFaultKind.SERVER_ERROR, status=self.server_error_status)
        if due[_HTML_ERROR]:
            return HttpFault(HttpFaultKind.HTML_ERROR, status=self.html_error_status)
        if due[_ORDER_HANG]:
            return HttpFault(HttpFaultKind.HANG_AFTER_ACCEPT, seconds=math.inf)
        if due[_ORDER_DROP]:
            return HttpFault(HttpFaultKind.DROP_AFTER_ACCEPT)
        if due[_WRONG_SHAPE]:
            return HttpFault(HttpFaultKind.WRONG_SHAPE, status=200)
        return None

    def _tick(self, name: str, every: int) -> bool:
        """Count one request for the every-Nth fault ``name``; True when it is due."""
        if every <= 0:
            return False
        count = self._counts[name] = self._counts.get(name, 0) + 1
        return count % every == 0

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

    def drop_diffs_every(self, n: int) -> None:
        """Silently skip every ``n``-th ``diff_order_book`` frame of each channel, counted per
        channel from now (frames nobody would receive do not count); 0 turns it off."""
        _check_every(n)
        self.diff_drop_every = n
        self._diff_counts.clear()

    def take_diff_drop(self, channel: str) -> bool:
        """Whether this diff frame of ``channel`` is to be dropped: an armed drop for the
        channel, else one for any channel (each consumed), else the every-Nth drop (which
        counts every frame, as the HTTP ones count every request)."""
        periodic = False
        if self.diff_drop_every > 0:
            count = self._diff_counts[channel] = self._diff_counts.get(channel, 0) + 1
            periodic = count % self.diff_drop_every == 0
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
        return periodic

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

    def malformed_pending(self, channel: str) -> int:
        """How many corruptions are armed for ``channel`` and not yet used."""
        return len(self._malformed.get(channel, ()))

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
        """Arm the per-request parts of ``plan``, and its stalls when they are permanent (the
        server arms the periodic ones: ``SimServer.arm``)."""
        self.delay_responses(plan.delay_ms)
        self.answer_429_every(plan.rate_limit_every, plan.rate_limit_retry_after_s)
        self.answer_5xx_every(plan.server_error_every)
        self.answer_html_every(plan.html_error_every)
        self.hang_orders_every(plan.hang_orders_every)
        self.drop_orders_every(plan.drop_orders_every)
        self.answer_wrong_shape_every(plan.wrong_shape_every, plan.wrong_shape_paths)
        self.skew_clock(plan.clock_skew_ms)
        self.drop_diffs_every(plan.drop_diffs_every)
        if plan.stall_period_s is None:
            for channel in plan.stall_channels:
                self.stall(channel)

    def clear(self) -> None:
        """Back to normal service (the server's periodic faults are cleared separately)."""
        self._http.clear()
        self.clock_skew_ms = 0
        self.stalled_channels.clear()
        self.ws_silent = False
        self.dropped_diff_frames = 0
        self.dropped_diff_by_channel.clear()
        self.drop_diffs_every(0)
        self.delay_ms = 0
        self.answer_429_every(0)
        self.answer_5xx_every(0)
        self.answer_html_every(0)
        self.hang_orders_every(0)
        self.drop_orders_every(0)
        self.answer_wrong_shape_every(0)
        self._malformed.clear()
        self._counts.clear()
