"""Fault bookkeeping and the simulator's request budget, without sockets (the loopback
behaviour is in tests/integration/test_sim_faults.py and test_sim_ws_faults.py; the
``workstation sim`` fault flags in test_sim_fault_flags.py)."""

from __future__ import annotations

import json
import math

import pytest

from workstation.bitstamp.stream_frames import FrameError, parse_frame
from workstation.sim.faultplan import FaultPlan
from workstation.sim.faults import (
    Faults,
    HttpFault,
    HttpFaultKind,
    MalformedFrame,
    is_order_submission,
)
from workstation.sim.ratelimit import RateLimiter, RateLimits
from workstation.sim.ws import malformed

TRADE_FRAME = (
    '{"data":{"id":1,"timestamp":"1772723751","amount":0.241,"amount_str":"0.241000",'
    '"price":2090.22,"price_str":"2090.22","type":0,"microtimestamp":"1772723751946000",'
    '"buy_order_id":2,"sell_order_id":3},"channel":"live_trades_ethusd","event":"trade"}'
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# -- HTTP faults ---------------------------------------------------------------------------------


def test_every_nth_request_is_refused_counting_from_when_it_was_armed() -> None:
    faults = Faults()
    faults.take_http("/api/v2/ticker/btcusd/")  # before arming: not counted
    faults.answer_429_every(3, retry_after_s=0.5)
    taken = [faults.take_http("/api/v2/ticker/btcusd/") for _ in range(6)]
    expected = HttpFault(HttpFaultKind.RATE_LIMIT, retry_after=0.5)
    assert taken == [None, None, expected, None, None, expected]
    faults.answer_429_every(0)
    assert [faults.take_http("/api/v2/ticker/btcusd/") for _ in range(6)] == [None] * 6


def test_a_queued_fault_wins_and_still_counts_towards_every_nth() -> None:
    faults = Faults()
    faults.answer_429_every(2)
    assert faults.take_http("/api/v2/ticker/") is None
    html = HttpFault(HttpFaultKind.HTML_ERROR, status=502)
    faults.fail_next("/api/v2/buy/", html)
    assert faults.take_http("/api/v2/buy/btcusd/") == html  # the 2nd request: queued wins
    assert faults.take_http("/api/v2/ticker/") is None
    assert faults.take_http("/api/v2/buy/btcusd/") == HttpFault(
        HttpFaultKind.RATE_LIMIT, retry_after=1.0
    )


def test_a_429_without_retry_after() -> None:
    faults = Faults()
    faults.answer_429_every(1, retry_after_s=None)
    assert faults.take_http("/api/v2/ticker/") == HttpFault(HttpFaultKind.RATE_LIMIT)
    assert faults.take_http("/api/v2/ticker/").retry_after is None


def test_every_nth_faults_keep_their_own_rhythm_and_win_in_order() -> None:
    faults = Faults()
    faults.answer_429_every(4)
    faults.answer_5xx_every(3)
    faults.answer_html_every(2)
    kinds = [faults.take_http("/api/v2/ticker/btcusd/") for _ in range(12)]
    rate, err, html = (
        HttpFault(HttpFaultKind.RATE_LIMIT, retry_after=1.0),
        HttpFault(HttpFaultKind.SERVER_ERROR, status=500),
        HttpFault(HttpFaultKind.HTML_ERROR, status=502),
    )
    # 2: html; 3: 5xx; 4: 429 (html missed); 6: 5xx (html missed); 8: 429; 9: 5xx;
    # 10: html; 12: 429 (5xx and html missed).
    assert kinds == [None, html, err, rate, None, err, None, rate, err, html, None, rate]


def test_arming_one_every_nth_fault_restarts_only_its_own_count() -> None:
    faults = Faults()
    faults.answer_5xx_every(3, status=503)
    faults.take_http("/api/v2/ticker/")
    faults.take_http("/api/v2/ticker/")
    faults.answer_html_every(2, status=404)
    err = HttpFault(HttpFaultKind.SERVER_ERROR, status=503)
    html = HttpFault(HttpFaultKind.HTML_ERROR, status=404)
    taken = [faults.take_http("/api/v2/ticker/") for _ in range(4)]
    assert taken == [err, html, None, err]  # 5xx still on its 3rd and 6th request


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("POST", "/api/v2/buy/btcusd/", True),
        ("POST", "/api/v2/sell/btcusd", True),
        ("POST", "/api/v2/buy/market/btcusd/", True),
        ("POST", "/api/v2/sell/instant/ethusd/", True),
        ("GET", "/api/v2/buy/btcusd/", False),
        ("POST", "/api/v2/cancel_order/", False),
        ("POST", "/api/v2/open_orders/all/", False),
        ("POST", "/api/v2/buying/", False),
    ],
)
def test_what_counts_as_an_order_submission(method: str, path: str, expected: bool) -> None:
    assert is_order_submission(method, path) is expected


