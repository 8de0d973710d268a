"""Strict decimal numbers: Bitstamp's string form in, Decimal inside, plain strings out.

Prices and amounts never pass through float. Python's ``Decimal()`` is far too lenient for
money typed by a trader or sent by a server: it accepts ``NaN``, ``Infinity``, ``1e5``,
``1_000``, surrounding whitespace and non-ASCII digits such as ``١٢٣``. ``parse_decimal``
accepts only ``[-]digits[.digits]`` in ASCII and says exactly what is wrong otherwise.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Context, Decimal

__all__ = [
    "MAX_NUMBER_LENGTH",
    "NumberFormatError",
    "decimal_places",
    "format_decimal",
    "from_units",
    "units_text",
    "units_whole_text",
    "parse_decimal",
    "plain",
    "quantum",
    "round_to",
    "to_units",
]

#: Longest number text accepted. Bitstamp's largest values (order ids, 1e12 amounts with 8
#: decimals) fit easily; anything longer is a paste accident, not a price.
MAX_NUMBER_LENGTH = 40

_UNSIGNED = re.compile(r"[0-9]+(?:\.[0-9]+)?", re.ASCII)
_SIGNED = re.compile(r"-?[0-9]+(?:\.[0-9]+)?", re.ASCII)

# Enough precision that scaling any accepted number never rounds silently.
_CONTEXT = Context(prec=MAX_NUMBER_LENGTH + 20)


class NumberFormatError(ValueError):
    """A number's text is not a plain decimal. The message is fit to show a trader."""


def parse_decimal(text: str, *, signed: bool = False, field: str = "value") -> Decimal:
    """Parse ``text`` (``"0.07920000"``, ``"3805.44"``) into an exact Decimal.

    Args:
        text: the number as Bitstamp or a trader wrote it.
        signed: allow a leading ``-`` (balances deltas in user transactions are signed).
        field: the name used in the error message ("amount", "price").

    Raises:
        NumberFormatError: on anything but ASCII ``[-]digits[.digits]``.
    """
    if not isinstance(text, str):
        raise NumberFormatError(f"{field} must be text, not {type(text).__name__}")
    if not text:
        raise NumberFormatError(f"{field} is empty")
    if len(text) > MAX_NUMBER_LENGTH:
        raise NumberFormatError(f"{field} is too long ({len(text)} characters)")
    pattern = _SIGNED if signed else _UNSIGNED
    if pattern.fullmatch(text) is None:
        raise NumberFormatError(f"{field} {_describe(text, signed)}")
    return Decimal(text)


def _describe(text: str, signed: bool) -> str:
    """Say in a trader's words why ``text`` is not a plain decimal number."""
    stripped = text.strip()
    if stripped != text:
        return "has spaces around it"
    if stripped.lower().lstrip("+-") in {"nan", "snan", "inf", "infinity"}:
        return f"must be a number, not {stripped!r}"
    if any(not ch.isascii() for ch in text):
        return "must use the digits 0-9 only"
    if text.startswith("-") and not signed:
        return "cannot be negative"
    if text.startswith("+"):
        return "must not carry a + sign"
    if "," in text:
        return 'must use "." as the decimal point, without thousands separators'
    if "_" in text:
        return "must not contain _"
    if "e" in text.lower():
        return "must be written out in full, without an exponent"
    if text.count(".") > 1:
        return "has more than one decimal point"
    if text.startswith(".") or text.endswith("."):
        return "needs digits on both sides of the decimal point"
    return f"is not a number: {text!r}"


def quantum(places: int) -> Decimal:
    """The smallest step with ``places`` decimals: ``quantum(2) == Decimal("0.01")``."""
    if places < 0:
        raise ValueError("places must be >= 0")
    return Decimal(1).scaleb(-places)


def decimal_places(value: Decimal) -> int:
    """Significant decimal places: ``0.10`` has 1, ``5.000`` has 0, ``0.00046300`` has 6."""
    if not value.is_finite():
        raise ValueError("not a finite number")
    exponent = _normalized(value).as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


