"""How the trader left the desk: the pairs watched, the one shown, the theme and each
pair's book grouping. The app hands one to whoever keeps it between runs; the next start
reads it back. A plain value: no file, no terminal."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["DeskLayout"]


@dataclass(frozen=True)
class DeskLayout:
    """The desk as arranged (compared whole: an unchanged layout is not written again)."""

    pairs: tuple[str, ...]
    """The pairs watched, in the order ``[`` and ``]`` walk them."""
    shown: str | None = None
    """The pair on screen (one of ``pairs``)."""
    mono: bool = False
    """The monochrome theme."""
    groups: Mapping[str, int] = field(default_factory=dict)
    """The book's grouping per pair, in ticks; a pair not listed shows every level (1)."""
