"""Small value types every layer shares."""

from __future__ import annotations

import enum

__all__ = ["Side"]


class Side(enum.Enum):
    """Which side of the book: a buy (bid) or a sell (ask).

    Bitstamp encodes it as ``0``/``1`` (``type`` in trades and orders) or ``"buy"``/``"sell"``.
    """

    BUY = "buy"
    SELL = "sell"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY

    @classmethod
    def from_code(cls, code: int | str) -> Side:
        """``0``/``"0"`` -> BUY, ``1``/``"1"`` -> SELL (Bitstamp's ``type`` field)."""
        if code in (0, "0"):
            return cls.BUY
        if code in (1, "1"):
            return cls.SELL
        raise ValueError(f"unknown side code {code!r}")

    @property
    def code(self) -> int:
        return 0 if self is Side.BUY else 1
