"""Issue 12 item 16: the orders of an ended embedded-simulator run are closed as "venue
ended" (they can never be reconciled), in the real journal and in its CSV export: the run's own
when it stops, and those of a run that crashed before closing its own when the next starts.
Other venues' open orders are left alone."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

from workstation.domain.common import Side
from workstation.domain.order_vocabulary import TrackState
from workstation.services.journal import Journal
from workstation.services.journal_export import export_csv, open_read_only
from workstation.services.venue import EmbeddedSim

CRASHED = "sim@embedded-0badc0de"


def _open_order(journal: Journal, cid: str, env: str, state: TrackState = TrackState.OPEN) -> None:
    journal.record_intent(
        cid,
        env=env,
        market="btcusd",
        side=Side.BUY,
        kind="limit",
        amount=Decimal("0.01"),
        price=Decimal("50000"),
    )
    journal.set_state(cid, state, order_id=abs(hash(cid)) % 10**9)


def _export(path: Path) -> list[dict[str, str]]:
    db = open_read_only(path)
    try:
        out = io.StringIO()
        export_csv(db, out)
    finally:
        db.close()
    return list(csv.DictReader(io.StringIO(out.getvalue())))


def _states(path: Path) -> dict[str, tuple[str, str]]:
    """Each order's (state, reason) as the export shows it (the last row of each wins)."""
    return {row["client_order_id"]: (row["state"], row["reason"]) for row in _export(path)}


async def test_ended_embedded_runs_close_their_open_orders(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    with Journal(path) as journal:
        _open_order(journal, "crashed-open", CRASHED)
        _open_order(journal, "crashed-partial", CRASHED, TrackState.PARTIALLY_FILLED)
        _open_order(journal, "crashed-filled", CRASHED, TrackState.FILLED)
        _open_order(journal, "attached", "sim@127.0.0.1:8765")
        _open_order(journal, "on-live", "live")

    sim = EmbeddedSim(seed=3, journal_path=path)
    async with sim as venue:
        # at start: the crashed run's orders are closed, nobody else's
        assert _states(path) == {
            "crashed-open": ("expired", "venue ended"),
            "crashed-partial": ("expired", "venue ended"),
            "crashed-filled": ("filled", ""),
            "attached": ("open", ""),
            "on-live": ("open", ""),
        }
        with Journal(path) as journal:  # this run trades: its order rests at its simulator
            _open_order(journal, "this-run", venue.journal_env)
        assert _states(path)["this-run"] == ("open", "")

    # the run ended: its order can never be reconciled
    assert _states(path)["this-run"] == ("expired", "venue ended")
    assert _states(path)["attached"] == ("open", "")
    assert _states(path)["on-live"] == ("open", "")
    closing = [r for r in _export(path) if r["event"] == "reconciled"]
    assert sorted(r["client_order_id"] for r in closing) == [
        "crashed-open",
        "crashed-partial",
        "this-run",
    ]
    assert all('"reason":"venue ended"' in r["detail"] for r in closing)


async def test_no_journal_is_created_to_close_nothing(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    async with EmbeddedSim(journal_path=path):
        pass
    assert not path.exists()
