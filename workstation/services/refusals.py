"""What a command of the services answers instead of doing it: a submit while orders
reconcile, an amend that cannot be sent, a cancel the exchange did not carry out.

Part of the facade's surface (the UI catches them to tell the trader why), with the facade,
its views and its events. Each is an answer to the trader, not a crash.
"""

from __future__ import annotations

from ..domain.tracked_order import TrackedOrder

__all__ = ["AmendRefused", "CancelFailed", "SubmitsBlocked"]


class SubmitsBlocked(Exception):  # noqa: N818 - a state the UI shows, not a failure
    """New orders wait until open orders are reconciled (after start or a stream reconnect)."""


class AmendRefused(ValueError):  # noqa: N818 - an answer to the trader, not a crash
    """An amend that cannot be sent (the order is final, not yet confirmed, not a limit
    order, or nothing would change). Raised before anything is journaled or sent."""


class CancelFailed(Exception):  # noqa: N818 - an answer to the trader, not a crash
    """A cancel the exchange did not carry out, and the order is still live (or its state
    could not be confirmed). ``order`` is its snapshot after asking the exchange."""

    def __init__(self, order: TrackedOrder, reason: str, *, confirmed: bool) -> None:
        self.order = order
        self.reason = reason
        self.confirmed = confirmed
        """Whether ``order.state`` was confirmed by the exchange after the failure."""
        if confirmed:
            state = f"the order is still {order.state.value}"
        else:
            state = f"its state is not confirmed (last known: {order.state.value})"
        super().__init__(f"{reason}; {state}")
