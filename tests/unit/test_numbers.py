"""Strict decimal numbers: round trips under hypothesis, and every rejection with its message."""

from __future__ import annotations

import re
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workstation.domain.numbers import (
    MAX_NUMBER_LENGTH,
    NumberFormatError,
    decimal_places,
    format_decimal,
    from_units,
    parse_decimal,
    plain,
    quantum,
    round_to,
    units_text,
    units_whole_text,
)

PLAIN_UNSIGNED = re.compile(r"[0-9]+(?:\.[0-9]+)?", re.ASCII)

places = st.integers(min_value=0, max_value=12)


@st.composite
def decimals_with_places(draw: st.DrawFn, *, signed: bool) -> tuple[Decimal, int]:
    """A Decimal with exactly ``p`` decimals (trailing zeros included), in a sane range."""
    p = draw(places)
    low = -(10**20) if signed else 0
    unscaled = draw(st.integers(min_value=low, max_value=10**20))
    return Decimal(unscaled).scaleb(-p), p


@st.composite
def canonical_texts(draw: st.DrawFn, *, signed: bool) -> tuple[str, int]:
    """Text as format_decimal writes it: no leading zeros, exactly ``p`` decimals, no "-0"."""
    p = draw(places)
    whole = str(draw(st.integers(min_value=0, max_value=10**18)))
    fraction = draw(st.text(alphabet="0123456789", min_size=p, max_size=p))
    text = f"{whole}.{fraction}" if p else whole
    if signed and draw(st.booleans()) and Decimal(text) != 0:
        text = "-" + text
    return text, p


# --- format_decimal's shortcut ----------------------------------------------------------------


def _quantized_text(value: Decimal, places: int, rounding: str) -> str:
    """What ``format_decimal`` wrote before its shortcut for values that already have
    ``places`` decimals: every value through ``round_to``."""
    quantized = round_to(value, places, rounding=rounding)
    if quantized.is_zero():
        quantized = quantized.copy_abs()
    return f"{quantized:f}"


any_decimals = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False),
    st.builds(
        lambda unscaled, exponent: Decimal(unscaled).scaleb(exponent),
        st.integers(-(10**30), 10**30),
        st.integers(-20, 20),
    ),
)


@given(any_decimals, places, st.sampled_from([ROUND_HALF_EVEN, ROUND_DOWN, ROUND_UP]))
def test_the_shortcut_writes_what_rounding_writes(value: Decimal, p: int, rounding: str) -> None:
    """The shortcut (a value that already has ``p`` decimals is written as it is) changes
    no text: signs, zeros, exponents, huge and tiny values, every rounding."""
    assert format_decimal(value, p, rounding=rounding) == _quantized_text(value, p, rounding)


# --- round trips ----------------------------------------------------------------------------


@given(decimals_with_places(signed=False))
def test_parse_of_format_gives_back_the_value(case: tuple[Decimal, int]) -> None:
    value, p = case
    text = format_decimal(value, p)
    assert parse_decimal(text) == value
    assert len(text.partition(".")[2]) == p


@given(decimals_with_places(signed=True))
def test_signed_parse_of_format_gives_back_the_value(case: tuple[Decimal, int]) -> None:
    value, p = case
    assert parse_decimal(format_decimal(value, p), signed=True) == value


@given(canonical_texts(signed=False))
def test_format_of_parse_gives_back_canonical_text(case: tuple[str, int]) -> None:
    text, p = case
    assert format_decimal(parse_decimal(text), p) == text


@given(canonical_texts(signed=True))
def test_signed_format_of_parse_gives_back_canonical_text(case: tuple[str, int]) -> None:
    text, p = case
    assert format_decimal(parse_decimal(text, signed=True), p) == text


number_like_texts = st.one_of(
    st.text(max_size=MAX_NUMBER_LENGTH + 5),
    st.text(alphabet="0123456789.-+eE_, ", max_size=MAX_NUMBER_LENGTH + 5),
    st.from_regex(r"[-+]?[0-9]{0,25}(\.[0-9]{0,25})?", fullmatch=True),
)


