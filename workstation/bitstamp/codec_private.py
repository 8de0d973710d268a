"""Private (account) payloads: parse Bitstamp's replies, and encode them for the simulator.

Reference sections 2, 4.1, 4.2, 4.7, 4.8. Order payloads (4.3-4.6, and the private stream of
7.5) live in ``codec_orders`` and are re-exported here: ``codec_private.parse_order_event``,
``codec_private.encode_cancel`` and friends all work.

Parsing: each ``parse_*`` takes a response body (bytes or str) and returns domain values, or
raises ``PayloadError`` naming the payload and the field. Wire structs mirror the payloads.
Private replies mix JSON strings and numbers, sometimes in one field, so money fields are typed
``Number`` and read by ``to_decimal``: a string must be a plain decimal (``parse_decimal``); a
JSON number is read by msgspec straight into an exact ``Decimal`` (``float_hook=Decimal``),
never through float.

Encoding: each ``encode_*`` returns JSON-ready objects with Bitstamp's keys in Bitstamp's
order, each value already of the JSON type Bitstamp uses: ``str`` for string numbers,
``Decimal`` for JSON numbers, ``int`` for ids. Serialise them with ``dumps`` (or any msgspec
encoder built with ``decimal_format="number"``), which writes a Decimal as an exact JSON
number. String numbers keep the Decimal's own scale unless the encoder is given the market's
(or currency's) decimals, which pad them as Bitstamp does without ever rounding (``padded``:
``Decimal("7")`` with 5 places is sent as ``"7.00000"``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, TypeVar

import msgspec

from workstation.bitstamp.codec_public import PayloadError  # one payload error for every codec
from workstation.domain.account import Balance, TradingFee, UserTransaction, WebsocketToken
from workstation.domain.common import Side
from workstation.domain.numbers import decimal_places, format_decimal, parse_decimal, plain

__all__ = [
    "Number",
    "PayloadError",
    "dumps",
    "encode_account_balances",
    "encode_legacy_balance",
    "encode_trading_fees",
    "encode_user_transactions",
    "encode_websockets_token",
    "market_name",
    "padded",
    "parse_account_balances",
    "parse_legacy_balance",
    "parse_trading_fees",
    "parse_user_transactions",
    "parse_websockets_token",
]

T = TypeVar("T")


#: A field Bitstamp sends as a JSON string or a JSON number. Decoders are built with
#: ``float_hook=Decimal``, so after decoding it is ``str``, ``int`` or ``Decimal``.
Number = Any

_ENCODER = msgspec.json.Encoder(decimal_format="number")


def dumps(obj: object) -> bytes:
    """Serialise an ``encode_*`` result: Decimals become exact JSON numbers, str stays str."""
    return _ENCODER.encode(obj)


# --- shared wire helpers (codec_orders uses them too) --------------------------------------


def decoder(kind: Any) -> msgspec.json.Decoder[Any]:
    """A decoder for ``kind`` that reads every untyped JSON number exactly (never float)."""
    return msgspec.json.Decoder(kind, float_hook=Decimal)


def read(
    dec: msgspec.json.Decoder[Any], body: bytes | str, what: str, convert: Callable[..., T]
) -> T:
    """Decode ``body`` and ``convert`` it; any wire fault becomes a PayloadError about ``what``."""
    try:
        return convert(dec.decode(body))
    except msgspec.ValidationError as exc:
        raise PayloadError(f"{what}: {exc}") from exc
    except msgspec.DecodeError as exc:
        raise PayloadError(f"{what}: not valid JSON ({exc})") from exc
    except KeyError as exc:
        raise PayloadError(f"{what}: {exc.args[0]} is missing") from exc
    except ValueError as exc:  # NumberFormatError, unknown side or status, PayloadError
        raise PayloadError(f"{what}: {exc}") from exc


def to_decimal(value: Number, field: str, *, signed: bool = False) -> Decimal:
    """A money value sent as a string (parsed strictly) or as a JSON number (already exact)."""
    if isinstance(value, str):
        return parse_decimal(value, signed=signed, field=field)
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise PayloadError(f"{field} must be a number or a numeric string, not {value!r}")
    result = Decimal(value)
    if not result.is_finite() or (result < 0 and not signed):
        raise PayloadError(f"{field} must be a finite, non-negative number, not {value!r}")
    return result


def optional_decimal(value: Number, field: str) -> Decimal | None:
    return None if value is None else to_decimal(value, field)


def to_int(value: int | str, field: str) -> int:
    """An id or code sent as a JSON int or as a string of ASCII digits (reference 2, IDs)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,20}", value, re.ASCII):
        return int(value)
    raise PayloadError(f"{field} must be an integer, not {value!r}")


