"""``workstation preflight``'s options, in-process through ``cli.main``: which venue and keys
it checks, when the test order is placed, the typed live confirmation, the exit status. The
checklist itself is swapped for a recorder (it runs for real in
tests/integration/test_preflight.py); an in-memory keyring stands in for the OS one."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from workstation import cli, cli_preflight
from workstation.services import preflight
from workstation.services.check_result import CheckResult, Verdict
from workstation.services.preflight import PreflightOptions
from workstation.services.venue import Venue

from ..keyring_support import installed
from .cli_support import KEY, SECRET, MemoryKeyring, outputs, store


@pytest.fixture(autouse=True)
def memory() -> Iterator[MemoryKeyring]:
    with installed(MemoryKeyring()) as backend:
        assert isinstance(backend, MemoryKeyring)
        yield backend


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Venue, PreflightOptions]]:
    """What the checklist was run with; every check passes, or the test order fails when
    ``runs.append`` is told to (its venue's env is ``sandbox``)."""
    seen: list[tuple[Venue, PreflightOptions]] = []

    async def fake(venue: Venue, options: PreflightOptions, *, on_result: Any) -> list[Any]:
        seen.append((venue, options))
        results = [
            CheckResult("signed read", Verdict.PASS, "ok"),
            CheckResult(
                "test order",
                Verdict.FAIL if venue.env == "sandbox" else Verdict.PASS,
                "seen",
                "do this",
            ),
        ]
        for result in results:
            on_result(result)
        return results

    monkeypatch.setattr(preflight, "run_preflight", fake)
    return seen


def test_live_places_no_test_order_unless_asked(
    memory: MemoryKeyring,
    runs: list[tuple[Venue, PreflightOptions]],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    store(memory, "live")
    assert cli.main(["preflight", "--env", "live", "--journal", str(tmp_path / "j")]) == 0
    venue, options = runs[-1]
    assert venue.env == "live"
    assert venue.api_key is not None
    assert venue.api_key.reveal() == KEY
    assert venue.api_secret is not None
    assert venue.api_secret.reveal() == SECRET
    assert options.test_order is False
    assert options.confirm_order is not None  # asked for or not, live always confirms
    assert options.journal_path == tmp_path / "j"

    assert cli.main(["preflight", "--env", "live", "--place-test-order"]) == 0
    assert runs[-1][1].test_order is True
    out, _ = outputs(capsys)
    assert f"preflight of LIVE at https://www.bitstamp.net (key …{KEY[-4:]})" in out
    assert SECRET not in out


def test_sandbox_places_it_without_asking_and_a_failure_exits_1(
    memory: MemoryKeyring,
    runs: list[tuple[Venue, PreflightOptions]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    store(memory, "sandbox")
    assert cli.main(["preflight", "--env", "sandbox", "--pair", "ETHUSD"]) == 1
    _, options = runs[-1]
    assert (options.test_order, options.confirm_order, options.pair) == (True, None, "ethusd")
    out, _ = outputs(capsys)
    assert "  PASS  signed read         ok\n" in out
    assert "  FAIL  test order          seen\n" in out
    assert "fix: do this\n" in out
    assert "1 of 2 checks failed: test order; the log: " in out


def test_without_keys_the_checklist_runs_and_says_how_to_store_them(
    runs: list[tuple[Venue, PreflightOptions]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["preflight", "--env", "live"]) == 0  # the fake passes everything
    venue, options = runs[-1]
    assert not venue.has_credentials
    assert "`workstation keys set --env live`" in options.keys_fix
    assert "(no keys)" in outputs(capsys)[0]


def test_the_top_level_env_counts_and_bad_combinations_are_refused(
    memory: MemoryKeyring,
    runs: list[tuple[Venue, PreflightOptions]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    store(memory, "sandbox")
    assert cli.main(["--env", "sandbox", "preflight"]) == 1
    assert runs[-1][0].env == "sandbox"
    assert cli.main(["preflight", "--env", "live", "--sim-url", "http://127.0.0.1:1"]) == 2
    assert cli.main(["preflight", "--sim-url", "https://www.bitstamp.net"]) == 2
    assert cli.main(["preflight", "--allow-remote-sim"]) == 2
    _, err = outputs(capsys)
    assert "workstation preflight: --sim-url checks a simulator" in err
    assert "Bitstamp's own host" in err
    assert len(runs) == 1  # nothing refused ran
    with pytest.raises(SystemExit):
        cli.main(["preflight", "--stream-wait", "0"])


@pytest.mark.parametrize(
    ("typed", "placed"), [("live\n", True), ("  live  \n", True), ("yes\n", False), ("", False)]
)
def test_the_live_order_goes_only_once_live_is_typed(
    typed: str, placed: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(typed))
    terms = "buy 0.0002 BTC at 50000 USD on BTC/USD"
    assert asyncio.run(cli_preflight._confirm_live(terms)) is placed
    out, _ = outputs(capsys)
    assert f"LIVE test order: {terms}." in out
    assert "Type live to place it with real money" in out


def test_a_crash_is_one_line_naming_the_log_and_exit_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async def broken(venue: Venue, options: PreflightOptions, *, on_result: Any) -> list[Any]:
        raise RuntimeError("a bug with a secret in its message: s3cr3t")

    monkeypatch.setattr(preflight, "run_preflight", broken)
    assert cli.main(["preflight", "--env", "live"]) == 1
    _, err = outputs(capsys)
    assert err.startswith("workstation crashed (RuntimeError); the details are in ")
    assert "s3cr3t" not in err
    assert cli.main(["--seed", "4", "preflight", "--env", "live"]) == 2
    assert "--seed is for the embedded simulator" in outputs(capsys)[1]


def test_parsing_a_command_loads_no_http_client() -> None:
    """``workstation sim`` (the embedded simulator, started beside the app) parses with the
    whole parser: building it must not import the preflight checks and with them httpx and
    websockets (0.2 s of CPU on every simulator start, on the app's cold start path)."""
    import subprocess
    import sys

    code = (
        "import sys; from workstation import cli; "
        "cli._parser().parse_args(['sim', '--port', '0']); "
        "loaded = [m for m in ('httpx', 'websockets', 'workstation.services.stream_checks') "
        "if m in sys.modules]; print(loaded); sys.exit(1 if loaded else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_stream_wait_help_says_the_default_the_checks_use(
    runs: list[tuple[Venue, PreflightOptions]], capsys: pytest.CaptureFixture[str]
) -> None:
    from workstation.services.stream_checks import STREAM_WAIT_S

    assert STREAM_WAIT_S == cli_preflight._STREAM_WAIT_HELP_S
    assert cli.main(["preflight", "--env", "live"]) == 0
    assert runs[-1][1].stream_wait_s == STREAM_WAIT_S
    assert cli.main(["preflight", "--env", "live", "--stream-wait", "4"]) == 0
    assert runs[-1][1].stream_wait_s == 4
    outputs(capsys)
