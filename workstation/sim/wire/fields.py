"""Writing the fields of Bitstamp payloads: the one helper every simulator encoder shares.

Each ``encode_*`` of ``sim.wire`` returns JSON-ready objects with Bitstamp's keys in
Bitstamp's order, each value already of the JSON type Bitstamp uses: ``str`` for string
numbers, ``Decimal`` for JSON numbers, ``int`` for ids. Serialise them with ``dumps``, which
writes a Decimal as an exact JSON number, never through float. String numbers keep the
Decimal's own scale unless the encoder is given the market's (or currency's) decimals, which
pad them as Bitstamp does without ever rounding (``padded``: ``Decimal("7")`` with 5 places
is sent as ``"7.00000"``).

The readers are the client's, in ``workstation.bitstamp.fields``; so is ``market_name``
(``"btcusd"`` -> ``"BTC/USD"``), which the journal export writes too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import msgspec

from ...domain.numbers import decimal_places, format_decimal, plain

__all__ = ["Names", "dumps", "format_datetime", "number", "padded", "present", "text"]

#: Symbol -> display name (``{"btcusd": "BTC/USD"}``) for ``market_name``; None splits the
#: symbol at a known quote currency.
Names = Mapping[str, str] | None

_ENCODER = msgspec.json.Encoder(decimal_format="number")


def dumps(obj: object) -> bytes:
    """Serialise an ``encode_*`` result: Decimals become exact JSON numbers, str stays str."""
    return _ENCODER.encode(obj)


def format_datetime(when: dt.datetime, *, micros: bool) -> str:
    """The REST time text; ``micros`` adds ``.ffffff`` as order replies and ledgers do."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S" + (".%f" if micros else ""))


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
