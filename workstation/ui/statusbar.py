"""The status bar: which environment, whether the data is live, and how fresh it is.

Environment badge first (SIM / SANDBOX / LIVE, LIVE in the loudest style), then the stream's
connection state, the pair's feed state (STALE unmistakably, in reverse video), the age of
the last message, REST latency p50/p95 of market data and of trading calls apart,
reconnects, resyncs, and every 429 the venue answered any caller of the session (``rest``,
the session's one count). Refreshed a few times a second from the service's numbers; it
never waits on the network.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

from ..services.feed import MarketFeed
from ..services.health import LatencyWindow, RestStats
from ..services.hub import MarketHub

if TYPE_CHECKING:
    from ..services.reachability import Reachability
    from ..services.trading import TradingService

__all__ = ["StatusBar"]

REFRESH_HZ = 4.0


def _p50_p95(window: LatencyWindow) -> str:
    """``12/30 ms``, or ``-`` before the first answer."""
    p50, p95 = window.percentile(50), window.percentile(95)
    if p50 is None or p95 is None:
        return "-"
    return f"{p50 * 1000:.0f}/{p95 * 1000:.0f} ms"


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds:.1f} s" if seconds < 60 else f"{seconds / 60:.0f} min"


class StatusBar(Static):
    """One line; ``env`` is ``sim``, ``sandbox`` or ``live``."""

    def __init__(self, env: str, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__("", id=id)
        self.env = env
        self.hub: MarketHub | None = None
        self.feed: MarketFeed | None = None
        self.trading: TradingService | None = None
        self.rest: RestStats | None = None
        """The session's count of 429s and REST latency (every caller, one place)."""
        self.reach: Reachability | None = None
        self.note = "starting…"
        self.now: Callable[[], float] | None = None
        """Clock for the message age; None uses the feed's own (monotonic) clock."""

    def on_mount(self) -> None:
        self.add_class(f"-{self.env}")
        self.set_interval(1 / REFRESH_HZ, self.redraw)
        self.redraw()

    def redraw(self) -> None:
        text = Text()
        text.append(f" {self.env.upper()} ", style="bold reverse")
        hub, feed = self.hub, self.feed
        reach = self.reach
        if reach is not None and reach.down:
            text.append("  ")
            text.append(f" {reach.describe()} ", style="bold reverse")
        if hub is None or feed is None:
            if reach is None or not reach.down:
                text.append(f"  {self.note}")
            self.update(text, layout=False)  # one line, fixed height: no layout pass
            return
        connection = hub.connection.value
        text.append(f"  ws {connection}", style="" if connection == "connected" else "bold")
        text.append("  ")
        if feed.stale:
            text.append(f" {feed.market.name} STALE ", style="bold reverse")
            if feed.stale_reason:
                text.append(f" {feed.stale_reason}", style="bold")
        else:
            text.append(f"{feed.market.name} live")
        if feed.tape_stale:
            text.append("  tape STALE", style="bold")
        rest = self.rest or RestStats()
        # What needs the trader's eye comes before the figures: on a narrow terminal the end
        # of the line is what gets cut.
        if rest.rate_limited:
            text.append(f"  429s {rest.rate_limited}", style="bold")
        trading = self.trading
        if trading is not None:
            if not trading.private_connected:
                text.append("  orders stream down", style="bold")
            if trading.gate_reason:
                text.append(" ORDERS RECONCILING ", style="bold reverse")
        if self.note:
            text.append(f"  {self.note}")
        health = feed.health
        age = health.message_age(self.now() if self.now is not None else None)
        market, orders = _p50_p95(rest.market_data), _p50_p95(rest.trading)
        if self.size.width >= 120:
            text.append(
                f"  msg {_age(age)}  REST p50/p95 market {market} orders {orders}"
                f"  reconnects {health.reconnects}  resyncs {health.resyncs}"
            )
        else:  # 80 columns: the same figures, shorter labels
            text.append(
                f" msg {_age(age)} REST mkt {market} ord {orders}"
                f" reconn {health.reconnects} resync {health.resyncs}"
            )
        self.update(text, layout=False)  # one line, fixed height: no layout pass
