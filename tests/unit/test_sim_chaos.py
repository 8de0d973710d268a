"""The chaos minute's schedule (``workstation sim --chaos``): every fault the drill promises is
in it, a seed replays the same minute, its faults are over before the minute ends, the banner
lists it, and ``--chaos`` refuses the ``--fault-*`` flags beside it. Played against the
services: tests/integration/test_chaos_minute.py."""

from __future__ import annotations

import pytest

from workstation.cli import main
from workstation.cli_sim import parse_sim_args
from workstation.sim.chaos import MINUTE_S, ChaosFault, chaos_minute
from workstation.sim.faultplan import FaultPlan


def test_the_minute_has_every_fault_of_the_drill_in_order_and_ends_in_time() -> None:
    steps = chaos_minute(0)
    assert {s.fault for s in steps} == set(ChaosFault)
    assert [s.at_s for s in steps] == sorted(s.at_s for s in steps)
    assert all(s.at_s > 0 and s.at_s + s.lasts_s < MINUTE_S for s in steps)
    [skew] = [s for s in steps if s.fault is ChaosFault.CLOCK_SKEW]
    assert abs(skew.skew_ms) > 150_000  # past Bitstamp's window for signed timestamps
    bursts = {s.fault: s.times for s in steps if s.times}
    assert bursts == {
        ChaosFault.RATE_LIMIT: 3,
        ChaosFault.RATE_LIMIT_BARE: 3,
        ChaosFault.SERVER_ERROR: 2,
        ChaosFault.HTML_ERROR: 2,
    }


def test_a_seed_replays_its_minute_and_another_seed_moves_it() -> None:
    assert chaos_minute(7) == chaos_minute(7)
    assert chaos_minute(7) != chaos_minute(8)
    assert [s.fault for s in chaos_minute(7)] == [s.fault for s in chaos_minute(8)]


def test_the_flag_arms_the_minute_of_the_seed_and_the_banner_lists_it() -> None:
    assert parse_sim_args(["--chaos", "--seed", "4"]).faults == FaultPlan(chaos_seed=4)
    assert parse_sim_args(["--chaos"]).faults == FaultPlan(chaos_seed=0)
    lines = FaultPlan(chaos_seed=4).describe()
    assert lines[0] == "the chaos minute of seed 4 (60 s), over and over:"
    assert lines[1:] == [step.describe() for step in chaos_minute(4)]
    assert any("network cut" in line and ", for 4 s" in line for line in lines)
    assert any("429 without Retry-After" in line for line in lines)


def test_chaos_with_a_fault_flag_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", "--port", "0", "--chaos", "--fault-5xx-every", "3"]) == 2
    assert "--chaos plays its own faults" in capsys.readouterr().err
