"""NO_COLOR (https://no-color.org) and the theme the app starts with: set and not empty, it
starts the run monochrome; empty, it asks for nothing; ``--mono``/``--no-mono`` win over it.
Textual greys the whole screen whenever the variable is present, so the launcher removes it
where it asks for nothing or the command line asked for colour."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from workstation.cli_desk import desk_options, no_color_asked
from workstation.cli_trading import start_app


@pytest.mark.parametrize(
    ("environ", "mono", "asked"),
    [
        ({"NO_COLOR": "1"}, None, True),
        ({"NO_COLOR": "anything"}, None, True),
        ({"NO_COLOR": ""}, None, False),
        ({}, None, False),
        ({"NO_COLOR": "1"}, False, False),
        ({"NO_COLOR": "1"}, True, False),  # monochrome anyway, as the trader's own choice
    ],
)
def test_no_color_asks_when_set_and_not_empty_and_not_overridden(
    environ: dict[str, str], mono: bool | None, asked: bool
) -> None:
    assert no_color_asked(environ, mono) is asked


def test_no_color_reaches_the_app_options_beside_the_chosen_theme() -> None:
    options = desk_options(pairs=None, mono=None, confirm=True, desk_path=None, no_color=True)
    assert (options.mono, options.no_color) == (False, True)


@pytest.mark.parametrize(
    ("value", "mono", "left", "no_color"),
    [
        ("1", None, "1", True),  # Textual greys the screen: no colour reaches the terminal
        ("", None, None, False),  # empty: asks for nothing, Textual must not see it
        ("1", False, None, False),  # --no-mono: colour, not greyed
        ("1", True, "1", False),  # --mono: monochrome and grey
    ],
)
def test_start_app_leaves_no_color_to_textual_only_where_it_asks_for_no_colour(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    value: str,
    mono: bool | None,
    left: str | None,
    no_color: bool,
) -> None:
    from workstation.ui import app as ui_app

    monkeypatch.setenv("NO_COLOR", value)
    seen: list[tuple[Any, str | None]] = []
    monkeypatch.setattr(
        ui_app,
        "run_app",
        lambda services, options: seen.append((options, os.environ.get("NO_COLOR"))) or 0,
    )
    code = start_app(
        venue=None,
        seed=None,
        confirm=True,
        journal_path=tmp_path / "j.sqlite3",
        log_file=tmp_path / "log" / "workstation.log",
        mono=mono,
    )
    assert code == 0
    ((options, environ_value),) = seen
    assert (environ_value, options.no_color) == (left, no_color)
