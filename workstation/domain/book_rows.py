"""A diff frame's side as packed text, checked in one pass and turned into scaled integers.

The diff stream is the busiest input, and in CPython the cost is per Python operation, not
per byte: building a tuple of two strings per row, then checking and converting each string
with string methods, costs more than ccxt's two conversions to binary floating point per
row. So the book also takes a side *packed*: the text of its rows exactly as the frame
carried it, ``[["3805.44","0.50000000"],["3805.45","0.00000000"]]``, never split into rows.

One compiled pattern checks a whole packed side: numbers in canonical form (no leading zero,
so a price has exactly one text and zero amount one too), prices with exactly the book's
decimals, amounts with exactly the decimals of the side's first amount (8 on most Bitstamp
pairs, 5 on USDT pairs; fewer than the book keeps are padded with zeros), nothing else, no
whitespace. Once checked, a side is split into its number texts with one ``translate`` (drop
``[]"``) and one ``split``, a burst of sides is merged keeping each price's last row, and
only then are the prices made integers (see :mod:`.orderbook`).

Anything the pattern does not take (another layout, fewer price decimals, a malformed
number) is refused here, which says nothing about validity: the caller then hands the same
rows as text pairs to :meth:`OrderBook.apply_rows`, where :func:`~.numbers.to_units` has the
last word and names what is wrong. The fast path is narrow, not lax.

Why the packed text is allowed into the domain although wire formats stay in ``bitstamp/``:
it is not a JSON object poked at by key but one fixed, fully checked text form of "rows of
two numbers", and recognising it here lets the book defer the conversion until it is read.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .numbers import MAX_NUMBER_LENGTH

__all__ = ["DROP_PUNCTUATION", "PackedRules"]

DROP_PUNCTUATION = b'[]"'
"""Deleted from a checked packed side to leave ``price,amount,price,amount...``."""

_FIRST_AMOUNT = re.compile(rb'\[\["[^"]*","[0-9]*(?:\.([0-9]*))?"')

Matcher = Callable[..., re.Match[bytes] | None]


def _number(places: int) -> str:
    """A number with exactly ``places`` decimals in at most ``MAX_NUMBER_LENGTH`` characters
    (as :func:`to_units` requires), without a leading zero before a digit: one text per
    value."""
    width = MAX_NUMBER_LENGTH - places - (1 if places else 0)
    return rf"(?:0|[1-9][0-9]{{0,{width - 1}}})" + (rf"\.[0-9]{{{places}}}" if places else "")


class PackedRules:
    """The one-pass check for one book's decimals. ``match`` is the pattern for the amount
    decimals seen last (a pair's wire uses one), with ``pad``, the zeros its amounts need to
    have the book's decimals; :meth:`check` finds the pattern for a side written with other
    amount decimals, compiling it once."""

    __slots__ = ("_patterns", "amount_places", "match", "pad", "price_places")

    def __init__(self, price_places: int, amount_places: int) -> None:
        self.price_places = price_places
        self.amount_places = amount_places
        self._patterns: dict[int, tuple[Matcher, bytes] | None] = {}
        self.match: Matcher = self._never
        self.pad = b""
        rule = self._compile(amount_places)
        if rule is not None:
            self.match, self.pad = rule

    @staticmethod
    def _never(_side: object) -> None:
        return None

    def _compile(self, places: int) -> tuple[Matcher, bytes] | None:
        rule = None
        if 0 < places <= self.amount_places:
            row = rf'\["{_number(self.price_places)}","{_number(places)}"\]'
            pattern = re.compile(rf"\[{row}(?:,{row})*\]".encode(), re.ASCII)
            rule = (pattern.fullmatch, b"0" * (self.amount_places - places))
        self._patterns[places] = rule
        return rule

    def check(self, side: bytes) -> bytes | None:
        """The amount padding of a non-empty packed side that passes the check, else
        ``None``. ``side`` is any bytes-like object (the codec's ``msgspec.Raw`` too)."""
        if self.match(side) is not None:
            return self.pad
        first = _FIRST_AMOUNT.match(side)
        if first is None or first.group(1) is None:
            return None
        places = len(first.group(1))
        rule = self._patterns[places] if places in self._patterns else self._compile(places)
        if rule is None or rule[0](side) is None:
            return None
        self.match, self.pad = rule  # the pair writes these decimals now: try them first
        return self.pad
