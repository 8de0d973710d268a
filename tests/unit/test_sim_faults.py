"""Fault bookkeeping, the simulator's request budget and the ``workstation sim`` fault flags,
without sockets (the loopback behaviour is in tests/integration/test_sim_faults.py)."""

from __future__ import annotations

import json

import pytest

from workstation.bitstamp.codec_stream import FrameError, parse_frame
from workstation.cli import main, parse_sim_args
from workstation.sim.faults import (
    FaultPlan,
    Faults,
    HttpFault,
    HttpFaultKind,
    MalformedFrame,
    RateLimiter,
    RateLimits,
)
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


@pytest.mark.parametrize(
    "arm",
    [
        lambda f: f.delay_responses(-1),
        lambda f: f.answer_429_every(-1),
        lambda f: f.drop_diff_frames(-1),
        lambda f: f.drop_diff_frames(1, channel="live_trades_btcusd"),
        lambda f: f.malform_next("live_trades_btcusd", times=-1),
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


def test_malformed_frames_are_armed_per_channel_and_used_once() -> None:
    faults = Faults()
    faults.malform_next("live_trades_btcusd", MalformedFrame.WRONG_SHAPE, times=2)
    faults.malform_next("live_trades_btcusd", "garbage")
    assert faults.take_malformed("live_trades_ethusd") is None
    taken = [faults.take_malformed("live_trades_btcusd") for _ in range(4)]
    assert taken == [MalformedFrame.WRONG_SHAPE, MalformedFrame.WRONG_SHAPE, "garbage", None]


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
    faults.apply(FaultPlan(delay_ms=50, rate_limit_every=2, clock_skew_ms=-3000))
    faults.fail_next("/", HttpFault(HttpFaultKind.MALFORMED))
    faults.stall()
    faults.silence()
    faults.drop_diff_frames(3)
    faults.drop_diff_frames(1, channel="diff_order_book_btcusd")
    faults.malform_next("live_trades_btcusd")
    assert (faults.delay_ms, faults.rate_limit_every, faults.clock_skew_ms) == (50, 2, -3000)
    faults.clear()
    assert faults == Faults()
    assert faults.take_http("/api/v2/ticker/") is None
    assert faults.take_http("/api/v2/ticker/") is None


def test_the_plan_describes_what_it_arms() -> None:
    assert FaultPlan().describe() == []
    plan = FaultPlan(
        delay_ms=250,
        rate_limit_every=5,
        clock_skew_ms=-2000,
        drop_ws_every_s=30,
        reconnect_every_s=7.5,
    )
    assert plan.describe() == [
        "REST replies delayed 250 ms",
        "one REST request in 5 answered 429",
        "clock skewed -2000 ms",
        "WebSockets dropped every 30 s",
        "bts:request_reconnect every 7.5 s",
    ]


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


# -- the command line ------------------------------------------------------------------------


def test_no_flags_arm_nothing_and_enforce_the_budget() -> None:
    options = parse_sim_args([])
    assert options.faults == FaultPlan()
    assert options.rate_limit is True


def test_fault_flags_become_the_plan() -> None:
    options = parse_sim_args(
        [
            "--port",
            "0",
            "--fault-drop-ws-every",
            "30",
            "--fault-reconnect-every",
            "2.5",
            "--fault-delay-ms",
            "150",
            "--fault-429-every",
            "7",
            "--fault-clock-skew-ms",
            "-200000",
            "--no-rate-limit",
        ]
    )
    assert options.port == 0
    assert options.rate_limit is False
    assert options.faults == FaultPlan(
        delay_ms=150,
        rate_limit_every=7,
        rate_limit_retry_after_s=1.0,
        clock_skew_ms=-200_000,
        drop_ws_every_s=30.0,
        reconnect_every_s=2.5,
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["--fault-delay-ms", "-1"],
        ["--fault-429-every", "0"],
        ["--fault-drop-ws-every", "0"],
        ["--fault-reconnect-every", "-2"],
        ["--fault-reconnect-every", "nan"],
        ["--fault-reconnect-every", "0.001"],
        ["--fault-drop-ws-every", "soon"],
        ["--fault-clock-skew-ms", "1.5"],
    ],
)
def test_bad_fault_values_are_usage_errors(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_sim_args(argv)
    assert exited.value.code == 2
    assert argv[0] in capsys.readouterr().err


def test_help_documents_every_fault_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["sim", "--help"])
    assert exited.value.code == 0
    text = capsys.readouterr().out
    for flag in (
        "--rate-limit, --no-rate-limit",
        "--fault-delay-ms MS",
        "--fault-429-every N",
        "--fault-clock-skew-ms MS",
        "--fault-drop-ws-every SECONDS",
        "--fault-reconnect-every SECONDS",
    ):
        assert flag in text
    assert "fault injection" in text
    assert "--embedded" not in text


def test_half_a_key_pair_is_still_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", "--api-key", "k", "--fault-delay-ms", "5"]) == 2
    assert "--api-secret" in capsys.readouterr().err
