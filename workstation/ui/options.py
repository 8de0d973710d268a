"""How the trader started the app: the choices ``build_app`` takes besides the services
(where to connect, the simulator's seed and the journal are the services'), and where the
desk's layout goes when it changes (the CLI keeps it for the next start)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import msgspec

from ..domain.desk_layout import DeskLayout

__all__ = ["DEFAULT_MARKET", "AppOptions"]

DEFAULT_MARKET = "btcusd"


class AppOptions(msgspec.Struct, frozen=True):
    """The choices for one run of the app: the command line's, else the last session's."""

    pairs: tuple[str, ...] = (DEFAULT_MARKET,)
    """The pairs watched from the start."""
    shown: str | None = None
    """The pair shown first (None, or one not watched: the first of ``pairs``)."""
    mono: bool = False
    """The monochrome theme, as the trader chose it (kept with the desk's layout)."""
    no_color: bool = False
    """NO_COLOR asks for no colour: this run starts monochrome whatever ``mono`` says, and
    that is not kept as the trader's choice (``mono`` is, until the theme is changed)."""
    groups: Mapping[str, int] = msgspec.field(default_factory=dict)
    """The book's grouping per pair, in ticks (1 where not given)."""
    confirm: bool = True
    """Review every order before it is sent (always on live)."""
    notice: str | None = None
    """One line to show once the app is up (a saved layout that could not be read)."""
    remember: Callable[[DeskLayout], None] | None = None
    """Called with the desk's layout whenever it changes and on exit (None: not kept).
    An ``OSError`` it raises is shown to the trader."""
    refresh_hz: float = 10.0
    """The order book's timed redraws per second (the config's ``refresh_hz``); a moved book
    is redrawn at once, capped by ``pace.MOVE_HZ`` (low bandwidth: the timer only, at most 2)."""
    low_bandwidth: bool = False
    """Draw less for a slow link (``--low-bandwidth`` or the config's ``low_bandwidth``):
    the book a few times a second with fewer levels, the tape and status bar once a second
    (:mod:`workstation.ui.pace`)."""
    low_bandwidth_hint: bool = False
    """Say once in the status bar that the low-bandwidth mode exists (over SSH, mode off)."""
