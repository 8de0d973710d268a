"""The ``workstation`` command: the TUI by default, ``workstation sim`` for the simulator."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workstation",
        description="A terminal trading workstation for Bitstamp. Without keys it trades on a "
        "built-in simulator.",
    )
    parser.add_argument(
        "--sim-url",
        metavar="URL",
        help="attach to a running `workstation sim` (key and secret from BITSTAMP_API_KEY and "
        "BITSTAMP_API_SECRET)",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed of the embedded simulator")
    sub = parser.add_subparsers(dest="command")
    sim = sub.add_parser("sim", help="run the Bitstamp-compatible simulator on its own")
    sim.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    sim.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 = any free)")
    sim.add_argument("--seed", type=int, default=None, help="seed for a reproducible market")
    sim.add_argument("--speed", type=float, default=1.0, help="market activity multiplier")
    sim.add_argument("--api-key", default=None, help="demo API key (generated if not given)")
    sim.add_argument("--api-secret", default=None, help="demo API secret (generated if not given)")
    sim.add_argument(
        "--allow-remote", action="store_true", help="allow binding a non-loopback address"
    )
    sim.add_argument("--embedded", action="store_true", help=argparse.SUPPRESS)
    return parser


def _fail(message: str) -> int:
    sys.stderr.write(f"workstation sim: {message}\n")
    return 2


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "sim":
        from .sim.main import SimOptions, run_sim
        from .sim.server import is_loopback

        if not args.allow_remote and not is_loopback(args.host):
            return _fail(
                f"refusing to bind {args.host}, which is not a loopback address; "
                "pass --allow-remote if you mean it"
            )
        if (args.api_key is None) != (args.api_secret is None):
            return _fail("give both --api-key and --api-secret, or neither")
        options = SimOptions(
            host=args.host,
            port=args.port,
            seed=args.seed,
            speed=args.speed,
            api_key=args.api_key,
            api_secret=args.api_secret,
            allow_remote=args.allow_remote,
            embedded=args.embedded,
        )
        return asyncio.run(run_sim(options))

    from .services.venue import Venue
    from .ui.app import run_app

    venue = None
    if args.sim_url:
        base = args.sim_url.rstrip("/")
        ws = "ws" + base[len("http") :] + "/" if base.startswith("http") else base
        venue = Venue(
            env="sim",
            rest_url=base,
            ws_url=ws,
            api_key=os.environ.get("BITSTAMP_API_KEY"),
            api_secret=os.environ.get("BITSTAMP_API_SECRET"),
        )
    return run_app(venue=venue, seed=args.seed)
