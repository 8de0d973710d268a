"""The simulator's one integer reader: ASCII digits only, and a bounded count of them."""

from __future__ import annotations

import pytest

from workstation.sim.digits import MAX_DIGITS, read_digits


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        ("42", 42),
        ("9" * MAX_DIGITS, int("9" * MAX_DIGITS)),
        ("9" * (MAX_DIGITS + 1), None),
        ("9" * 5000, None),
        ("", None),
        ("²", None),
        ("٣", None),
        ("-1", None),
        ("+1", None),
        (" 1", None),
        ("1e3", None),
        (None, None),
        (b"1", None),
    ],
)
def test_read_digits(text: object, expected: int | None) -> None:
    assert read_digits(text) == expected
