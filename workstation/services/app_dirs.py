"""The name the app's folders go by (platformdirs: its config, data, state and logs), and
where the order journal lives.

A module of its own so the config, the desk's layout, the log and the command line can find
their folders without importing the order journal (and sqlite3) at every start: the journal
itself is opened once the book is on screen.
"""

from __future__ import annotations

from pathlib import Path

import platformdirs

__all__ = ["APP_NAME", "default_journal_path"]

APP_NAME = "bitstamp-workstation"


def default_journal_path() -> Path:
    """``journal.sqlite3`` in the user data directory (platformdirs)."""
    return Path(platformdirs.user_data_dir(APP_NAME)) / "journal.sqlite3"
