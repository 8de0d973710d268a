"""The trading side of the ``workstation`` command: environments and the journal export.

- ``workstation [--env sim|sandbox|live]`` picks the venue. Sandbox and live take their key
  pair from ``BITSTAMP_API_KEY``/``BITSTAMP_API_SECRET`` or the keyring
  (:func:`workstation.cli_keys.find_keys`, which asks an encrypted file's passphrase once,
  before the app takes the terminal). Without one (no keyring here, nothing stored) they open
  watch-only on the public market data, said in one line on stderr and by the WATCH ONLY
  badge; a keyring that is there but cannot be opened (a wrong passphrase, a plaintext file
  not allowed) stops the start. ``--sandbox-ws-url`` names sandbox's WebSocket, which no
  source documents.
  ``--no-confirm`` is for practice venues only: on live every order is confirmed.
- ``workstation journal export --csv FILE`` writes the order journal as CSV, read-only.

Every failure is one line on stderr and an exit code: 2 for a usage or keyring problem
(as argparse does), 1 when there is no journal to export.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .services.config import Settings
    from .services.sim_process import SimProcess
    from .services.venue import EmbeddedSim, Venue

__all__ = [
    "add_trading_commands",
    "add_venue_options",
    "option_conflict",
    "run_journal",
    "run_tui",
    "start_app",
]

_KEY_ENVS = ("sandbox", "live")


def add_venue_options(parser: argparse.ArgumentParser) -> None:
    """The top-level options that choose where the TUI trades."""
    parser.add_argument(
        "--env",
        dest="venue_env",
        choices=("sim", "sandbox", "live"),
        default="sim",
        help="where to trade: the embedded simulator (default), Bitstamp's sandbox or live; "
        "sandbox and live use the keys stored with `workstation keys set` (or given in "
        "BITSTAMP_API_KEY and BITSTAMP_API_SECRET), and without keys open WATCH ONLY "
        "(market data, no orders)",
    )
    parser.add_argument(
        "--sandbox-ws-url",
        default=None,
        metavar="URL",
        help="sandbox's WebSocket (wss://...), which Bitstamp does not document; without it "
        "sandbox shows live's market data and follows its orders over REST",
    )
    from .cli_keys import add_keyring_option

    add_keyring_option(parser)
    parser.add_argument(
        "--no-confirm",
        action="store_true",
        help="send orders without the confirm step (sim and sandbox only; never on live)",
    )
    parser.add_argument(
        "--allow-remote-sim",
        action="store_true",
        help="let --sim-url attach to a simulator on another machine (loopback only without "
        "it; a Bitstamp host is always refused)",
    )
    parser.add_argument(
        "--pair",
        dest="pairs",
        action="append",
        type=_pair_symbol,
        default=None,
        metavar="PAIR",
        help="watch this pair (btcusd or BTC/USD); repeatable, the first is shown (default: the "
        "pairs of the last session, else btcusd)",
    )
    parser.add_argument(
        "--mono",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the monochrome theme (default: as the last session left it)",
    )
    parser.add_argument(
        "--low-bandwidth",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="draw less for a slow link (SSH, a metered line): the book twice a second with "
        "fewer levels, the trades and the status bar once a second (default: the config's "
        "low_bandwidth, else off)",
    )
    parser.add_argument(
        "--journal",
        type=Path,
        default=None,
        metavar="PATH",
        help="the order journal (default: journal.sqlite3 in the user data directory)",
    )
    from .services.logs import LEVELS, LOG_FILE_NAME, default_log_dir

    parser.add_argument(
        "--log-level",
        type=str.upper,
        choices=LEVELS,
        default="INFO",
        help="what the log file records (default INFO: requests, stream and order events)",
    )
    parser.add_argument(
        "--log-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"where {LOG_FILE_NAME} is written (rotated, readable by you only; default: "
        f"{default_log_dir()})",
    )


def _pair_symbol(text: str) -> str:
    """``BTC/USD`` or ``btcusd`` -> ``btcusd`` (the venue's own list decides if it exists)."""
    return text.replace("/", "").strip().lower()


def add_trading_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``journal`` subcommand (``keys`` is in :mod:`workstation.cli_keys`)."""
    journal = sub.add_parser("journal", help="the order journal")
    journal_sub = journal.add_subparsers(dest="journal_command", required=True)
    export = journal_sub.add_parser(
        "export",
        help="write every order event as CSV",
        description="Write every journaled event, joined with its order, as CSV: amounts and "
        "prices exactly as stored, times in UTC. The journal is opened read-only.",
    )
    export.add_argument("--csv", dest="csv_file", required=True, metavar="FILE", help="- = stdout")
    export.add_argument(
        "--env",
        dest="export_env",
        default=None,
        metavar="ENV",
        help="only this scope: live, sandbox, sim@HOST:PORT, sim@embedded-ID; "
        "sim takes every simulator",
    )
    export.add_argument(
        "--journal",
        dest="journal_file",
        type=Path,
        default=None,
        metavar="PATH",
        help="the journal to read (default: the app's, in the user data directory)",
    )


def _fail(command: str, message: str, code: int = 2) -> int:
    """One line on stderr, prefixed with the (sub)command; returns the exit code."""
    sys.stderr.write(f"{' '.join(('workstation', command)).rstrip()}: {message}\n")
    return code


# -- the TUI ------------------------------------------------------------------------------------


def run_tui(args: argparse.Namespace, *, sim: SimProcess | None = None) -> int:
    """Check the options and the config file, find the keys, then start the app; all checks
    happen offline (but for an encrypted keyring's passphrase, asked before the app starts).

    The garbage collector is paused from here until the app runs (``ui.app.run_app`` freezes
    what the start made, then resumes it): the imports and the first screen make ~50,000
    objects that live as long as the process, and collecting while they are made walked them
    again and again, ~0.05 s of a cold start's CPU for no garbage found."""
    gc.disable()
    try:
        return _checked_start(args, sim)
    finally:
        gc.enable()


def _checked_start(args: argparse.Namespace, sim: SimProcess | None) -> int:
    from .cli_keys import KeysUnavailableError
    from .services.app_dirs import default_journal_path
    from .services.config import ConfigError, load_settings
    from .services.desk_state import default_desk_path
    from .services.logs import LOG_FILE_NAME, default_log_dir
    from .services.venue import VenueError, attached_sim_venue

    env = args.venue_env
    conflict = option_conflict(args)
    if conflict is not None:
        return _fail("", conflict)
    try:
        settings = load_settings(args.config_file)
    except ConfigError as exc:
        return _fail("", f"config refused: {exc}")
    venue: Venue | None = None
    if env in _KEY_ENVS:
        # the command line's sandbox stream, else the config file's (sandbox only)
        sandbox_ws, given_by = args.sandbox_ws_url, "--sandbox-ws-url"
        if sandbox_ws is None and env == "sandbox" and settings.sandbox_ws_url is not None:
            sandbox_ws, given_by = settings.sandbox_ws_url, f"sandbox_ws_url in {settings.path}"
        try:
            venue = _venue_for(args, env, sandbox_ws)
        except KeysUnavailableError as exc:
            return _fail("", str(exc))
        except VenueError as exc:
            return _fail("", f"{given_by}: {exc}")
    elif args.sim_url:
        try:
            venue = attached_sim_venue(
                args.sim_url,
                os.environ.get("BITSTAMP_API_KEY"),
                os.environ.get("BITSTAMP_API_SECRET"),
                allow_remote=args.allow_remote_sim,
            )
        except VenueError as exc:
            return _fail("", f"--sim-url: {exc}")
    journal_path = (args.journal or default_journal_path()).expanduser()
    log_dir = (args.log_dir or default_log_dir()).expanduser()
    return start_app(
        venue=venue,
        seed=args.seed,
        confirm=settings.guards[env].confirm and not args.no_confirm,
        journal_path=journal_path,
        log_file=log_dir / LOG_FILE_NAME,
        log_level=args.log_level,
        pairs=args.pairs,
        mono=args.mono,
        low_bandwidth=args.low_bandwidth,
        desk_path=default_desk_path(),
        settings=settings,
        sim=sim,
    )


def option_conflict(args: argparse.Namespace) -> str | None:
    """Why the app's options cannot go together (None: they can); decided offline, before
    anything starts (``workstation serve`` asks too, before it listens)."""
    env = args.venue_env
    if args.sim_url and env != "sim":
        return f"--sim-url attaches to a simulator; it cannot go with --env {env}"
    if args.no_confirm and env == "live":
        return "--no-confirm is refused with --env live: every live order is confirmed"
    if args.allow_remote_sim and not args.sim_url:
        return "--allow-remote-sim goes with --sim-url"
    if args.seed is not None and env != "sim":
        return f"--seed is for the embedded simulator, not --env {env}"
    if args.sandbox_ws_url is not None and env != "sandbox":
        return f"--sandbox-ws-url is for --env sandbox, not --env {env}"
    return None


def _venue_for(args: argparse.Namespace, env: str, sandbox_ws_url: str | None) -> Venue:
    """Bitstamp's ``env`` with its key pair (:func:`workstation.cli_keys.find_keys`); with
    none (no keyring here, nothing or half a pair stored), the same venue without keys:
    watch-only on the public market data, said in one line on stderr.

    Raises:
        KeysUnavailableError: the keys were given but cannot be used (half of the two
            variables, a wrong passphrase, a plaintext keyring not allowed).
        VenueError: ``sandbox_ws_url`` is refused.
    """
    from .cli_keys import NoKeyringHereError, find_keys
    from .services.venue import bitstamp_venue

    try:
        stored, where = find_keys(args, env)
        why = f"no API keys for {env} in {where}"
    except NoKeyringHereError as exc:
        stored, why = None, str(exc)
    if stored is None:
        venue = bitstamp_venue(env, sandbox_ws_url=sandbox_ws_url)
        sys.stderr.write(
            f"workstation: {why}: WATCH ONLY on {env} (market data, no orders); add keys with "
            f"`workstation keys set --env {env}` or BITSTAMP_API_KEY and BITSTAMP_API_SECRET\n"
        )
        return venue
    return bitstamp_venue(
        env,
        stored.api_key,
        stored.api_secret,
        sandbox_ws_url=sandbox_ws_url,
        keys_from=stored.source,
    )


def start_app(
    *,
    venue: Venue | None,
    seed: int | None,
    confirm: bool,
    journal_path: Path,
    log_file: Path,
    log_level: str = "INFO",
    pairs: list[str] | None = None,
    mono: bool | None = None,
    desk_path: Path | None = None,
    settings: Settings | None = None,
    low_bandwidth: bool | None = None,
    sim: SimProcess | None = None,
) -> int:
    """Open the log, make the services of ``venue`` (None: an embedded simulator, ``sim``
    when one was started already, see :class:`~workstation.services.venue.EmbeddedSim`) and run
    the app on them (``workstation.ui.app.run_app``). Both are imported only now: the keys
    and journal commands, and every refusal above, run without loading Textual or a client.

    Any exception that escapes, the app's crash included (``run_app`` raises it once the
    terminal is restored), is a crash: its traceback goes to the log (masked) and one line
    naming the log file to stderr; the exit status is 1.

    ``pairs``, ``mono`` and ``low_bandwidth`` are the command line's (None: not given); the
    rest of the desk comes from the layout kept at ``desk_path`` (``cli_desk.desk_options``),
    read once the log is open so an unreadable one is logged."""
    from .services.logs import configure_logging, report_crash

    try:
        configure_logging(log_file, log_level)
    except OSError as exc:
        return _fail("", f"cannot write the log file {log_file}: {exc.strerror or exc}")
    embedded: EmbeddedSim | None = None
    try:
        if venue is None:  # first, so its start-up overlaps the UI's imports and first screen
            from .services.venue import EmbeddedSim

            embedded = EmbeddedSim(seed=seed, journal_path=journal_path, started=sim)
            embedded.spawn()
        from .cli_desk import desk_options, no_color_asked
        from .services.config import Settings, default_config_path
        from .services.facade import VenueServices
        from .ui.app import run_app

        settings = settings or Settings(path=default_config_path())
        no_color = no_color_asked(os.environ, mono)
        if mono is False or not os.environ.get("NO_COLOR"):
            # Textual greys the whole screen whenever NO_COLOR is present, even empty: an
            # empty one asks for nothing, and --no-mono asked for colour
            os.environ.pop("NO_COLOR", None)
        options = desk_options(
            pairs=pairs,
            mono=mono,
            confirm=confirm,
            desk_path=desk_path,
            settings=settings,
            no_color=no_color,
            low_bandwidth=low_bandwidth,
            over_ssh=bool(os.environ.get("SSH_CONNECTION")),
        )
        services = VenueServices(
            venue,
            seed=seed,
            journal_path=journal_path,
            guards=settings.guards,
            embedded=embedded,
        )
        return run_app(services, options)
    except Exception as exc:  # noqa: BLE001 - the crash line and the log say what it was
        return report_crash(exc, log_file)
    finally:
        if embedded is not None:
            embedded.end_after_loop()


# -- journal --------------------------------------------------------------------------------------


def run_journal(args: argparse.Namespace) -> int:
    """``workstation journal export --csv FILE``: read-only; 1 when there is no journal."""
    from .services.app_dirs import default_journal_path
    from .services.journal_export import (
        JournalExportError,
        JournalMissingError,
        export_csv,
        open_read_only,
    )

    path = (args.journal_file or default_journal_path()).expanduser()
    target = args.csv_file
    if target != "-" and _same_file(Path(target), path):
        return _fail("journal", f"{target} is the journal itself; choose another file")
    try:
        db = open_read_only(path)
    except JournalMissingError:
        return _fail(
            "journal",
            f"no journal at {path}: nothing has been traded with it yet (or give --journal PATH)",
            1,
        )
    except JournalExportError as exc:
        return _fail("journal", str(exc), 1)
    scope = f" of {args.export_env}" if args.export_env else ""
    try:
        if target == "-":
            count = export_csv(db, sys.stdout, env=args.export_env)
            sys.stdout.flush()
            sys.stderr.write(f"wrote {_rows(count)}{scope}\n")
        else:
            with open(target, "w", encoding="utf-8", newline="") as out:
                count = export_csv(db, out, env=args.export_env)
            sys.stdout.write(f"wrote {_rows(count)}{scope} to {target}\n")
    except JournalExportError as exc:
        return _fail("journal", str(exc), 1)
    except OSError as exc:
        return _fail("journal", f"cannot write {target}: {exc.strerror or exc}", 1)
    finally:
        db.close()
    return 0


def _rows(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"


def _same_file(target: Path, journal: Path) -> bool:
    """True when ``target`` is the journal or one of SQLite's files beside it."""
    target = target.expanduser().resolve()
    journal = journal.resolve()
    return target in {journal, *(journal.with_name(journal.name + s) for s in ("-wal", "-shm"))}
