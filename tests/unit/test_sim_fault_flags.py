"""The ``workstation sim`` fault flags: each parses into its part of the :class:`FaultPlan`,
bad values and half-given combinations are usage errors (exit 2), ``--help`` documents them,
and the plan describes itself for the startup banner. Over loopback:
tests/integration/test_sim_fault_flags.py."""

from __future__ import annotations

import pytest

from workstation.cli import main
from workstation.cli_sim import parse_sim_args
from workstation.sim.faultplan import FaultPlan
from workstation.sim.ws import is_channel

# -- the banner ------------------------------------------------------------------------------


def test_the_plan_describes_what_it_arms() -> None:
    assert FaultPlan().describe() == []
    plan = FaultPlan(
        delay_ms=250,
        rate_limit_every=5,
        server_error_every=6,
        html_error_every=7,
        hang_orders_every=3,
        drop_orders_every=4,
        clock_skew_ms=-2000,
        drop_ws_every_s=30,
        reconnect_every_s=7.5,
        stall_channels=("live_trades_btcusd", "order_book_btcusd"),
        malformed_every_s=2,
        drop_diffs_every=9,
    )
    assert plan.describe() == [
        "REST replies delayed 250 ms",
        "one REST request in 5 answered 429 (Retry-After 1 s)",
        "one REST request in 6 answered 500 (JSON error)",
        "one REST request in 7 answered 502 (HTML error page)",
        "one order submission in 3 placed but never answered",
        "one order submission in 4 placed, then its connection dropped",
        "clock skewed -2000 ms",
        "WebSockets dropped every 30 s",
        "bts:request_reconnect every 7.5 s",
        "frames of live_trades_btcusd, order_book_btcusd withheld",
        "next frame of every subscribed channel malformed every 2 s",
        "one diff_order_book frame in 9 dropped (per channel)",
    ]


