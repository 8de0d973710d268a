"""``workstation [--env sim|sandbox|live] [--sim-url] [--no-confirm] [--journal]``.

Called in-process through ``cli.main``. The TUI never starts: ``cli_trading.start_app`` (which
calls ``run_app``) is swapped for a recorder, and sockets are watched, so that a refused start
provably happens before any network. An in-memory keyring stands in for the OS one.
"""

from __future__ import annotations

import gc
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
from workstation.services.app_dirs import default_journal_path
from workstation.services.config import default_config_path
from workstation.services.desk_state import default_desk_path
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
def test_env_without_keys_opens_watch_only_and_names_the_command(
    env: str,
    launches: list[dict[str, Any]],
    network: list[object],
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["--env", env]) == 0
    out, err = outputs(capsys)
    assert err == (
        f"workstation: no API keys for {env} in the OS keyring "
        f"(tests.unit.cli_support.MemoryKeyring): WATCH ONLY on {env} (market data, no orders); "
        f"add keys with `workstation keys set --env {env}` or BITSTAMP_API_KEY and "
        "BITSTAMP_API_SECRET\n"
    )
    assert out == ""
    (call,) = launches
    venue = call["venue"]
    assert (venue.env, venue.api_key, venue.api_secret) == (env, None, None)
    assert not venue.has_credentials
    assert network == []  # deciding is offline; the app connects once started


def test_env_without_a_keyring_opens_watch_only(
    launches: list[dict[str, Any]], network: list[object], capsys: pytest.CaptureFixture[str]
) -> None:
    keyring.set_keyring(fail.Keyring())
    assert cli.main(["--env", "live"]) == 0
    err = outputs(capsys)[1]
    assert err.startswith("workstation: no keyring is available here")
    assert "PYTHON_KEYRING_BACKEND=" in err  # the way forward on a server
    assert ": WATCH ONLY on live" in err
    assert "`workstation keys set --env live`" in err
    (call,) = launches
    assert not call["venue"].has_credentials
    assert network == []


