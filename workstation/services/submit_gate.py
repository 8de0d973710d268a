"""The submit gate: whether new orders may leave, and which submits are awaiting their reply.

A new tracker, or one whose private stream dropped, refuses new submits and amends until a
reconcile has brought every journaled open order to a definite state (the exchange may have
done anything meanwhile). Cancels never pass through it. A reconcile that started before the
gate was closed again does not open it: only one that started after has seen what the
exchange did in the meantime, which the gate tells by its epoch.
"""

from __future__ import annotations

from collections.abc import Callable

from .refusals import SubmitsBlocked

__all__ = ["START_REASON", "SubmitGate"]

START_REASON = "open orders not yet reconciled since start"


class SubmitGate:
    """Closed at first (``START_REASON``).

    Args:
        listener: called with the reason (None: open) each time it changes.
    """

    def __init__(self, listener: Callable[[str | None], None] | None = None) -> None:
        self.listener = listener
        self._reason: str | None = START_REASON
        self._epoch = 0
        self.in_flight: set[str] = set()
        """Submits awaiting their reply: they resolve themselves, a reconcile skips them."""

    @property
    def reason(self) -> str | None:
        """Why new submits are refused right now, or None when they are allowed."""
        return self._reason

    @property
    def epoch(self) -> int:
        """How often the gate was closed: a reconcile notes it when it starts."""
        return self._epoch

    def check(self) -> None:
        """Raise :class:`SubmitsBlocked` while closed."""
        if self._reason is not None:
            raise SubmitsBlocked(self._reason)

    def close(self, reason: str) -> None:
        """Refuse new submits until a reconcile that starts after this call succeeds."""
        self._epoch += 1
        self._set(reason)

    def open_after(self, epoch: int) -> None:
        """Allow submits again, unless the gate was closed since ``epoch``."""
        if epoch == self._epoch:
            self._set(None)

    def _set(self, reason: str | None) -> None:
        if reason == self._reason:
            return
        self._reason = reason
        if self.listener is not None:
            self.listener(reason)