def test_order_faults_count_order_submissions_only() -> None:
    faults = Faults()
    faults.hang_orders_every(2)
    faults.drop_orders_every(3)
    hang = HttpFault(HttpFaultKind.HANG_AFTER_ACCEPT, seconds=math.inf)
    drop = HttpFault(HttpFaultKind.DROP_AFTER_ACCEPT)
    taken = []
    for n in range(6):
        assert faults.take_http("/api/v2/ticker/btcusd/") is None  # not an order: not counted
        assert faults.take_http("/api/v2/open_orders/all/", "POST") is None
        path = "/api/v2/buy/btcusd/" if n % 2 else "/api/v2/sell/market/btcusd/"
        taken.append(faults.take_http(path, "POST"))
    assert taken == [None, hang, drop, hang, None, hang]  # 6th: hang wins over drop
    faults.hang_orders_every(0)
    faults.drop_orders_every(0)
    assert [faults.take_http("/api/v2/buy/btcusd/", "POST") for _ in range(6)] == [None] * 6


def test_rest_faults_win_over_order_faults() -> None:
    faults = Faults()
    faults.hang_orders_every(1)
    faults.answer_5xx_every(2)
    taken = [faults.take_http("/api/v2/buy/btcusd/", "POST") for _ in range(3)]
    assert [f.kind for f in taken if f is not None] == [
        HttpFaultKind.HANG_AFTER_ACCEPT,
        HttpFaultKind.SERVER_ERROR,  # the order was refused, not placed
        HttpFaultKind.HANG_AFTER_ACCEPT,
    ]


@pytest.mark.parametrize(
    "arm",
    [
        lambda f: f.delay_responses(-1),
        lambda f: f.answer_429_every(-1),
        lambda f: f.drop_diff_frames(-1),
        lambda f: f.drop_diff_frames(1, channel="live_trades_btcusd"),
        lambda f: f.malform_next("live_trades_btcusd", times=-1),
        lambda f: f.answer_429_every(2, retry_after_s=-0.5),
        lambda f: f.answer_5xx_every(-1),
        lambda f: f.answer_5xx_every(2, status=502 - 100),
        lambda f: f.answer_html_every(2, status=302),
        lambda f: f.hang_orders_every(-1),
        lambda f: f.drop_orders_every(-2),
        lambda f: f.drop_diffs_every(-1),
    ],
)
def test_nonsense_is_refused(arm) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message varies by case
        arm(Faults())


# -- WebSocket faults ------------------------------------------------------------------------------


def test_diff_drops_for_one_channel_come_before_drops_for_any() -> None:
    faults = Faults()
    faults.drop_diff_frames(2, channel="diff_order_book_btcusd")
    faults.drop_diff_frames(1)
    assert faults.take_diff_drop("diff_order_book_ethusd")  # the any-channel drop
    assert not faults.take_diff_drop("diff_order_book_ethusd")
    assert faults.dropped_diff_by_channel == {"diff_order_book_btcusd": 2}
    assert [faults.take_diff_drop("diff_order_book_btcusd") for _ in range(3)] == [
        True,
        True,
        False,
    ]
    assert faults.dropped_diff_by_channel == {}


def test_every_nth_diff_frame_is_dropped_per_channel() -> None:
    faults = Faults()
    faults.drop_diffs_every(3)
    btc = [faults.take_diff_drop("diff_order_book_btcusd") for _ in range(6)]
    eth = [faults.take_diff_drop("diff_order_book_ethusd") for _ in range(3)]
    assert btc == [False, False, True, False, False, True]
    assert eth == [False, False, True]
    # An armed drop is taken first and its frame still counts towards every-Nth.
    faults.drop_diff_frames(1, channel="diff_order_book_ethusd")
    eth = [faults.take_diff_drop("diff_order_book_ethusd") for _ in range(3)]
    assert eth == [True, False, True]
    faults.drop_diffs_every(0)
    assert not any(faults.take_diff_drop("diff_order_book_btcusd") for _ in range(9))


def test_malformed_frames_are_armed_per_channel_and_used_once() -> None:
    faults = Faults()
    faults.malform_next("live_trades_btcusd", MalformedFrame.WRONG_SHAPE, times=2)
    faults.malform_next("live_trades_btcusd", "garbage")
    assert faults.take_malformed("live_trades_ethusd") is None
    assert faults.malformed_pending("live_trades_btcusd") == 3
    assert faults.malformed_pending("live_trades_ethusd") == 0
    taken = [faults.take_malformed("live_trades_btcusd") for _ in range(4)]
    assert taken == [MalformedFrame.WRONG_SHAPE, MalformedFrame.WRONG_SHAPE, "garbage", None]
    assert faults.malformed_pending("live_trades_btcusd") == 0


def test_stall_unstall_and_silence() -> None:
    faults = Faults()
    faults.stall("live_trades_btcusd")
    assert faults.withholds("live_trades_btcusd")
    assert not faults.withholds("live_trades_ethusd")
    faults.stall()
    assert faults.withholds("live_trades_ethusd")
    faults.unstall("*")
    assert faults.stalled_channels == {"live_trades_btcusd"}
    faults.unstall()
    assert not faults.withholds("live_trades_btcusd")
    faults.silence()
    assert faults.withholds("order_book_btcusd")
    faults.silence(False)
    assert not faults.withholds("order_book_btcusd")