@given(number_like_texts)
def test_any_text_parses_exactly_or_fails_with_number_format_error(text: str) -> None:
    # Total: never InvalidOperation or another surprise, and accepts only the plain form.
    if PLAIN_UNSIGNED.fullmatch(text) and len(text) <= MAX_NUMBER_LENGTH:
        assert parse_decimal(text) == Decimal(text)
    else:
        with pytest.raises(NumberFormatError, match=r"^value "):
            parse_decimal(text)


@given(
    st.decimals(min_value=-(10**15), max_value=10**15, allow_nan=False, allow_infinity=False),
    places,
)
def test_format_is_never_in_exponent_form_nor_minus_zero(value: Decimal, p: int) -> None:
    text = format_decimal(value, p)
    assert "e" not in text.lower()
    assert not re.fullmatch(r"-0(\.0*)?", text)
    assert len(text.partition(".")[2]) == p
    assert abs(Decimal(text) - value) <= quantum(p) / 2


@given(st.decimals(min_value=-(10**15), max_value=10**15, allow_nan=False, allow_infinity=False))
def test_plain_is_exact_without_exponent_or_trailing_zeros(value: Decimal) -> None:
    text = plain(value)
    assert Decimal(text) == value
    assert "e" not in text.lower()
    assert not ("." in text and text.endswith("0"))
    assert not text.endswith(".")


# --- rejections -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("NaN", "value must be a number, not 'NaN'"),
        ("nan", "value must be a number, not 'nan'"),
        ("sNaN", "value must be a number, not 'sNaN'"),
        ("Infinity", "value must be a number, not 'Infinity'"),
        ("inf", "value must be a number, not 'inf'"),
        ("-inf", "value must be a number, not '-inf'"),
        ("1e5", "value must be written out in full, without an exponent"),
        ("1E-8", "value must be written out in full, without an exponent"),
        ("1_000", "value must not contain _"),
        ("+1", "value must not carry a + sign"),
        ("-1", "value cannot be negative"),
        (" 1", "value has spaces around it"),
        ("1 ", "value has spaces around it"),
        ("\u00a01", "value has spaces around it"),
        ("", "value is empty"),
        ("1.", "value needs digits on both sides of the decimal point"),
        (".5", "value needs digits on both sides of the decimal point"),
        ("1.2.3", "value has more than one decimal point"),
        ("1,5", 'value must use "." as the decimal point, without thousands separators'),
        ("1,000.5", 'value must use "." as the decimal point'),
        ("١٢٣", "value must use the digits 0-9 only"),
        ("１２３", "value must use the digits 0-9 only"),
        ("12x", "value is not a number: '12x'"),
        ("0x10", "value is not a number: '0x10'"),
        ("-", "value cannot be negative"),
    ],
)
def test_rejects_with_a_readable_message(text: str, message: str) -> None:
    with pytest.raises(NumberFormatError) as info:
        parse_decimal(text)
    assert message in str(info.value)


def test_error_is_a_value_error_and_names_the_field() -> None:
    with pytest.raises(ValueError, match=r"^price must be written out in full"):
        parse_decimal("1e5", field="price")


def test_rejects_over_long_text_before_looking_at_it() -> None:
    assert parse_decimal("1" * MAX_NUMBER_LENGTH) == Decimal("1" * MAX_NUMBER_LENGTH)
    with pytest.raises(NumberFormatError, match=r"amount is too long \(41 characters\)"):
        parse_decimal("1" * (MAX_NUMBER_LENGTH + 1), field="amount")


@pytest.mark.parametrize("value", [5, 5.0, None, b"5", Decimal("5")])
def test_rejects_anything_but_text(value: object) -> None:
    with pytest.raises(NumberFormatError, match=r"^value must be text, not "):
        parse_decimal(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["-1", "-0.5", "-1e5", "--1", "-+1", "- 1"])
def test_signed_accepts_only_a_leading_minus(text: str) -> None:
    if re.fullmatch(r"-[0-9]+(\.[0-9]+)?", text):
        assert parse_decimal(text, signed=True) == Decimal(text)
    else:
        with pytest.raises(NumberFormatError):
            parse_decimal(text, signed=True)


