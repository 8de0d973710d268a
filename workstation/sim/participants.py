"""Synthetic market participants: the flow that makes the simulator's markets live.

Each market has a fair value that follows a random walk (in log space, with a weak pull back
to where it started so a sim left running for a week stays near real price levels) and three
kinds of participant around it:

* **makers** (owner ``~mm``) keep a book hundreds of levels deep: new quotes mostly a few
  steps from fair value, some deep, cancels biased towards the touch, the count per side
  held near a target. Shapes follow the recorded books: dense near the top, sparse and large
  further out (reference 10).
* **noise takers** (``~taker``) arrive as a Poisson process with heavy-tailed (Pareto)
  sizes; now and then one sweeps several levels.
* **arbitrageurs** (``~arb``) lift quotes left on the wrong side of a moved fair value, so the
  traded price follows fair value through real trades.

Everything is driven by ``advance(dt)``: the exchange calls it from a wall-clock loop, or a
test steps it through a manual clock. ``speed`` scales the model's time: rates and the
random walk run ``speed`` times faster. Randomness comes from one ``random.Random`` per
market seeded from the exchange seed and the symbol, so a seed replays exactly. Prices stay
``Decimal``: the walk's state is an integer count of micro-log-units.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from typing import Protocol

from ..domain.common import Side
from ..domain.markets import Market
from .engine import MatchingEngine

__all__ = ["PROFILES", "FlowVenue", "MarketFlow", "Profile", "poisson", "taker_notional"]

MAKER = "~mm"
TAKER = "~taker"
ARBITRAGEUR = "~arb"
_MICRO = Decimal("0.000001")
_REVERSION_S = 6 * 3600.0
"""Half-life-like time constant of the pull back to the anchor price (model seconds)."""


@dataclass(frozen=True, slots=True)
class Profile:
    """How busy and how volatile one market is at speed 1 (Bitstamp-like rates)."""

    quotes_per_s: float
    """Maker add/cancel events per second."""
    trades_per_s: float
    """Noise taker arrivals per second (each may fill several makers)."""
    vol_bps: float
    """Standard deviation of the fair value over one second, in basis points."""
    depth: int
    """Maker orders kept per side."""


BUSY = Profile(quotes_per_s=8.0, trades_per_s=0.4, vol_bps=1.0, depth=400)
ACTIVE = Profile(quotes_per_s=4.0, trades_per_s=0.2, vol_bps=1.3, depth=250)
QUIET = Profile(quotes_per_s=1.5, trades_per_s=0.05, vol_bps=1.5, depth=120)
STABLE = Profile(quotes_per_s=1.0, trades_per_s=0.05, vol_bps=0.1, depth=100)

PROFILES: dict[str, Profile] = {
    "btcusd": BUSY,
    "ethusd": BUSY,
    "btceur": ACTIVE,
    "etheur": ACTIVE,
    "xrpusd": ACTIVE,
    "ethbtc": ACTIVE,
    "usdcusd": STABLE,
}


def taker_notional(rng: random.Random, minimum: Decimal) -> Decimal:
    """A taker's order value: Pareto-tailed multiples of the market's minimum order (median
    ~9x, mean ~30x, capped at 20,000x), so most trades are small and a few are large."""
    multiple = min(20_000.0, 5.0 * rng.paretovariate(1.2))
    return minimum * Decimal(round(multiple, 2))


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson-distributed count (Knuth for small means, a normal approximation above)."""
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


class FlowVenue(Protocol):
    """What the participants need from the exchange: orders that may trade are settled there
    (a synthetic taker can fill a trader's resting order), so they go through it."""

    def next_order_id(self) -> int: ...
    def synthetic_take(
        self, symbol: str, owner: str, side: Side, amount: Decimal, limit: Decimal | None
    ) -> None: ...


