"""The status bar: which environment, whether the data is live, and how fresh it is.

Environment badge first (SIM / SANDBOX / LIVE, LIVE in the loudest style), then the stream's
connection state, the pair's feed state (STALE unmistakably, in reverse video), the age of
the last message, REST latency p50/p95, reconnects, resyncs and 429s. Refreshed a few times a
second from the service's numbers; it never waits on the network.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

from ..services.feed import MarketFeed
from ..services.hub import MarketHub

if TYPE_CHECKING:
    from ..services.reachability import Reachability
    from ..services.trading import TradingService

__all__ = ["StatusBar"]

REFRESH_HZ = 4.0


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.0f} ms"


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
        health = feed.health
        age = health.message_age(self.now() if self.now is not None else None)
        latency = health.rest_latency
        p50, p95 = _ms(latency.percentile(50)), _ms(latency.percentile(95))
        if self.size.width >= 100:
            text.append(
                f"  msg {_age(age)}  REST p50 {p50} p95 {p95}"
                f"  reconnects {health.reconnects}  resyncs {health.resyncs}"
            )
        else:  # 80 columns: the same figures, shorter labels
            text.append(
                f" msg {_age(age)} REST {p50}/{p95}"
                f" reconn {health.reconnects} resync {health.resyncs}"
            )
        if health.rate_limited:
            text.append(f"  429s {health.rate_limited}", style="bold")
        trading = self.trading
        if trading is not None:
            if not trading.private_connected:
                text.append("  orders stream down", style="bold")
            if trading.gate_reason:
                text.append(" ORDERS RECONCILING ", style="bold reverse")
        if self.note:
            text.append(f"  {self.note}")
        self.update(text, layout=False)  # one line, fixed height: no layout pass
