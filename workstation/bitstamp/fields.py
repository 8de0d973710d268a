"""Reading the fields of Bitstamp payloads: the one helper every codec shares.

Every reader raises ``PayloadError`` naming the field, so the public payloads
(``market_data``), the stream frames (``stream_frames``), the market lists (``markets``), the
account payloads (``account``) and the order codecs accept exactly the same text and fail
the same way, without one codec importing another for its helpers.

Two wire conventions meet here (reference 2). Public REST payloads and stream frames send
every number as a string: prices and amounts go through ``book_number``/``parse_decimal``,
ids and times through ``to_int(..., unsigned=True)``, sides through
``to_side(..., codes_only=True)``. Private replies mix JSON strings and numbers, sometimes in
one field, so money fields are typed ``Number`` and read by ``to_decimal``: a string must be
a plain decimal (``parse_decimal``); a JSON number is read by msgspec straight into an exact
``Decimal`` (``float_hook=Decimal``), never through float. Frames that carry both a JSON
number and its ``*_str`` twin are read by ``twin_decimal``.

Parsing: each ``parse_*`` of a codec takes a response body (bytes or str) and returns domain
values, or raises ``PayloadError`` naming the payload and the field (``read`` does the
wrapping). Wire structs mirror the payloads. The simulator writes them with its own helper,
``workstation.sim.wire.fields``.

REST replies name markets ``"BTC/USD"`` while the domain carries symbols (``"btcusd"``):
``to_market`` reads one into the other (with the domain's ``market_symbol``) and
``market_name`` writes it back (the journal export and the simulator use it): pass ``names``
(symbol -> name, e.g. ``{m.symbol: f"{m.base}/{m.quote}" for m in markets}``) for markets
whose quote currency is not one of Bitstamp's usual ones. ``checked_market`` is the symbol
check of every request path that names a market. ``http_date`` reads the one header field
two readers need: the server clock learns from ``Date``, the error rules from ``Retry-After``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any, TypeVar

import msgspec

from workstation.bitstamp.errors import ProtocolError
from workstation.domain.common import Side
from workstation.domain.market_data import Level, market_symbol
from workstation.domain.numbers import (
    MAX_NUMBER_LENGTH,
    parse_decimal,
)

__all__ = [
    "MARKET_SYMBOL",
    "Number",
    "TOO_DEEP",
    "PayloadError",
    "book_number",
    "checked_market",
    "client_id",
    "decoder",
    "http_date",
    "levels",
    "market_name",
    "optional_decimal",
    "read",
    "reply_market",
    "to_datetime",
    "to_decimal",
    "to_int",
    "to_market",
    "to_side",
    "twin_decimal",
]

T = TypeVar("T")


class PayloadError(ProtocolError):
    """A Bitstamp payload is not valid JSON, lacks a field, or carries a bad value.

    A ``ProtocolError`` of the tree, not a ``ValueError``: whoever catches ``BitstampError``
    around a call sees an unreadable reply too (on a submit it means the outcome is unknown).
    """


# --- string-only numbers: public payloads and book frames ----------------------------------

# The same rule as numbers.parse_decimal(signed=False), inlined so the hot path of book frames
# skips a function call per number; any text it rejects goes through parse_decimal for the
# trader-readable message, so acceptance and errors stay exactly parse_decimal's.
_PLAIN = re.compile(r"[0-9]+(?:\.[0-9]+)?", re.ASCII).fullmatch


@lru_cache(maxsize=8192)
def book_number(text: str) -> Decimal:
    """Strictly parse an unsigned price or amount, memoised.

    Book levels repeat the same price and amount texts frame after frame (a level's price,
    ``"0.00000000"`` for deletes); caching the immutable Decimal roughly doubles diff decoding
    speed. Raises ``NumberFormatError`` like ``parse_decimal``.
    """
    if _PLAIN(text) is None or len(text) > MAX_NUMBER_LENGTH:
        return parse_decimal(text)  # raises with the precise reason
    return Decimal(text)


def levels(rows: Iterable[tuple[str, str]]) -> tuple[Level, ...]:
    """``[["3802.90", "0.60000000"], ...]`` -> ``((Decimal, Decimal), ...)`` in wire order."""
    return tuple([(book_number(price), book_number(amount)) for price, amount in rows])


# --- every payload: JSON, numbers, ids, sides, times, markets ------------------------------


#: A field Bitstamp sends as a JSON string or a JSON number. Decoders are built with
#: ``float_hook=Decimal``, so after decoding it is ``str``, ``int`` or ``Decimal``.
Number = Any


TOO_DEEP = "nested too deeply to read"
"""Said of a payload msgspec gave up on with RecursionError (thousands of levels deep)."""


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
    except RecursionError as exc:  # msgspec past the interpreter's depth: no real payload
        raise PayloadError(f"{what}: {TOO_DEEP}") from exc
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


def twin_decimal(text: str | None, value: Number, field: str) -> Decimal:
    """A frame's ``*_str`` twin when present (exact as written: ``"0.00000001"``, not
    ``1e-8``), else its JSON number."""
    if text is not None:
        return parse_decimal(text, field=f"{field}_str")
    if value is None:
        raise PayloadError(f"{field} is missing")
    return to_decimal(value, field)


def to_int(value: int | str, field: str, *, unsigned: bool = False) -> int:
    """An id, code or time sent as a JSON int or as ASCII digits (reference 2, IDs).

    ``int()`` alone would accept ``" 12"``, ``"1_000"``, ``"+5"`` and non-ASCII digits.
    ``unsigned`` is the rule of public payloads, whose ids and times are never negative.
    """
    if isinstance(value, str):
        if value.isascii() and value.isdigit() and len(value) <= MAX_NUMBER_LENGTH:
            return int(value)  # the common case, on every trade and book frame: three checks
        negative = not unsigned and value[:1] == "-"
        if negative and value[1:].isdigit() and value.isascii() and len(value) <= MAX_NUMBER_LENGTH:
            return int(value)
    elif isinstance(value, int) and not isinstance(value, bool) and (value >= 0 or not unsigned):
        return value
    if unsigned:
        raise PayloadError(f"{field} is not a whole number: {value!r}")
    raise PayloadError(f"{field} must be an integer, not {value!r}")


def to_side(value: int | str, field: str = "type", *, codes_only: bool = False) -> Side:
    """Bitstamp's side code 0 (buy) or 1 (sell), as an int or as text, or the words
    ``"buy"``/``"sell"`` of the private frames; ``codes_only`` for public payloads, which
    never spell it."""
    if not codes_only and value in ("buy", "sell"):
        return Side(value)
    try:
        return Side.from_code(value)
    except ValueError:
        if codes_only:
            raise PayloadError(f"{field} must be 0 or 1, not {value!r}") from None
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


def http_date(text: str) -> dt.datetime | None:
    """An HTTP-date header (``Date``, ``Retry-After``) as an aware datetime, or None when it
    is not one. HTTP-dates are always GMT, so one without a zone is read as UTC."""
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


_MARKET_NAME = re.compile(r"[A-Za-z0-9]+/?[A-Za-z0-9-]+")
MARKET_SYMBOL = r"[a-z0-9]+(?:-[a-z0-9]+)?"
"""A Bitstamp market symbol (``btcusd``, ``btcusd-perp``) as a regular expression (ASCII): what
may go into a request path, and what a channel name may carry as its market."""
_SYMBOL = re.compile(MARKET_SYMBOL, re.ASCII)


def to_market(name: str, field: str = "market") -> str:
    """``"BTC/USD"`` (or already ``"btcusd"``) -> ``"btcusd"``, the symbol used everywhere,
    once the text is checked to be a market name (the rule itself is the domain's)."""
    if not isinstance(name, str) or not _MARKET_NAME.fullmatch(name):
        raise PayloadError(f"{field} is not a market name: {name!r}")
    return market_symbol(name)


def checked_market(symbol: str) -> str:
    """``symbol`` when it is a Bitstamp market symbol (``"btcusd"``, ``"btcusd-perp"``), fit
    to go into a request path; ValueError otherwise."""
    if _SYMBOL.fullmatch(symbol) is None:
        raise ValueError(f"not a Bitstamp market symbol: {symbol!r}")
    return symbol


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


# --- shared by the order codecs ------------------------------------------------------------


def reply_market(market: str | None, currency_pair: str | None) -> str:
    """The symbol from ``market``, or from ``currency_pair`` in older replies."""
    if market is None and currency_pair is None:
        raise PayloadError("market is missing")
    return to_market(market if market is not None else currency_pair or "")


def client_id(value: str | int | None) -> str | None:
    """A ``client_order_id`` as text, whether Bitstamp sent it as a string or a number."""
    return None if value is None else str(value)