class MarketFlow:
    """Fair value, makers and takers of one market."""

    def __init__(
        self,
        market: Market,
        engine: MatchingEngine,
        profile: Profile,
        rng: random.Random,
        anchor: Decimal,
    ) -> None:
        self.market = market
        self.engine = engine
        self.profile = profile
        self.rng = rng
        self.anchor = anchor
        self.log_units = 0
        """ln(fair / anchor) in millionths."""
        tick = market.tick
        self.step = max(tick, (anchor * Decimal("0.00004")).quantize(tick, ROUND_DOWN))
        """Spacing unit of quotes near the touch (about 0.4 bp, at least one tick)."""
        self.min_amount = (market.minimum_order_value / anchor).quantize(
            market.lot, ROUND_DOWN
        ) + market.lot
        self._makers: dict[Side, list[int]] = {Side.BUY: [], Side.SELL: []}
        self._fair = (0, anchor.quantize(tick))
        """(log_units, fair value) of the last ``fair`` asked: exp() is too dear per quote."""

    # -- fair value --------------------------------------------------------------------------

    @property
    def fair(self) -> Decimal:
        units, value = self._fair
        if units != self.log_units:
            units = self.log_units
            value = (self.anchor * (Decimal(units) * _MICRO).exp()).quantize(self.market.tick)
            self._fair = (units, value)
        return value

    def walk(self, dt: float) -> None:
        """Move fair value by one random-walk step of ``dt`` model seconds."""
        sigma_units = self.profile.vol_bps * 100 * math.sqrt(dt)
        pull = self.log_units * min(1.0, dt / _REVERSION_S)
        self.log_units += round(self.rng.gauss(0.0, sigma_units) - pull)

    # -- the book ------------------------------------------------------------------------------

    def seed(self, now_us: int, next_id: Callable[[], int]) -> None:
        """Fill both sides to their target depth around fair value (no trades happen).

        The orders are drawn exactly as one quote after another would draw them (the same
        random numbers, prices, sizes and ids: a seed replays the same book), then rested in
        one go (:meth:`MatchingEngine.rest_all`): a fifth of the simulator's start was
        5,000 submits that could never trade."""
        engine = self.engine
        drawn: list[tuple[int, Side, Decimal, Decimal]] = []
        best_bid = engine.best_bid()  # what the asks' quotes would read: every bid rests first
        for side in (Side.BUY, Side.SELL):
            opposite = engine.best_ask() if side is Side.BUY else best_bid
            for _ in range(self.profile.depth):
                terms = self._quote_terms(side, self._deep_distance(), opposite)
                if terms is None:
                    continue
                price, amount = terms
                drawn.append((next_id(), side, price, amount))
                if side is Side.BUY and (best_bid is None or price > best_bid):
                    best_bid = price
        engine.rest_all(
            [(order_id, MAKER, side, amount, price) for order_id, side, price, amount in drawn],
            now_us=now_us,
        )
        for order_id, side, _, _ in drawn:
            self._makers[side].append(order_id)

    def advance(self, dt: float, now_us: int, venue: FlowVenue) -> None:
        """``dt`` model seconds of activity: the walk, arbitrage, makers, then noise takers."""
        self.walk(dt)
        traded = self._arbitrage(venue)
        rng, profile = self.rng, self.profile
        for _ in range(poisson(rng, profile.quotes_per_s * dt)):
            self._maker_event(now_us, venue.next_order_id)
        for _ in range(poisson(rng, profile.trades_per_s * dt)):
            self._noise_trade(venue)
            traded = True
        if traded:
            self._forget_filled()

    def _forget_filled(self) -> None:
        """Drop maker orders that takers filled, so the depth target counts live orders."""
        order = self.engine.order
        for side, ids in self._makers.items():
            self._makers[side] = [i for i in ids if order(i) is not None]

    def _maker_event(self, now_us: int, next_id: Callable[[], int]) -> None:
        rng = self.rng
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        ids = self._makers[side]
        target = self.profile.depth
        if len(ids) < target * 0.9 or (len(ids) < target * 1.1 and rng.random() < 0.55):
            near = rng.random() < 0.8
            distance = self._near_distance() if near else self._deep_distance()
            self._quote(side, distance, now_us, next_id)
        else:
            self._cancel_near_touch(side)

    def _near_distance(self) -> Decimal:
        """A few steps from fair value: where most quoting happens."""
        return self.step * Decimal(1 + int(self.rng.expovariate(0.35)))

    def _deep_distance(self) -> Decimal:
        """Anywhere up to ~25 % away, dense near the top and sparse far out, like real books."""
        fraction = 0.25 * self.rng.random() ** 2.2
        return max(self.step, self.fair * Decimal(round(fraction, 6)).quantize(_MICRO))

    def _quote(
        self, side: Side, distance: Decimal, now_us: int, next_id: Callable[[], int]
    ) -> None:
        """Rest one maker order ``distance`` from fair value, never crossing the book."""
        engine = self.engine
        opposite = engine.best_ask() if side is Side.BUY else engine.best_bid()
        terms = self._quote_terms(side, distance, opposite)
        if terms is None:
            return
        price, amount = terms
        order_id = next_id()
        execution = engine.submit_limit(
            order_id, MAKER, side, amount, price, now_us=now_us, tif="moc"
        )
        if execution.rested is not None:
            self._makers[side].append(order_id)

    def _quote_terms(
        self, side: Side, distance: Decimal, opposite: Decimal | None
    ) -> tuple[Decimal, Decimal] | None:
        """Price and amount of a maker order ``distance`` from fair value, a tick inside
        ``opposite`` (the other side's best) at most; None when no positive price is left."""
        market, fair = self.market, self.fair
        if side is Side.BUY:
            price = (fair - distance).quantize(market.tick, ROUND_DOWN)
            if opposite is not None and price >= opposite:
                price = opposite - market.tick
        else:
            price = (fair + distance).quantize(market.tick, ROUND_UP)
            if opposite is not None and price <= opposite:
                price = opposite + market.tick
        if price <= 0:
            return None
        # Log-normal notional, larger further out: walls sit deep in real books.
        depth_factor = 1 + float(distance / fair) * 40  # float-ok: a size model, not a price
        notional = market.minimum_order_value * Decimal(
            round(math.exp(self.rng.gauss(3.4, 1.1)) * depth_factor, 2)
        )
        amount = max(self.min_amount, (notional / price).quantize(market.lot, ROUND_DOWN))
        return price, amount

    def _cancel_near_touch(self, side: Side) -> None:
        """Cancel one maker order, the one nearest fair value of three drawn at random."""
        ids, engine, rng = self._makers[side], self.engine, self.rng
        chosen: int | None = None
        chosen_distance = Decimal(0)
        fair = self.fair
        for _ in range(3):
            while ids:
                index = rng.randrange(len(ids))
                order = engine.order(ids[index])
                if order is not None:
                    break
                ids[index] = ids[-1]  # filled by a taker meanwhile: forget it
                ids.pop()
            else:
                return
            distance = abs(order.price - fair)
            if chosen is None or distance < chosen_distance:
                chosen, chosen_distance = order.order_id, distance
        assert chosen is not None
        engine.cancel(chosen)
        index = ids.index(chosen)
        ids[index] = ids[-1]
        ids.pop()

    # -- takers ---------------------------------------------------------------------------------

    def _arbitrage(self, venue: FlowVenue) -> bool:
        """Take quotes that fair value moved through (stale quotes get picked off)."""
        fair, engine, traded = self.fair, self.engine, False
        edge = 2 * self.step  # what an arbitrageur needs to bother
        best_ask, best_bid = engine.best_ask(), engine.best_bid()
        if best_ask is not None and best_ask < fair - edge:
            walk = engine.walk(Side.BUY, amount=self._huge(), limit=fair - edge)
            if walk.amount:
                venue.synthetic_take(
                    self.market.symbol, ARBITRAGEUR, Side.BUY, walk.amount, fair - edge
                )
                traded = True
        if best_bid is not None and best_bid > fair + edge:
            walk = engine.walk(Side.SELL, amount=self._huge(), limit=fair + edge)
            if walk.amount:
                venue.synthetic_take(
                    self.market.symbol, ARBITRAGEUR, Side.SELL, walk.amount, fair + edge
                )
                traded = True
        return traded

    def _noise_trade(self, venue: FlowVenue) -> None:
        """One market order with a heavy-tailed size; about 2 % are sweeps 20 times larger."""
        rng, market = self.rng, self.market
        notional = taker_notional(rng, market.minimum_order_value)
        if rng.random() < 0.02:
            notional *= 20
        amount = max(self.min_amount, (notional / self.fair).quantize(market.lot, ROUND_DOWN))
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        opposite = self.engine.best_ask() if side is Side.BUY else self.engine.best_bid()
        if opposite is not None:
            venue.synthetic_take(market.symbol, TAKER, side, amount, None)

    def _huge(self) -> Decimal:
        return Decimal(10**12).quantize(self.market.lot)
