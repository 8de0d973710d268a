"""Regenerate screenshots/main.svg: the main screen as the app itself draws it.

Runs the real app headless against a seeded simulator on a frozen clock (the same market as
the snapshot tests), waits until BTC/USD is live with its tape, and saves an SVG. Usage::

    .venv/bin/python scripts/screenshot.py [--size 160x50] [--out screenshots/main.svg]
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from workstation.bitstamp.reststats import RestStats
from workstation.bitstamp.secret import Secret
from workstation.services.facade import VenueServices
from workstation.services.feed import FeedState
from workstation.services.venue import Venue
from workstation.sim.clock import SimClock
from workstation.sim.exchange import SimExchange
from workstation.sim.server import SimServer
from workstation.ui.app import build_app
from workstation.ui.options import AppOptions
from workstation.ui.panes.status import StatusBar

FROZEN_US = 1_780_000_000_000_000  # 2026-05-28 20:26:40 UTC


async def shoot(size: tuple[int, int], out: Path) -> None:
    exchange = SimExchange(seed=3, clock=SimClock(manual_start_us=FROZEN_US))
    async with SimServer(exchange) as sim:
        demo = exchange.demo
        venue = Venue("sim", sim.rest_url, sim.ws_url, Secret(demo.api_key), Secret(demo.secret))
        services = VenueServices(venue)
        app = build_app(services, AppOptions(pairs=("btcusd", "ethusd", "xrpusd")))
        async with app.run_test(size=size) as pilot:
            for _ in range(400):
                feed = services.hub.feeds.get("btcusd") if services.hub else None
                if feed and feed.state is FeedState.LIVE and len(feed.tape) and feed.ticker:
                    break
                await pilot.pause(0.05)
            else:
                raise SystemExit("the market did not come up")
            assert services.hub is not None
            app.query_one(StatusBar).now = lambda: feed.health.last_message_at or 0.0
            await pilot.press("down", "down")
            await pilot.pause(1.0)
            # figures of this machine's load are not the app's: an empty count, never fed
            services.rest_stats = RestStats()
            app.query_one(StatusBar).redraw()
            await pilot.pause(0.1)
            out.parent.mkdir(parents=True, exist_ok=True)
            app.save_screenshot(filename=out.name, path=str(out.parent))
            print(f"wrote {out}")  # noqa: T201 - a script's one line of output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="160x50", help="terminal size, WIDTHxHEIGHT")
    parser.add_argument("--out", default="screenshots/main.svg", type=Path)
    args = parser.parse_args()
    width, _, height = args.size.partition("x")
    asyncio.run(shoot((int(width), int(height)), args.out))


if __name__ == "__main__":
    main()
