"""Price-time priority matching for one market of the simulator (reference 4.3, 7.4, 8).

Pure, synchronous and deterministic: no I/O, no clock, no randomness. The caller (the
simulator's exchange facade) passes in order ids and microsecond timestamps, and gets back
immutable ``Execution`` records to turn into REST replies, WebSocket events and ledger
settlements. Prices and amounts are exact ``Decimal``: every amount must be a multiple of
the market's lot and every price of its tick; the engine raises ``ValueError`` rather than
rounding, because rounding is a wire-level decision made before an order gets here.

API (one ``MatchingEngine(market)`` per pair):

* ``submit_limit(order_id, owner, side, amount, price, *, now_us, tif="gtc", ...)``: ``tif``
  is ``"gtc"`` (rest the remainder; with ``expire_us`` it is a GTD order, with ``daily=True``
  a daily order), ``"ioc"`` (cancel the remainder), ``"fok"`` (fill entirely now or cancel
  all, no fills) or ``"moc"`` (maker-or-cancel: cancelled whole, without trading, if it would
  cross). Returns an ``Execution``.
* ``submit_market(order_id, owner, side, *, now_us, amount=None, quote_amount=None)``: a base
  ``amount`` (market orders, instant sells) or a ``quote_amount`` (instant buys, instant sells
  with ``amount_in_counter``) spent, or received, at most; amounts are floored to the lot.
  Into an empty opposite side it is rejected with Bitstamp's "No sell orders for currency
  pair BTC/USD" (buy) or "No buy orders for currency pair BTC/USD" (sell).
* ``cancel(order_id)``, ``cancel_where(predicate)``, ``replace(...)``, ``expire(now_us)``
  (GTD orders whose ``expire_us <= now_us``) and ``expire_daily()`` (daily and GTD orders at
  00:00 UTC, reference 4.3).
* Read side: ``best_bid()``, ``best_ask()``, ``levels(side, depth)``, ``orders(side)`` in
  priority order, ``order(order_id)``, ``open_orders(owner)``, ``walk(...)`` (a preview of a
  market order) and ``pop_changes()`` (price levels whose total changed since the last call,
  as new absolute totals with zero meaning "removed": exactly a ``diff_order_book`` frame's
  content, reference 7.4).

Invariant of an Execution sized in base: ``filled + rested.remaining + cancelled == amount``.
Fills happen at the maker's price, one ``Fill`` per maker order touched, in the order they
happened (Bitstamp sends one ``trade`` message per fill, reference 7.4).

Self-trade: allowed. Bitstamp matches a trader's own orders against each other and reports
``self_trade`` in user transactions (reference 4.7); ``Fill.maker_owner == Fill.taker_owner``
lets the facade mark them.

``RestingOrder`` (live: the engine mutates ``remaining``), ``Fill``, ``Execution`` and ``Walk``
live in ``orders.py`` and are re-exported here; the price levels are in ``book.py``.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Sequence
from decimal import ROUND_DOWN, Decimal

from workstation.domain.common import Side
from workstation.domain.markets import Market
from workstation.sim.book import BookSide
from workstation.sim.orders import WIDE, ZERO, Execution, Fill, RestingOrder, Walk

__all__ = ["TIME_IN_FORCE", "MatchingEngine"]

#: Accepted ``tif`` values of ``submit_limit`` (Bitstamp's optional order flags, ref. 4.3).
TIME_IN_FORCE = frozenset({"gtc", "ioc", "fok", "moc"})


class MatchingEngine:
    """The order book and matcher of one market. See the module docstring for the API.

    Args:
        market: the pair; its ``tick``, ``lot`` and ``name`` are used.
        trade_ids: source of trade ids, called once per fill. Share one between engines
            to number trades across markets like Bitstamp does; defaults to 1, 2, 3...
    """

    def __init__(self, market: Market, *, trade_ids: Callable[[], int] | None = None) -> None:
        self.market = market
        self._tick = market.tick
        self._lot = market.lot
        self._next_trade_id = trade_ids or itertools.count(1).__next__
        self._bids = BookSide(is_bid=True)
        self._asks = BookSide(is_bid=False)
        self._orders: dict[int, RestingOrder] = {}
        self._by_owner: dict[str, dict[int, RestingOrder]] = {}
        self._expiries: list[tuple[int, int]] = []  # heap of (expire_us, order_id), lazy

    # ----------------------------------------------------------------- submissions

    def submit_limit(
        self,
        order_id: int,
        owner: str,
        side: Side,
        amount: Decimal,
        price: Decimal,
        *,
        now_us: int,
        tif: str = "gtc",
        client_order_id: str | None = None,
        expire_us: int | None = None,
        daily: bool = False,
    ) -> Execution:
        """Match a limit order at ``price`` or better, then rest, cancel or refuse the rest.

        Raises:
            ValueError: unknown ``tif``, an id already on the book, or an amount or price that
                is not a positive multiple of the lot or tick.
        """
        self._check_new(order_id, amount, price)
        if tif not in TIME_IN_FORCE:
            raise ValueError(f"unknown time in force {tif!r}")
        book = self._asks if side is Side.BUY else self._bids
        if tif == "moc" and self._crosses(side, price, book.best()):
            return Execution(order_id, (), None, amount, reason="maker-or-cancel order would trade")
        if tif == "fok" and self._available(side, price) < amount:
            return Execution(order_id, (), None, amount, reason="fill-or-kill order not filled")
        fills, remaining, _ = self._match(order_id, owner, side, amount, price, None, now_us)
        if not remaining:
            return Execution(order_id, fills, None, ZERO)
        if tif == "ioc":
            return Execution(order_id, fills, None, remaining, reason="immediate-or-cancel rest")
        order = RestingOrder(
            order_id,
            owner,
            side,
            price,
            remaining,
            amount,
            now_us,
            client_order_id,
            expire_us,
            daily,
        )
        self._rest(order)
        return Execution(order_id, fills, order, ZERO)

    def rest_all(
        self, orders: Sequence[tuple[int, str, Side, Decimal, Decimal]], *, now_us: int
    ) -> None:
        """Rest ``(order_id, owner, side, amount, price)`` limit orders that cannot trade, in
        one go: a seeded book (``MarketFlow.seed``), without an execution per order. Each is
        checked as a submit checks it, and none may reach the other side.

        Raises:
            ValueError: an order a submit would refuse, an id twice, or one that would trade
                (then nothing is rested).
        """
        ids: set[int] = set()
        best_bid, best_ask = self._bids.best(), self._asks.best()
        for order_id, _, side, amount, price in orders:
            self._check_new(order_id, amount, price)
            if order_id in ids:
                raise ValueError(f"order {order_id} is given twice")
            ids.add(order_id)
            if side is Side.BUY:
                best_bid = price if best_bid is None else max(best_bid, price)
            else:
                best_ask = price if best_ask is None else min(best_ask, price)
        if best_bid is not None and best_ask is not None and best_bid >= best_ask:
            raise ValueError(f"these orders would trade: bid {best_bid} >= ask {best_ask}")
        for order_id, owner, side, amount, price in orders:
            self._rest(RestingOrder(order_id, owner, side, price, amount, amount, now_us))

    def submit_market(
        self,
        order_id: int,
        owner: str,
        side: Side,
        *,
        now_us: int,
        amount: Decimal | None = None,
        quote_amount: Decimal | None = None,
        client_order_id: str | None = None,
    ) -> Execution:
        """Take liquidity for a base ``amount`` or up to a ``quote_amount``; never rests.

        ``client_order_id`` is accepted for symmetry with ``submit_limit``; a market order
        never rests, so the engine has nowhere to keep it.

        Raises:
            ValueError: not exactly one of ``amount`` and ``quote_amount``, a non-positive
                value, or an amount off the lot.
        """
        del client_order_id
        if (amount is None) == (quote_amount is None):
            raise ValueError("give exactly one of amount and quote_amount")
        if amount is not None:
            self._check_new(order_id, amount, None)
        elif quote_amount is None or not quote_amount > 0:
            raise ValueError(f"quote amount must be positive, got {quote_amount}")
        book = self._asks if side is Side.BUY else self._bids
        if not book.prices:
            wanted = "sell" if side is Side.BUY else "buy"
            text = f"No {wanted} orders for currency pair {self.market.name}"
            cancelled = amount if amount is not None else ZERO
            return Execution(order_id, (), None, cancelled, rejected=text, quote_left=quote_amount)
        fills, remaining, left = self._match(
            order_id, owner, side, amount, None, quote_amount, now_us
        )
        if quote_amount is not None:
            reason = "not enough liquidity on the book" if left and not book.prices else None
            return Execution(order_id, fills, None, ZERO, reason=reason, quote_left=left)
        reason = "not enough liquidity on the book" if remaining else None
        return Execution(order_id, fills, None, remaining, reason=reason)

    def cancel(self, order_id: int) -> RestingOrder | None:
        """Take an order off the book; ``None`` when it is not resting (filled, unknown)."""
        order = self._orders.get(order_id)
        if order is None:
            return None
        (self._bids if order.side is Side.BUY else self._asks).remove(order)
        self._forget(order)
        return order

    def cancel_where(self, predicate: Callable[[RestingOrder], bool]) -> list[RestingOrder]:
        """Cancel every resting order the predicate accepts, oldest id first."""
        doomed = [o for o in self._orders.values() if predicate(o)]
        doomed.sort(key=lambda o: o.order_id)
        for order in doomed:
            self.cancel(order.order_id)
        return doomed

    def replace(
        self,
        order_id: int,
        new_order_id: int,
        *,
        amount: Decimal,
        price: Decimal,
        now_us: int,
        client_order_id: str | None = None,
    ) -> tuple[RestingOrder, Execution] | None:
        """Bitstamp's replace_order (ref. 4.6): cancel, then submit a new GTC order.

        The new order keeps the owner, side, expiry and daily flag, and the old client order
        id unless a new one is given; it loses time priority. ``None`` when ``order_id`` is
        not resting (nothing changes). The new amount and price are checked before the old
        order is cancelled.
        """
        old = self._orders.get(order_id)
        if old is None:
            return None
        self._check_new(new_order_id if new_order_id != order_id else None, amount, price)
        self.cancel(order_id)
        execution = self.submit_limit(
            new_order_id,
            old.owner,
            old.side,
            amount,
            price,
            now_us=now_us,
            client_order_id=client_order_id if client_order_id is not None else old.client_order_id,
            expire_us=old.expire_us,
            daily=old.daily,
        )
        return old, execution

    def expire(self, now_us: int) -> list[RestingOrder]:
        """Cancel GTD orders whose ``expire_us`` is at or before ``now_us``."""
        expired: list[RestingOrder] = []
        heap = self._expiries
        while heap and heap[0][0] <= now_us:
            expire_us, order_id = heapq.heappop(heap)
            order = self._orders.get(order_id)
            if order is not None and order.expire_us == expire_us:
                self.cancel(order_id)
                expired.append(order)
        return expired

    def expire_daily(self) -> list[RestingOrder]:
        """Midnight UTC: cancel daily orders and GTD orders (reference 4.3)."""
        return self.cancel_where(lambda o: o.daily or o.expire_us is not None)

    # ----------------------------------------------------------------- read side

    def best_bid(self) -> Decimal | None:
        return self._bids.best()

    def best_ask(self) -> Decimal | None:
        return self._asks.best()

    def levels(self, side: Side, depth: int | None = None) -> list[tuple[Decimal, Decimal]]:
        """Aggregated ``(price, total)``: bids descending, asks ascending, at most ``depth``."""
        book = self._bids if side is Side.BUY else self._asks
        prices = itertools.islice(book.best_first(), depth)
        return [(p, book.levels[p].total) for p in prices]

    def orders(self, side: Side) -> list[RestingOrder]:
        """Every resting order of one side in priority order (group=0/2 books, L3 feeds)."""
        book = self._bids if side is Side.BUY else self._asks
        return [o for p in book.best_first() for o in book.levels[p].orders.values()]

    def order(self, order_id: int) -> RestingOrder | None:
        return self._orders.get(order_id)

    def open_orders(self, owner: str) -> list[RestingOrder]:
        """An owner's resting orders, oldest id first."""
        return sorted(self._by_owner.get(owner, {}).values(), key=lambda o: o.order_id)

    def __len__(self) -> int:
        return len(self._orders)

    def pop_changes(self) -> tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]]:
        """``(bids, asks)``: levels whose total changed since the last call, mapped to the new
        absolute total (``Decimal(0)``: the level is gone). A level that changed and came
        back to its old total is reported too (a snapshot may have been taken in between).
        Bids descending, asks ascending."""
        return self._bids.pop_changes(), self._asks.pop_changes()

    def walk(
        self,
        side: Side,
        amount: Decimal | None = None,
        quote_amount: Decimal | None = None,
        limit: Decimal | None = None,
    ) -> Walk:
        """What a ``side`` taker for ``amount`` (or ``quote_amount``) would get now, at prices
        up to ``limit`` when given. Same arithmetic as the matcher; changes nothing."""
        if (amount is None) == (quote_amount is None):
            raise ValueError("give exactly one of amount and quote_amount")
        book = self._asks if side is Side.BUY else self._bids
        got = value = ZERO
        worst: Decimal | None = None
        want = amount
        quote_left = quote_amount
        quote_ran_out = False
        for price in book.best_first():
            if limit is not None and not self._crosses(side, limit, price):
                break
            total = book.levels[price].total
            if quote_left is None:
                assert want is not None
                take = min(want, total)
                want -= take
            else:
                take = min(self._affordable(quote_left, price), total)
                quote_ran_out = take < total
            if not take:
                break
            traded = WIDE.multiply(price, take)
            got += take
            value += traded
            worst = price
            if quote_left is not None:
                quote_left -= traded
            if take < total:
                break
        complete = got == amount if amount is not None else quote_ran_out
        return Walk(got, value, worst, complete)

    # ----------------------------------------------------------------- internals

    def _check_new(self, order_id: int | None, amount: Decimal, price: Decimal | None) -> None:
        if order_id is not None and order_id in self._orders:
            raise ValueError(f"order {order_id} is already on the book")
        if not amount > 0 or amount % self._lot:
            raise ValueError(f"amount {amount} is not a positive multiple of {self._lot}")
        if price is not None and (not price > 0 or price % self._tick):
            raise ValueError(f"price {price} is not a positive multiple of {self._tick}")

    @staticmethod
    def _crosses(side: Side, limit: Decimal, best: Decimal | None) -> bool:
        """Whether a ``side`` order at ``limit`` trades against the opposite ``best`` price."""
        if best is None:
            return False
        return best <= limit if side is Side.BUY else best >= limit

    def _available(self, side: Side, limit: Decimal) -> Decimal:
        """Liquidity a ``side`` taker could reach at ``limit`` or better."""
        book = self._asks if side is Side.BUY else self._bids
        total = ZERO
        for price in book.best_first():
            if not self._crosses(side, limit, price):
                break
            total += book.levels[price].total
        return total

    def _affordable(self, quote: Decimal, price: Decimal) -> Decimal:
        """Largest multiple of the lot whose value at ``price`` is at most ``quote``."""
        if not price:
            return ZERO
        lot = self._lot
        take = WIDE.divide(quote, price).quantize(lot, rounding=ROUND_DOWN)
        if WIDE.multiply(take, price) > quote:  # the division rounded up past a lot
            take -= lot
        return max(take, ZERO)

    def _match(
        self,
        taker_id: int,
        owner: str,
        side: Side,
        amount: Decimal | None,
        limit: Decimal | None,
        quote: Decimal | None,
        now_us: int,
    ) -> tuple[tuple[Fill, ...], Decimal, Decimal | None]:
        """Trade against the opposite side; return the fills, base left and quote left."""
        book = self._asks if side is Side.BUY else self._bids
        fills: list[Fill] = []
        remaining = amount if amount is not None else ZERO
        while book.prices:
            price = book.prices[-1] if book.is_bid else book.prices[0]
            if limit is not None and not self._crosses(side, limit, price):
                break
            want = remaining if quote is None else self._affordable(quote, price)
            if not want:
                break
            level = book.levels[price]
            book.touch(price, level)
            orders = level.orders
            taken = ZERO
            while want and orders:
                maker = next(iter(orders.values()))
                take = maker.remaining if maker.remaining <= want else want
                maker.remaining -= take
                want -= take
                taken += take
                fills.append(
                    Fill(
                        self._next_trade_id(),
                        price,
                        take,
                        side,
                        maker.order_id,
                        taker_id,
                        maker.owner,
                        owner,
                        now_us,
                        maker.remaining,
                    )
                )
                if not maker.remaining:
                    del orders[maker.order_id]
                    self._forget(maker)
            level.total -= taken
            if quote is None:
                remaining -= taken
            else:
                quote -= WIDE.multiply(price, taken)
            if orders:
                break  # the taker is done at this price; worse prices cannot be reached
            book.drop(price)
        return tuple(fills), remaining, quote

    def _rest(self, order: RestingOrder) -> None:
        (self._bids if order.side is Side.BUY else self._asks).add(order)
        self._orders[order.order_id] = order
        self._by_owner.setdefault(order.owner, {})[order.order_id] = order
        if order.expire_us is not None:
            heapq.heappush(self._expiries, (order.expire_us, order.order_id))

    def _forget(self, order: RestingOrder) -> None:
        del self._orders[order.order_id]
        mine = self._by_owner[order.owner]
        del mine[order.order_id]
        if not mine:
            del self._by_owner[order.owner]
