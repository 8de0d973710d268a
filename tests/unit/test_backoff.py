"""Reconnect pacing of the stream client."""

from __future__ import annotations

import random

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
