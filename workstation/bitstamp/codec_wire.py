"""What every wire codec shares: the one ``PayloadError``, and the strict readers for the
numbers, ids and sides of string-only payloads (public REST, reference 2; stream frames, 7.4).

Separate from the codecs so that REST parsers (``codec_public``), stream frames
(``codec_stream``) and private payloads (``codec_fields`` and the modules built on it) raise
the same error and accept exactly the same number text, without one codec importing another
just for its helpers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from functools import lru_cache

from workstation.bitstamp.errors import ProtocolError
from workstation.domain.common import Side
from workstation.domain.market_data import Level
from workstation.domain.numbers import MAX_NUMBER_LENGTH, parse_decimal

__all__ = ["PayloadError", "book_number", "levels", "parse_uint", "side_from_code"]


class PayloadError(ProtocolError):
    """A Bitstamp payload is not valid JSON, lacks a field, or carries a bad value.

    A ``ProtocolError`` of the tree, not a ``ValueError``: whoever catches ``BitstampError``
    around a call sees an unreadable reply too (on a submit it means the outcome is unknown).
    """


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


def parse_uint(text: str, field: str) -> int:
    """A non-negative integer sent as text (``"1641343695572693"``), ASCII digits only.

    ``int()`` alone would accept ``" 12"``, ``"1_000"``, ``"+5"`` and non-ASCII digits.
    """
    if not (text.isascii() and text.isdigit()) or len(text) > MAX_NUMBER_LENGTH:
        raise PayloadError(f"{field} is not a whole number: {text!r}")
    return int(text)


def side_from_code(code: str | int, field: str = "type") -> Side:
    """Bitstamp's ``0``/``1`` (string or int) -> Side, as a PayloadError when unknown."""
    try:
        return Side.from_code(code)
    except ValueError as exc:
        raise PayloadError(f"{field} must be 0 or 1, not {code!r}") from exc
