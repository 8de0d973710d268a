"""The desk the trader left, kept between runs: one small JSON file in the user state
directory (``desk.json`` beside the log folder, same app name as the journal and the log).

Written whole and atomically (a temporary file in the same folder, flushed to disk, then
renamed over the old one), so a crash mid-write leaves the previous layout, never half of
one. Read strictly: anything that is not the layout this module writes is refused with a
:class:`DeskStateError` naming the file, which the caller logs and starts without.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import platformdirs

from ..domain.desk_layout import DeskLayout
from .app_dirs import APP_NAME
from .atomic_file import replace_file

__all__ = ["DESK_FILE_NAME", "DeskStateError", "default_desk_path", "read_desk", "write_desk"]

DESK_FILE_NAME = "desk.json"
_VERSION = 1
_SYMBOL = re.compile(r"[a-z0-9]{2,20}")
_MAX_PAIRS = 100

_log = logging.getLogger("workstation.services.desk_state")


class DeskStateError(Exception):
    """The desk file cannot be read or is not a layout; the message names the file."""


def default_desk_path() -> Path:
    """``desk.json`` in the user state directory (platformdirs), e.g.
    ``~/.local/state/bitstamp-workstation/desk.json``."""
    return Path(platformdirs.user_state_dir(APP_NAME)) / DESK_FILE_NAME


def read_desk(path: Path) -> DeskLayout | None:
    """The layout saved at ``path``; None when there is no file yet (a first start).

    Raises:
        DeskStateError: the file is unreadable, not JSON, or not a layout.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise DeskStateError(f"cannot read {path}: {exc}") from exc
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise DeskStateError(f"{path} is not JSON: {exc}") from exc
    try:
        return _layout(data)
    except ValueError as exc:
        raise DeskStateError(f"{path}: {exc}") from exc


def write_desk(path: Path, layout: DeskLayout) -> None:
    """Replace the file at ``path`` with ``layout``, atomically; the folder is made
    (owner-only) when missing. An ``OSError`` is logged and raised for the caller to show."""
    body = json.dumps(
        {
            "version": _VERSION,
            "pairs": list(layout.pairs),
            "shown": layout.shown,
            "mono": layout.mono,
            "groups": dict(sorted(layout.groups.items())),
        },
        indent=2,
    )
    try:
        replace_file(path, (body + "\n").encode())
    except OSError:
        _log.exception("could not save the desk layout to %s", path)
        raise


def _layout(data: Any) -> DeskLayout:
    """The layout in ``data`` (what :func:`write_desk` writes), or ValueError saying why."""
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    if data.get("version") != _VERSION:
        raise ValueError(f"unknown version {data.get('version')!r} (this app writes {_VERSION})")
    pairs = data.get("pairs")
    if (
        not isinstance(pairs, list)
        or len(pairs) > _MAX_PAIRS
        or not all(isinstance(p, str) and _SYMBOL.fullmatch(p) for p in pairs)
        or len(set(pairs)) != len(pairs)
    ):
        raise ValueError("'pairs' is not a list of distinct pair symbols such as 'btcusd'")
    shown = data.get("shown")
    if shown is not None and shown not in pairs:
        raise ValueError(f"'shown' ({shown!r}) is not one of the pairs")
    mono = data.get("mono")
    if not isinstance(mono, bool):
        raise ValueError("'mono' is not true or false")
    groups = data.get("groups")
    if not isinstance(groups, dict) or not all(
        isinstance(s, str) and _SYMBOL.fullmatch(s) and type(g) is int and g > 0
        for s, g in groups.items()
    ):
        raise ValueError("'groups' is not a map of pair symbols to tick counts")
    return DeskLayout(tuple(pairs), shown, mono, dict(groups))
