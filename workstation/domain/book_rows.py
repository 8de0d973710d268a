"""Wire book rows (``[["3805.44", "0.50000000"], ...]``) to scaled integers, a frame at a time.

The diff stream is the busiest input, and in CPython the cost is per Python operation, not
per byte: checking and converting each row with string methods costs more than ccxt's two
conversions to binary floating point per row. So the common case is checked for a whole
frame side at once: its texts are joined into one string per side
(``price|amount|price|amount...``) and matched by one compiled pattern (prices in canonical
form with exactly the book's decimals, amounts with exactly the decimals of the side's first
amount), and the joined text becomes integers with one ``replace``, one ``split`` and one
``map(int)``.

Everything the pattern does not take (fewer price decimals, a leading zero, mixed amount
decimals, anything malformed) goes row by row, where :func:`~.numbers.to_units` has the last
word: it accepts exactly what it accepted before and names what is wrong. The fast path is
narrow, not lax. The check has a fixed cost of about two microseconds here, so the book uses
it only for sides of several rows. Canonical price text also means one text per price, which
lets the book keep only a price's last row before parsing anything (see :mod:`.orderbook`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import chain

from .numbers import MAX_NUMBER_LENGTH

__all__ = ["POW10", "SEP", "RowRules", "parse_units"]

SEP = "|"
"""Joins a frame side's texts. Never part of a valid number; the token count is checked too."""

_flatten = chain.from_iterable
POW10 = tuple(10**n for n in range(MAX_NUMBER_LENGTH + 1))


def _number(places: int, *, canonical: bool) -> str:
    """A number with exactly ``places`` decimals in at most ``MAX_NUMBER_LENGTH`` characters
    (as :func:`to_units` requires); ``canonical`` refuses a leading zero before a digit, so
    a price has one text."""
    width = MAX_NUMBER_LENGTH - places - (1 if places else 0)
    whole = rf"(?:0|[1-9][0-9]{{0,{width - 1}}})" if canonical else rf"[0-9]{{1,{width}}}"
    return whole + (rf"\.[0-9]{{{places}}}" if places else "")


class RowRules:
    """The fast check for one book's decimals. A pattern is compiled once per amount
    decimals seen (a pair's wire uses one: 8 for most pairs, 5 for USDT pairs)."""

    __slots__ = ("_patterns", "amount_places", "price_places")

    def __init__(self, price_places: int, amount_places: int) -> None:
        self.price_places = price_places
        self.amount_places = amount_places
        self._patterns: dict[int, tuple[re.Pattern[str], int] | None] = {}

    def _compile(self, places: int) -> tuple[re.Pattern[str], int] | None:
        rule = None
        if 0 < places <= self.amount_places:
            sep = re.escape(SEP)
            row = (
                _number(self.price_places, canonical=True) + sep + _number(places, canonical=False)
            )
            rule = (
                re.compile(rf"{row}(?:{sep}{row})*", re.ASCII),
                POW10[self.amount_places - places],
            )
        self._patterns[places] = rule
        return rule

    def check(self, rows: Sequence[tuple[str, str]]) -> tuple[str, int] | None:
        """A frame side checked in one pass: its texts joined (``price|amount|...``) and the
        factor its amounts are multiplied by (the wire wrote fewer decimals than the book
        keeps); or ``None`` when any row needs the row-by-row path (``None`` says nothing
        about validity: that path's :func:`~.numbers.to_units` decides). Rows are pairs,
        as the codec's typed decode guarantees."""
        try:
            text = SEP.join(_flatten(rows))
            amount = rows[0][1]
        except (TypeError, IndexError):  # not text pairs: the strict path says what is wrong
            return None
        places = len(amount) - amount.find(".") - 1  # a dotless amount misses the fast path
        rule = self._patterns[places] if places in self._patterns else self._compile(places)
        if rule is None or not rule[0].fullmatch(text) or text.count(SEP) != 2 * len(rows) - 1:
            return None
        return text, rule[1]


def parse_units(text: str) -> list[int]:
    """Checked text's numbers, ``price, amount, price, amount...``, as integers (amounts
    still to be scaled)."""
    return list(map(int, text.replace(".", "").split(SEP)))
