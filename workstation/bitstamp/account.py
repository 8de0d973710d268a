"""Private account payloads read: balances, trading fees, the websockets token and the user
transactions ledger (reference 2, 4.1, 4.2, 4.7, 4.8).

Order payloads live elsewhere: REST order forms and replies (cancel and replace too) in
``orders``, the order stream (7.5) in ``order_frames``. The field readers all of
them share, and their conventions, are in ``fields``. The simulator writes these payloads in
``workstation.sim.wire.account``.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import msgspec

from workstation.bitstamp.fields import (
    Number,
    PayloadError,
    decoder,
    read,
    to_datetime,
    to_decimal,
    to_int,
    to_market,
)
from workstation.domain.account import Balance, TradingFee, UserTransaction, WebsocketToken

__all__ = [
    "parse_account_balances",
    "parse_legacy_balance",
    "parse_trading_fees",
    "parse_user_transactions",
    "parse_websockets_token",
]


# --- balances (4.1) ------------------------------------------------------------------------


class _BalanceWire(msgspec.Struct):
    currency: str
    total: Number
    available: Number
    reserved: Number


_BALANCES = decoder(list[_BalanceWire] | _BalanceWire)
_FLAT = decoder(dict[str, Any])
_LEGACY_PARTS = ("available", "balance", "reserved")


def parse_account_balances(body: bytes | str) -> list[Balance]:
    """``account_balances/`` (an array) or ``account_balances/{currency}/`` (one object)."""
    return read(_BALANCES, body, "account_balances", _balances)


def _balances(wire: list[_BalanceWire] | _BalanceWire) -> list[Balance]:
    rows = wire if isinstance(wire, list) else [wire]
    return [
        Balance(
            currency=row.currency.lower(),
            total=to_decimal(row.total, "total"),
            available=to_decimal(row.available, "available"),
            reserved=to_decimal(row.reserved, "reserved"),
        )
        for row in rows
    ]


def parse_legacy_balance(body: bytes | str) -> list[Balance]:
    """The flat legacy ``balance/`` object: ``btc_available``, ``btc_balance`` (the total) and
    ``btc_reserved`` per currency, in the order they appear. Fee keys are skipped."""
    return read(_FLAT, body, "balance", _legacy_balance)


def _legacy_balance(flat: dict[str, Any]) -> list[Balance]:
    parts: dict[str, dict[str, Number]] = {}
    for key, value in flat.items():
        currency, _, part = key.rpartition("_")
        if currency and part in _LEGACY_PARTS:  # "*_withdrawal_fee", "btcusd_fee", "fee" are not
            parts.setdefault(currency, {})[part] = value
    balances = []
    for cur, values in parts.items():
        missing = [part for part in _LEGACY_PARTS if part not in values]
        if missing:
            raise PayloadError(f"{cur}_{missing[0]} is missing")
        balances.append(
            Balance(
                currency=cur,
                total=to_decimal(values["balance"], f"{cur}_balance"),
                available=to_decimal(values["available"], f"{cur}_available"),
                reserved=to_decimal(values["reserved"], f"{cur}_reserved"),
            )
        )
    return balances


# --- trading fees (4.2) --------------------------------------------------------------------


class _FeesWire(msgspec.Struct):
    maker: Number
    taker: Number


class _TradingFeeWire(msgspec.Struct):
    fees: _FeesWire
    market: str | None = None
    currency_pair: str | None = None  # the deprecated twin of market


_TRADING_FEES = decoder(list[_TradingFeeWire] | _TradingFeeWire)


def parse_trading_fees(body: bytes | str) -> list[TradingFee]:
    """``fees/trading/`` (an array) or ``fees/trading/{market}/`` (one object), in percent."""
    return read(_TRADING_FEES, body, "fees/trading", _trading_fees)


def _trading_fees(wire: list[_TradingFeeWire] | _TradingFeeWire) -> list[TradingFee]:
    rows = wire if isinstance(wire, list) else [wire]
    return [
        TradingFee(
            market=to_market(row.market or row.currency_pair or ""),
            maker_percent=to_decimal(row.fees.maker, "fees.maker"),
            taker_percent=to_decimal(row.fees.taker, "fees.taker"),
        )
        for row in rows
    ]


# --- websockets token (4.8) ----------------------------------------------------------------


class _TokenWire(msgspec.Struct):
    token: str
    valid_sec: int | str
    user_id: int | str


_TOKEN = decoder(_TokenWire)


def parse_websockets_token(body: bytes | str) -> WebsocketToken:
    """``websockets_token/``: the token for private channels and the user id they end with."""
    return read(_TOKEN, body, "websockets_token", _token)


def _token(wire: _TokenWire) -> WebsocketToken:
    if not wire.token:
        raise PayloadError("token is empty")
    valid_sec, user_id = to_int(wire.valid_sec, "valid_sec"), to_int(wire.user_id, "user_id")
    return WebsocketToken(token=wire.token, valid_sec=valid_sec, user_id=user_id)


# --- user transactions (4.7) ---------------------------------------------------------------

_ROWS = decoder(list[dict[str, Any]])
_TX_FIELDS = frozenset({"id", "datetime", "type", "fee", "order_id", "self_trade"})
_CURRENCY = re.compile(r"[a-z0-9]+", re.ASCII)


def parse_user_transactions(body: bytes | str) -> list[UserTransaction]:
    """``user_transactions/``: ledger rows with one key per currency and an ``a_b`` rate key.

    Values mix types (reference 4.7): untouched currencies are the number ``0``, touched ones
    signed strings, the rate a number. Zero amounts are left out of ``amounts``; a zero rate
    (deposits carry ``"btc_usd": "0.00"``) reads as no rate.
    """
    return read(_ROWS, body, "user_transactions", lambda rows: [_user_tx(r) for r in rows])


def _user_tx(row: dict[str, Any]) -> UserTransaction:
    # A currency key holds a number or a numeric string; flags and nested values belong to
    # other (newer) fields and are skipped rather than misread.
    amounts = {
        key: to_decimal(value, key, signed=True)
        for key, value in row.items()
        if key not in _TX_FIELDS
        and _CURRENCY.fullmatch(key)
        and isinstance(value, str | int | Decimal)
        and not isinstance(value, bool)
    }
    rate = market = None
    for key, value in row.items():
        base, _, quote = key.partition("_")
        if base in amounts and quote in amounts:  # "xrp_eur": the rate of the xrpeur trade
            found = to_decimal(value, key)
            rate, market = (None, None) if found.is_zero() else (found, base + quote)
            break
    return UserTransaction(
        id=to_int(row["id"], "id"),
        datetime=to_datetime(row["datetime"]),
        type_code=to_int(row["type"], "type"),
        fee=to_decimal(row["fee"], "fee"),
        amounts={key: value for key, value in amounts.items() if not value.is_zero()},
        rate=rate,
        market=market,
        order_id=None if row.get("order_id") is None else to_int(row["order_id"], "order_id"),
    )
