"""Account values: balances, trading fees, the WebSocket token and the transaction ledger.

Plain immutable values; the JSON shapes they come from live in ``workstation.bitstamp``.
Currency codes are lowercase (``"btc"``) and markets are lowercase symbols (``"btcusd"``), as in
Bitstamp's URLs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType

__all__ = [
    "DEPOSIT",
    "MARKET_TRADE",
    "SUBACCOUNT_TRANSFER",
    "WITHDRAWAL",
    "Balance",
    "TradingFee",
    "UserTransaction",
    "WebsocketToken",
]

#: ``type`` codes of user transactions (reference 4.7); there are many more (staking, referral).
DEPOSIT = 0
WITHDRAWAL = 1
MARKET_TRADE = 2
SUBACCOUNT_TRANSFER = 14


@dataclass(frozen=True, slots=True)
class Balance:
    """One currency's balance: ``total == available + reserved`` (reserved = in open orders)."""

    currency: str
    total: Decimal
    available: Decimal
    reserved: Decimal


@dataclass(frozen=True, slots=True)
class TradingFee:
    """The account's fee on one market, in percent (``0.3`` means 0.3 %, not 30 %)."""

    market: str
    maker_percent: Decimal
    taker_percent: Decimal


@dataclass(frozen=True, slots=True)
class WebsocketToken:
    """A short-lived token for the private WebSocket channels (reference 4.8).

    The token authenticates the account's private channels, so ``repr`` never shows it: it must
    not end up in logs, the journal or a crash screen.
    """

    token: str = field(repr=False)
    valid_sec: int
    user_id: int


@dataclass(frozen=True, slots=True)
class UserTransaction:
    """One ledger row from ``user_transactions`` (reference 4.7).

    Args:
        id: the transaction id.
        datetime: when it happened, timezone-aware UTC.
        type_code: Bitstamp's type (``MARKET_TRADE`` = 2, ``DEPOSIT`` = 0, ...).
        fee: the fee charged, in the quote currency for trades.
        amounts: the signed change per currency it touched (buying BTC: ``btc`` positive,
            the quote negative). Currencies it did not touch are left out. Read-only.
        rate: the trade's price (the ``xrp_eur``-style key), None when the row has none.
        market: the market of ``rate`` as a symbol (``"xrpeur"``), None without a rate.
        order_id: the order that traded, for trades only.
    """

    id: int
    datetime: dt.datetime
    type_code: int
    fee: Decimal
    amounts: Mapping[str, Decimal]
    rate: Decimal | None = None
    market: str | None = None
    order_id: int | None = None

    def __post_init__(self) -> None:
        # A frozen value must not share a mutable dict with its caller.
        object.__setattr__(self, "amounts", MappingProxyType(dict(self.amounts)))

    @property
    def is_trade(self) -> bool:
        """True for a market trade (type 2), the rows ccxt reads as "my trades"."""
        return self.type_code == MARKET_TRADE