@pytest.mark.parametrize(
    ("plan", "line"),
    [
        (
            FaultPlan(rate_limit_every=2, rate_limit_retry_after_s=None),
            "one REST request in 2 answered 429 (no Retry-After)",
        ),
        (
            FaultPlan(rate_limit_every=2, rate_limit_retry_after_s=0.25),
            "one REST request in 2 answered 429 (Retry-After 0.25 s)",
        ),
        (FaultPlan(stall_channels=("*", "live_trades_btcusd")), "frames of every channel withheld"),
        (
            FaultPlan(net_cut_s=2.5, net_cut_every_s=30),
            "network cut for 2.5 s after every 30 s up (connections refused, open ones dropped)",
        ),
        (
            FaultPlan(wrong_shape_every=2, wrong_shape_paths=("/api/v2/replace_order/",)),
            "one request in 2 under /api/v2/replace_order/ carried out, then answered 200 "
            '{"status": "ok"}',
        ),
        (
            FaultPlan(stall_channels=("live_trades_btcusd",), stall_period_s=5),
            "frames of live_trades_btcusd withheld for 5 s in every 10 s",
        ),
    ],
)
def test_the_plan_describes_variants(plan: FaultPlan, line: str) -> None:
    assert plan.describe() == [line]


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
    ("argv", "plan"),
    [
        (
            ["--fault-429-every", "3", "--fault-429-no-retry-after"],
            FaultPlan(rate_limit_every=3, rate_limit_retry_after_s=None),
        ),
        (
            ["--fault-429-every", "3", "--fault-429-retry-after", "2.5"],
            FaultPlan(rate_limit_every=3, rate_limit_retry_after_s=2.5),
        ),
        (
            ["--fault-429-every", "3", "--fault-429-retry-after", "0"],
            FaultPlan(rate_limit_every=3, rate_limit_retry_after_s=0.0),
        ),
        (["--fault-5xx-every", "4"], FaultPlan(server_error_every=4)),
        (["--fault-html-every", "5"], FaultPlan(html_error_every=5)),
        (["--fault-hang-orders-every", "2"], FaultPlan(hang_orders_every=2)),
        (["--fault-drop-orders-every", "1"], FaultPlan(drop_orders_every=1)),
        (["--fault-stall", "*"], FaultPlan(stall_channels=("*",))),
        (
            [
                "--fault-stall",
                "live_trades_btcusd",
                "--fault-stall",
                "private-my_orders_ethusd-1",
                "--fault-stall",
                "live_trades_btcusd",
            ],
            FaultPlan(stall_channels=("live_trades_btcusd", "private-my_orders_ethusd-1")),
        ),
        (
            ["--fault-stall", "order_book_btcusd", "--fault-stall-period", "4"],
            FaultPlan(stall_channels=("order_book_btcusd",), stall_period_s=4.0),
        ),
        (["--fault-malformed-every", "0.5"], FaultPlan(malformed_every_s=0.5)),
        (["--fault-drop-diffs-every", "10"], FaultPlan(drop_diffs_every=10)),
        (["--fault-wrong-shape-every", "3"], FaultPlan(wrong_shape_every=3)),
        (
            ["--fault-net-cut", "2.5", "--fault-net-cut-every", "30"],
            FaultPlan(net_cut_s=2.5, net_cut_every_s=30.0),
        ),
        (
            [
                "--fault-wrong-shape-every",
                "1",
                "--fault-wrong-shape-path",
                "/api/v2/replace_order/",
                "--fault-wrong-shape-path",
                "/api/v2/cancel_order/",
            ],
            FaultPlan(
                wrong_shape_every=1,
                wrong_shape_paths=("/api/v2/replace_order/", "/api/v2/cancel_order/"),
            ),
        ),
    ],
)
def test_each_new_fault_flag_becomes_its_part_of_the_plan(argv: list[str], plan: FaultPlan) -> None:
    assert parse_sim_args(argv).faults == plan


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
        ["--fault-429-retry-after", "-1", "--fault-429-every", "2"],
        ["--fault-429-retry-after", "inf", "--fault-429-every", "2"],
        ["--fault-5xx-every", "0"],
        ["--fault-5xx-every", "2.5"],
        ["--fault-html-every", "-3"],
        ["--fault-hang-orders-every", "0"],
        ["--fault-drop-orders-every", "x"],
        ["--fault-stall", "live_trades_zzzusd"],
        ["--fault-stall", "live_trade_btcusd"],
        ["--fault-stall", "private-my_orders_btcusd"],
        ["--fault-stall", ""],
        ["--fault-stall-period", "0"],
        ["--fault-malformed-every", "0.001"],
        ["--fault-malformed-every", "never"],
        ["--fault-drop-diffs-every", "0"],
        ["--fault-wrong-shape-every", "0"],
        ["--fault-net-cut", "0", "--fault-net-cut-every", "5"],
        ["--fault-net-cut", "inf", "--fault-net-cut-every", "5"],
        ["--fault-net-cut-every", "-1", "--fault-net-cut", "1"],
        ["--fault-net-cut-every", "later", "--fault-net-cut", "1"],
    ],
)
def test_bad_fault_values_are_usage_errors(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_sim_args(argv)
    assert exited.value.code == 2
    assert argv[0] in capsys.readouterr().err


def test_both_retry_after_flags_at_once_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["--fault-429-every", "2", "--fault-429-retry-after", "1", "--fault-429-no-retry-after"]
    with pytest.raises(SystemExit) as exited:
        parse_sim_args(argv)
    assert exited.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "needs"),
    [
        (["--fault-429-retry-after", "2"], "--fault-429-every"),
        (["--fault-429-no-retry-after"], "--fault-429-every"),
        (["--fault-stall-period", "3"], "--fault-stall"),
        (["--fault-wrong-shape-path", "/api/v2/buy/"], "--fault-wrong-shape-every"),
        (["--fault-net-cut", "2"], "--fault-net-cut-every"),
        (["--fault-net-cut-every", "20"], "--fault-net-cut"),
    ],
)
def test_a_modifier_without_its_fault_is_refused(
    argv: list[str], needs: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sim", "--port", "0", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("workstation sim: ")
    assert f"need {needs}" in err or f"needs {needs}" in err


@pytest.mark.parametrize(
    ("channel", "known"),
    [
        ("live_trades_btcusd", True),
        ("live_orders_ethusd", True),
        ("order_book_btcusd", True),
        ("detail_order_book_btcusd", True),
        ("diff_order_book_btcusd", True),
        ("private-my_orders_btcusd-7", True),
        ("private-my_trades_ethusd-12", True),
        ("live_trades_", False),
        ("live_trades_dogeusd", False),
        ("trades_btcusd", False),
        ("private-my_orders_btcusd-x", False),
        ("private-my_orders_dogeusd-7", False),
        ("*", False),  # the wildcard is the CLI's and Faults', not a channel
    ],
)
def test_channel_names(channel: str, known: bool) -> None:
    assert is_channel(channel, {"btcusd", "ethusd"}) is known


def test_help_documents_every_fault_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["sim", "--help"])
    assert exited.value.code == 0
    text = capsys.readouterr().out
    for flag in (
        "--rate-limit, --no-rate-limit",
        "--fault-delay-ms MS",
        "--fault-429-every N",
        "--fault-429-retry-after SECONDS",
        "--fault-429-no-retry-after",
        "--fault-5xx-every N",
        "--fault-html-every N",
        "--fault-hang-orders-every N",
        "--fault-drop-orders-every N",
        "--fault-clock-skew-ms MS",
        "--fault-drop-ws-every SECONDS",
        "--fault-reconnect-every SECONDS",
        "--fault-stall CHANNEL",
        "--fault-stall-period SECONDS",
        "--fault-malformed-every SECONDS",
        "--fault-drop-diffs-every N",
        "--fault-wrong-shape-every N",
        "--fault-wrong-shape-path PREFIX",
        "--fault-net-cut SECONDS",
        "--fault-net-cut-every SECONDS",
        "--chaos",
    ):
        assert flag in text
    assert "fault injection" in text
    assert "--embedded" not in text
    flat = " ".join(text.split())
    assert "HTTP 500 and a JSON error body" in flat
    assert "HTTP 502 and an HTML error page" in flat
    assert "the first of 429, 5xx, HTML, hang, drop, wrong shape is answered" in flat
    assert 'answer HTTP 200 {"status": "ok"}' in flat


def test_half_a_key_pair_is_still_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", "--api-key", "k", "--fault-delay-ms", "5"]) == 2
    assert "--api-secret" in capsys.readouterr().err
