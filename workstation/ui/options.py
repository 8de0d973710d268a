"""How the trader started the app: the choices ``build_app`` takes besides the venue."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["DEFAULT_MARKET", "AppOptions"]

DEFAULT_MARKET = "btcusd"


@dataclass(frozen=True)
class AppOptions:
    """The command line's choices for one run of the app."""

    seed: int | None = None
    """The embedded simulator's seed (no venue given)."""
    pairs: tuple[str, ...] = (DEFAULT_MARKET,)
    """The pairs watched from the start; the first is shown."""
    mono: bool = False
    """The monochrome theme."""
    confirm: bool = True
    """Review every order before it is sent (always on live)."""
    journal_path: Path | None = None
    """The order journal (default: the user's data folder)."""
