"""The ``workstation`` command: the TUI by default, ``workstation sim`` for the simulator.

``--env`` and ``journal`` are in :mod:`workstation.cli_trading`, ``keys`` in
:mod:`workstation.cli_keys`, ``preflight`` in :mod:`workstation.cli_preflight`, ``--config`` and
``config`` in :mod:`workstation.cli_config`, ``serve`` (the app in a browser) in
:mod:`workstation.cli_serve`, ``sim`` and its fault flags in :mod:`workstation.cli_sim`.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from .cli_config import add_config_commands, add_config_option, run_config
from .cli_keys import add_keys_command, run_keys
from .cli_preflight import add_preflight_command, run_preflight_command
from .cli_serve import add_serve_command, run_serve
from .cli_sim import add_sim_command, run_sim_command
from .cli_trading import add_trading_commands, add_venue_options, run_journal, run_tui

if TYPE_CHECKING:
    from .services.sim_process import SimProcess

__all__ = ["main"]


def _app_options() -> argparse.ArgumentParser:
    """The options of the app itself: the top level's, and ``serve``'s (which hands them on)."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument(
        "--sim-url",
        metavar="URL",
        help="attach to a running `workstation sim` (key and secret from BITSTAMP_API_KEY and "
        "BITSTAMP_API_SECRET)",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed of the embedded simulator")
    add_venue_options(parser)
    add_config_option(parser)
    return parser


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workstation",
        description="A terminal trading workstation for Bitstamp. Without keys it trades on a "
        "built-in simulator.",
        parents=[_app_options()],
    )
    sub = parser.add_subparsers(dest="command")
    add_sim_command(sub)
    add_keys_command(sub)
    add_trading_commands(sub)
    add_preflight_command(sub)
    add_config_commands(sub)
    add_serve_command(sub, _app_options())
    return parser


def main(argv: list[str] | None = None, *, sim: SimProcess | None = None) -> int:
    """Run ``workstation ARGV...``; returns the exit code (argparse exits 2 on bad flags).

    ``sim`` is the embedded simulator's child when :mod:`workstation.launch` started it
    already; the app uses it if it runs on the embedded simulator with its seed."""
    args = _parser().parse_args(argv)
    if args.command == "sim":
        return run_sim_command(args)
    if args.command == "keys":
        return run_keys(args)
    if args.command == "journal":
        return run_journal(args)
    if args.command == "preflight":
        return run_preflight_command(args)
    if args.command == "config":
        return run_config(args)
    if args.command == "serve":
        return run_serve(args)
    return run_tui(args, sim=sim)
