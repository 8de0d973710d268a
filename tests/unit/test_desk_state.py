"""The desk layout kept between runs: written whole and atomically, read strictly (anything
else is refused naming the file), and merged with the command line in one place
(command line > last session > built-in defaults)."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path

import pytest

from workstation.cli_desk import desk_options
from workstation.domain.desk_layout import DeskLayout
from workstation.services.config import load_settings
from workstation.services.desk_state import (
    DeskStateError,
    default_desk_path,
    read_desk,
    write_desk,
)

LAYOUT = DeskLayout(("btcusd", "ethusd"), "ethusd", True, {"ethusd": 5})


def test_a_layout_written_is_read_back_and_no_temporary_file_is_left(tmp_path: Path) -> None:
    path = tmp_path / "state" / "desk.json"
    write_desk(path, LAYOUT)
    assert read_desk(path) == LAYOUT
    assert [p.name for p in path.parent.iterdir()] == ["desk.json"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    write_desk(path, DeskLayout(("xrpusd",), "xrpusd"))
    assert read_desk(path) == DeskLayout(("xrpusd",), "xrpusd", False, {})


def test_no_file_is_a_first_start(tmp_path: Path) -> None:
    assert read_desk(tmp_path / "desk.json") is None


def test_the_default_path_is_in_the_user_state_directory() -> None:
    path = default_desk_path()
    assert path.name == "desk.json"
    assert path.parent.name == "bitstamp-workstation"


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("{", "is not JSON"),
        ("[]", "not a JSON object"),
        ('{"version": 2}', "unknown version 2"),
        ('{"version": 1, "pairs": ["BTC/USD"], "mono": false, "groups": {}}', "'pairs'"),
        ('{"version": 1, "pairs": ["btcusd", "btcusd"], "mono": false, "groups": {}}', "'pairs'"),
        ('{"version": 1, "pairs": ["btcusd"], "shown": "ethusd", "mono": false, "groups": {}}',
         "'shown'"),
        ('{"version": 1, "pairs": ["btcusd"], "mono": "yes", "groups": {}}', "'mono'"),
        ('{"version": 1, "pairs": ["btcusd"], "mono": false, "groups": {"btcusd": 0}}',
         "'groups'"),
        ('{"version": 1, "pairs": ["btcusd"], "mono": false, "groups": {"btcusd": true}}',
         "'groups'"),
    ],
)  # fmt: skip
def test_anything_else_is_refused_naming_the_file(tmp_path: Path, body: str, why: str) -> None:
    path = tmp_path / "desk.json"
    path.write_text(body)
    with pytest.raises(DeskStateError, match=why) as caught:
        read_desk(path)
    assert str(path) in str(caught.value)


def test_a_file_that_cannot_be_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "desk.json"
    path.mkdir()  # a folder where the file should be
    with pytest.raises(DeskStateError, match="cannot read"):
        read_desk(path)


def test_a_failed_write_is_logged_raised_and_leaves_no_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "state"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(FileExistsError), caplog.at_level(logging.ERROR):
        write_desk(blocker / "desk.json", LAYOUT)
    assert any("could not save the desk layout" in r.getMessage() for r in caplog.records)


def test_without_a_saved_layout_the_defaults(tmp_path: Path) -> None:
    options = desk_options(pairs=None, mono=None, confirm=True, desk_path=tmp_path / "d.json")
    assert (options.pairs, options.shown, options.mono, dict(options.groups)) == (
        ("btcusd",),
        "btcusd",  # the config's default pair, itself the built-in default here
        False,
        {},
    )
    assert options.notice is None
    assert options.remember is not None


def test_the_saved_layout_over_the_defaults_and_the_command_line_over_both(
    tmp_path: Path,
) -> None:
    path = tmp_path / "desk.json"
    write_desk(path, LAYOUT)
    saved = desk_options(pairs=None, mono=None, confirm=True, desk_path=path)
    assert (saved.pairs, saved.shown, saved.mono, dict(saved.groups)) == (
        ("btcusd", "ethusd"),
        "ethusd",
        True,
        {"ethusd": 5},
    )
    asked = desk_options(pairs=["xrpusd", "xrpusd"], mono=False, confirm=False, desk_path=path)
    assert (asked.pairs, asked.shown, asked.mono, dict(asked.groups)) == (
        ("xrpusd",),
        "xrpusd",
        False,
        {"ethusd": 5},
    )
    assert asked.confirm is False


def test_a_corrupt_layout_gives_the_defaults_a_notice_and_a_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "desk.json"
    path.write_text(json.dumps({"version": 1, "pairs": 7}))
    with caplog.at_level(logging.WARNING):
        options = desk_options(pairs=None, mono=None, confirm=True, desk_path=path)
    assert options.pairs == ("btcusd",)
    assert options.notice == "Saved layout unreadable: started on the defaults (see the log)"
    [record] = [r for r in caplog.records if "desk layout is ignored" in r.getMessage()]
    assert str(path) in record.getMessage()
    assert "'pairs'" in record.getMessage()
    assert options.remember is not None
    options.remember(LAYOUT)  # the next change replaces it
    assert read_desk(path) == LAYOUT


def test_no_path_neither_reads_nor_keeps() -> None:
    options = desk_options(pairs=None, mono=True, confirm=True, desk_path=None)
    assert options.remember is None
    assert options.mono is True


def test_the_config_under_the_saved_layout_and_the_command_line_over_both(tmp_path: Path) -> None:
    """The precedence of ``desk_options``: command line > last session > config > defaults."""
    config = tmp_path / "config.toml"
    config.write_text(
        'default_pair = "ethusd"\nwatched_pairs = ["btceur"]\ntheme = "mono"\nrefresh_hz = 5\n',
        encoding="utf-8",
    )
    settings = load_settings(config)
    path = tmp_path / "desk.json"
    fresh = desk_options(pairs=None, mono=None, confirm=True, desk_path=path, settings=settings)
    assert (fresh.pairs, fresh.shown, fresh.mono, fresh.refresh_hz) == (
        ("ethusd", "btceur"),
        "ethusd",
        True,
        5,
    )
    write_desk(path, DeskLayout(pairs=("btcusd",), shown="btcusd", mono=False, groups={}))
    saved = desk_options(pairs=None, mono=None, confirm=True, desk_path=path, settings=settings)
    assert (saved.pairs, saved.shown, saved.mono, saved.refresh_hz) == (
        ("btcusd",),
        "btcusd",
        False,
        5,  # the redraw rate is the config's alone
    )
    asked = desk_options(
        pairs=["ethbtc"], mono=True, confirm=True, desk_path=path, settings=settings
    )
    assert (asked.pairs, asked.shown, asked.mono) == (("ethbtc",), "ethbtc", True)


@pytest.mark.parametrize(
    ("config", "flag", "expected"),
    [
        ("", None, False),  # the default: off
        ("low_bandwidth = true\n", None, True),  # the config's
        ("low_bandwidth = true\n", False, False),  # --no-low-bandwidth over the config
        ("low_bandwidth = false\n", True, True),  # --low-bandwidth over the config
        ("", True, True),
    ],
)
def test_low_bandwidth_the_command_line_over_the_config(
    tmp_path: Path, config: str, flag: bool | None, expected: bool
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(config, encoding="utf-8")
    desk = tmp_path / "desk.json"
    write_desk(desk, DeskLayout(pairs=("btcusd",), shown="btcusd", mono=False, groups={}))
    options = desk_options(
        pairs=None,
        mono=None,
        confirm=True,
        desk_path=desk,  # a saved layout does not carry the mode: it belongs to the link
        settings=load_settings(path),
        low_bandwidth=flag,
    )
    assert options.low_bandwidth is expected


@pytest.mark.parametrize(
    ("over_ssh", "flag", "hint"),
    [(True, None, True), (True, True, False), (False, None, False), (True, False, True)],
)
def test_the_low_bandwidth_hint_only_over_ssh_with_the_mode_off(
    over_ssh: bool, flag: bool | None, hint: bool
) -> None:
    options = desk_options(
        pairs=None, mono=None, confirm=True, desk_path=None, low_bandwidth=flag, over_ssh=over_ssh
    )
    assert options.low_bandwidth_hint is hint
