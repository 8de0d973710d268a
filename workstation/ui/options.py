"""How the trader started the app: the choices ``build_app`` takes besides the services
(where to connect, the simulator's seed and the journal are the services')."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_MARKET", "AppOptions"]

DEFAULT_MARKET = "btcusd"


@dataclass(frozen=True)
class AppOptions:
    """The command line's choices for one run of the app."""

    pairs: tuple[str, ...] = (DEFAULT_MARKET,)
    """The pairs watched from the start; the first is shown."""
    mono: bool = False
    """The monochrome theme."""
    confirm: bool = True
    """Review every order before it is sent (always on live)."""
    refresh_hz: float = 20.0
    """The order book's redraws per second at most (the config's ``refresh_hz``)."""
