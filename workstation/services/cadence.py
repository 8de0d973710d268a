"""How often a channel usually speaks, and when its silence stops meaning "nothing happened".

Bitstamp's channels say nothing when nothing changes, and a stalled channel looks the same
while the connection's heartbeats go on. So each feed learns, per channel, the usual gap
between two frames (a moving average) and calls the channel *silent* once nothing came for
``multiple`` times that, kept between a floor and a ceiling (:class:`SilencePolicy`). A silent
channel is then checked against REST by the hub: if the venue's book (or trade list) moved
while the channel said nothing, frames were lost, the channel is *missing* frames and the
screen says STALE until it speaks again; if nothing moved, the market was only quiet and the
clock starts again. A channel that comes back after a silence longer than its limit may have
lost frames in it, so the feed recovers (resync, backfill) then too.
"""

from __future__ import annotations

from typing import Literal

import msgspec

__all__ = [
    "BOOK_SILENCE",
    "TRADE_SILENCE",
    "Cadence",
    "SilencePolicy",
    "TradesWindow",
    "window_for",
]

TradesWindow = Literal["minute", "hour", "day"]
"""The windows REST ``transactions`` knows (reference 3.4)."""


class SilencePolicy(msgspec.Struct, frozen=True):
    """When a channel's silence is suspicious: after ``multiple`` usual gaps, within bounds."""

    floor_s: float
    """Never sooner: network jitter and a one-second pause of either side are not a stall."""
    ceiling_s: float
    """Never later: even a quiet pair is checked this often while it says nothing."""
    multiple: float = 20.0
    learn_after: int = 5
    """Gaps seen before the learned rate is used; until then the ceiling applies."""


BOOK_SILENCE = SilencePolicy(floor_s=2.0, ceiling_s=60.0)
"""Book channels: a busy pair's ~10 frames a second make it 2 s (the floor); a pair that
changes every few seconds gets up to a minute."""
TRADE_SILENCE = SilencePolicy(floor_s=2.0, ceiling_s=120.0)
"""Trades come in bursts and pauses, so a quiet pair waits longer; a check costs one small
request (``transactions?time=minute``), and a busy pair's tape is checked after 2 s."""
_WEIGHT = 0.1
"""Weight of the newest gap in the moving average."""


class Cadence:
    """One channel's rhythm. Times are ``time.monotonic()`` seconds, given by the caller."""

    def __init__(self, policy: SilencePolicy) -> None:
        self.policy = policy
        self.usual_s: float | None = None
        """The learned gap between two frames, once ``learn_after`` gaps were seen."""
        self._average: float | None = None
        self._gaps = 0
        self.last_frame_at: float | None = None
        self.heard_at: float | None = None
        """The last frame, or the last check that found nothing missing."""
        self.missing = False
        """The last check found something the channel should have sent (or could not be
        made); cleared by the channel's next frame or a check that finds nothing moved."""
        self._lost_in_gap = False
        self._quiet_confirmed = False
        self._checked = False
        """A check ran since the last frame (``missing``, ``_lost_in_gap`` or
        ``_quiet_confirmed`` may be set): the next frame takes the full path."""
        self._limit = policy.ceiling_s
        """``limit_s()`` as of the last frame learned, for the per-frame path."""

    def limit_s(self) -> float:
        """How long a silence may last before it is checked."""
        if self.usual_s is None:
            return self.policy.ceiling_s
        return self._bounded(self.usual_s)

    def restart(self, now: float) -> None:
        """A new subscription: the silence before it was a disconnection, not this channel's
        (the reconnect recovers from it), so neither count it nor learn from it."""
        self.last_frame_at = None
        self.heard_at = now
        self.missing = False
        self._lost_in_gap = False
        self._quiet_confirmed = False
        self._checked = False

    def frame(self, now: float) -> float | None:
        """A frame came. Returns the silence it ends when frames may have been lost in it
        (longer than the limit, or a check found frames missing), else None.

        Called for every frame of every channel (the book's hot path): a frame in rhythm
        with no check since the last one costs a few operations; anything else takes
        :meth:`_frame_after_silence`."""
        last = self.last_frame_at
        if last is not None and not self._checked:
            gap = now - last
            if gap <= self._limit:
                self.last_frame_at = self.heard_at = now
                # _learn, inlined: a method call costs as much as the rest of this path
                average = self._average
                self._average = average = (
                    gap if average is None else average + _WEIGHT * (gap - average)
                )
                self._gaps += 1
                if self._gaps >= self.policy.learn_after:
                    self.usual_s = average
                    self._limit = self._bounded(average)
                return None
        return self._frame_after_silence(now)

    def _frame_after_silence(self, now: float) -> float | None:
        limit = self.limit_s()
        gap = None if self.last_frame_at is None else now - self.last_frame_at
        suspect = gap is not None and (gap > limit or self._lost_in_gap)
        if gap is not None and (gap <= limit or (self._quiet_confirmed and not self._lost_in_gap)):
            self._learn(min(gap, self.policy.ceiling_s))
        self.last_frame_at = self.heard_at = now
        self.missing = self._lost_in_gap = self._quiet_confirmed = self._checked = False
        return gap if suspect else None

    def silent_for(self, now: float) -> float | None:
        """Seconds since the channel was last heard, when that is past its limit."""
        if self.heard_at is None:
            return None
        age = now - self.heard_at
        return age if age > self.limit_s() else None

    def checked(self, now: float, *, missed: bool) -> None:
        """A REST check of the silence: ``missed`` when the venue moved meanwhile (or the
        check failed); else what we hold is the venue's, as of now."""
        self.heard_at = now
        self.missing = missed
        self._checked = True
        if missed:
            self._lost_in_gap = True
        else:
            self._quiet_confirmed = True

    def silence_text(self, now: float) -> str:
        """``4.2 s (usual 0.1 s)``: how long the channel has said nothing."""
        last = self.last_frame_at
        text = "a while" if last is None else f"{now - last:.1f} s"
        if self.usual_s is not None:
            text += f" (usual {self.usual_s:.1f} s)"
        return text

    def _learn(self, gap: float) -> None:
        self._gaps += 1
        average = self._average
        self._average = average = gap if average is None else average + _WEIGHT * (gap - average)
        if self._gaps >= self.policy.learn_after:
            self.usual_s = average
            self._limit = self._bounded(average)

    def _bounded(self, usual_s: float) -> float:
        """``multiple`` usual gaps, within the floor and the ceiling."""
        policy = self.policy
        limit = policy.multiple * usual_s
        if limit < policy.floor_s:
            return policy.floor_s
        return policy.ceiling_s if limit > policy.ceiling_s else limit


def window_for(gap_s: float) -> TradesWindow:
    """The shortest REST ``transactions`` window (reference 3.4) that covers a silence of
    ``gap_s``: what a backfill across it asks for."""
    if gap_s < 50:
        return "minute"
    return "hour" if gap_s < 3_500 else "day"
