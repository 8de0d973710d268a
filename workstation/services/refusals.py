"""What a command of the services answers instead of doing it: a submit while orders
reconcile or the kill switch runs, an order outside a guard, an amend that cannot be sent, a
cancel the exchange did not carry out.

Part of the facade's surface (the UI catches them to tell the trader why), with the facade,
its views and its events. Each is an answer to the trader, not a crash.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..domain.guards import Breach
from ..domain.tracked_order import TrackedOrder

__all__ = ["KILL_REASON", "AmendRefused", "CancelFailed", "GuardRefused", "SubmitsBlocked"]

KILL_REASON = "the kill switch is cancelling every open order; nothing new is sent until it ends"
"""Why :class:`SubmitsBlocked` refuses a submit or an amend while the kill switch runs."""


class SubmitsBlocked(Exception):  # noqa: N818 - a state the UI shows, not a failure
    """New orders wait until open orders are reconciled (after start or a stream reconnect),
    and are refused while the kill switch runs (:data:`KILL_REASON`)."""


class GuardRefused(Exception):  # noqa: N818 - an answer to the trader, not a crash
    """An order outside one of the environment's guards (``domain/guards.py``), refused
    before anything is journaled or sent: outside LIVE always, on LIVE unless the trader
    accepted each of those guards on the extra confirm step. ``breaches`` says which, each
    with the config key that sets it and the file to change it in."""

    def __init__(self, breaches: Sequence[Breach], *, env: str) -> None:
        self.breaches = tuple(breaches)
        self.env = env
        what = "; ".join(str(b) for b in self.breaches)
        if env == "live":
            how = "accept it on the confirm step to send it anyway"
        else:
            how = f"{env} never sends an order outside a guard"
        super().__init__(f"outside a guard: {what}; {how}")


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
