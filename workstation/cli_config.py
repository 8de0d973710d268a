"""``workstation config path|show`` and the ``--config FILE`` option.

- ``config path`` prints the file the settings are read from (``--config`` or the user
  config directory); a note on stderr says when there is no file there yet.
- ``config show`` prints the effective settings as TOML, each value marked with where it
  came from (the file, or the default): a starting point to copy into the file.

A file that is refused is one line on stderr naming its path, line and key, and exit 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .services.config import Settings

__all__ = ["add_config_commands", "add_config_option", "render_settings", "run_config"]

_CONFIG_HELP = (
    "the config file (guards, default pair, watched pairs, theme); default: config.toml in "
    "the user config directory"
)


def add_config_option(parser: argparse.ArgumentParser, *, sub: bool = False) -> None:
    """``--config FILE``; on a subcommand it fills the same value only when given there."""
    parser.add_argument(
        "--config",
        dest="config_file",
        type=Path,
        metavar="FILE",
        default=argparse.SUPPRESS if sub else None,
        help=_CONFIG_HELP,
    )


def add_config_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    config = sub.add_parser("config", help="where the config file is, and what it sets")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    for name, text in (
        ("path", "print the config file's path (read at start if it exists)"),
        ("show", "print the effective settings, saying which came from the file"),
    ):
        cmd = config_sub.add_parser(name, help=text, description=text)
        add_config_option(cmd, sub=True)


def run_config(args: argparse.Namespace) -> int:
    """``workstation config path|show``; 2 when the file is refused."""
    from .services.config import ConfigError, default_config_path, load_settings

    given: Path | None = getattr(args, "config_file", None)
    if args.config_command == "path":
        path = (given or default_config_path()).expanduser()
        sys.stdout.write(f"{path}\n")
        if not path.exists():
            sys.stderr.write("(no file there yet: the built-in defaults apply)\n")
        return 0
    try:
        settings = load_settings(given)
    except ConfigError as exc:
        sys.stderr.write(f"workstation config: {exc}\n")
        return 2
    sys.stdout.write(render_settings(settings))
    return 0


def render_settings(settings: Settings) -> str:
    """The settings as TOML that reads back to the same settings, each value marked
    ``# file`` or ``# default``."""
    from .services.config import ENVS

    seen = settings.from_file
    state = "read" if settings.exists else "not there: every value is a default"
    out = [f"# {settings.path} ({state})"]

    def line(key: str, dotted: str, value: str) -> None:
        out.append(f"{key} = {value}  # {'file' if dotted in seen else 'default'}")

    line("default_pair", "default_pair", _string(settings.default_pair))
    pairs = ", ".join(_string(p) for p in settings.watched_pairs)
    line("watched_pairs", "watched_pairs", f"[{pairs}]")
    line("refresh_hz", "refresh_hz", str(settings.refresh_hz))
    line("theme", "theme", _string(settings.theme))
    line("low_bandwidth", "low_bandwidth", "true" if settings.low_bandwidth else "false")
    if settings.sandbox_ws_url is None:
        out.append("# sandbox_ws_url = (not set)")
    else:
        line("sandbox_ws_url", "sandbox_ws_url", _string(settings.sandbox_ws_url))
    for env in ENVS:
        limits = settings.guards[env]
        out += ["", f"[{env}]"]
        line("price_band_bps", f"{env}.price_band_bps", _number(limits.price_band_bps))
        slip = _number(limits.market_slippage_bps)
        line("market_slippage_bps", f"{env}.market_slippage_bps", slip)
        line("confirm", f"{env}.confirm", "true" if limits.confirm else "false")
        for table, values in (
            ("max_notional", limits.max_notional),
            ("max_amount", limits.max_amount),
        ):
            out += ["", f"[{env}.{table}]"]
            _entries(out, values, f"{env}.{table}", seen)
    return "\n".join(out) + "\n"


def _entries(out: list[str], values: Mapping[str, Decimal], at: str, seen: frozenset[str]) -> None:
    for name in sorted(values):
        mark = "file" if f"{at}.{name}" in seen else "default"
        out.append(f"{name} = {_number(values[name])}  # {mark}")


def _number(value: Decimal) -> str:
    """A TOML integer or float that reads back (``parse_float=Decimal``) to ``value``."""
    text = f"{value.normalize():f}"
    return text


def _string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
