"""Private account payloads: parse Bitstamp's replies, and encode them for the simulator.

Balances, trading fees, the websockets token and the user transactions ledger (reference 2,
4.1, 4.2, 4.7, 4.8). Order payloads live elsewhere: REST order replies in ``codec_orders``,
cancel and replace in ``codec_cancel``, the order stream (7.5) in ``codec_order_frames``. The
field readers and writers all of them share, and their conventions, are in ``codec_fields``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import msgspec

from workstation.bitstamp.fields import (
    Number,
    PayloadError,
    decoder,
    format_datetime,
    market_name,
    number,
    padded,
    read,
    text,
    to_datetime,
    to_decimal,
    to_int,
    to_market,
)
from workstation.domain.account import Balance, TradingFee, UserTransaction, WebsocketToken

__all__ = [
    "PayloadError",
    "encode_account_balances",
    "encode_legacy_balance",
    "encode_trading_fees",
    "encode_user_transactions",
    "encode_websockets_token",
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


def encode_account_balances(
    balances: Iterable[Balance], decimals: Mapping[str, int] | None = None
) -> list[dict[str, str]]:
    """The ``account_balances/`` array, every value a string (``"7.00000"``). The single
    currency endpoint sends one of its items.

    ``decimals`` (lowercase currency -> places) pads each amount as Bitstamp does: the recorded
    balances show 8 places for crypto, 5 for stablecoins, 2 for fiat. Without it, or for a
    currency it does not list, amounts keep their own scale.
    """
    rows = []
    for b in balances:
        places = None if decimals is None else decimals.get(b.currency)
        rows.append(
            {
                "currency": b.currency,
                "total": padded(b.total, places),
                "available": padded(b.available, places),
                "reserved": padded(b.reserved, places),
            }
        )
    return rows


def encode_legacy_balance(balances: Iterable[Balance]) -> dict[str, str]:
    """The flat legacy ``balance/`` object (without the fee keys)."""
    flat: dict[str, str] = {}
    for b in balances:
        flat[f"{b.currency}_available"] = text(b.available)
        flat[f"{b.currency}_balance"] = text(b.total)
        flat[f"{b.currency}_reserved"] = text(b.reserved)
    return flat


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


def encode_trading_fees(fees: Iterable[TradingFee]) -> list[dict[str, Any]]:
    """The ``fees/trading/`` array, with the deprecated ``currency_pair`` still sent."""
    return [
        {
            "currency_pair": f.market,
            "market": f.market,
            "fees": {"maker": text(f.maker_percent), "taker": text(f.taker_percent)},
        }
        for f in fees
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


def encode_websockets_token(token: WebsocketToken) -> dict[str, Any]:
    """``{"token": str, "valid_sec": int, "user_id": int}``."""
    return {"token": token.token, "valid_sec": token.valid_sec, "user_id": token.user_id}


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


def encode_user_transactions(
    transactions: Iterable[UserTransaction],
    currencies: Iterable[str] = (),
    decimals: Mapping[str, int] | None = None,
) -> list[dict[str, Any]]:
    """Ledger rows typed as recorded: ``id`` int, ``type`` and ``fee`` strings, touched
    currencies as signed strings, the other ``currencies`` as the number ``0``, the rate as a
    JSON number keyed ``"<base>_<quote>"`` and ``order_id`` as an int.

    ``decimals`` (currency -> places) pads the touched amounts as recorded
    (``"-299.58713000"`` for XRP); without it they keep their own scale.
    """
    padding = list(currencies)
    places = decimals or {}
    rows = []
    for tx in transactions:
        row: dict[str, Any] = {
            "id": tx.id,
            "datetime": format_datetime(tx.datetime, micros=True),
            "type": str(tx.type_code),
            "fee": text(tx.fee),
        }
        for currency in [*padding, *(c for c in tx.amounts if c not in padding)]:
            amount = tx.amounts.get(currency)
            row[currency] = padded(amount, places.get(currency)) if amount else 0
        if tx.rate is not None and tx.market is not None:
            row[_rate_key(tx.market, row)] = number(tx.rate)
        if tx.order_id is not None:
            row["order_id"] = tx.order_id
        rows.append(row)
    return rows


def _rate_key(market: str, row: Mapping[str, Any]) -> str:
    """``"xrpeur"`` -> ``"xrp_eur"``, split at the row's own currency keys when possible."""
    for base in row:
        if market.startswith(base) and market[len(base) :] in row:
            return f"{base}_{market[len(base) :]}"
    base, _, quote = market_name(market).lower().partition("/")
    return f"{base}_{quote}"