def round_to(value: Decimal, places: int, *, rounding: str = ROUND_HALF_EVEN) -> Decimal:
    """``value`` with exactly ``places`` decimals, rounded with ``rounding``.

    Total for every finite value: ``Decimal.quantize`` under the default 28-digit context
    raises InvalidOperation once the result needs more digits (1e19 BTC at 66,998.53 USD to
    5 decimals); here the context is as wide as the result.
    """
    if not value.is_finite():
        raise ValueError("not a finite number")
    digits = max(value.adjusted(), 0) + places + 2
    return value.quantize(quantum(places), rounding=rounding, context=Context(prec=digits))


def format_decimal(value: Decimal, places: int, *, rounding: str = ROUND_HALF_EVEN) -> str:
    """Format with exactly ``places`` decimals, never in exponent form; total for every
    finite value (``round_to``).

    ``format_decimal(Decimal("0.000463"), 8) == "0.00046300"``. Values with more decimals are
    rounded with ``rounding`` (banker's rounding by default; pass ROUND_DOWN for amounts that
    must not exceed a balance).
    """
    if value.is_finite() and not value.is_zero():
        # already ``places`` decimals (prices, lots and their sums, most calls): written as it
        # is, in a quarter of the time (the simulator's books, the panes)
        text = f"{value:f}"
        dot = text.find(".")
        if (len(text) - dot - 1 if dot >= 0 else 0) == places:
            return text
    quantized = round_to(value, places, rounding=rounding)
    if quantized.is_zero():
        quantized = quantized.copy_abs()  # never "-0.00"
    return f"{quantized:f}"


def plain(value: Decimal) -> str:
    """The exact value as plain text, no exponent, no trailing zeros: ``1E-8`` -> ``0.00000001``."""
    if not value.is_finite():
        raise ValueError("not a finite number")
    if value.is_zero():
        return "0"
    return f"{_normalized(value):f}"


def _normalized(value: Decimal) -> Decimal:
    """Trailing zeros stripped, never rounded: the context is as wide as the value."""
    return value.normalize(Context(prec=max(1, len(value.as_tuple().digits))))


def to_units(text: str, places: int) -> int:
    """``"3805.44"`` with ``places=2`` -> ``380544``: an exact scaled integer, for hot paths.

    Books keep prices and amounts as integer counts of the market's smallest step (ticks,
    lots): exact like Decimal and several times faster to compare and hash. Accepts what
    ``parse_decimal`` accepts (unsigned) with at most ``places`` decimals.

    Raises:
        NumberFormatError: anything else, including more decimals than ``places``.
    """
    whole, dot, frac = text.partition(".")
    if (
        len(frac) > places
        or not whole
        or (dot and not frac)
        or not (whole + frac).isdigit()
        or not text.isascii()
        or len(text) > MAX_NUMBER_LENGTH
    ):
        parse_decimal(text)  # says precisely what is wrong with the text
        raise NumberFormatError(f"{text} has more than {places} decimals")
    return (
        int(whole + frac) * 10 ** (places - len(frac)) if len(frac) < places else int(whole + frac)
    )


def from_units(units: int, places: int) -> Decimal:
    """The exact Decimal of a scaled integer, with exactly ``places`` decimals."""
    return Decimal(units).scaleb(-places, _CONTEXT)


def units_text(units: int, places: int) -> str:
    """``f"{from_units(units, places):f}"`` without making a Decimal: the exact text of a
    scaled integer, for a pane that formats every level of a book on each redraw."""
    digits = str(abs(units))
    sign = "-" if units < 0 else ""
    if places <= 0:
        return sign + digits + "0" * -places if units else "0"
    digits = digits.rjust(places + 1, "0")
    return f"{sign}{digits[:-places]}.{digits[-places:]}"


def units_whole_text(units: int, places: int) -> str:
    """``f"{from_units(units, places).quantize(Decimal(1)):,f}"`` without a Decimal: whole
    units, rounded half to even as Decimal's default context rounds, with thousands
    separators."""
    scale = 10 ** max(places, 0)
    whole, rest = divmod(abs(units), scale)
    if places > 0 and (2 * rest > scale or (2 * rest == scale and whole % 2)):
        whole += 1
    if places < 0:
        whole *= 10**-places
    return f"{'-' if units < 0 else ''}{whole:,}"
