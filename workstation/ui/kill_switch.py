"""The kill switch: one key from any screen, one confirm, every open order of the account
cancelled on every pair, and what became of each shown.

The key is an app binding with priority (``ctrl+k``), so it works over the ticket, the help,
the pair picker and every other dialog. Confirmed, it closes those dialogs (a ticket left
open could send a new order right after the kill) and runs ``Services.kill()``: one
``cancel_all_orders`` over REST, which cancels the orders placed elsewhere too, then each
order's state confirmed by ``order_status`` (the canceller's reconcile); submits already on
their way are awaited and cancelled if they landed, and new ones are refused meanwhile.
Nothing waits on the market data, and no cancel is sent again whose outcome is not known:
the report says which orders are still live and why.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..domain.markets import Market
from ..domain.order_vocabulary import TrackState
from ..domain.tracked_order import CancelReport
from ..services.facade import Services
from .desk import order_text

if TYPE_CHECKING:
    from textual.worker import Worker

    from .app import WorkstationApp
    from .screens.kill_outcome import KillOutcome, OrderOutcome

# The kill switch's two screens are imported when the key is pressed: a start draws neither.

__all__ = ["KILL_KEY", "KillSwitch", "kill_outcomes"]

KILL_KEY = "ctrl+k"
"""Plain Ctrl+letter: it reaches the app over SSH and in tmux (F-keys and Ctrl+Shift often do
not), and typing text never produces it."""

_log = logging.getLogger("workstation.ui.kill_switch")


def kill_outcomes(report: CancelReport, markets: Mapping[str, Market]) -> list[OrderOutcome]:
    from .screens.kill_outcome import OrderOutcome

    """One line per order of ``report``: failed ones first, then cancelled, then gone."""
    lines: list[OrderOutcome] = []
    for order in report.orders:
        text = order_text(order, markets.get(order.market))
        reason = report.failed.get(order.client_order_id)
        if reason is not None:
            lines.append(OrderOutcome("failed", text, f"{reason} (still {order.state.value})"))
        elif order.state is TrackState.CANCELLED:
            lines.append(OrderOutcome("cancelled", text))
        elif order.state.is_final:
            lines.append(OrderOutcome("already gone", text, order.state.value))
        else:  # not final and not reported failed: say so rather than call it done
            lines.append(OrderOutcome("failed", text, f"still {order.state.value}"))
    order_of = {"failed": 0, "cancelled": 1, "already gone": 2}
    return sorted(lines, key=lambda line: order_of[line.outcome])


class KillSwitch:
    """The app's kill switch (``app.kill_switch``); ``press`` is the key's action."""

    def __init__(self, app: WorkstationApp, services: Services) -> None:
        self.app = app
        self.services = services
        self._running: Worker[None] | None = None

    def press(self) -> None:
        """Ask to cancel every open order; nothing is sent before the trader confirms."""
        from .screens.kill_confirm import KillConfirm, kill_question

        app = self.app
        if isinstance(app.screen, KillConfirm):  # already asking
            return
        if self._running is not None and self._running.is_running:
            app.notify("The kill switch is already cancelling", severity="warning")
            return
        if not self.services.health().trading:
            app.notify(
                "Kill switch: no trading on this venue (no API keys, or not connected yet): "
                "there is no order to cancel",
                severity="warning",
            )
            return
        account = self.services.account(app.quote)
        orders = list(account.open_orders) if account is not None else []
        question = kill_question(orders, dict(self.services.markets))
        count = len(orders)
        scope = f"{count} open order{'s' if count != 1 else ''}" if orders else "open orders"
        app.push_screen(KillConfirm(question), lambda yes: self._answered(bool(yes), scope))

    def _answered(self, confirmed: bool, scope: str) -> None:
        if not confirmed:
            return
        app = self.app
        while len(app.screen_stack) > 1:  # a ticket, the help, a picker: closed
            app.pop_screen()
        from .screens.kill_outcome import KillOutcome

        outcome = KillOutcome(scope)
        app.push_screen(outcome)
        _log.warning("kill switch: cancelling every open order on every pair")
        self._running = app.run_worker(self._kill(outcome), group="kill", exit_on_error=False)

    async def _kill(self, outcome: KillOutcome) -> None:
        try:
            report = await self.services.kill()
        except Exception as exc:  # noqa: BLE001 - shown on the report and logged
            _log.exception("kill switch failed")
            why = str(exc) or type(exc).__name__
            outcome.show_failure(why)
            self.app.notify(f"Kill switch failed: {why}", severity="error", timeout=30)
            return
        lines = kill_outcomes(report, self.services.markets)
        failed = sum(line.outcome == "failed" for line in lines)
        _log.warning(
            "kill switch: %d cancelled, %d failed, %d already gone",
            len(report.cancelled),
            failed,
            len(report.ended_otherwise),
        )
        outcome.show_outcomes(lines)
        text = f"Kill switch: {len(report.cancelled)} cancelled"
        if failed:
            self.app.notify(f"{text}, {failed} FAILED (still live)", severity="error", timeout=30)
        else:
            self.app.notify(text)
