"""``workstation sim``: the simulator on its own, its options and its fault flags.

The flags become :class:`~workstation.sim.main.SimOptions` here (:func:`sim_options`, which
refuses flags that make no sense together); :func:`parse_sim_args` is the same for tests.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .sim.main import SimOptions

__all__ = ["add_sim_command", "parse_sim_args", "run_sim_command", "sim_options"]


def add_sim_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``sim`` subcommand."""
    sim = sub.add_parser("sim", help="run the Bitstamp-compatible simulator on its own")
    _add_sim_arguments(sim)


def _add_sim_arguments(sim: argparse.ArgumentParser) -> None:
    sim.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    sim.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 = any free)")
    sim.add_argument("--seed", type=int, default=None, help="seed for a reproducible market")
    sim.add_argument("--speed", type=float, default=1.0, help="market activity multiplier")
    sim.add_argument("--api-key", default=None, help="demo API key (generated if not given)")
    sim.add_argument("--api-secret", default=None, help="demo API secret (generated if not given)")
    sim.add_argument(
        "--allow-remote", action="store_true", help="allow binding a non-loopback address"
    )
    sim.add_argument(
        "--rate-limit",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="enforce Bitstamp's budget of 400 requests/s and 10,000 per 10 minutes per API key "
        "or IP, answering HTTP 429 past it (default: on)",
    )
    sim.add_argument("--embedded", action="store_true", help=argparse.SUPPRESS)
    _add_fault_flags(sim)


