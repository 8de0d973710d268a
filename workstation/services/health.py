"""How healthy a feed is, in the figures a trader reads on the status bar.

Connected or not, age of the last message, reconnects, resyncs. REST latency and the 429s
the venue answered are counted once per session by its transport (``RestStats``); the
facade's health view carries both to the status bar. Plain numbers.
"""

from __future__ import annotations

import time

import msgspec

__all__ = ["FeedHealth"]


class FeedHealth(msgspec.Struct):
    """One feed's health; REST latency and 429s are the session's ``RestStats`` (every
    caller, one count)."""

    connected: bool = False
    last_message_at: float | None = None
    """``time.monotonic()`` of the last frame on any of the feed's channels."""
    reconnects: int = 0
    resyncs: int = 0
    last_resync_reason: str = ""

    def message_age(self, now: float | None = None) -> float | None:
        if self.last_message_at is None:
            return None
        return (time.monotonic() if now is None else now) - self.last_message_at
