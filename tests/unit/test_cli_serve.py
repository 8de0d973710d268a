"""``workstation serve``'s rules, in-process through ``cli.main``: loopback by default, a
non-loopback address refused without ``--allow-remote`` and warned about with it, the app's
options checked before anything listens and handed on whole to the app each tab runs.

The server never starts: ``BrowserServer.serve`` is swapped for a recorder."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

import pytest

from workstation import browser_server, cli
from workstation.browser_server import BrowserServer
from workstation.cli_serve import app_argv, app_command


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[BrowserServer]:
    """The servers ``serve`` would have run (recorded instead of run)."""
    servers: list[BrowserServer] = []
    monkeypatch.setattr(browser_server.BrowserServer, "serve", lambda self: servers.append(self))
    return servers


@pytest.fixture(autouse=True)
def _no_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def test_it_listens_on_loopback_by_default(
    served: list[BrowserServer], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["serve"]) == 0
    [server] = served
    assert (server.host, server.port, server.public_url) == (
        "127.0.0.1",
        8000,
        "http://127.0.0.1:8000",
    )
    assert "WARNING" not in capsys.readouterr().err


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "myhost.example"])
def test_a_non_loopback_address_is_refused_without_the_flag(
    host: str, served: list[BrowserServer], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["serve", "--host", host]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"workstation serve: refusing to serve on {host}, which is not a loopback address: "
        "anyone who reaches it can trade; pass --allow-remote if you mean it\n"
    )
    assert served == []


def test_with_the_flag_it_serves_and_warns_that_anyone_can_trade(
    served: list[BrowserServer], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["serve", "--host", "192.168.1.20", "--port", "8443", "--allow-remote"]) == 0
    [server] = served
    assert (server.host, server.port, server.public_url) == (
        "192.168.1.20",
        8443,
        "http://192.168.1.20:8443",
    )
    err = capsys.readouterr().err
    assert err.startswith("workstation serve: WARNING: listening on 192.168.1.20:8443")
    assert "anyone who reaches http://192.168.1.20:8443 can trade" in err


@pytest.mark.parametrize("host", ["::1", "localhost", "127.0.0.2"])
def test_every_loopback_address_needs_no_flag(host: str, served: list[BrowserServer]) -> None:
    assert cli.main(["serve", "--host", host, "--port", "9000"]) == 0
    shown = "[::1]" if host == "::1" else host
    assert served[0].public_url == f"http://{shown}:9000"


def test_a_wildcard_address_needs_the_url_browsers_open(
    served: list[BrowserServer], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["serve", "--host", "0.0.0.0", "--allow-remote"]) == 2
    assert "give --public-url" in capsys.readouterr().err
    assert served == []
    args = ["serve", "--host", "0.0.0.0", "--allow-remote", "--public-url", "http://desk:8000/"]
    assert cli.main(args) == 0
    assert served[0].public_url == "http://desk:8000"


@pytest.mark.parametrize("port", ["0", "65536", "http"])
def test_a_port_out_of_range_is_a_usage_error(port: str, served: list[BrowserServer]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["serve", "--port", port])
    assert exit_.value.code == 2
    assert served == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--env", "live", "serve", "--seed", "3"], "--seed is for the embedded simulator"),
        (["serve", "--env", "live", "--no-confirm"], "--no-confirm is refused with --env live"),
        (["serve", "--allow-remote-sim"], "--allow-remote-sim goes with --sim-url"),
    ],
)
def test_conflicting_app_options_are_refused_before_it_listens(
    argv: list[str],
    message: str,
    served: list[BrowserServer],
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(argv) == 2
    assert message in capsys.readouterr().err
    assert served == []


def test_a_refused_config_file_stops_the_start(
    tmp_path: Path, served: list[BrowserServer], capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("theme = 'plaid'\n", encoding="utf-8")
    assert cli.main(["serve", "--config", str(config)]) == 2
    assert "config refused" in capsys.readouterr().err
    assert served == []


def _app_args(argv: list[str]) -> dict[str, object]:
    """The app's options as the top-level parser reads ``argv`` (no subcommand)."""
    args = vars(cli._parser().parse_args(argv))
    del args["command"]
    return args


FULL = [
    "--sim-url", "http://127.0.0.1:8765", "--seed", "7", "--allow-remote-sim",
    "--no-confirm", "--allow-plaintext-keyring", "--pair", "ethusd", "--pair", "BTC/USD",
    "--no-mono", "--journal", "j.sqlite3", "--log-level", "debug", "--log-dir", "logs",
    "--config", "c.toml", "--sandbox-ws-url", "wss://sandbox.example/ws", "--low-bandwidth",
]  # fmt: skip
"""Every app option, none at its default (but --env); together only as far as the parser
goes (the conflicts are refused later, by ``option_conflict``)."""


def test_every_app_option_reaches_the_app_each_tab_runs() -> None:
    """Given after ``serve`` or before it, each app option comes back the same from the
    command of the tab's app (paths made absolute). A new app option fails here until
    ``app_argv`` hands it on (or the test says why not)."""
    expected = _app_args(FULL)
    defaults = _app_args([])
    assert {k for k, v in expected.items() if v == defaults[k]} == {"venue_env"}, (
        "FULL must set every app option"
    )
    expected |= {k: Path(v).absolute() for k, v in expected.items() if isinstance(v, Path)}
    for argv in (["serve", *FULL], [*FULL, "serve"]):
        args = cli._parser().parse_args(argv)
        assert _app_args(app_argv(args)) == expected


def test_options_after_serve_win_over_those_before_it() -> None:
    args = cli._parser().parse_args(["--seed", "1", "--mono", "serve", "--seed", "2"])
    assert (args.seed, args.mono) == (2, True)
    assert app_argv(args) == ["--env", "sim", "--log-level", "INFO", "--seed", "2", "--mono"]


def test_the_tab_runs_this_interpreter_on_this_package_as_the_process_itself() -> None:
    args = cli._parser().parse_args(["serve", "--pair", "btcusd"])
    words = shlex.split(app_command(args))
    assert words[:4] == ["exec", sys.executable, "-m", "workstation"]
    assert words[4:] == ["--env", "sim", "--log-level", "INFO", "--pair", "btcusd"]


def test_the_page_fetches_nothing_from_another_host() -> None:
    """textual-serve's own page loads a Google Fonts stylesheet; ours only this server's
    files (the browser test records what the page really asks for)."""
    page = (browser_server.PAGE_DIR / "app_index.html").read_text(encoding="utf-8")
    assert "googleapis" not in page
    assert [line for line in page.splitlines() if "://" in line and "xmlns" not in line] == []
    assert "{{ config.static.url }}fonts/RobotoMono-VariableFont_wght.ttf" in page


def test_serve_is_parsed_as_a_subcommand() -> None:
    args = cli._parser().parse_args(["serve"])
    assert isinstance(args, argparse.Namespace)
    assert (args.command, args.host, args.allow_remote) == ("serve", "127.0.0.1", False)
