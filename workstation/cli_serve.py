"""``workstation serve``: the same app in a browser tab, published by textual-serve.

Every tab that opens the page starts its own app process, ``python -m workstation`` with the
app's options given to ``serve`` (before or after the word ``serve``): ``--env``,
``--sim-url``, ``--seed``, ``--pair``, ``--mono``, ``--config``, ``--journal``, the log and
keyring options. With neither ``--env`` nor ``--sim-url`` each tab trades on its own embedded
simulator; ``--sim-url`` gives every tab the same market. The options are checked here, once,
before the server listens: a conflict or a refused config file stops the start (exit 2), as
it does for the app in a terminal.

It listens on loopback (127.0.0.1) unless told otherwise: anyone who reaches the port drives
the app, orders included, so another address needs ``--allow-remote`` and prints a warning;
without the flag it is refused with exit 2. The server itself is
:mod:`workstation.browser_server`.
"""

from __future__ import annotations

import argparse
import ipaddress
import shlex
import sys
from pathlib import Path

import msgspec

__all__ = [
    "DEFAULT_PORT",
    "ServeAddress",
    "add_serve_command",
    "app_argv",
    "app_command",
    "remote_warning",
    "run_serve",
    "serve_address",
]

DEFAULT_PORT = 8000
"""textual-serve's own default."""


def add_serve_command(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    app_options: argparse.ArgumentParser,
) -> None:
    """``serve``, which takes the app's options too (``app_options``, a parser of its own:
    its defaults become "not given", so the top level's values stand unless repeated here)."""
    for action in app_options._actions:  # set_defaults(x=SUPPRESS) would set x to that text
        action.default = argparse.SUPPRESS
    serve = sub.add_parser(
        "serve",
        parents=[app_options],
        help="publish the app to a web browser (textual-serve), on loopback by default",
        description="Publish the app to a web browser: every tab that opens the page runs its "
        "own app with the options given here. Listens on 127.0.0.1 unless --allow-remote: "
        "anyone who reaches the page can trade.",
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    serve.add_argument(
        "--port",
        type=_port,
        default=DEFAULT_PORT,
        help=f"port to listen on (default {DEFAULT_PORT})",
    )
    serve.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow listening on an address other machines can reach (anyone who reaches it "
        "can trade)",
    )
    serve.add_argument(
        "--public-url",
        default=None,
        metavar="URL",
        help="the address browsers open (default http://HOST:PORT); needed with --host 0.0.0.0 "
        "or ::, whose page would otherwise point browsers at an address they cannot reach",
    )


def _port(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port from 1 to 65535, not {text}")
    return value


class ServeAddress(msgspec.Struct, frozen=True):
    """Where the server listens and the address its page gives browsers."""

    host: str
    port: int
    public_url: str
    remote: bool
    """True when other machines may reach it (the warning is printed)."""


def serve_address(args: argparse.Namespace) -> ServeAddress:
    """The address ``serve`` may listen on.

    Raises:
        ValueError: a non-loopback address without ``--allow-remote``, or a wildcard address
            without ``--public-url`` (the message says which and what to do).
    """
    from .sim.server import is_loopback

    host: str = args.host
    remote = not is_loopback(host)
    if remote and not args.allow_remote:
        raise ValueError(
            f"refusing to serve on {host}, which is not a loopback address: anyone who reaches "
            "it can trade; pass --allow-remote if you mean it"
        )
    public_url = args.public_url
    if public_url is None:
        if _is_wildcard(host):
            raise ValueError(
                f"--host {host} listens on every address; give --public-url, the address "
                f"browsers open (e.g. http://this-machine:{args.port})"
            )
        shown = f"[{host}]" if ":" in host else host
        public_url = f"http://{shown}:{args.port}"
    return ServeAddress(host, args.port, public_url.rstrip("/"), remote)


def _is_wildcard(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def remote_warning(address: ServeAddress) -> str:
    return (
        f"workstation serve: WARNING: listening on {address.host}:{address.port}, beyond this "
        f"machine: anyone who reaches {address.public_url} can trade with this workstation "
        "(its keys, its orders); there is no login\n"
    )


def app_argv(args: argparse.Namespace) -> list[str]:
    """The app's options of ``args`` as the command line of the app each tab runs; paths made
    absolute. Every app option is here (``tests/unit/test_cli_serve.py`` checks a round trip
    through the parser, so a new option must be added here, or decided against)."""
    argv = ["--env", args.venue_env, "--log-level", args.log_level]
    for flag, value in (
        ("--sim-url", args.sim_url),
        ("--seed", args.seed),
        ("--sandbox-ws-url", args.sandbox_ws_url),
    ):
        if value is not None:
            argv += [flag, str(value)]
    for flag, path in (
        ("--journal", args.journal),
        ("--log-dir", args.log_dir),
        ("--config", args.config_file),
    ):
        if path is not None:
            argv += [flag, str(Path(path).expanduser().absolute())]
    for flag, on in (
        ("--allow-remote-sim", args.allow_remote_sim),
        ("--no-confirm", args.no_confirm),
        ("--allow-plaintext-keyring", args.allow_plaintext_keyring),
    ):
        if on:
            argv.append(flag)
    for pair in args.pairs or ():
        argv += ["--pair", pair]
    if args.mono is not None:
        argv.append("--mono" if args.mono else "--no-mono")
    if args.low_bandwidth is not None:
        argv.append("--low-bandwidth" if args.low_bandwidth else "--no-low-bandwidth")
    return argv


def app_command(args: argparse.Namespace) -> str:
    """The shell command textual-serve runs for each tab: this interpreter on this package,
    ``exec``'d so the process the server holds is the app itself (it ends it by its id)."""
    return "exec " + shlex.join([sys.executable, "-m", "workstation", *app_argv(args)])


def _fail(message: str, code: int = 2) -> int:
    sys.stderr.write(f"workstation serve: {message}\n")
    return code


def run_serve(args: argparse.Namespace) -> int:
    """Check everything offline, then serve until Ctrl+C (or SIGTERM); 2 on a refusal, 1
    when the address cannot be listened on."""
    from .cli_trading import option_conflict
    from .services.config import ConfigError, load_settings

    try:
        address = serve_address(args)
    except ValueError as exc:
        return _fail(str(exc))
    conflict = option_conflict(args)
    if conflict is not None:
        return _fail(conflict)
    try:
        load_settings(args.config_file)
    except ConfigError as exc:
        return _fail(f"config refused: {exc}")
    if address.remote:
        sys.stderr.write(remote_warning(address))
        sys.stderr.flush()
    from .browser_server import BrowserServer

    server = BrowserServer(
        app_command(args),
        host=address.host,
        port=address.port,
        public_url=address.public_url,
    )
    try:
        server.serve()
    except OSError as exc:
        return _fail(f"cannot listen on {address.host}:{address.port}: {exc.strerror or exc}", 1)
    return 0
