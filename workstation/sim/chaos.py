"""The chaos minute: one minute of mixed faults, the pre-launch drill.

``workstation sim --chaos`` plays it over and over (one minute, then the same minute again);
``tests/integration/test_chaos_minute.py`` plays it once against the workstation's services
with orders resting and filling, then checks nothing was lost. Every fault goes through the
existing machinery (:class:`~workstation.sim.faults.Faults` and the server's own, such as
the net cut); this module only says when, and undoes what it armed.

The minute, in order (offsets move by up to one second either way with ``--seed``, so a seed
replays the same minute; the clock skew's sign is the seed's too):

- ``+3 s`` **an order submit that hangs** (4 s window: every order submission is placed and
  never answered). The client times out not knowing the outcome; it must find the order by
  its ``client_order_id``, never send it again. First, so the rest of the minute happens
  while it is being chased.
- ``+6 s`` **every WebSocket dropped** (no close frame): market and private streams
  reconnect, resubscribe, resync the book and reconcile the orders.
- ``+10 s`` **an order submit whose connection is dropped** (4 s window): placed, no reply,
  the other way a submit's outcome goes unknown.
- ``+14 s`` **``bts:request_reconnect``**: Bitstamp's "reconnect now" before maintenance.
- ``+18 s`` **every channel stalled** for 5 s, heartbeats still answered: the socket looks
  alive and says nothing (frames withheld are lost, private ones too); only the silence
  tells.
- ``+25 s`` **a burst of three 429s with Retry-After: 1** on the next REST requests, whoever
  sends them: every caller must pause as told.
- ``+29 s`` **three 429s without Retry-After**: the client must pick its own pause.
- ``+33 s`` **two JSON 5xx** (Bitstamp's own 500): an error that says nothing of the outcome
  when it answers an order (the sim's 5xx places nothing: the client must find that out).
- ``+36 s`` **two HTML error pages** (502, as a CDN in front of a failing origin sends):
  not JSON at all.
- ``+40 s`` **the network cut** for 4 s: connections refused, open ones reset; the exchange
  goes on meanwhile.
- ``+48 s`` **the clock skewed 200 s** (past Bitstamp's 150 s window) for 8 s, then back:
  signed requests are refused (API0017) until the client relearns the time from ``Date``,
  twice.

The last 4 s are quiet, so a minute's faults are over before the next begins. The bursts are
queued on the next requests (:meth:`Faults.fail_next`); those nobody met by the minute's end
are withdrawn, so an idle simulator does not pile them up.
"""

from __future__ import annotations

import asyncio
import enum
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .faults import HttpFault, HttpFaultKind

if TYPE_CHECKING:
    from .server import SimServer

__all__ = ["MINUTE_S", "ChaosFault", "ChaosStep", "chaos_minute", "play_minute"]

MINUTE_S = 60.0
"""How long the program lasts; ``--chaos`` starts the next one when it ends."""
JITTER_S = 1.0
"""How far the seed moves each step, either way."""
ANY_REST = "/api/v2/"
"""Where the bursts are queued: the next REST requests, public or signed."""
SKEW_MS = 200_000
"""Past Bitstamp's 150 s window for signed request timestamps."""


class ChaosFault(enum.Enum):
    HANG_ORDER = "order submissions placed and never answered"
    DROP_WS = "every WebSocket dropped (no close frame)"
    DROP_ORDER = "order submissions placed, then their connection dropped"
    RECONNECT = "bts:request_reconnect to every WebSocket"
    STALL = "every channel's frames withheld (heartbeats answered)"
    RATE_LIMIT = "next REST requests answered 429 with Retry-After 1 s"
    RATE_LIMIT_BARE = "next REST requests answered 429 without Retry-After"
    SERVER_ERROR = "next REST requests answered 500 (JSON error)"
    HTML_ERROR = "next REST requests answered 502 (HTML error page)"
    NET_CUT = "network cut (connections refused, open ones dropped)"
    CLOCK_SKEW = "clock skewed"


@dataclass(frozen=True, slots=True)
class ChaosStep:
    """One fault of the minute: when it starts, and how long or how many times."""

    at_s: float
    """Seconds from the start of the minute."""
    fault: ChaosFault
    lasts_s: float = 0.0
    """How long a window lasts (0: a fault that happens once)."""
    times: int = 0
    """How many requests a burst answers."""
    skew_ms: int = 0

    def describe(self) -> str:
        what = self.fault.value
        if self.times:
            what = what.replace("next REST requests", f"next {self.times} REST requests")
        if self.fault is ChaosFault.CLOCK_SKEW:
            what += f" {self.skew_ms / 1000:+g} s"
        window = f", for {self.lasts_s:g} s" if self.lasts_s else ""
        return f"chaos at {self.at_s:4.1f} s{window}: {what}"


