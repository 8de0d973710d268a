"""Private account payloads written for the simulator to serve: balances, trading fees, the
websockets token and the user transactions ledger (reference 2, 4.1, 4.2, 4.7, 4.8).

Kept apart from the parsers in ``workstation.bitstamp.account``: only the server side writes
them. Conventions (keys in Bitstamp's order, values of the JSON type it uses, serialised
with ``fields.dumps``) as in ``fields``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ...bitstamp.fields import market_name
from ...domain.account import Balance, TradingFee, UserTransaction, WebsocketToken
from .fields import format_datetime, number, padded, text

__all__ = [
    "encode_account_balances",
    "encode_legacy_balance",
    "encode_trading_fees",
    "encode_user_transactions",
    "encode_websockets_token",
]


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


def encode_websockets_token(token: WebsocketToken) -> dict[str, Any]:
    """``{"token": str, "valid_sec": int, "user_id": int}``."""
    return {"token": token.token, "valid_sec": token.valid_sec, "user_id": token.user_id}


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
