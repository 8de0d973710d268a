"""The status bar: which environment, whether the data is live, and how fresh it is.

Environment badge first (SIM / SANDBOX / LIVE, LIVE in the loudest style; WATCH ONLY beside it
when the venue has no keys; "keys from environment" when the key pair came from
BITSTAMP_API_KEY/SECRET), then the stream's connection state, the pair's feed state (STALE
unmistakably, in reverse video), where market data comes from when it is another
environment's and how our orders are followed when not by a private stream, the age of the
last message, REST latency p50/p95 of market data and of trading calls apart, reconnects,
resyncs, and every 429 and every 5xx answer (a JSON error or a CDN's HTML page) the venue gave
any caller of the session (the session's one count). Redrawn a few times a second (once in
low-bandwidth mode) from the services' health and market views; it never waits on the
network. Ages are in whole seconds and only the cells that changed are repainted: an idle
line writes a digit a second.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.text import Text
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from ...services.facade import Services
from ...services.refusals import KILL_REASON
from ...services.views import Latency, StreamState
from ..drawn_lines import changed_span

__all__ = ["StatusBar"]

REFRESH_HZ = 4.0
HINT_S = 30.0
"""How long the status bar says that the low-bandwidth mode exists (once, over SSH)."""
LOW_BANDWIDTH_HINT = "over SSH? --low-bandwidth draws less"


def _p50_p95(latency: Latency | None) -> str:
    """``12/30 ms``, or ``-`` before the first answer."""
    if latency is None:
        return "-"
    return f"{latency.p50 * 1000:.0f}/{latency.p95 * 1000:.0f} ms"


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{int(seconds)} s" if seconds < 60 else f"{seconds / 60:.0f} min"


class StatusBar(Widget):
    """One line, read from the services' health view and the shown pair's market view."""

    def __init__(
        self,
        services: Services,
        *,
        refresh_hz: float = REFRESH_HZ,
        id: str | None = None,  # noqa: A002
    ) -> None:
        super().__init__(id=id)
        self.services = services
        self.refresh_hz = refresh_hz
        """Redraws a second (only what changed reaches the terminal)."""
        self._text = Text()
        self._strip: Strip | None = None
        """``_text`` as rendered (None: not yet)."""
        self.hint: str | None = None
        """Said until ``hint_until`` (``now``'s clock), then never again this run."""
        self.hint_until = 0.0
        self.symbol: str | None = None
        """The pair shown."""
        self.note: str | None = None
        """Said instead of the services' own note (``could not connect: ...``)."""
        self.now: Callable[[], float] = time.monotonic
        """Clock for the message age (frozen in snapshot tests)."""

    def on_mount(self) -> None:
        self.add_class(f"-{self.services.env}")
        self.set_interval(1 / self.refresh_hz, self.redraw)
        self.redraw()

    def show_hint(self, text: str, seconds: float = HINT_S) -> None:
        """Say ``text`` for ``seconds``, then drop it for good."""
        self.hint, self.hint_until = text, self.now() + seconds
        self.redraw()

    def render(self) -> Text:
        return self._text

    def update(self, text: Text, *, layout: bool = False) -> None:
        """Show ``text``, repainting only the cells where it differs from the last (an
        unchanged line, most redraws, is not even rendered: ages are whole seconds)."""
        del layout  # one line, fixed height: never a layout pass
        if text == self._text:
            return
        if self._strip is None:
            self._strip = Strip(list(self._text.render(self.app.console, end="")))
        before, self._strip = self._strip, Strip(list(text.render(self.app.console, end="")))
        span = changed_span(before, self._strip)
        self._text = text
        if span is not None:
            start, end = span
            self.refresh(Region(start, 0, end - start, 1))

    def redraw(self) -> None:
        health = self.services.health()
        view = self.services.market(self.symbol) if self.symbol is not None else None
        note = health.note if self.note is None else self.note
        text = Text()
        text.append(f" {health.env.upper()} ", style="bold reverse")
        if health.watch_only:
            text.append(" WATCH ONLY ", style="bold reverse yellow")
        if health.keys_from_environment:
            text.append("  keys from environment", style="bold")
        if health.reach_down:
            text.append("  ")
            text.append(f" {health.reach_text} ", style="bold reverse")
        if health.connection is None or view is None:
            if not health.reach_down:
                text.append(f"  {note}")
            self.update(text, layout=False)  # one line, fixed height: no layout pass
            return
        connection = health.connection.value
        connected = health.connection is StreamState.CONNECTED
        text.append(f"  ws {connection}", style="" if connected else "bold")
        text.append("  ")
        if view.stale:
            text.append(f" {view.market.name} STALE ", style="bold reverse")
            if view.stale_reason:
                text.append(f" {view.stale_reason}", style="bold")
        else:
            text.append(f"{view.market.name} live")
        if view.tape_stale:
            text.append("  tape STALE", style="bold")
        # What needs the trader's eye comes before the figures: on a narrow terminal the end
        # of the line is what gets cut.
        if health.rate_limited:
            text.append(f"  429s {health.rate_limited}", style="bold")
        if health.server_errors:
            text.append(f"  5xx {health.server_errors}", style="bold")
        if health.market_from:
            text.append(f"  market data {health.market_from.upper()}", style="bold")
        if health.trading:
            if health.orders_polled:
                text.append("  orders by REST")
            elif not health.private_connected:
                text.append("  orders stream down", style="bold")
            if health.gate_reason == KILL_REASON:
                text.append(" KILL SWITCH: NEW ORDERS REFUSED ", style="bold reverse")
            elif health.gate_reason:
                text.append(" ORDERS RECONCILING ", style="bold reverse")
        if self.hint is not None and self.now() >= self.hint_until:
            self.hint = None
        if self.hint is not None:
            text.append(f"  {self.hint}", style="bold")
        if note:
            text.append(f"  {note}")
        age = view.message_age(self.now())
        market, orders = _p50_p95(health.rest_market), _p50_p95(health.rest_trading)
        if self.size.width >= 120:
            text.append(
                f"  msg {_age(age)}  REST p50/p95 market {market} orders {orders}"
                f"  reconnects {view.reconnects}  resyncs {view.resyncs}"
            )
        else:  # 80 columns: the same figures, shorter labels
            text.append(
                f" msg {_age(age)} REST mkt {market} ord {orders}"
                f" reconn {view.reconnects} resync {view.resyncs}"
            )
        self.update(text, layout=False)  # one line, fixed height: no layout pass
