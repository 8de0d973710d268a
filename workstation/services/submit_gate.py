"""The submit gate: whether new orders may leave, and which submits are awaiting their reply.

A new tracker, or one whose private stream dropped, refuses new submits and amends until a
reconcile has brought every journaled open order to a definite state (the exchange may have
done anything meanwhile). Cancels never pass through it. A reconcile that started before the
gate was closed again does not open it: only one that started after has seen what the
exchange did in the meantime, which the gate tells by its epoch.

The kill switch halts it besides (:meth:`SubmitGate.halt`): from the moment the kill is
confirmed until it has ended, new submits and amends are refused whatever the reconciles
say, and the submits already past the gate are followed until their outcome is known
(:meth:`SubmitGate.settled`), so the kill can cancel any of them that landed open. The halt
lifts when the kill ends: the trader may trade again, deliberately.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

from .refusals import KILL_REASON, SubmitsBlocked

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
        self._halts = 0
        self._shown: str | None = START_REASON
        self._epoch = 0
        self.in_flight: set[str] = set()
        """Submits awaiting their reply: they resolve themselves, a reconcile skips them."""
        self._unsettled: dict[str, asyncio.Event] = {}

    @property
    def reason(self) -> str | None:
        """Why new submits are refused right now, or None when they are allowed."""
        return KILL_REASON if self._halts else self._reason

    @property
    def epoch(self) -> int:
        """How often the gate was closed: a reconcile notes it when it starts."""
        return self._epoch

    def check(self) -> None:
        """Raise :class:`SubmitsBlocked` while closed."""
        if (reason := self.reason) is not None:
            raise SubmitsBlocked(reason)

    def close(self, reason: str) -> None:
        """Refuse new submits until a reconcile that starts after this call succeeds."""
        self._epoch += 1
        self._set(reason)

    def open_after(self, epoch: int) -> None:
        """Allow submits again, unless the gate was closed since ``epoch``."""
        if epoch == self._epoch:
            self._set(None)

    def halt(self) -> None:
        """Refuse new submits and amends (:data:`KILL_REASON`) until :meth:`resume`."""
        self._halts += 1
        self._tell()

    def resume(self) -> None:
        """End one :meth:`halt`; the reconcile's reason, if any, still holds."""
        self._halts -= 1
        self._tell()

    # -- submits past the gate ------------------------------------------------------------

    @property
    def unsettled(self) -> tuple[str, ...]:
        """The submits past the gate whose outcome is not known yet, oldest first."""
        return tuple(self._unsettled)

    def begin(self, client_order_id: str) -> None:
        """A submit passed the gate: followed until :meth:`end`."""
        self._unsettled[client_order_id] = asyncio.Event()

    def end(self, client_order_id: str) -> None:
        """The submit's outcome is known (or its chase gave up for now)."""
        if (done := self._unsettled.pop(client_order_id, None)) is not None:
            done.set()

    async def settled(self, client_order_ids: Iterable[str], timeout_s: float) -> bool:
        """Wait (at most ``timeout_s``) until each of these submits has ended; False when
        some had not by then."""
        wanted = set(client_order_ids)
        waits = [asyncio.ensure_future(e.wait()) for c, e in self._unsettled.items() if c in wanted]
        if not waits:
            return True
        try:
            _, pending = await asyncio.wait(waits, timeout=timeout_s)
        finally:
            for wait in waits:
                wait.cancel()
        return not pending

    def _set(self, reason: str | None) -> None:
        self._reason = reason
        self._tell()

    def _tell(self) -> None:
        if self.reason == self._shown:
            return
        self._shown = self.reason
        if self.listener is not None:
            self.listener(self.reason)