def to_side(value: int | str, field: str = "type") -> Side:
    """Bitstamp's ``type`` 0/1 (int or string) or ``"buy"``/``"sell"`` as a Side."""
    if value in ("buy", "sell"):
        return Side(value)
    try:
        return Side.from_code(value)
    except ValueError:
        raise PayloadError(f"{field} is not a side: {value!r}") from None


_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?")


def to_datetime(text: str, field: str = "datetime") -> dt.datetime:
    """REST ``"YYYY-MM-DD HH:MM:SS[.ffffff]"`` (UTC, no zone suffix, reference 2) as aware UTC."""
    if not isinstance(text, str) or _DATETIME.fullmatch(text) is None:
        raise PayloadError(f"{field} is not a 'YYYY-MM-DD HH:MM:SS' time: {text!r}")
    try:
        return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)
    except ValueError:
        raise PayloadError(f"{field} is not a valid time: {text!r}") from None


def format_datetime(when: dt.datetime, *, micros: bool) -> str:
    """The REST time text; ``micros`` adds ``.ffffff`` as order replies and ledgers do."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S" + (".%f" if micros else ""))


def market_symbol(name: str, field: str = "market") -> str:
    """``"BTC/USD"`` (or already ``"btcusd"``) -> ``"btcusd"``, the symbol used everywhere."""
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9]+/?[A-Za-z0-9-]+", name):
        raise PayloadError(f"{field} is not a market name: {name!r}")
    return name.replace("/", "").lower()


# Bitstamp's quote currencies, longest first so "btcusdt" splits as BTC/USDT, not BTCU/SDT.
_QUOTES = ("usdt", "usdc", "usd", "eur", "gbp", "btc", "eth", "pax")


def market_name(symbol: str, names: Mapping[str, str] | None = None) -> str:
    """The display name REST replies carry: ``"btcusd"`` -> ``"BTC/USD"``.

    ``names`` (symbol -> name, e.g. from the market list) wins; otherwise the symbol is split
    at a known quote currency. Raises ValueError when neither works.
    """
    if names is not None and symbol in names:
        return names[symbol]
    pair, dash, suffix = symbol.partition("-")  # perpetuals: "btcusd-perp" -> "BTC/USD-PERP"
    for quote in _QUOTES:
        if pair.endswith(quote) and len(pair) > len(quote):
            return f"{pair[: -len(quote)]}/{quote}{dash}{suffix}".upper()
    raise ValueError(f"cannot tell base from quote in market {symbol!r}; pass names")


def text(value: Decimal) -> str:
    """A string number with the Decimal's own scale, never exponent form nor ``-0``."""
    return f"{value.copy_abs() if value.is_zero() else value:f}"


def padded(value: Decimal, places: int | None) -> str:
    """A string number with at least ``places`` decimals, the way Bitstamp pads amounts to the
    market's or currency's decimals (``"0.01000000"``, ``"60000.00"``; reference section 2 and
    the recorded balances in georlav/). Never rounds: a value with more significant places
    keeps them. ``places=None`` keeps the Decimal's own scale, as ``text`` does."""
    if places is None:
        return text(value)
    return format_decimal(value, max(places, decimal_places(value)))


def number(value: Decimal) -> Decimal:
    """A JSON number: the exact value without trailing zeros (Bitstamp writes ``2100.45``)."""
    return Decimal(plain(value))


def present(fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` without the keys whose value is None (Bitstamp omits unset optional keys)."""
    return {key: value for key, value in fields.items() if value is not None}


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
            market=market_symbol(row.market or row.currency_pair or ""),
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


def __getattr__(name: str) -> Any:
    # Order payloads live in codec_orders, which imports the helpers above; importing it lazily
    # here keeps ``codec_private.parse_order_event`` working without an import cycle.
    from workstation.bitstamp import codec_orders

    if name in codec_orders.__all__:
        return getattr(codec_orders, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
