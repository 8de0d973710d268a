"""The pause between failed book snapshots (``services/hub.py``)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from workstation.services.hub import SNAPSHOT_RETRY_CAP_S, SNAPSHOT_RETRY_S, snapshot_retry_s


def test_the_pause_doubles_from_the_first_and_stops_at_the_cap() -> None:
    waits = [snapshot_retry_s(n) for n in range(1, 8)]
    assert waits[0] == SNAPSHOT_RETRY_S
    assert waits[1] == 2 * SNAPSHOT_RETRY_S
    assert waits == sorted(waits)
    assert waits[-1] == SNAPSHOT_RETRY_CAP_S


@given(failures=st.integers(min_value=1, max_value=10**9))
def test_a_venue_down_all_night_never_overflows_the_pause(failures: int) -> None:
    """Before, the 1,025th failure in a row raised OverflowError (2 ** 1024 as a float):
    the snapshot task ended and the book stayed stale until the app restarted."""
    assert SNAPSHOT_RETRY_S <= snapshot_retry_s(failures) <= SNAPSHOT_RETRY_CAP_S
