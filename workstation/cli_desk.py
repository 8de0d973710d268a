"""The desk the app starts with: which pairs, which one shown, the theme, the book's
grouping. One function, :func:`desk_options`, decides it, from every source in order:

1. the command line (``--pair``, ``--mono`` / ``--no-mono``, ``--low-bandwidth`` /
   ``--no-low-bandwidth``): what the trader asked for now;
2. the last session's layout (``desk.json`` in the user state directory,
   :mod:`workstation.services.desk_state`);
3. the config file (``default_pair``, ``watched_pairs``, ``theme``, ``refresh_hz``:
   :mod:`workstation.services.config`), whose own defaults are the built-in ones (BTC/USD,
   the colour theme, 10 redraws a second); the grouping starts at every level.

NO_COLOR (https://no-color.org: set and not empty) sits between 1 and 2: it starts this run
in the monochrome theme, which is not kept as the trader's choice (:attr:`AppOptions.no_color`),
and ``--no-mono`` overrides it (a per-run choice wins over the environment, as the convention
asks); :func:`no_color_asked` decides.

A saved layout wins over the config file: it is the trader's own latest choice, the config
file their standing one (delete ``desk.json`` to start from the config again). The redraw
rate is the config's alone: no layout or option changes it. The low-bandwidth mode is the
command line's, else the config's ``low_bandwidth`` (a saved layout does not keep it: it
belongs to the link, not the desk); over SSH (``SSH_CONNECTION``) with the mode off, the
status bar says once that it exists. A layout file that cannot be read is
logged and ignored: the app starts on the defaults with a one-line notice, and the file is
replaced at the first change.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

from .domain.desk_layout import DeskLayout
from .services.config import Settings, default_config_path
from .services.desk_state import DeskStateError, read_desk, write_desk
from .ui.options import AppOptions

__all__ = ["desk_options", "no_color_asked"]

_log = logging.getLogger("workstation.cli_desk")


def no_color_asked(environ: Mapping[str, str], mono: bool | None) -> bool:
    """NO_COLOR asks this run for no colour: set and not empty (an empty one asks for
    nothing), and neither ``--mono`` nor ``--no-mono`` given (``mono`` None)."""
    return bool(environ.get("NO_COLOR")) and mono is None


def desk_options(
    *,
    pairs: Sequence[str] | None,
    mono: bool | None,
    confirm: bool,
    desk_path: Path | None,
    settings: Settings | None = None,
    no_color: bool = False,
    low_bandwidth: bool | None = None,
    over_ssh: bool = False,
) -> AppOptions:
    """The app's options for this run.

    Args:
        pairs: ``--pair`` given on the command line (None: not given); the first is shown.
        mono: ``--mono`` (True) / ``--no-mono`` (False), None when not given.
        confirm: review every order before it is sent.
        desk_path: where the layout is kept between runs (None: neither read nor kept).
        settings: the config file's (None: the built-in defaults).
        no_color: NO_COLOR asks for no colour (:func:`no_color_asked`).
        low_bandwidth: ``--low-bandwidth`` (True) / ``--no-low-bandwidth`` (False), None
            when not given (the config decides).
        over_ssh: the app runs in an SSH session (``SSH_CONNECTION`` is set).
    """
    settings = settings or Settings(path=default_config_path())
    saved: DeskLayout | None = None
    notice: str | None = None
    if desk_path is not None:
        try:
            saved = read_desk(desk_path)
        except DeskStateError as exc:
            _log.warning("the saved desk layout is ignored: %s", exc)
            notice = "Saved layout unreadable: started on the defaults (see the log)"
    watched: tuple[str, ...] = settings.pairs
    shown: str | None = settings.default_pair
    theme_mono = settings.theme == "mono"
    groups: dict[str, int] = {}
    if saved is not None:
        watched, shown, theme_mono, groups = (
            saved.pairs or watched,
            saved.shown,
            saved.mono,
            dict(saved.groups),
        )
    if pairs:
        watched, shown = tuple(dict.fromkeys(pairs)), pairs[0]
    if mono is not None:
        theme_mono = mono
    low = settings.low_bandwidth if low_bandwidth is None else low_bandwidth
    return AppOptions(
        pairs=watched,
        shown=shown,
        mono=theme_mono,
        groups=groups,
        confirm=confirm,
        no_color=no_color,
        refresh_hz=settings.refresh_hz,
        low_bandwidth=low,
        low_bandwidth_hint=over_ssh and not low,
        notice=notice,
        remember=None if desk_path is None else functools.partial(write_desk, desk_path),
    )
