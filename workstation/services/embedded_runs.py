"""The orders an embedded-simulator run takes with it when it ends.

The embedded simulator lives and dies with the app, and its exchange with it: an order still
open in the journal scope of an ended run (``sim@embedded-<run>``) can never be reconciled,
and without this it would stay ``open`` in the journal and its export for ever. Such orders
are closed as EXPIRED with the reason "venue ended", and a ``reconciled`` event says so:

- when the run ends (:class:`~workstation.services.venue.EmbeddedSim` stops), its own;
- when a run starts, those of every other embedded run: runs that crashed or were killed
  before they could close their own.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..domain.order_vocabulary import TrackState

__all__ = ["EMBEDDED_SCOPE", "VENUE_ENDED", "close_ended_run", "close_other_runs"]

EMBEDDED_SCOPE = "sim@embedded-"
"""The journal scopes of embedded-simulator runs start so (``Venue.journal_env``)."""
VENUE_ENDED = "venue ended"


def close_ended_run(journal_path: Path, scope: str) -> int:
    """Close the open orders of the run whose scope is ``scope``; returns how many."""
    return _close(journal_path, lambda env: env == scope)


def close_other_runs(journal_path: Path, running: str) -> int:
    """Close the open orders of every embedded run but ``running``; returns how many."""
    return _close(journal_path, lambda env: env != running)


def _close(journal_path: Path, ended: Callable[[str], bool]) -> int:
    if not journal_path.is_file():
        return 0  # nothing was ever journaled: do not create a journal to say so
    from .journal import Journal  # here, not at the top: a start does not open the journal

    closed = 0
    with Journal(journal_path) as journal:
        for scope in journal.scopes_with_open_orders():
            if not scope.startswith(EMBEDDED_SCOPE) or not ended(scope):
                continue
            for order in journal.open_orders(scope):
                cid = order.client_order_id
                detail = {"source": VENUE_ENDED, "from": order.state, "state": TrackState.EXPIRED}
                journal.record_event(cid, "reconciled", {**detail, "reason": VENUE_ENDED})
                journal.set_state(cid, TrackState.EXPIRED, reason=VENUE_ENDED)
                closed += 1
    return closed
