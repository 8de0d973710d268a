"""``workstation preflight``: the pre-launch checklist, printed as a pass/fail list.

``--env sim|sandbox|live`` (default: the embedded simulator, as the TUI), or ``--sim-url URL``
for a running ``workstation sim`` (keys from ``BITSTAMP_API_KEY`` / ``BITSTAMP_API_SECRET``).
Sandbox and live take the keys stored with ``workstation keys set``; without them the signed
checks fail and say how to store them, and the public ones still run.

On sim and sandbox a test order is placed and cancelled. On live only with
``--place-test-order``, and only once the trader has typed ``live`` at the prompt that shows
the order: an option alone never places a live order.

Exit status: 0 when every check passed (a check skipped on purpose is not a failure), 1 when
any failed (or the check could not run: a crash is reported as the app's are), 2 for a usage
problem (as argparse does), 130 when interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .services.check_result import CheckResult
    from .services.preflight import PreflightOptions
    from .services.venue import Venue

__all__ = ["LIVE_CONFIRM_WORD", "add_preflight_command", "format_result", "run_preflight_command"]

LIVE_CONFIRM_WORD = "live"
"""What the trader types to let the live test order go."""
_NAME_WIDTH = 18


_STREAM_WAIT_HELP_S = 10.0
"""``services.stream_checks.STREAM_WAIT_S`` as the help says it (a test keeps them equal)."""


def add_preflight_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``preflight`` subcommand. Builds the parser without importing the checks: every
    command parses with it, ``workstation sim`` included, which needs no HTTP client."""
    text = "check a venue and its key before trading: clock, keys, streams, a test order"
    cmd = sub.add_parser(
        "preflight",
        help=text,
        description=text[0].upper() + text[1:] + ". Prints a pass/fail list with a fix for "
        "each failure; the exit status is 0 only when every check passed.",
    )
    cmd.add_argument(
        "--env",
        dest="preflight_env",
        choices=("sim", "sandbox", "live"),
        default=None,
        help="the venue (default: the embedded simulator); sandbox and live use the keys "
        "stored with `workstation keys set`",
    )
    cmd.add_argument(
        "--sim-url",
        dest="preflight_sim_url",
        metavar="URL",
        default=None,
        help="check a running `workstation sim` (keys from BITSTAMP_API_KEY and "
        "BITSTAMP_API_SECRET)",
    )
    cmd.add_argument(
        "--allow-remote-sim",
        dest="preflight_allow_remote_sim",
        action="store_true",
        help="let --sim-url name a simulator on another machine",
    )
    cmd.add_argument(
        "--pair", default="btcusd", help="the market to check the streams and order on"
    )
    cmd.add_argument(
        "--place-test-order",
        action="store_true",
        help="on live, place the test order too (a post-only order of the pair's minimum, "
        "15%% from the touch, cancelled at once), after you type 'live' at the prompt; sim "
        "and sandbox always place it",
    )
    cmd.add_argument(
        "--stream-wait",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help=f"how long each stream gets to show it works (default {_STREAM_WAIT_HELP_S:g})",
    )
    cmd.add_argument(
        "--journal",
        dest="preflight_journal",
        type=Path,
        default=None,
        metavar="PATH",
        help="where the test order is journaled (default: the app's journal)",
    )


def _seconds(text: str) -> float:
    value = float(text)  # float-ok: seconds, not money
    if not 0.5 <= value <= 300:
        raise argparse.ArgumentTypeError(f"must be between 0.5 and 300 seconds, not {text}")
    return value


def _fail(message: str) -> int:
    sys.stderr.write(f"workstation preflight: {message}\n")
    return 2