_PROGRAM: tuple[ChaosStep, ...] = (
    ChaosStep(3, ChaosFault.HANG_ORDER, lasts_s=4),
    ChaosStep(6, ChaosFault.DROP_WS),
    ChaosStep(10, ChaosFault.DROP_ORDER, lasts_s=4),
    ChaosStep(14, ChaosFault.RECONNECT),
    ChaosStep(18, ChaosFault.STALL, lasts_s=5),
    ChaosStep(25, ChaosFault.RATE_LIMIT, times=3),
    ChaosStep(29, ChaosFault.RATE_LIMIT_BARE, times=3),
    ChaosStep(33, ChaosFault.SERVER_ERROR, times=2),
    ChaosStep(36, ChaosFault.HTML_ERROR, times=2),
    ChaosStep(40, ChaosFault.NET_CUT, lasts_s=4),
    ChaosStep(48, ChaosFault.CLOCK_SKEW, lasts_s=8, skew_ms=SKEW_MS),
)


def chaos_minute(seed: int) -> tuple[ChaosStep, ...]:
    """The minute of ``seed``: the program above, each step moved by up to
    :data:`JITTER_S` (to a tenth of a second) and the skew's sign drawn."""
    rng = random.Random(seed)
    steps = []
    for step in _PROGRAM:
        at = round(step.at_s + rng.uniform(-JITTER_S, JITTER_S), 1)
        skew = step.skew_ms * rng.choice((-1, 1)) if step.skew_ms else 0
        steps.append(ChaosStep(at, step.fault, step.lasts_s, step.times, skew))
    return tuple(steps)


async def play_minute(server: SimServer, steps: tuple[ChaosStep, ...]) -> None:
    """Play ``steps`` on ``server``, returning when the minute is over (cancelled: every
    window closes at once). What the bursts queued and nobody met is withdrawn at the end."""
    start = asyncio.get_running_loop().time()
    tasks = [asyncio.create_task(_play(server, step, start)) for step in steps]
    try:
        await asyncio.gather(*tasks)
        await asyncio.sleep(max(0.0, start + MINUTE_S - asyncio.get_running_loop().time()))
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        server.faults.withdraw_next(ANY_REST)


async def _play(server: SimServer, step: ChaosStep, start: float) -> None:
    await asyncio.sleep(max(0.0, start + step.at_s - asyncio.get_running_loop().time()))
    fault = step.fault
    if fault is ChaosFault.DROP_WS:
        await server.hub.drop_all()
    elif fault is ChaosFault.RECONNECT:
        server.hub.request_reconnect()
    elif fault is ChaosFault.NET_CUT:
        await server.cut_net(step.lasts_s)
    elif fault in _BURSTS:
        server.faults.fail_next(ANY_REST, _BURSTS[fault], times=step.times)
    else:
        _window(server, step, on=True)
        try:
            await asyncio.sleep(step.lasts_s)
        finally:
            _window(server, step, on=False)


_BURSTS = {
    ChaosFault.RATE_LIMIT: HttpFault(HttpFaultKind.RATE_LIMIT, retry_after=1.0),
    ChaosFault.RATE_LIMIT_BARE: HttpFault(HttpFaultKind.RATE_LIMIT, retry_after=None),
    ChaosFault.SERVER_ERROR: HttpFault(HttpFaultKind.SERVER_ERROR, status=500),
    ChaosFault.HTML_ERROR: HttpFault(HttpFaultKind.HTML_ERROR, status=502),
}


def _window(server: SimServer, step: ChaosStep, *, on: bool) -> None:
    """Open (``on``) or close the window of a fault that lasts."""
    faults, fault = server.faults, step.fault
    if fault is ChaosFault.HANG_ORDER:
        faults.hang_orders_every(1 if on else 0)
    elif fault is ChaosFault.DROP_ORDER:
        faults.drop_orders_every(1 if on else 0)
    elif fault is ChaosFault.STALL:
        if on:
            faults.stall("*")
        else:
            faults.unstall("*")
    elif fault is ChaosFault.CLOCK_SKEW:
        faults.skew_clock(step.skew_ms if on else 0)
    else:
        raise ValueError(f"{fault} is not a fault that lasts")
