"""The one strict integer reader for every integer a client sends the simulator.

Request parameters (ohlc ``step``/``limit``/``start``/``end``, order ids, ``offset``,
``limit``, ``expire_time``) and the user id of a private channel name are read here and
nowhere else, so no input reaches ``int()`` unchecked: only ASCII digits (``str.isdigit``
also accepts ``"²"`` and ``"٣"``, which ``int`` then refuses or reads) and at most
``MAX_DIGITS`` of them (Python refuses to convert more than 4,300 digits, and no Bitstamp
number needs more than 18). Each caller answers a refusal with Bitstamp's error for that
parameter.
"""

from __future__ import annotations

__all__ = ["MAX_DIGITS", "read_digits"]

MAX_DIGITS = 18
"""Order ids (~1.9e15), millisecond timestamps (~1.8e12) and every count fit; below 2**63."""


def read_digits(text: object) -> int | None:
    """``text`` as a non-negative int, or None when it is not 1..MAX_DIGITS ASCII digits."""
    if not isinstance(text, str) or not 0 < len(text) <= MAX_DIGITS:
        return None
    if not text.isascii() or not text.isdigit():
        return None
    return int(text)