def _add_fault_flags(sim: argparse.ArgumentParser) -> None:
    faults = sim.add_argument_group(
        "fault injection",
        "Misbehave on purpose, to see how a client copes. All off by default. Every-Nth faults "
        "count from startup, each on its own counter; when several fall on the same request, "
        "the first of 429, 5xx, HTML, hang, drop, wrong shape is answered and the others miss "
        "their turn.",
    )
    faults.add_argument(
        "--fault-delay-ms",
        type=_non_negative_int,
        default=0,
        metavar="MS",
        help="delay every REST response by MS milliseconds",
    )
    faults.add_argument(
        "--fault-429-every",
        type=_positive_int,
        default=None,
        metavar="N",
        help="answer every Nth REST request with HTTP 429 and Retry-After: 1 (see the next two)",
    )
    retry_after = faults.add_mutually_exclusive_group()
    retry_after.add_argument(
        "--fault-429-retry-after",
        type=_non_negative_seconds,
        default=None,
        metavar="SECONDS",
        help="the Retry-After of those 429s instead (decimals allowed)",
    )
    retry_after.add_argument(
        "--fault-429-no-retry-after",
        action="store_true",
        help="send those 429s without a Retry-After header",
    )
    faults.add_argument(
        "--fault-5xx-every",
        type=_positive_int,
        default=None,
        metavar="N",
        help="answer every Nth REST request with HTTP 500 and a JSON error body",
    )
    faults.add_argument(
        "--fault-html-every",
        type=_positive_int,
        default=None,
        metavar="N",
        help="answer every Nth REST request with HTTP 502 and an HTML error page, as a CDN in "
        "front of a failing exchange does",
    )
    faults.add_argument(
        "--fault-hang-orders-every",
        type=_positive_int,
        default=None,
        metavar="N",
        help="place every Nth submitted order (a POST under /api/v2/buy/ or /api/v2/sell/: "
        "limit, market or instant) and never answer the request",
    )
    faults.add_argument(
        "--fault-drop-orders-every",
        type=_positive_int,
        default=None,
        metavar="N",
        help="place every Nth submitted order, then close the connection without a reply",
    )
    faults.add_argument(
        "--fault-wrong-shape-every",
        type=_positive_int,
        default=None,
        metavar="N",
        help="carry out every Nth request under the --fault-wrong-shape-path prefixes (default: "
        'order submissions), then answer HTTP 200 {"status": "ok"}: valid JSON, wrong shape',
    )
    faults.add_argument(
        "--fault-wrong-shape-path",
        action="append",
        default=None,
        metavar="PREFIX",
        help="a path prefix for --fault-wrong-shape-every, e.g. /api/v2/replace_order/; repeatable",
    )
    faults.add_argument(
        "--fault-clock-skew-ms",
        type=int,
        default=0,
        metavar="MS",
        help="run the server clock MS milliseconds ahead (negative: behind), as seen in the "
        "Date header and by the +-150 s check of signed request timestamps",
    )
    faults.add_argument(
        "--fault-drop-ws-every",
        type=_period_seconds,
        default=None,
        metavar="SECONDS",
        help="abruptly close every WebSocket connection every SECONDS",
    )
    faults.add_argument(
        "--fault-reconnect-every",
        type=_period_seconds,
        default=None,
        metavar="SECONDS",
        help="send bts:request_reconnect to every WebSocket client every SECONDS",
    )
    faults.add_argument(
        "--fault-stall",
        type=_channel,
        action="append",
        default=None,
        metavar="CHANNEL",
        help="withhold every frame of CHANNEL (e.g. live_trades_btcusd; '*' for all channels) "
        "while heartbeats are still answered; repeatable",
    )
    faults.add_argument(
        "--fault-stall-period",
        type=_period_seconds,
        default=None,
        metavar="SECONDS",
        help="make those stalls intermittent: the channels flow for SECONDS, then are withheld "
        "for SECONDS, and so on (default: stalled for good)",
    )
    faults.add_argument(
        "--fault-malformed-every",
        type=_period_seconds,
        default=None,
        metavar="SECONDS",
        help="every SECONDS, corrupt the next frame of every subscribed channel: cut in half "
        "(not JSON) and wrong-shaped JSON in turn",
    )
    faults.add_argument(
        "--fault-drop-diffs-every",
        type=_positive_int,
        default=None,
        metavar="N",
        help="silently skip every Nth diff_order_book frame of each channel",
    )
    faults.add_argument(
        "--fault-net-cut",
        type=_period_seconds,
        default=None,
        metavar="SECONDS",
        help="cut the network for SECONDS: new REST and WebSocket connections are refused "
        "(ECONNREFUSED) and open ones are dropped, then the same port listens again; needs "
        "--fault-net-cut-every",
    )
    faults.add_argument(
        "--fault-net-cut-every",
        type=_period_seconds,
        default=None,
        metavar="SECONDS",
        help="how long the network stays up before each --fault-net-cut (the first cut comes "
        "after SECONDS)",
    )
    faults.add_argument(
        "--chaos",
        action="store_true",
        help="play the chaos minute over and over: WebSocket drops, a reconnect request, "
        "stalled channels, 429 bursts with and without Retry-After, 5xx and HTML error pages, "
        "a hung and a dropped order submit, a net cut, clock skew; --seed picks the minute "
        "(the banner prints it); not with the --fault-* flags",
    )


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {text}")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {text}")
    return value


def _period_seconds(text: str) -> float:
    value = float(text)  # float-ok: a period in seconds, not money
    if not (math.isfinite(value) and value >= 0.01):  # sim.periodic.MIN_PERIOD_S
        raise argparse.ArgumentTypeError(f"must be a number of seconds >= 0.01, not {text}")
    return value


def _non_negative_seconds(text: str) -> float:
    value = float(text)  # float-ok: seconds, not money
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be a number of seconds >= 0, not {text}")
    return value


def _channel(text: str) -> str:
    from .sim.catalog import DEFAULT_MARKETS
    from .sim.ws import is_channel

    if text != "*" and not is_channel(text, {m.symbol for m in DEFAULT_MARKETS}):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a channel the simulator serves (e.g. live_trades_btcusd, "
            "diff_order_book_ethusd, private-my_orders_btcusd-1) nor '*'"
        )
    return text


