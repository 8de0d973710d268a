"""Simulator accounts: API keys, fees, and the short-lived WebSocket tokens.

One demo account is funded at start (reference checklist: e.g. 5 BTC, 50 ETH, 100,000 USD,
100,000 EUR, 50,000 XRP). Key and secret are generated unless given, and never logged; the
``workstation sim`` command prints them once, on purpose, for the user to paste into a bot.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from ..domain.account import WebsocketToken
from .clock import SimClock

__all__ = ["DEMO_FUNDS", "Account", "Accounts"]

DEMO_FUNDS: dict[str, Decimal] = {
    "btc": Decimal("5"),
    "eth": Decimal("50"),
    "usd": Decimal("100000"),
    "eur": Decimal("100000"),
    "xrp": Decimal("50000"),
    "ltc": Decimal("100"),
    "usdc": Decimal("10000"),
}

TOKEN_VALID_S = 60  # reference 4.8


@dataclass(eq=False)
class Account:
    user_id: int
    owner: str
    """The ledger owner name of this account."""
    api_key: str = field(repr=False)
    secret: str = field(repr=False)
    maker_percent: Decimal = Decimal("0.30")
    taker_percent: Decimal = Decimal("0.40")


class Accounts:
    """API keys to accounts, and the WebSocket tokens issued to them."""

    def __init__(self, clock: SimClock) -> None:
        self._clock = clock
        self._by_key: dict[str, Account] = {}
        self._by_owner: dict[str, Account] = {}
        self._tokens: dict[str, tuple[int, int]] = {}  # token -> (user_id, expires_us)

    def add(
        self, owner: str, *, user_id: int, api_key: str | None = None, secret: str | None = None
    ) -> Account:
        account = Account(
            user_id=user_id,
            owner=owner,
            api_key=api_key or secrets.token_hex(16),
            secret=secret or secrets.token_hex(32),
        )
        self._by_key[account.api_key] = account
        self._by_owner[owner] = account
        return account

    def by_key(self, api_key: str) -> Account | None:
        return self._by_key.get(api_key)

    def by_owner(self, owner: str) -> Account | None:
        return self._by_owner.get(owner)

    def __iter__(self) -> Iterator[Account]:
        return iter(tuple(self._by_owner.values()))

    def issue_token(self, owner: str) -> WebsocketToken:
        account = self._by_owner[owner]
        token = secrets.token_hex(16)  # 32 characters, like Bitstamp's
        self._tokens[token] = (account.user_id, self._clock.peek_us() + TOKEN_VALID_S * 1_000_000)
        return WebsocketToken(token=token, valid_sec=TOKEN_VALID_S, user_id=account.user_id)

    def check_token(self, token: str, user_id: int) -> bool:
        """Valid when issued to ``user_id`` and not yet expired."""
        entry = self._tokens.get(token)
        if entry is None:
            return False
        owner_id, expires_us = entry
        if expires_us < self._clock.peek_us():
            del self._tokens[token]
            return False
        return owner_id == user_id
