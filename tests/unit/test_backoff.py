"""Reconnect pacing of the stream client."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from workstation.bitstamp.stream import Backoff


def test_backoff_grows_is_capped_and_jittered() -> None:
    backoff = Backoff(base_s=0.5, cap_s=4.0)
    rng = random.Random(1)
    assert backoff.delay(0, rng) == 0.0
    for failures in range(1, 20):
        delays = {backoff.delay(failures, rng) for _ in range(50)}
        upper = min(4.0, 0.5 * 2 ** (failures - 1))
        assert all(0.25 <= d <= upper for d in delays)
        assert len(delays) > 1  # jittered: clients never reconnect in lockstep
    assert max(backoff.delay(30, rng) for _ in range(100)) <= 4.0


@given(failures=st.integers(min_value=1, max_value=10**9))
def test_backoff_stays_capped_after_any_number_of_short_lived_connections(failures: int) -> None:
    """A link that keeps dropping before a connection counts as stable piles up failures:
    `make soak` reached 1,025 reconnects, and 2 ** 1024 overflowed a float, which killed
    the stream's connect loop for good (the app stopped reconnecting)."""
    backoff = Backoff(base_s=0.01, cap_s=0.05)
    assert 0.005 <= backoff.delay(failures, random.Random(failures)) <= 0.05