def sim_options(args: argparse.Namespace) -> SimOptions:
    """The simulator's options from parsed ``workstation sim`` arguments.

    Raises:
        ValueError: the arguments parse but make no sense together (the message says why).
    """
    from .sim.faultplan import FaultPlan
    from .sim.faults import ORDER_PREFIXES
    from .sim.main import SimOptions
    from .sim.server import is_loopback

    if not args.allow_remote and not is_loopback(args.host):
        raise ValueError(
            f"refusing to bind {args.host}, which is not a loopback address; "
            "pass --allow-remote if you mean it"
        )
    if (args.api_key is None) != (args.api_secret is None):
        raise ValueError("give both --api-key and --api-secret, or neither")
    if args.fault_429_every is None and (
        args.fault_429_retry_after is not None or args.fault_429_no_retry_after
    ):
        raise ValueError(
            "--fault-429-retry-after and --fault-429-no-retry-after need --fault-429-every"
        )
    if args.fault_stall_period is not None and not args.fault_stall:
        raise ValueError("--fault-stall-period needs --fault-stall")
    if args.fault_wrong_shape_path and args.fault_wrong_shape_every is None:
        raise ValueError("--fault-wrong-shape-path needs --fault-wrong-shape-every")
    if any(not p.startswith("/api/v2/") for p in args.fault_wrong_shape_path or ()):
        raise ValueError("--fault-wrong-shape-path takes a path starting with /api/v2/")
    if args.fault_net_cut is not None and args.fault_net_cut_every is None:
        raise ValueError("--fault-net-cut needs --fault-net-cut-every")
    if args.fault_net_cut_every is not None and args.fault_net_cut is None:
        raise ValueError("--fault-net-cut-every needs --fault-net-cut")
    retry_after = args.fault_429_retry_after if args.fault_429_retry_after is not None else 1.0
    plan = FaultPlan(
        delay_ms=args.fault_delay_ms,
        rate_limit_every=args.fault_429_every or 0,
        rate_limit_retry_after_s=None if args.fault_429_no_retry_after else retry_after,
        server_error_every=args.fault_5xx_every or 0,
        html_error_every=args.fault_html_every or 0,
        hang_orders_every=args.fault_hang_orders_every or 0,
        drop_orders_every=args.fault_drop_orders_every or 0,
        wrong_shape_every=args.fault_wrong_shape_every or 0,
        wrong_shape_paths=tuple(dict.fromkeys(args.fault_wrong_shape_path or ORDER_PREFIXES)),
        clock_skew_ms=args.fault_clock_skew_ms,
        drop_ws_every_s=args.fault_drop_ws_every,
        reconnect_every_s=args.fault_reconnect_every,
        stall_channels=tuple(dict.fromkeys(args.fault_stall or ())),
        stall_period_s=args.fault_stall_period,
        malformed_every_s=args.fault_malformed_every,
        drop_diffs_every=args.fault_drop_diffs_every or 0,
        net_cut_s=args.fault_net_cut,
        net_cut_every_s=args.fault_net_cut_every,
    )
    if args.chaos:
        if plan != FaultPlan():
            raise ValueError("--chaos plays its own faults: give it without the --fault-* flags")
        plan = FaultPlan(chaos_seed=args.seed if args.seed is not None else 0)
    return SimOptions(
        host=args.host,
        port=args.port,
        seed=args.seed,
        speed=args.speed,
        api_key=args.api_key,
        api_secret=args.api_secret,
        allow_remote=args.allow_remote,
        embedded=args.embedded,
        rate_limit=args.rate_limit,
        faults=plan,
    )


def _sim_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="workstation sim")
    _add_sim_arguments(parser)
    return parser


def parse_sim_args(argv: list[str]) -> SimOptions:
    """``workstation sim ARGV...`` as options (argparse exits on a malformed flag)."""
    return sim_options(_sim_parser().parse_args(argv))


def run_sim_command(args: argparse.Namespace) -> int:
    """Run the simulator until interrupted; 2 for flags that make no sense together."""
    from .sim.main import run_sim

    try:
        options = sim_options(args)
    except ValueError as exc:
        sys.stderr.write(f"workstation sim: {exc}\n")
        return 2
    return asyncio.run(run_sim(options))


def main(argv: list[str] | None = None) -> int:
    """``python -m workstation.cli_sim ARGV...``: ``workstation sim`` without the rest of the
    command line, whose parser imports and builds what only the app needs. The embedded
    simulator's child starts this way (``services.sim_process``): ~15 ms less of its start."""
    return run_sim_command(_sim_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
