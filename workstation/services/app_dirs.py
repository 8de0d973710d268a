"""The name the app's folders go by (platformdirs: its config, data, state and logs).

A module of its own so the config, the desk's layout and the log can find their folders
without importing the order journal (and sqlite3) at every start.
"""

from __future__ import annotations

__all__ = ["APP_NAME"]

APP_NAME = "bitstamp-workstation"
