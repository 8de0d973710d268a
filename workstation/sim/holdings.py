"""The simulator ledger's records: balances, settlements, its errors, accounts and holds.

``Balance`` and ``Settlement`` are what the ledger hands out, ``LedgerError`` and
``InsufficientFunds`` what it raises, ``Account`` and ``Hold`` the mutable state it keeps.
Separate from ``ledger.py`` so that the bookkeeping rules (reservation, settlement,
rounding) read on their own. The public four are re-exported by ``ledger.py``; only
``Ledger`` should touch an ``Account`` or a ``Hold``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_UP, Decimal

from workstation.domain.common import Side
from workstation.domain.numbers import format_decimal, plain
from workstation.sim.orders import Fill

__all__ = ["Account", "Balance", "Hold", "InsufficientFunds", "LedgerError", "Settlement"]

ZERO = Decimal(0)


class LedgerError(Exception):
    """A bookkeeping request that cannot be right (a bug in the caller), not a trader error."""


class InsufficientFunds(Exception):  # noqa: N818 - Bitstamp's own wording for the condition
    """An order or withdrawal needs more than the owner has available.

    ``str(exc)`` is Bitstamp's message (reference 4.3): with ``style="need"`` (limit buys)
    "You need 120.00 USD to open that order. You have only 100.00 USD available. Check your
    account balance for details."; with ``style="have"`` (sells, withdrawals) "You have only
    0.50000000 BTC available. Check your account balance for details.". Numbers print with
    ``places`` decimals (needed rounded up, available down), or exactly when ``None``.
    """

    def __init__(
        self,
        currency: str,
        needed: Decimal,
        available: Decimal,
        *,
        places: int | None = None,
        style: str = "need",
    ) -> None:
        if style not in ("need", "have"):
            raise ValueError(f"unknown style {style!r}")
        self.currency = currency
        self.needed = needed
        self.available = available
        self.places = places
        self.style = style
        super().__init__(self.message)

    @property
    def message(self) -> str:
        cur = self.currency.upper()
        have = self._show(self.available, ROUND_DOWN)
        tail = f"You have only {have} {cur} available. Check your account balance for details."
        if self.style == "have":
            return tail
        return f"You need {self._show(self.needed, ROUND_UP)} {cur} to open that order. {tail}"

    def _show(self, value: Decimal, rounding: str) -> str:
        if self.places is None:
            return plain(value)
        return format_decimal(value, self.places, rounding=rounding)


@dataclass(frozen=True, slots=True)
class Balance:
    """One owner's holding of one currency."""

    available: Decimal
    reserved: Decimal

    @property
    def total(self) -> Decimal:
        return self.available + self.reserved


@dataclass(frozen=True, slots=True)
class Settlement:
    """How one fill was booked; the fees are what each side actually paid, in quote."""

    fill: Fill
    buyer: str
    seller: str
    value: Decimal
    buyer_fee: Decimal
    seller_fee: Decimal

    @property
    def maker_fee(self) -> Decimal:
        return self.seller_fee if self.fill.taker_side is Side.BUY else self.buyer_fee

    @property
    def taker_fee(self) -> Decimal:
        return self.buyer_fee if self.fill.taker_side is Side.BUY else self.seller_fee


class Account:
    """One owner's funds in one currency, as the ledger mutates them (not for callers)."""

    __slots__ = ("available", "held", "loose")

    def __init__(self) -> None:
        self.available = ZERO
        self.held = ZERO  # reserved for orders (sum of their holds)
        self.loose = ZERO  # reserved without an order id


class Hold:
    """Funds held for one order, mutated by the ledger as the order fills (not for callers).

    ``price`` and ``remaining`` are set for limit orders.
    """

    __slots__ = ("currency", "fee_percent", "held", "owner", "price", "remaining")

    def __init__(
        self,
        owner: str,
        currency: str,
        held: Decimal,
        price: Decimal | None = None,
        remaining: Decimal | None = None,
        fee_percent: Decimal = ZERO,
    ) -> None:
        self.owner = owner
        self.currency = currency
        self.held = held
        self.price = price
        self.remaining = remaining
        self.fee_percent = fee_percent