def test_clear_restores_normal_service() -> None:
    faults = Faults()
    faults.apply(
        FaultPlan(
            delay_ms=50,
            rate_limit_every=2,
            rate_limit_retry_after_s=None,
            server_error_every=3,
            html_error_every=4,
            hang_orders_every=5,
            drop_orders_every=6,
            clock_skew_ms=-3000,
            stall_channels=("live_trades_btcusd",),
            drop_diffs_every=2,
        )
    )
    assert faults.stalled_channels == {"live_trades_btcusd"}
    assert faults.take_diff_drop("diff_order_book_btcusd") is False
    faults.fail_next("/", HttpFault(HttpFaultKind.MALFORMED))
    faults.stall()
    faults.silence()
    faults.drop_diff_frames(3)
    faults.drop_diff_frames(1, channel="diff_order_book_btcusd")
    faults.malform_next("live_trades_btcusd")
    assert (faults.delay_ms, faults.rate_limit_every, faults.clock_skew_ms) == (50, 2, -3000)
    faults.clear()
    assert faults == Faults()
    for _ in range(12):
        assert faults.take_http("/api/v2/buy/btcusd/", "POST") is None
        assert not faults.take_diff_drop("diff_order_book_btcusd")


def test_an_intermittent_stall_is_left_to_the_server() -> None:
    faults = Faults()
    faults.apply(FaultPlan(stall_channels=("*",), stall_period_s=1.0))
    assert faults.stalled_channels == set()


def test_a_truncated_frame_is_not_json() -> None:
    text = malformed(TRADE_FRAME, "live_trades_ethusd", MalformedFrame.TRUNCATED)
    assert TRADE_FRAME.startswith(text)
    assert 0 < len(text) < len(TRADE_FRAME)
    with pytest.raises(ValueError, match="Expecting|Unterminated"):
        json.loads(text)
    with pytest.raises(FrameError):
        parse_frame(text)


def test_a_wrong_shape_frame_keeps_event_and_channel() -> None:
    parse_frame(TRADE_FRAME)  # the original parses
    text = malformed(TRADE_FRAME, "live_trades_ethusd", MalformedFrame.WRONG_SHAPE)
    wire = json.loads(text)
    assert (wire["event"], wire["channel"]) == ("trade", "live_trades_ethusd")
    assert not isinstance(wire["data"], dict)
    with pytest.raises(FrameError):
        parse_frame(text)


def test_a_given_text_is_sent_as_is() -> None:
    assert malformed(TRADE_FRAME, "live_trades_ethusd", "<html>") == "<html>"


# -- the request budget ----------------------------------------------------------------------


def test_default_limits_are_bitstamps() -> None:
    limits = RateLimits()
    assert (limits.per_second, limits.per_10min) == (400, 10_000)
    assert (limits.second_s, limits.ten_min_s) == (1.0, 600.0)


@pytest.mark.parametrize(
    "bad", [{"per_second": 0}, {"per_10min": 0}, {"second_s": 0}, {"ten_min_s": -1}]
)
def test_limits_must_be_positive(bad: dict) -> None:
    with pytest.raises(ValueError, match="positive"):
        RateLimits(**bad)


def test_the_short_window_refuses_then_lifts() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimits(per_second=3), clock=clock)
    admitted = []
    for _ in range(3):
        admitted.append(limiter.admit("ip 127.0.0.1"))
        clock.now += 0.1
    assert admitted == [None, None, None]
    assert limiter.admit("ip 127.0.0.1") == pytest.approx(0.7)  # the first leaves at +1.0
    clock.now += 0.69
    assert limiter.admit("ip 127.0.0.1") == pytest.approx(0.01)
    clock.now += 0.02
    assert limiter.admit("ip 127.0.0.1") is None
    assert limiter.admit("ip 127.0.0.1") is not None  # the second still inside the window
    assert limiter.refused == 3


def test_the_long_window_refuses_then_lifts() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimits(per_second=100, per_10min=4), clock=clock)
    for _ in range(4):
        assert limiter.admit("key k") is None
        clock.now += 2.0
    assert limiter.admit("key k") == pytest.approx(592.0)
    clock.now += 592.0
    assert limiter.admit("key k") is None


def test_refused_requests_do_not_push_the_window_out() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimits(per_second=1), clock=clock)
    assert limiter.admit("a") is None
    for _ in range(50):
        clock.now += 0.01
        assert limiter.admit("a") is not None
    clock.now = 1001.0
    assert limiter.admit("a") is None


def test_each_key_and_address_has_its_own_budget() -> None:
    limiter = RateLimiter(RateLimits(per_second=1), clock=FakeClock())
    assert limiter.admit("ip 127.0.0.1") is None
    assert limiter.admit("key demo") is None
    assert limiter.admit("key other") is None
    assert limiter.admit("ip 127.0.0.1") is not None
    assert limiter.admit("key demo") is not None
