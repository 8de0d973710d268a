"""One line of the preflight checklist: what was checked, the verdict, what was seen and,
for a failure, what to do about it. A plain record, so the checks, the checklist and the
command that prints it share it without knowing each other."""

from __future__ import annotations

import enum

import msgspec

from ..bitstamp.errors import BitstampError

__all__ = ["CheckResult", "Verdict", "said"]


class Verdict(enum.Enum):
    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"
    """Not run: what it needs failed above, or it was not asked for."""


class CheckResult(msgspec.Struct, frozen=True):
    """One check's outcome; ``fix`` is empty unless it failed."""

    name: str
    verdict: Verdict
    detail: str
    fix: str = ""


def said(exc: BaseException) -> str:
    """An error in a few words: its message and Bitstamp's codes (never a secret: the
    client's errors carry none)."""
    if isinstance(exc, BitstampError):
        facts = " · ".join(f for f in (exc.code, exc.response_code) if f)
        return f"{exc.message} ({facts})" if facts else exc.message
    return str(exc) or type(exc).__name__
