"""``workstation [--env sim|sandbox|live] [--sim-url] [--no-confirm] [--journal]``.

Called in-process through ``cli.main``. The TUI never starts: ``cli_trading.start_app`` (which
calls ``run_app``) is swapped for a recorder, and sockets are watched, so that a refused start
provably happens before any network. An in-memory keyring stands in for the OS one.
"""

from __future__ import annotations

import inspect
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backends import fail

from workstation import cli, cli_trading
from workstation.bitstamp.secret import Secret
from workstation.services.journal import Journal
from workstation.services.logs import default_log_dir
from workstation.services.venue import Venue

from ..keyring_support import installed
from .cli_support import KEY, SECRET, MemoryKeyring, outputs, store

START_APP = cli_trading.start_app
"""The real launcher (the ``launches`` fixture swaps it for a recorder)."""


@pytest.fixture(autouse=True)
def memory() -> Iterator[MemoryKeyring]:
    with installed(MemoryKeyring()) as backend:
        assert isinstance(backend, MemoryKeyring)
        yield backend


@pytest.fixture
def launches(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What the TUI would have been started with (recorded instead of started)."""
    calls: list[dict[str, Any]] = []

    def record(**kwargs: Any) -> int:
        calls.append(kwargs)
        return 0

    monkeypatch.setattr(cli_trading, "start_app", record)
    return calls


@pytest.fixture
def network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every attempt to resolve or connect, recorded and refused."""
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise OSError("network used by a test that must stay offline")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


@pytest.mark.parametrize("env", ["sandbox", "live"])
def test_env_without_keys_names_the_command_and_stays_offline(
    env: str,
    launches: list[dict[str, Any]],
    network: list[object],
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["--env", env]) == 2
    out, err = outputs(capsys)
    assert err == (
        f"workstation: no API keys for {env} in the OS keyring "
        "(tests.unit.cli_support.MemoryKeyring); store them with "
        f"`workstation keys set --env {env}` (or set BITSTAMP_API_KEY and BITSTAMP_API_SECRET)\n"
    )
    assert out == ""
    assert launches == []
    assert network == []


def test_env_without_a_keyring_says_so(
    launches: list[dict[str, Any]], network: list[object], capsys: pytest.CaptureFixture[str]
) -> None:
    keyring.set_keyring(fail.Keyring())
    assert cli.main(["--env", "live"]) == 2
    assert outputs(capsys)[1].startswith("workstation: no keyring is available here")
    assert launches == []
    assert network == []


def test_half_a_pair_counts_as_no_keys(
    memory: MemoryKeyring, launches: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    memory.set_password("bitstamp-workstation/sandbox", "api_key", KEY)
    assert cli.main(["--env", "sandbox"]) == 2
    assert "workstation keys set --env sandbox" in outputs(capsys)[1]
    assert launches == []


def test_live_with_keys_starts_on_bitstamp_with_the_confirm_step(
    memory: MemoryKeyring,
    launches: list[dict[str, Any]],
    network: list[object],
    tmp_path: Path,
) -> None:
    store(memory, "live")
    journal = tmp_path / "j.sqlite3"
    assert cli.main(["--env", "live", "--journal", str(journal)]) == 0
    (call,) = launches
    venue = call["venue"]
    assert isinstance(venue, Venue)
    assert (venue.env, venue.rest_url, venue.ws_url) == (
        "live",
        "https://www.bitstamp.net",
        "wss://ws.bitstamp.net/",
    )
    assert (venue.api_key, venue.api_secret) == (Secret(KEY), Secret(SECRET))
    assert venue.journal_env == "live"
    assert call["confirm"] is True
    assert call["journal_path"] == journal
    assert call["seed"] is None
    assert not journal.exists()  # the CLI only passes the path on
    assert network == []


def test_no_confirm_is_refused_on_live_even_with_keys(
    memory: MemoryKeyring, launches: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    store(memory, "live")
    assert cli.main(["--env", "live", "--no-confirm"]) == 2
    assert outputs(capsys)[1] == (
        "workstation: --no-confirm is refused with --env live: every live order is confirmed\n"
    )
    assert launches == []


def test_sandbox_may_skip_the_confirm_step(
    memory: MemoryKeyring, launches: list[dict[str, Any]]
) -> None:
    store(memory, "sandbox")
    assert cli.main(["--env", "sandbox", "--no-confirm"]) == 0
    (call,) = launches
    venue = call["venue"]
    assert (venue.env, venue.rest_url, venue.ws_url, venue.journal_env) == (
        "sandbox",
        "https://sandbox.bitstamp.net",
        "wss://ws.bitstamp.net/",
        "sandbox",
    )
    assert call["confirm"] is False
    assert call["journal_path"] == Journal.default_path()


def test_default_is_the_embedded_simulator(launches: list[dict[str, Any]]) -> None:
    assert cli.main(["--seed", "7", "--no-confirm"]) == 0
    assert launches == [
        {
            "venue": None,
            "seed": 7,
            "confirm": False,
            "journal_path": Journal.default_path(),
            "log_file": default_log_dir() / "workstation.log",
            "log_level": "INFO",
        }
    ]


def test_the_recorded_options_are_what_start_app_accepts(
    launches: list[dict[str, Any]],
) -> None:
    """The recorder stands in for ``start_app``: check the real one takes the same keywords."""
    assert cli.main(["--journal", "~/j.sqlite3"]) == 0
    (call,) = launches
    assert call["journal_path"] == Path.home() / "j.sqlite3"
    inspect.signature(START_APP).bind(**call)


def test_sim_url_attaches_with_keys_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, launches: list[dict[str, Any]]
) -> None:
    monkeypatch.setenv("BITSTAMP_API_KEY", "demokey")
    monkeypatch.setenv("BITSTAMP_API_SECRET", "demosecret")
    assert cli.main(["--sim-url", "http://127.0.0.1:8765/"]) == 0
    (call,) = launches
    venue = call["venue"]
    assert (venue.env, venue.rest_url, venue.ws_url) == (
        "sim",
        "http://127.0.0.1:8765",
        "ws://127.0.0.1:8765/",
    )
    assert (venue.api_key, venue.api_secret) == (Secret("demokey"), Secret("demosecret"))
    assert venue.journal_env == "sim@127.0.0.1:8765"
    assert call["confirm"] is True


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--env", "live", "--sim-url", "http://127.0.0.1:8765"],
            "--sim-url attaches to a simulator; it cannot go with --env live",
        ),
        (["--env", "sandbox", "--seed", "3"], "--seed is for the embedded simulator"),
        (["--sim-url", "127.0.0.1:8765"], "is not a simulator URL like http://127.0.0.1:8765"),
        (["--sim-url", "http://127.0.0.1:99999"], "has a port that is not a number"),
    ],
)
def test_contradictory_options_are_refused_before_anything_starts(
    memory: MemoryKeyring,
    launches: list[dict[str, Any]],
    network: list[object],
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    store(memory, "live")
    store(memory, "sandbox")
    assert cli.main(argv) == 2
    assert message in outputs(capsys)[1]
    assert launches == []
    assert network == []


@pytest.mark.parametrize(
    "url",
    ["https://www.bitstamp.net", "https://sandbox.bitstamp.net", "http://www.bitstamp.net:80"],
)
@pytest.mark.parametrize("allow", [[], ["--allow-remote-sim"]])
def test_sim_url_on_a_bitstamp_host_is_refused_outright(
    monkeypatch: pytest.MonkeyPatch,
    launches: list[dict[str, Any]],
    network: list[object],
    capsys: pytest.CaptureFixture[str],
    url: str,
    allow: list[str],
) -> None:
    """Keys in the environment and --no-confirm would trade on Bitstamp under a SIM badge."""
    monkeypatch.setenv("BITSTAMP_API_KEY", KEY)
    monkeypatch.setenv("BITSTAMP_API_SECRET", SECRET)
    assert cli.main(["--sim-url", url, "--no-confirm", *allow]) == 2
    out, err = outputs(capsys)
    assert "is Bitstamp's own host, not a simulator" in err
    assert "--env sandbox" in err or "--env live" in err
    assert KEY not in out + err
    assert SECRET not in out + err
    assert launches == []
    assert network == []


def test_sim_url_on_another_machine_needs_allow_remote_sim(
    monkeypatch: pytest.MonkeyPatch,
    launches: list[dict[str, Any]],
    network: list[object],
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("BITSTAMP_API_KEY", "demokey")
    monkeypatch.setenv("BITSTAMP_API_SECRET", "demosecret")
    assert cli.main(["--sim-url", "http://10.1.2.3:8765"]) == 2
    assert "--allow-remote-sim" in outputs(capsys)[1]
    assert launches == []
    assert cli.main(["--sim-url", "http://10.1.2.3:8765", "--allow-remote-sim"]) == 0
    (call,) = launches
    assert call["venue"].journal_env == "sim@10.1.2.3:8765"
    assert network == []


def test_allow_remote_sim_without_sim_url_is_refused(
    launches: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["--allow-remote-sim"]) == 2
    assert "--allow-remote-sim goes with --sim-url" in outputs(capsys)[1]
    assert launches == []


def test_log_options_and_the_log_path_in_help(
    launches: list[dict[str, Any]], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert cli.main(["--log-level", "debug", "--log-dir", str(tmp_path)]) == 0
    (call,) = launches
    assert (call["log_file"], call["log_level"]) == (tmp_path / "workstation.log", "DEBUG")
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    help_text = "".join(outputs(capsys)[0].split())  # argparse wraps lines, even in a path
    assert "--log-level{DEBUG,INFO,WARNING,ERROR}" in help_text
    assert f"default:{default_log_dir()}" in help_text
