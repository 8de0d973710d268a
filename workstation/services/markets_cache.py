"""The venue's markets as the last start saw them, so the next start can show a book first.

A pair's book needs its market's decimals before a single level can be kept, and the markets
come from one REST request (``GET /api/v2/markets/``). On a start that request, and the HTTP
client's imports before it, stood between the trader and the first book. With this file the
session builds the market data service from the markets the last start saw, subscribes at
once, and asks the venue for its markets after the book is on screen: the venue's answer
then replaces what was read here (:meth:`~.session.Session.open_market_hub`). Nothing that
sends an order reads these: trading opens on the venue's own answer.

One small file in the user cache directory (platformdirs), for the last environment only
(sim, sandbox or live: another environment's markets are never read as this one's; every
simulator lists the same catalog, whatever its port, the embedded one a new port each run).
Public data, no keys. A file that cannot be read or does not parse is a miss, logged: the
start then waits for the venue's markets as it did before this file existed. A cache that is
wrong (a venue that changed its rules since) costs a pair's resubscription, never an order.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import msgspec
import platformdirs

from ..domain.markets import Market
from .app_dirs import APP_NAME
from .atomic_file import replace_file

__all__ = ["MarketsCache", "default_markets_cache_path"]

_log = logging.getLogger("workstation.services.markets_cache")


class _Saved(msgspec.Struct, frozen=True):
    env: str
    markets: list[Market]


def default_markets_cache_path() -> Path:
    """``markets.json`` in the user cache directory (platformdirs)."""
    return Path(platformdirs.user_cache_dir(APP_NAME)) / "markets.json"


class MarketsCache:
    """``cache.read(env)`` -> the markets last saved for that environment, or None;
    ``cache.save(env, markets)`` after the venue answered."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self, env: str) -> list[Market] | None:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            _log.warning("markets cache %s not read: %s", self.path, exc)
            return None
        try:
            saved = msgspec.json.decode(data, type=_Saved)
        except (msgspec.DecodeError, ValueError) as exc:  # ValueError: a Market's own checks
            _log.warning("markets cache %s not used: %s", self.path, exc)
            return None
        if saved.env != env or not saved.markets:
            return None
        return saved.markets

    def save(self, env: str, markets: Sequence[Market]) -> None:
        """Write atomically (a start reading it meanwhile sees the old file or the new one);
        a failure is logged and changes nothing else: the cache only saves time."""
        try:
            replace_file(self.path, msgspec.json.encode(_Saved(env, list(markets))))
        except OSError as exc:
            _log.warning("markets cache %s not written: %s", self.path, exc)
