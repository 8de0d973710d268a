"""The config file: defaults, a good file, every way a file is refused (with its path, line
and key), ``config show`` reading back to the same settings, and the commands in a real
process with XDG_CONFIG_HOME in a temporary folder."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workstation.cli_config import render_settings
from workstation.domain.guards import DEFAULT_LIMITS
from workstation.services.config import (
    ConfigError,
    Settings,
    default_config_path,
    load_settings,
)
from workstation.services.toml_lines import key_line

D = Decimal
REPO = Path(__file__).resolve().parents[2]

GOOD = """\
# my careful settings
default_pair = "ethusd"
watched_pairs = ["btcusd", "ethusd", "xrpusd"]
refresh_hz = 10
theme = "mono"
low_bandwidth = true
sandbox_ws_url = "wss://ws.sandbox.example/"

[live]
price_band_bps = 300
market_slippage_bps = 25.5
confirm = true

[live.max_notional]
USD = 5000
BTC = 0.05

[sandbox]
confirm = false
max_amount = { btcusd = 1 }
"""


def write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "config.toml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_without_a_file_every_value_is_a_default() -> None:
    loaded = load_settings()
    assert loaded.path == default_config_path()
    assert not loaded.exists
    assert loaded.from_file == frozenset()
    assert loaded.pairs == ("btcusd",)
    assert (loaded.refresh_hz, loaded.theme, loaded.sandbox_ws_url) == (10, "default", None)
    assert not loaded.low_bandwidth
    for env, limits in loaded.guards.items():
        assert replace(limits, source=DEFAULT_LIMITS[env].source) == DEFAULT_LIMITS[env]
        assert limits.source == f"{default_config_path()} (not created yet)"


def test_the_default_file_lives_in_the_user_config_directory(tmp_path: Path) -> None:
    # conftest points XDG_CONFIG_HOME at a folder of the test's own
    assert default_config_path() == (
        Path(os.environ["XDG_CONFIG_HOME"]) / "bitstamp-workstation" / "config.toml"
    )
    default_config_path().parent.mkdir(parents=True)
    default_config_path().write_text('theme = "mono"\n', encoding="utf-8")
    loaded = load_settings()
    assert (loaded.exists, loaded.theme, loaded.from_file) == (True, "mono", {"theme"})


def test_a_good_file_sets_what_it_says_over_the_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    loaded = load_settings(path)
    assert loaded.exists
    assert loaded.pairs == ("ethusd", "btcusd", "xrpusd")  # the default pair first
    assert (loaded.refresh_hz, loaded.theme, loaded.low_bandwidth) == (10, "mono", True)
    assert loaded.sandbox_ws_url == "wss://ws.sandbox.example/"
    live = loaded.guards["live"]
    assert (live.price_band_bps, live.market_slippage_bps) == (D(300), D("25.5"))
    assert live.max_notional["USD"] == D(5000)
    assert live.max_notional["BTC"] == D("0.05")
    assert live.max_notional["EUR"] == D(10_000)  # the rest of the table stays the default
    assert live.source == str(path)
    sandbox = loaded.guards["sandbox"]
    assert not sandbox.confirm
    assert sandbox.max_amount["btcusd"] == D(1)
    assert loaded.guards["sim"] == replace(DEFAULT_LIMITS["sim"], source=str(path))
    assert loaded.from_file == {
        "default_pair",
        "watched_pairs",
        "refresh_hz",
        "theme",
        "low_bandwidth",
        "sandbox_ws_url",
        "live.price_band_bps",
        "live.market_slippage_bps",
        "live.confirm",
        "live.max_notional.USD",
        "live.max_notional.BTC",
        "sandbox.confirm",
        "sandbox.max_amount.btcusd",
    }


BAD = [
    # (the file, its line, its key, what the message says)
    ('theme = "mono\n', 1, None, "not valid TOML"),
    ('theme = "mono"\n\n[live]\nconfirm = tru\n', 4, None, "not valid TOML"),
    ('theme = "mono"\nrefresh = 5\n', 2, "refresh", "unknown key"),
    ("[live]\nmax_notionl = 5\n", 2, "live.max_notionl", "unknown key"),
    ("[paper]\nconfirm = true\n", 1, "paper", "unknown key"),
    ('refresh_hz = "fast"\n', 1, "refresh_hz", "whole number"),
    ("refresh_hz = 20.5\n", 1, "refresh_hz", "whole number"),
    ("refresh_hz = 0\n", 1, "refresh_hz", "from 1 to 60"),
    ('theme = "dark"\n', 1, "theme", '"default" or "mono"'),
    ('low_bandwidth = "yes"\n', 1, "low_bandwidth", "true or false"),
    ("low_bandwidth = 1\n", 1, "low_bandwidth", "true or false"),
    ("default_pair = 5\n", 1, "default_pair", "pair's symbol"),
    ('default_pair = "BTC/USD"\n', 1, "default_pair", "not a pair's symbol"),
    ("watched_pairs = []\n", 1, "watched_pairs", "1 to 20 pairs"),
    ('watched_pairs = [\n  "btcusd",\n  7,\n]\n', 1, "watched_pairs", "pair's symbol"),
    ('sandbox_ws_url = "https://x.example/"\n', 1, "sandbox_ws_url", "WebSocket URL"),
    ("# guards\n[sandbox]\nprice_band_bps = 5000\n", 3, "sandbox.price_band_bps", "at most 2000"),
    ("[sim]\nmarket_slippage_bps = -1\n", 2, "sim.market_slippage_bps", "above 0"),
    ("[sim]\nmarket_slippage_bps = nan\n", 2, "sim.market_slippage_bps", "above 0"),
    ("[sim]\nmarket_slippage_bps = true\n", 2, "sim.market_slippage_bps", "a number"),
    ('[live]\nconfirm = "no"\n', 2, "live.confirm", "true or false"),
    (
        "[live]\nprice_band_bps = 100\nconfirm = false\n",
        3,
        "live.confirm",
        "cannot be false on live",
    ),
    ("live.confirm = false\n", 1, "live.confirm", "cannot be false on live"),
    ("[live.max_notional]\nUSD = 5000\nusd = 10\n", 3, "live.max_notional.usd", "capitals"),
    ("[live.max_notional]\nUSD = 0\n", 2, "live.max_notional.USD", "above 0"),
    ("[sandbox]\nmax_amount = { btcusd = -1 }\n", 2, "sandbox.max_amount.btcusd", "above 0"),
    ('[sandbox]\nmax_amount = { "BTCUSD" = 1 }\n', 2, "sandbox.max_amount.BTCUSD", "lower case"),
    ("[sandbox]\nmax_amount = 5\n", 2, "sandbox.max_amount", "must be a table"),
    ('live = "on"\n', 1, "live", "must be a table"),
]


@pytest.mark.parametrize(("text", "line", "key", "says"), BAD)
def test_a_bad_file_is_refused_with_its_path_line_and_key(
    tmp_path: Path, text: str, line: int, key: str | None, says: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as refused:
        load_settings(path)
    error = refused.value
    assert (error.path, error.line, error.key) == (path, line, key)
    assert says in error.problem
    where = f"{path}, line {line}" + (f", key {key}" if key else "")
    assert str(error).startswith(f"{where}: ")
    assert "\n" not in str(error)


def test_a_file_named_with_config_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"config\.toml: no such file$"):
        load_settings(tmp_path / "config.toml")


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, b'theme = "\xff"\n')
    with pytest.raises(ConfigError, match="is not UTF-8 text"):
        load_settings(path)


def test_the_line_of_a_key_is_the_most_specific_line_that_names_it() -> None:
    lines = [
        "[live]",  # 1
        "confirm = true",  # 2
        "max_notional = { USD = 5 }",  # 3
        "[live.max_amount]",  # 4
        '"btcusd" = 1',  # 5
        "[sim]",  # 6
        "max_amount.btcusd = 2",  # 7
    ]
    assert key_line(lines, ("live", "confirm")) == 2
    assert key_line(lines, ("live", "max_notional", "USD")) == 3
    assert key_line(lines, ("live", "max_amount", "btcusd")) == 5
    assert key_line(lines, ("sim", "max_amount", "btcusd")) == 7
    assert key_line(lines, ("sim", "confirm")) == 6
    assert key_line(lines, ("sandbox",)) is None


# -- config show reads back ----------------------------------------------------------------

limits_value = st.decimals(min_value=D("0.00000001"), max_value=D(10**9), places=8)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    notional=st.dictionaries(st.sampled_from(["USD", "EUR", "BTC", "XRP", "USDC"]), limits_value),
    amounts=st.dictionaries(st.sampled_from(["btcusd", "ethbtc", "xrpeur"]), limits_value),
    band=st.decimals(min_value=D("0.01"), max_value=D(2000), places=2),
    slip=st.decimals(min_value=D("0.01"), max_value=D(10_000), places=2),
    confirm=st.booleans(),
    refresh=st.integers(min_value=1, max_value=60),
    theme=st.sampled_from(["default", "mono"]),
)
def test_config_show_prints_toml_that_reads_back_to_the_same_settings(
    tmp_path: Path,
    notional: dict[str, D],
    amounts: dict[str, D],
    band: D,
    slip: D,
    confirm: bool,
    refresh: int,
    theme: str,
) -> None:
    lines = [f"refresh_hz = {refresh}", f'theme = "{theme}"', "[sandbox]"]
    lines += [f"price_band_bps = {band}", f"market_slippage_bps = {slip}"]
    lines += [f"confirm = {'true' if confirm else 'false'}", "[sandbox.max_notional]"]
    lines += [f"{k} = {v}" for k, v in notional.items()] + ["[sandbox.max_amount]"]
    lines += [f"{k} = {v}" for k, v in amounts.items()]
    path = write(tmp_path, "\n".join(lines) + "\n")
    loaded = load_settings(path)
    shown = render_settings(loaded)
    again = load_settings(write(tmp_path, shown))
    assert again.guards == loaded.guards
    assert (again.pairs, again.refresh_hz, again.theme) == (
        loaded.pairs,
        loaded.refresh_hz,
        loaded.theme,
    )
    sandbox = loaded.guards["sandbox"]
    assert sandbox.price_band_bps == band
    assert dict(sandbox.max_amount) == {**DEFAULT_LIMITS["sandbox"].max_amount, **amounts}


def test_config_show_marks_what_came_from_the_file(tmp_path: Path) -> None:
    shown = render_settings(load_settings(write(tmp_path, GOOD)))
    assert 'theme = "mono"  # file' in shown
    assert "refresh_hz = 10  # file" in shown
    assert "low_bandwidth = true  # file" in shown
    assert "[live]\nprice_band_bps = 300  # file\nmarket_slippage_bps = 25.5  # file" in shown
    assert "[live.max_notional]\nBTC = 0.05  # file\nETH = 3  # default" in shown
    assert "[sim]\nprice_band_bps = 500  # default" in shown


def test_the_defaults_shown_read_back_as_the_defaults(tmp_path: Path) -> None:
    shown = render_settings(Settings(path=tmp_path / "none.toml"))
    assert shown.startswith(f"# {tmp_path / 'none.toml'} (not there: every value is a default)")
    loaded = load_settings(write(tmp_path, shown))
    for env, limits in loaded.guards.items():
        assert replace(limits, source=DEFAULT_LIMITS[env].source) == DEFAULT_LIMITS[env]


# -- the commands, in a process of their own -----------------------------------------------


def run(args: list[str], config_home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CONFIG_HOME": str(config_home), "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "workstation", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_config_path_and_show_in_a_process(tmp_path: Path) -> None:
    expected = tmp_path / "bitstamp-workstation" / "config.toml"
    done = run(["config", "path"], tmp_path)
    assert (done.returncode, done.stdout) == (0, f"{expected}\n")
    assert "no file there yet" in done.stderr

    expected.parent.mkdir()
    expected.write_text(GOOD, encoding="utf-8")
    done = run(["config", "path"], tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, f"{expected}\n", "")
    done = run(["config", "show"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"# {expected} (read)\n")
    assert 'default_pair = "ethusd"  # file' in done.stdout

    other = tmp_path / "other.toml"
    other.write_text("refresh_hz = 7\n", encoding="utf-8")
    for args in (
        ["--config", str(other), "config", "show"],
        ["config", "show", "--config", str(other)],
    ):
        done = run(args, tmp_path)
        assert done.returncode == 0, done.stderr
        assert "refresh_hz = 7  # file" in done.stdout


def test_a_bad_file_stops_everything_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[live]\nprice_band_bps = 100\nconfirm = false\n", encoding="utf-8")
    line = f"{bad}, line 3, key live.confirm: cannot be false on live"
    done = run(["config", "show", "--config", str(bad)], tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith(f"workstation config: {line}")
    assert done.stderr.count("\n") == 1

    # the app itself: refused before anything starts (no simulator, no terminal, no log)
    state = tmp_path / "state"
    done = run(["--config", str(bad), "--log-dir", str(state)], tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith(f"workstation: config refused: {line}")
    assert done.stderr.count("\n") == 1
    assert not state.exists()


# -- any value at any key: read, or refused at that key's line -------------------------------

toml_values = st.one_of(
    st.booleans().map(lambda b: "true" if b else "false"),
    st.integers(min_value=-(10**6), max_value=10**6).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(lambda d: f"{d:f}"),
    st.sampled_from(["nan", "inf", "-inf", "1e400", "0.0"]),
    st.text(alphabet="abcdefwxyz:/.-_BTCUSD09", max_size=12).map(lambda t: f'"{t}"'),
    st.sampled_from(['["btcusd"]', "[]", "[1, 2]", "{ USD = 5 }", '{ btcusd = "x" }']),
)
KEYS = [
    ((), "default_pair"),
    ((), "watched_pairs"),
    ((), "refresh_hz"),
    ((), "theme"),
    ((), "low_bandwidth"),
    ((), "sandbox_ws_url"),
    (("live",), "price_band_bps"),
    (("sim",), "market_slippage_bps"),
    (("sandbox",), "confirm"),
    (("live",), "max_notional"),
    (("live", "max_notional"), "USD"),
    (("sim", "max_amount"), "ethbtc"),
    (("sandbox",), "unknown_guard"),
]


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(where=st.sampled_from(KEYS), value=toml_values, padding=st.integers(0, 3))
def test_any_value_is_read_or_refused_at_its_own_line(
    tmp_path: Path, where: tuple[tuple[str, ...], str], value: str, padding: int
) -> None:
    table, name = where
    lines = ["# padding"] * padding
    if table:
        lines.append(f"[{'.'.join(table)}]")
    lines.append(f"{name} = {value}")
    path = write(tmp_path, "\n".join(lines) + "\n")
    error: ConfigError | None = None
    try:
        load_settings(path)
    except ConfigError as refused:
        error = refused
    if error is None:
        return
    if error.key is None:  # a syntax error: tomllib's own line
        assert "not valid TOML" in error.problem
    else:
        assert error.key.startswith(".".join((*table, name)))
    assert error.line == len(lines), str(error)
