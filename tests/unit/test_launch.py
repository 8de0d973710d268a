"""The default start's early simulator (``workstation.launch``): started only when the full
command line will run the app on the embedded simulator, with the seed it will ask for."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from io import StringIO

from hypothesis import given
from hypothesis import strategies as st

from workstation.cli import _parser
from workstation.launch import default_start

TOKENS = st.sampled_from(
    [
        "--seed", "--seed=", "--seed=7", "7", "-7", " 8", "+9", "0x1", "١٢", "x", "",
        "sim", "keys", "--env", "live", "sandbox", "--sim-url", "http://127.0.0.1:9",
        "--pair", "btcusd", "--mono", "-h", "--", "--se", "--seed=1.5",
    ]
)  # fmt: skip


def _parsed(argv: list[str]) -> argparse.Namespace | None:
    try:
        with redirect_stdout(StringIO()), redirect_stderr(StringIO()):
            return _parser().parse_args(argv)
    except SystemExit:
        return None


@given(st.lists(TOKENS, max_size=4))
def test_the_plain_start_is_what_the_full_parser_calls_the_embedded_simulator(
    argv: list[str],
) -> None:
    """Whenever the launcher starts a simulator early, the command line runs the app on the
    embedded simulator (no subcommand, no --sim-url, the sim environment) with that seed."""
    plain, seed = default_start(argv)
    if not plain:
        return
    args = _parsed(argv)
    assert args is not None, argv
    assert args.command is None
    assert args.sim_url is None
    assert args.venue_env == "sim"
    assert args.seed == seed


def test_the_plain_starts() -> None:
    assert default_start([]) == (True, None)
    assert default_start(["--seed", "5"]) == (True, 5)
    assert default_start(["--seed=5"]) == (True, 5)
    assert default_start(["--seed", "five"]) == (False, None)
    assert default_start(["sim"]) == (False, None)
    assert default_start(["--sim-url", "http://127.0.0.1:9"]) == (False, None)


_PROBE = (
    "import sys, workstation.cli_trading as ct, workstation.launch as launch\n"
    "seen = {}\n"
    "def probe(**kw):\n"
    "    sim = kw['sim']\n"
    "    seen['sim'] = sim\n"
    "    print(None if sim is None else (sim.seed, sim.process.poll() is None))\n"
    "    return 3\n"
    "ct.start_app = probe\n"
    "code = launch.main(sys.argv[1:])\n"
    "sim = seen.get('sim')\n"
    "print(code, None if sim is None else sim.process.poll() is not None)\n"
)


def _launch(*argv: str) -> list[str]:
    env = {**os.environ, "BITSTAMP_API_KEY": "k" * 32, "BITSTAMP_API_SECRET": "s" * 32}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_the_default_start_hands_its_running_simulator_to_the_app_and_ends_it_after() -> None:
    """The child reaches ``start_app`` running, with the seed given; when the app has not
    ended it (here a probe stands in for the app), the launcher does."""
    assert _launch("--seed", "7") == ["(7, True)", "3 True"]


def test_any_other_start_has_no_early_simulator() -> None:
    assert _launch("--sim-url", "http://127.0.0.1:9") == ["None", "3 None"]


def test_a_child_that_cannot_be_started_early_costs_only_the_head_start() -> None:
    """A fork refused here (no processes left, no memory) must not stop the command: the
    app starts its own child later and shows and logs what goes wrong there."""
    refuse = (
        "import subprocess\n"
        "def refused(*a, **k):\n"
        "    raise OSError(11, 'Resource temporarily unavailable')\n"
        "subprocess.Popen = refused\n"
    )
    env = {**os.environ, "BITSTAMP_API_KEY": "k" * 32, "BITSTAMP_API_SECRET": "s" * 32}
    done = subprocess.run(
        [sys.executable, "-c", refuse + _PROBE, "--seed", "7"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["None", "3 None"]