def run_preflight_command(args: argparse.Namespace) -> int:
    """Choose the venue (offline), then run the checklist and print it."""
    from .cli_keys import KeysUnavailableError, NoKeyringHereError, find_keys
    from .services.app_dirs import default_journal_path
    from .services.logs import LOG_FILE_NAME, configure_logging, default_log_dir, report_crash
    from .services.venue import VenueError, attached_sim_venue, bitstamp_venue

    # the top-level --env/--sim-url/--journal count too: `workstation --env live preflight`
    env = args.preflight_env or args.venue_env
    sim_url = args.preflight_sim_url or args.sim_url
    allow_remote = args.preflight_allow_remote_sim or args.allow_remote_sim
    if sim_url and env != "sim":
        return _fail(f"--sim-url checks a simulator; it cannot go with --env {env}")
    if allow_remote and not sim_url:
        return _fail("--allow-remote-sim goes with --sim-url")
    if args.seed is not None and (env != "sim" or sim_url):
        return _fail("--seed is for the embedded simulator")
    venue: Venue | None = None
    keys_fix = ""
    if env in ("sandbox", "live"):
        try:
            stored, where = find_keys(args, env)
            keys_fix = (
                f"no API keys for {env} in {where}; store them with "
                f"`workstation keys set --env {env}` (or set BITSTAMP_API_KEY and "
                "BITSTAMP_API_SECRET)"
            )
        except NoKeyringHereError as exc:
            stored, keys_fix = None, str(exc)
        except KeysUnavailableError as exc:
            return _fail(str(exc))
        try:
            if stored is None:
                venue = bitstamp_venue(env, sandbox_ws_url=args.sandbox_ws_url)
            else:
                venue = bitstamp_venue(
                    env,
                    stored.api_key,
                    stored.api_secret,
                    sandbox_ws_url=args.sandbox_ws_url,
                    keys_from=stored.source,
                )
        except VenueError as exc:
            return _fail(f"--sandbox-ws-url: {exc}")
    elif sim_url:
        try:
            venue = attached_sim_venue(
                sim_url,
                os.environ.get("BITSTAMP_API_KEY"),
                os.environ.get("BITSTAMP_API_SECRET"),
                allow_remote=allow_remote,
            )
        except VenueError as exc:
            return _fail(f"--sim-url: {exc}")
        keys_fix = (
            "give the simulator's demo key pair in BITSTAMP_API_KEY and BITSTAMP_API_SECRET "
            "(`workstation sim` prints it)"
        )
    log_file = (args.log_dir or default_log_dir()).expanduser() / LOG_FILE_NAME
    try:
        configure_logging(log_file, args.log_level)
    except OSError as exc:
        return _fail(f"cannot write the log file {log_file}: {exc.strerror or exc}")
    from .services.preflight import PreflightOptions
    from .services.stream_checks import STREAM_WAIT_S

    journal = args.preflight_journal or args.journal or default_journal_path()
    options = PreflightOptions(
        journal_path=journal.expanduser(),
        pair=args.pair.strip().lower(),
        test_order=env != "live" or args.place_test_order,
        confirm_order=_confirm_live if env == "live" else None,
        stream_wait_s=STREAM_WAIT_S if args.stream_wait is None else args.stream_wait,
        keys_fix=keys_fix,
    )
    try:
        results = asyncio.run(_run(venue, options, seed=args.seed))
    except KeyboardInterrupt:
        sys.stderr.write(
            "\nworkstation preflight: interrupted; a test order in flight is in the journal, "
            "which the app reconciles\n"
        )
        return 130
    except VenueError as exc:  # the embedded simulator did not start
        sys.stderr.write(f"workstation preflight: {exc}\n")
        return 1
    except Exception as exc:  # noqa: BLE001 - the crash line and the log say what it was
        return report_crash(exc, log_file)
    return _summary(results, log_file)


async def _run(
    venue: Venue | None, options: PreflightOptions, *, seed: int | None
) -> list[CheckResult]:
    from .services.preflight import run_preflight
    from .services.venue import EmbeddedSim

    if venue is not None:
        _header(venue)
        return await run_preflight(venue, options, on_result=_print)
    async with EmbeddedSim(seed=seed) as embedded:
        _header(embedded, " (embedded)")
        return await run_preflight(embedded, options, on_result=_print)


def _header(venue: Venue, note: str = "") -> None:
    key = (
        f"key {venue.api_key.tail()}"
        if venue.api_key is not None and venue.has_credentials
        else "no keys"
    )
    sys.stdout.write(f"preflight of {venue.label}{note} at {venue.rest_url} ({key})\n")
    sys.stdout.flush()


def format_result(result: CheckResult) -> str:
    """One check as printed: verdict, name, what was seen; a failure's fix on the next line."""
    line = f"  {result.verdict.value.upper():<4}  {result.name:<{_NAME_WIDTH}}  {result.detail}\n"
    if result.fix:
        line += f"  {'':<4}  {'':<{_NAME_WIDTH}}  fix: {result.fix}\n"
    return line


def _print(result: CheckResult) -> None:
    sys.stdout.write(format_result(result))
    sys.stdout.flush()


def _summary(results: list[CheckResult], log_file: Path) -> int:
    from .services.check_result import Verdict

    failed = [r.name for r in results if r.verdict is Verdict.FAIL]
    skipped = sum(1 for r in results if r.verdict is Verdict.SKIP)
    also = f" ({skipped} skipped)" if skipped else ""
    if failed:
        sys.stdout.write(
            f"{len(failed)} of {len(results)} checks failed{also}: {', '.join(failed)}; "
            f"the log: {log_file}\n"
        )
        return 1
    sys.stdout.write(f"all {len(results) - skipped} checks passed{also}\n")
    return 0


async def _confirm_live(terms: str) -> bool:
    """Ask the trader to type the word; anything else (or no terminal input) places nothing."""
    sys.stdout.write(
        f"\n  LIVE test order: {terms}.\n"
        f"  Type {LIVE_CONFIRM_WORD} to place it with real money (anything else skips it): "
    )
    sys.stdout.flush()
    answer = await asyncio.to_thread(sys.stdin.readline)
    if not answer.endswith("\n"):
        sys.stdout.write("\n")
    return answer.strip() == LIVE_CONFIRM_WORD
