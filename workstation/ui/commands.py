"""How a command that failed is told to the trader: one text per kind of failure.

The app runs every command (connect, send, cancel, cancel all) as a worker and turns a
failure into one notification (``WorkstationApp.run_command``); this says what it reads.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from ..domain.tracked_order import TrackedOrder
from ..services.refusals import KILL_REASON, CancelFailed, SubmitsBlocked

__all__ = ["CommandFailure"]


class CommandFailure(msgspec.Struct, frozen=True):
    """``<prefix>: <error>`` as an error, shown ``timeout`` seconds."""

    prefix: str
    timeout: float = 10
    gate_waits: bool = False
    """New orders refused while orders are reconciled are a warning: they wait (not while
    the kill switch runs: then they are refused, an error)."""
    order_text: Callable[[TrackedOrder], str] | None = None
    """Names the order of a cancel the exchange did not carry out (``CancelFailed``)."""

    def notice(self, error: BaseException) -> tuple[str, str, float | None]:
        """The text, the severity and the timeout (None: Textual's default)."""
        if self.gate_waits and isinstance(error, SubmitsBlocked) and str(error) != KILL_REASON:
            return f"{self.prefix}: new orders wait ({error})", "warning", None
        if self.order_text is not None and isinstance(error, CancelFailed):
            return f"{self.prefix}: {self.order_text(error.order)}: {error}", "error", 15
        return f"{self.prefix}: {error}", "error", self.timeout