def test_half_a_pair_counts_as_no_keys(
    memory: MemoryKeyring, launches: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    memory.set_password("bitstamp-workstation/sandbox", "api_key", KEY)
    assert cli.main(["--env", "sandbox"]) == 0
    assert "workstation keys set --env sandbox" in outputs(capsys)[1]
    (call,) = launches
    assert (call["venue"].api_key, call["venue"].api_secret) == (None, None)


def test_sandbox_ws_url_gives_sandbox_its_own_stream(
    memory: MemoryKeyring, launches: list[dict[str, Any]], network: list[object]
) -> None:
    store(memory, "sandbox")
    assert cli.main(["--env", "sandbox", "--sandbox-ws-url", "wss://ws.sandbox.example/"]) == 0
    (call,) = launches
    venue = call["venue"]
    assert (venue.ws_url, venue.orders_stream, venue.market_rest_url) == (
        "wss://ws.sandbox.example/",
        True,
        None,
    )
    assert network == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--env", "live", "--sandbox-ws-url", "wss://ws.sandbox.example/"],
            "--sandbox-ws-url is for --env sandbox, not --env live",
        ),
        (
            ["--sandbox-ws-url", "wss://ws.sandbox.example/"],
            "--sandbox-ws-url is for --env sandbox, not --env sim",
        ),
        (
            ["--env", "sandbox", "--sandbox-ws-url", "wss://ws.bitstamp.net"],
            "--sandbox-ws-url: ws.bitstamp.net is live's stream: a sandbox token is never sent",
        ),
        (
            ["--env", "sandbox", "--sandbox-ws-url", "ws://ws.sandbox.example/"],
            "would send the stream token in clear",
        ),
    ],
)
def test_a_sandbox_ws_url_that_cannot_be_used_is_refused_before_anything_starts(
    memory: MemoryKeyring,
    launches: list[dict[str, Any]],
    network: list[object],
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    store(memory, "sandbox")
    assert cli.main(argv) == 2
    assert message in outputs(capsys)[1]
    assert launches == []
    assert network == []


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
    assert call["journal_path"] == default_journal_path()


def test_default_is_the_embedded_simulator(launches: list[dict[str, Any]]) -> None:
    assert cli.main(["--seed", "7", "--no-confirm"]) == 0
    settings = launches[0].pop("settings")
    assert (settings.exists, settings.path) == (False, default_config_path())
    assert launches == [
        {
            "venue": None,
            "seed": 7,
            "confirm": False,
            "journal_path": default_journal_path(),
            "log_file": default_log_dir() / "workstation.log",
            "log_level": "INFO",
            "pairs": None,
            "mono": None,
            "low_bandwidth": None,
            "desk_path": default_desk_path(),
            "sim": None,  # cli.main called directly: no launcher started one
        }
    ]


def test_pairs_and_theme_from_the_command_line_go_to_the_app(
    launches: list[dict[str, Any]],
) -> None:
    assert cli.main(["--pair", "ethusd", "--pair", "XRP/USD", "--no-mono"]) == 0
    (call,) = launches
    assert (call["pairs"], call["mono"]) == (["ethusd", "xrpusd"], False)
    assert cli.main(["--mono"]) == 0
    assert launches[1]["mono"] is True


def test_low_bandwidth_from_the_command_line_goes_to_the_app(
    launches: list[dict[str, Any]],
) -> None:
    """Given, it wins over the config (``desk_options``); not given, None: the config decides."""
    assert cli.main(["--low-bandwidth"]) == 0
    assert cli.main(["--no-low-bandwidth"]) == 0
    assert cli.main([]) == 0
    assert [call["low_bandwidth"] for call in launches] == [True, False, None]


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


def test_the_config_file_reaches_the_app_and_its_confirm_rule(
    memory: MemoryKeyring, launches: list[dict[str, Any]], tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        "[sandbox]\nconfirm = false\nprice_band_bps = 250\n[live]\nprice_band_bps = 100\n",
        encoding="utf-8",
    )
    store(memory, "sandbox")
    store(memory, "live")
    assert cli.main(["--env", "sandbox", "--config", str(config)]) == 0
    assert cli.main(["--env", "live", "--config", str(config)]) == 0
    sandbox, live = launches
    assert sandbox["confirm"] is False  # the file turned it off where it may
    assert live["confirm"] is True
    for call in (sandbox, live):
        settings = call["settings"]
        assert settings.path == config
        assert settings.guards["sandbox"].price_band_bps == 250
        assert settings.guards["live"].price_band_bps == 100


def test_a_refused_config_file_stops_the_app_before_the_keyring_and_network(
    memory: MemoryKeyring,
    launches: list[dict[str, Any]],
    network: list[object],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[live]\nconfirm = false\n", encoding="utf-8")
    store(memory, "live")
    assert cli.main(["--env", "live", "--config", str(config)]) == 2
    assert outputs(capsys) == (
        "",
        f"workstation: config refused: {config}, line 2, key live.confirm: cannot be false "
        "on live: every live order is confirmed\n",
    )
    assert launches == []
    assert network == []


def test_start_app_builds_the_services_and_options_from_the_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from workstation.services.config import load_settings
    from workstation.ui import app as ui_app

    config = tmp_path / "config.toml"
    config.write_text(
        'default_pair = "ethusd"\nwatched_pairs = ["btcusd"]\ntheme = "mono"\nrefresh_hz = 8\n'
        "[sim.max_notional]\nUSD = 123\n",
        encoding="utf-8",
    )
    seen: list[Any] = []
    monkeypatch.setattr(
        ui_app, "run_app", lambda services, options: seen.append((services, options)) or 0
    )
    monkeypatch.setenv("SSH_CONNECTION", "192.0.2.7 50022 192.0.2.1 22")
    code = START_APP(
        venue=None,
        seed=None,
        confirm=True,
        journal_path=tmp_path / "j.sqlite3",
        log_file=tmp_path / "log" / "workstation.log",
        settings=load_settings(config),
    )
    assert code == 0
    ((services, options),) = seen
    assert (options.pairs, options.mono, options.refresh_hz) == (("ethusd", "btcusd"), True, 8)
    assert not options.low_bandwidth
    assert options.low_bandwidth_hint  # over SSH with the mode off: said once
    assert services.guards.max_notional["USD"] == 123
    assert services.guards.source == str(config)


def test_the_collector_is_paused_for_the_start_and_runs_again_after_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, network: list[object]
) -> None:
    """The start's imports and first screen run without the garbage collector (it walked the
    ~50,000 objects they make again and again); the app runs with it, and a refused start
    gives it back too."""
    from workstation.ui import app as ui_app

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    collecting: list[bool] = []
    monkeypatch.setattr(
        ui_app, "run_app", lambda services, options: collecting.append(gc.isenabled()) or 0
    )
    assert gc.isenabled()
    assert cli.main(["--sim-url", "http://127.0.0.1:9", "--log-dir", str(tmp_path)]) == 0
    assert collecting == [False]  # the app was started (run_app resumes it) ...
    assert gc.isenabled()  # ... and whatever run_app did, the start gives it back
    assert cli.main(["--env", "live", "--no-confirm"]) == 2  # refused before anything starts
    assert gc.isenabled()


def test_run_app_collects_again_once_the_start_up_objects_are_frozen() -> None:
    from workstation.ui.app import prepare_collector_for_the_run

    thresholds = gc.get_threshold()
    gc.disable()
    try:
        prepare_collector_for_the_run()
        assert gc.isenabled()
        assert gc.get_freeze_count() > 0
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
        gc.enable()


def test_a_running_app_walks_what_lives_on_a_tenth_as_often() -> None:
    """Objects that outlive the young collections (as a screen's cached lines do) reach the
    oldest generation; a full collection walks all that lives there. Over 60 middle
    collections the running app's collector makes none (Python's thresholds: about six)."""
    from workstation.ui.app import FULL_COLLECTION_AFTER, prepare_collector_for_the_run

    counts = {0: 0, 1: 0, 2: 0}

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "stop":
            counts[info["generation"]] += 1

    thresholds = gc.get_threshold()
    gc.collect()
    gc.disable()
    prepare_collector_for_the_run()
    gc.callbacks.append(count)
    try:
        for _ in range(1_000):  # ~10 middle collections a round
            living = [[n] for n in range(70_000)]  # they live a while, then go
            del living
            if counts[1] >= 60:
                break
        assert counts[1] >= 60
        assert counts[2] == 0
        assert gc.get_threshold()[2] == FULL_COLLECTION_AFTER
    finally:
        gc.callbacks.remove(count)
        gc.set_threshold(*thresholds)
        gc.unfreeze()
        gc.enable()