def test_signed_messages() -> None:
    assert parse_decimal("-0.07920000", signed=True) == Decimal("-0.0792")
    with pytest.raises(NumberFormatError, match="without an exponent"):
        parse_decimal("-1e5", signed=True)
    with pytest.raises(NumberFormatError, match=r"must not carry a \+ sign"):
        parse_decimal("+1", signed=True)


def test_parse_keeps_the_written_scale() -> None:
    # Same value, and the trailing zeros Bitstamp sends survive (they carry the pair's format).
    assert str(parse_decimal("0.07920000")) == "0.07920000"
    assert str(parse_decimal("3805.44")) == "3805.44"
    assert str(parse_decimal("007")) == "7"


# --- formatting helpers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "p", "text"),
    [
        (Decimal("1E-8"), 8, "0.00000001"),
        (Decimal("1E+5"), 2, "100000.00"),
        (Decimal("1E+30"), 0, "1000000000000000000000000000000"),
        (Decimal("0.000463"), 8, "0.00046300"),
        (Decimal("-0.001"), 2, "0.00"),
        (Decimal("-0"), 2, "0.00"),
        (Decimal("0E-10"), 0, "0"),
        (Decimal("-1.5"), 0, "-2"),
        (Decimal("0.125"), 2, "0.12"),  # banker's rounding by default
        (Decimal("0.135"), 2, "0.14"),
        (Decimal("3805.4"), 2, "3805.40"),
    ],
)
def test_format_decimal(value: Decimal, p: int, text: str) -> None:
    assert format_decimal(value, p) == text


def test_format_decimal_rounding_mode() -> None:
    assert format_decimal(Decimal("0.129"), 2, rounding=ROUND_DOWN) == "0.12"
    assert format_decimal(Decimal("-0.009"), 2, rounding=ROUND_DOWN) == "0.00"


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")])
def test_helpers_refuse_non_finite_values(value: Decimal) -> None:
    with pytest.raises(ValueError, match="not a finite number"):
        format_decimal(value, 2)
    with pytest.raises(ValueError, match="not a finite number"):
        plain(value)
    with pytest.raises(ValueError, match="not a finite number"):
        decimal_places(value)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("1E-8"), "0.00000001"),
        (Decimal("1E+5"), "100000"),
        (Decimal("1.2300"), "1.23"),
        (Decimal("20.0"), "20"),
        (Decimal("0E-8"), "0"),
        (Decimal("-0"), "0"),
        (Decimal("-1.50"), "-1.5"),
    ],
)
def test_plain(value: Decimal, text: str) -> None:
    assert plain(value) == text


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("0.10", 1),
        ("5.000", 0),
        ("0.00046300", 6),
        ("0.000000001", 9),
        ("100", 0),
        ("0", 0),
        ("0.00000000", 0),
    ],
)
def test_decimal_places_counts_significant_decimals(text: str, count: int) -> None:
    assert decimal_places(Decimal(text)) == count


def test_decimal_places_of_exponent_forms() -> None:
    assert decimal_places(Decimal("1E+5")) == 0
    assert decimal_places(Decimal("1E-8")) == 8


def test_quantum() -> None:
    assert quantum(2) == Decimal("0.01")
    assert quantum(8) == Decimal("0.00000001")
    assert quantum(0) == Decimal(1)
    with pytest.raises(ValueError, match="places must be >= 0"):
        quantum(-1)


@given(st.integers(-(10**20), 10**20), st.integers(-3, 18))
def test_units_text_is_the_decimal_text_without_a_decimal(units: int, places: int) -> None:
    """The book formats every level on a redraw from scaled integers: the text must be the
    exact Decimal's, digit for digit, and its whole-unit notional rounded as Decimal rounds."""
    value = from_units(units, places)
    assert units_text(units, places) == f"{value:f}"
    assert units_whole_text(units, places) == f"{value.quantize(Decimal(1)):,f}"
