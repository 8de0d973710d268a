"""Reading and writing the fields of private (account and order) payloads, reference 2.

Separate because four codecs share it: ``codec_private`` (account), ``codec_orders`` (order
replies), ``codec_cancel`` (cancel and replace) and ``codec_order_frames`` (the order stream).
The conventions below hold for all of them.

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

REST replies name markets ``"BTC/USD"`` while the domain carries symbols (``"btcusd"``). The
REST encoders turn one into the other with ``market_name``: pass ``names`` (symbol -> name,
e.g. ``{m.symbol: f"{m.base}/{m.quote}" for m in markets}``) for markets whose quote currency
is not one of Bitstamp's usual ones.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, TypeVar

import msgspec

from workstation.bitstamp.codec_wire import PayloadError
from workstation.domain.common import Side
from workstation.domain.numbers import decimal_places, format_decimal, parse_decimal, plain

__all__ = [
    "Names",
    "Number",
    "client_id",
    "decoder",
    "dumps",
    "format_datetime",
    "market_name",
    "market_symbol",
    "number",
    "optional_decimal",
    "padded",
    "present",
    "read",
    "reply_market",
    "text",
    "to_datetime",
    "to_decimal",
    "to_int",
    "to_side",
]

T = TypeVar("T")


#: A field Bitstamp sends as a JSON string or a JSON number. Decoders are built with
#: ``float_hook=Decimal``, so after decoding it is ``str``, ``int`` or ``Decimal``.
Number = Any

_ENCODER = msgspec.json.Encoder(decimal_format="number")


def dumps(obj: object) -> bytes:
    """Serialise an ``encode_*`` result: Decimals become exact JSON numbers, str stays str."""
    return _ENCODER.encode(obj)


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
    except (ValueError, PayloadError) as exc:  # NumberFormatError, unknown side or status
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


# --- shared by the order codecs ------------------------------------------------------------

#: Symbol -> display name (``{"btcusd": "BTC/USD"}``) for ``market_name``; None splits the
#: symbol at a known quote currency.
Names = Mapping[str, str] | None


def reply_market(market: str | None, currency_pair: str | None) -> str:
    """The symbol from ``market``, or from ``currency_pair`` in older replies."""
    if market is None and currency_pair is None:
        raise PayloadError("market is missing")
    return market_symbol(market if market is not None else currency_pair or "")


def client_id(value: str | int | None) -> str | None:
    """A ``client_order_id`` as text, whether Bitstamp sent it as a string or a number."""
    return None if value is None else str(value)
