"""The passage of time in the simulator: synthetic flow, expiries, and a day of history.

The exchange answers requests; this module makes things happen between them. With a wall
clock a loop calls ``tick`` every ``TICK_S`` with the time that really passed; with a manual
clock nothing moves until a test calls ``advance(seconds)``, which steps the same ``tick``
deterministically (snapshot tests and replayable scenarios need that). ``speed`` multiplies
model time, so rates and volatility scale together; 0 is a market that never moves.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from decimal import Decimal
from typing import TYPE_CHECKING

from .catalog import START_PRICES
from .history import history
from .participants import PROFILES, QUIET, MarketFlow

if TYPE_CHECKING:
    from .exchange import SimExchange

__all__ = ["SLICE_S", "TICK_S", "MarketActivity"]

TICK_S = 0.05
"""Market time step: the wall-clock loop's period and the manual clock's step size."""
SLICE_S = 0.001
"""How long the wall-clock loop runs the market before it lets the event loop go."""
_STEP_MODEL_S = 0.5
"""The longest step of one market in model seconds (a busy market's ~4 quotes)."""
_MAX_CATCH_UP_S = 1.0
"""A stalled loop (a suspended laptop) resumes the market; it does not replay the gap."""


class MarketActivity:
    """Runs every market of one exchange: participants, expiries, boot history."""

    def __init__(
        self, exchange: SimExchange, *, seed: int, speed: float, history_s: int, first_trade: int
    ) -> None:
        if not math.isfinite(speed) or speed < 0:
            raise ValueError("speed must be a finite number >= 0")
        self.exchange = exchange
        self.speed = speed
        self.flows: dict[str, MarketFlow] = {}
        now = exchange.clock.now_us()
        for index, (symbol, market) in enumerate(exchange.markets.items()):
            price = START_PRICES.get(symbol, Decimal(100))
            profile = PROFILES.get(symbol, QUIET)
            # One generator per market and purpose: a seed replays each market on its own,
            # whatever order markets are touched in.
            rng = random.Random(f"{seed}:{symbol}")
            flow = MarketFlow(market, exchange.engines[symbol], profile, rng, price)
            flow.seed(now, exchange.next_order_id)
            self.flows[symbol] = flow
            exchange.data.set_reference(symbol, price)
            if history_s:
                exchange.data.set_history(
                    symbol,
                    history(
                        market,
                        profile,
                        random.Random(f"{seed}:{symbol}:history"),
                        end_price=price,
                        end_us=now,
                        last_trade_id=first_trade - 1 - index * 500_000,
                        seconds=history_s,
                    ),
                )
        for engine in exchange.engines.values():
            engine.pop_changes()  # the seeded book is the start, not a change

    async def run(self) -> None:
        """Wall-clock loop: tick with the time that passed, until cancelled.

        The tick is cut into slices of about :data:`SLICE_S` with the event loop let go in
        between: at ``--speed 100`` a whole tick held the loop for 10-14 ms, every client
        waiting. Each market moves in steps of at most :data:`_STEP_MODEL_S` model seconds
        (the walk and the Poisson rates add up the same), checked against the clock between.
        """
        last = time.monotonic()
        while True:
            await asyncio.sleep(TICK_S)
            now = time.monotonic()
            dt_s = min(now - last, _MAX_CATCH_UP_S)
            last = now
            exchange = self.exchange
            exchange.expire_orders(exchange.clock.now_us())
            if not self.speed:
                continue
            model_s = dt_s * self.speed
            steps = max(1, math.ceil(model_s / _STEP_MODEL_S))
            began = time.perf_counter()
            for flow in self.flows.values():
                for _ in range(steps):
                    flow.advance(model_s / steps, exchange.clock.now_us(), exchange)
                    if time.perf_counter() - began > SLICE_S:
                        await asyncio.sleep(0)
                        began = time.perf_counter()

    def advance(self, seconds: float) -> None:
        """Move a manual clock forward by ``seconds``, running the market step by step."""
        clock = self.exchange.clock
        if not clock.manual:
            raise RuntimeError("advance() needs a manual clock; a wall clock runs by itself")
        steps = max(1, math.ceil(seconds / TICK_S - 1e-9))
        for _ in range(steps):
            clock.advance(seconds / steps)
            self.tick(seconds / steps)

    def tick(self, dt_s: float) -> None:
        """``dt_s`` seconds of market: expiries first, then the participants' activity."""
        now = self.exchange.clock.now_us()
        self.exchange.expire_orders(now)
        if self.speed:
            for flow in self.flows.values():
                flow.advance(dt_s * self.speed, now, self.exchange)
