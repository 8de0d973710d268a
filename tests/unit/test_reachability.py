"""What the trader is told about a venue that cannot be reached: the host, since when (UTC),
why, and the next retry, which comes after a growing, capped pause."""

from __future__ import annotations

from workstation.bitstamp.errors import RateLimited, TransportError
from workstation.services.reachability import RETRY_DELAYS_S, Reachability, host_of

T0 = 1_780_000_000.0  # 2026-05-28 20:26:40 UTC


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def test_the_host_is_named_as_the_url_names_it() -> None:
    assert host_of("https://www.bitstamp.net") == "www.bitstamp.net"
    assert host_of("http://127.0.0.1:8765/") == "127.0.0.1:8765"


def test_down_since_the_first_failure_with_the_next_retry_backing_off() -> None:
    clock = Clock()
    reach = Reachability("http://127.0.0.1:8765", clock=clock)
    assert reach.reason is None
    delays = [reach.failed_on(TransportError("/api/v2/markets/: ConnectError"))]
    clock.now += 1
    delays += [reach.failed_on(TransportError("/api/v2/markets/: ConnectError")) for _ in range(8)]
    assert delays == list(RETRY_DELAYS_S) + [RETRY_DELAYS_S[-1]] * 3
    assert reach.reason == "cannot reach 127.0.0.1:8765"
    assert reach.describe() == (
        "cannot reach 127.0.0.1:8765 since 20:26:40 UTC (ConnectError), retry in 30 s"
    )
    reach.reached()
    assert reach.reason is None
    assert reach.failed_on(TransportError("x: ConnectError")) == RETRY_DELAYS_S[0]


def test_a_refusal_is_not_called_unreachable_and_its_retry_after_is_kept() -> None:
    reach = Reachability("https://www.bitstamp.net", clock=Clock())
    assert reach.failed_on(RateLimited("Too many requests", retry_after=12.0)) == 12.0
    assert reach.reason == "www.bitstamp.net refuses requests"
    assert reach.describe().endswith("retry in 12 s")
