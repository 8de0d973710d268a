"""Balances of the simulated exchange: available and reserved funds, order holds, fees.

Pure and synchronous, like the matching engine it settles for. Every amount is an exact
``Decimal``; the ledger never goes negative and conserves every currency to the last
decimal: ``total(currency) == issued(currency)`` at all times, where ``issued`` counts
deposits, withdrawals and the net flow from untracked owners.

API:

* ``Ledger(decimals={"USD": 5, "BTC": 8}, default_decimals=8, fee_account="exchange")``.
  ``decimals`` is the booking precision per currency: trade values and fees are rounded to
  it, and insufficient-funds messages print with it.
* ``deposit``, ``withdraw``, ``balance(owner, currency) -> Balance``, ``balances(owner)``,
  ``total(currency)``, ``issued(currency)``.
* ``reserve_limit(order_id, owner, market, side, amount, price, fee_percent=...)`` holds what
  a limit order needs (a buy: its value plus the fee at ``fee_percent``, in the quote
  currency; a sell: its amount, in base). ``reserve(owner, currency, amount, order_id=...)``
  holds a plain amount (market and instant orders). Both raise ``InsufficientFunds``.
* ``settle(fill, market, maker_fee_percent=..., taker_fee_percent=...) -> Settlement`` moves
  base and quote between buyer and seller, out of their orders' holds first.
* ``release_order(order_id)`` returns what is left of an order's hold to available: call it
  when an order is cancelled, expires or (for market orders) finishes. A limit order's hold
  is also released by ``settle`` as soon as it is completely filled.

Rounding, chosen to match recorded Bitstamp numbers: the trade value ``price * amount`` and
each fee (``value * percent / 100``) are rounded half-up to the quote currency's booking
decimals. Real fills show it: 0.005 ETH at 2468.04 with a 0.4 % fee was charged ``0.04936``
(exact 0.0493608) and an XRP sale valued 256.1619755 EUR was booked as ``256.16198``
(reference 7.5, recorded user transactions in georlav/). Bitstamp books fiat to 5 decimals
in trades and fees, so ``{"USD": 5, "EUR": 5}`` reproduces its numbers; use 2 for cents.

Holds: a limit buy holds ``ceil(amount * price) + ceil(amount * price * fee%)``. When it
fills below its price the difference is released at once: after each fill the hold is cut
to what the unfilled rest needs at the limit price. Rounding can leave a hold a unit of the
last decimal short; the shortfall is then taken from available funds, and if the buyer has
none, the value is rounded down instead and the fee reduced by the rest, so the exchange,
never the trader's balance, absorbs the last unit.

Owners for which ``unlimited(owner)`` is true (by default names starting with ``"~"``, the
simulator's synthetic participants) are not tracked: they have infinite funds, hold nothing
and pay no fees into the fee account.

The records (``Balance``, ``Settlement``, the errors, and the ledger's internal accounts and
holds) live in ``holdings.py``; the public ones are re-exported here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Context, Decimal, localcontext

from workstation.domain.common import Side
from workstation.domain.markets import Market
from workstation.domain.numbers import quantum
from workstation.sim.holdings import (
    Account,
    Balance,
    Hold,
    InsufficientFunds,
    LedgerError,
    Settlement,
)
from workstation.sim.orders import Fill

__all__ = ["Ledger", "is_synthetic"]

ZERO = Decimal(0)
_HUNDRED = Decimal(100)
# Balances and products of prices and amounts stay exact well beyond 28 digits.
_CONTEXT = Context(prec=80)


def is_synthetic(owner: str) -> bool:
    """The simulator's own market participants are named ``~something``."""
    return owner.startswith("~")


class Ledger:
    """Balances per (owner, currency). See the module docstring for the rules."""

    def __init__(
        self,
        *,
        decimals: Mapping[str, int] | None = None,
        default_decimals: int = 8,
        fee_account: str = "exchange",
        unlimited: Callable[[str], bool] = is_synthetic,
    ) -> None:
        self._decimals = dict(decimals or {})
        self._default_decimals = default_decimals
        self.fee_account = fee_account
        self._unlimited = unlimited
        self._accounts: dict[tuple[str, str], Account] = {}
        self._holds: dict[int, Hold] = {}
        self._issued: dict[str, Decimal] = {}

    # ----------------------------------------------------------------- reading

    def places(self, currency: str) -> int:
        """Booking decimals of ``currency``."""
        return self._decimals.get(currency, self._default_decimals)

    def tracked(self, owner: str) -> bool:
        return not self._unlimited(owner)

    def balance(self, owner: str, currency: str) -> Balance:
        acc = self._accounts.get((owner, currency))
        if acc is None:
            return Balance(ZERO, ZERO)
        return Balance(acc.available, acc.held + acc.loose)

    def balances(self, owner: str) -> dict[str, Balance]:
        """Every currency ``owner`` has ever held, sorted by code."""
        mine = sorted(cur for (who, cur) in self._accounts if who == owner)
        return {cur: self.balance(owner, cur) for cur in mine}

    def total(self, currency: str) -> Decimal:
        """Sum of every tracked account's available and reserved ``currency``, fees included."""
        with localcontext(_CONTEXT):
            return sum(
                (
                    a.available + a.held + a.loose
                    for (_, c), a in self._accounts.items()
                    if c == currency
                ),
                ZERO,
            )

    def issued(self, currency: str) -> Decimal:
        """Deposits minus withdrawals plus net inflow from untracked owners: equals ``total``."""
        return self._issued.get(currency, ZERO)

    def held(self, order_id: int) -> Decimal:
        """What is still held for ``order_id`` (zero when nothing is)."""
        hold = self._holds.get(order_id)
        return hold.held if hold is not None else ZERO

    def limit_buy_cost(
        self, quote: str, amount: Decimal, price: Decimal, fee_percent: Decimal
    ) -> Decimal:
        """What a limit buy must hold: value and fee, each rounded up to the quote decimals."""
        q = quantum(self.places(quote))
        with localcontext(_CONTEXT):
            value = amount * price
            fee = value * _rate(fee_percent)
            return value.quantize(q, rounding=ROUND_UP) + fee.quantize(q, rounding=ROUND_UP)

    # ----------------------------------------------------------------- moving funds

    def deposit(self, owner: str, currency: str, amount: Decimal) -> None:
        _positive(amount)
        if not self.tracked(owner):
            return
        with localcontext(_CONTEXT):
            self._account(owner, currency).available += amount
            self._issue(currency, amount)

    def withdraw(self, owner: str, currency: str, amount: Decimal) -> None:
        """Take ``amount`` out of available funds; raises ``InsufficientFunds`` (have-style)."""
        _positive(amount)
        if not self.tracked(owner):
            return
        acc = self._account(owner, currency)
        if acc.available < amount:
            raise self._short(currency, amount, acc.available, "have")
        with localcontext(_CONTEXT):
            acc.available -= amount
            self._issue(currency, -amount)

    def reserve(
        self,
        owner: str,
        currency: str,
        amount: Decimal,
        *,
        order_id: int | None = None,
        style: str = "need",
    ) -> None:
        """Move ``amount`` from available to reserved, for ``order_id`` when given.

        Zero is allowed: it registers an empty hold (a market order previewed against an
        empty book), so the caller need not special-case it before the engine rejects.

        Raises:
            InsufficientFunds: available is less than ``amount`` (nothing changes).
            LedgerError: ``order_id`` already has a hold.
        """
        if not amount.is_finite() or amount < 0:
            raise ValueError(f"amount must not be negative, got {amount}")
        self._reserve(owner, currency, amount, order_id, style, Hold(owner, currency, amount))

    def reserve_limit(
        self,
        order_id: int,
        owner: str,
        market: Market,
        side: Side,
        amount: Decimal,
        price: Decimal,
        *,
        fee_percent: Decimal = ZERO,
    ) -> Decimal:
        """Hold what a limit order needs and return it (see the module docstring).

        ``fee_percent`` should be the owner's taker fee: the highest fee the order can pay.
        """
        _positive(amount)
        if side is Side.BUY:
            needed = self.limit_buy_cost(market.quote, amount, price, fee_percent)
            hold = Hold(owner, market.quote, needed, price, amount, fee_percent)
            self._reserve(owner, market.quote, needed, order_id, "need", hold)
        else:
            needed = amount
            hold = Hold(owner, market.base, needed, None, amount)
            self._reserve(owner, market.base, needed, order_id, "have", hold)
        return needed

    def release(self, owner: str, currency: str, amount: Decimal) -> None:
        """Return ``amount`` reserved without an order id to available."""
        _positive(amount)
        if not self.tracked(owner):
            return
        acc = self._account(owner, currency)
        if amount > acc.loose:
            raise LedgerError(f"{owner} has only {acc.loose} {currency} reserved to release")
        with localcontext(_CONTEXT):
            acc.loose -= amount
            acc.available += amount

    def release_order(self, order_id: int) -> Decimal:
        """Return what is left of ``order_id``'s hold to available; idempotent."""
        hold = self._holds.pop(order_id, None)
        if hold is None:
            return ZERO
        released = hold.held
        self._unhold(hold, released)
        return released

    def settle(
        self,
        fill: Fill,
        market: Market,
        *,
        maker_fee_percent: Decimal,
        taker_fee_percent: Decimal,
    ) -> Settlement:
        """Book one fill: base from seller to buyer, quote from buyer to seller, fees to the
        fee account, each side paying its own fee in the quote currency.

        Raises:
            LedgerError: a tracked side cannot deliver (its order was never reserved).
        """
        with localcontext(_CONTEXT):
            return self._settle(fill, market, _rate(maker_fee_percent), _rate(taker_fee_percent))

    # ----------------------------------------------------------------- internals

    def _settle(self, fill: Fill, market: Market, maker: Decimal, taker: Decimal) -> Settlement:
        taker_buys = fill.taker_side is Side.BUY
        buyer, seller = fill.taker_owner, fill.maker_owner
        buy_id, sell_id = fill.taker_order_id, fill.maker_order_id
        if not taker_buys:
            buyer, seller, buy_id, sell_id = seller, buyer, sell_id, buy_id
        buyer_rate, seller_rate = (taker, maker) if taker_buys else (maker, taker)
        base, quote, amount = market.base, market.quote, fill.amount
        q = quantum(self.places(quote))
        exact = fill.price * amount

        buyer_tracked, seller_tracked = self.tracked(buyer), self.tracked(seller)
        if seller_tracked and self._can_pay(seller, base, sell_id) < amount:
            raise LedgerError(f"{seller} cannot deliver {amount} {base} for order {sell_id}")

        value = exact.quantize(q, rounding=ROUND_HALF_UP)
        buyer_fee = (value * buyer_rate).quantize(q, rounding=ROUND_HALF_UP)
        if buyer_tracked:
            can = self._can_pay(buyer, quote, buy_id)
            if can < value:  # a rounding unit short: round the value down instead
                value = exact.quantize(q, rounding=ROUND_DOWN)
                buyer_fee = (value * buyer_rate).quantize(q, rounding=ROUND_HALF_UP)
            if can < value:
                raise LedgerError(f"{buyer} cannot pay {value} {quote} for order {buy_id}")
            buyer_fee = min(buyer_fee, can - value)
        seller_fee = (value * seller_rate).quantize(q, rounding=ROUND_HALF_UP)

        fees = ZERO
        if seller_tracked:
            self._pay(seller, base, amount, sell_id, amount)
            self._account(seller, quote).available += value - seller_fee
            fees += seller_fee
        else:
            self._issue(base, amount)  # base enters the tracked world
            self._issue(quote, -value)
        if buyer_tracked:
            self._pay(buyer, quote, value + buyer_fee, buy_id, amount)
            self._account(buyer, base).available += amount
            fees += buyer_fee
        else:
            self._issue(base, -amount)
            self._issue(quote, value)
        if fees:
            self._account(self.fee_account, quote).available += fees
        return Settlement(
            fill,
            buyer,
            seller,
            value,
            buyer_fee if buyer_tracked else ZERO,
            seller_fee if seller_tracked else ZERO,
        )

    def _hold_of(self, order_id: int, owner: str, currency: str) -> Hold | None:
        hold = self._holds.get(order_id)
        if hold is None or hold.owner != owner or hold.currency != currency:
            return None
        return hold

    def _can_pay(self, owner: str, currency: str, order_id: int) -> Decimal:
        hold = self._hold_of(order_id, owner, currency)
        held = hold.held if hold is not None else ZERO
        acc = self._accounts.get((owner, currency))
        return held + (acc.available if acc is not None else ZERO)

    def _pay(
        self, owner: str, currency: str, cost: Decimal, order_id: int, filled: Decimal
    ) -> None:
        """Take ``cost`` from the order's hold, then from available; then trim the hold."""
        acc = self._account(owner, currency)
        hold = self._hold_of(order_id, owner, currency)
        if hold is None:
            acc.available -= cost
            return
        from_hold = min(hold.held, cost)
        hold.held -= from_hold
        acc.held -= from_hold
        acc.available -= cost - from_hold
        if hold.remaining is None:
            return  # a plain hold: the caller releases it with release_order
        hold.remaining -= filled
        if hold.remaining <= 0:
            self.release_order(order_id)
        elif hold.price is not None:
            need = self.limit_buy_cost(currency, hold.remaining, hold.price, hold.fee_percent)
            if hold.held > need:
                self._unhold(hold, hold.held - need)

    def _reserve(
        self,
        owner: str,
        currency: str,
        amount: Decimal,
        order_id: int | None,
        style: str,
        hold: Hold,
    ) -> None:
        if not self.tracked(owner):
            return
        if order_id is not None and order_id in self._holds:
            raise LedgerError(f"order {order_id} already holds funds")
        acc = self._account(owner, currency)
        if acc.available < amount:
            raise self._short(currency, amount, acc.available, style)
        with localcontext(_CONTEXT):
            acc.available -= amount
            if order_id is None:
                acc.loose += amount
            else:
                acc.held += amount
                self._holds[order_id] = hold

    def _unhold(self, hold: Hold, amount: Decimal) -> None:
        acc = self._account(hold.owner, hold.currency)
        with localcontext(_CONTEXT):
            hold.held -= amount
            acc.held -= amount
            acc.available += amount

    def _short(self, currency: str, needed: Decimal, have: Decimal, style: str) -> Exception:
        return InsufficientFunds(currency, needed, have, places=self.places(currency), style=style)

    def _account(self, owner: str, currency: str) -> Account:
        key = (owner, currency)
        acc = self._accounts.get(key)
        if acc is None:
            acc = self._accounts[key] = Account()
        return acc

    def _issue(self, currency: str, amount: Decimal) -> None:
        self._issued[currency] = self._issued.get(currency, ZERO) + amount


def _rate(percent: Decimal) -> Decimal:
    """A fee in percent as Bitstamp's fees/trading gives it (``0.30``) -> a fraction."""
    if not percent.is_finite() or not ZERO <= percent < _HUNDRED:
        raise ValueError(f"fee must be a percentage in [0, 100), got {percent}")
    return percent / _HUNDRED


def _positive(amount: Decimal) -> None:
    if not amount.is_finite() or not amount > 0:
        raise ValueError(f"amount must be positive, got {amount}")
