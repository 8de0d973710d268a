"""The faults armed when the simulator starts: what the ``workstation sim --fault-*`` flags ask
for, as one value. ``SimServer.arm`` arms a plan (``Faults.apply`` the per-request parts, the
server its timers); :meth:`FaultPlan.describe` is what the startup banner says about it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .chaos import MINUTE_S, chaos_minute
from .faults import HTML_ERROR_STATUS, JSON_ERROR_STATUS, ORDER_PREFIXES, WRONG_SHAPE_BODY

__all__ = ["FaultPlan"]


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """Faults armed when the simulator starts. Counts of 0 and periods of None are off.

    Every-Nth faults count from when they are armed, each on its own counter; the order in
    which they win when two fall on the same request is in :mod:`workstation.sim.faults`.
    """

    delay_ms: int = 0
    """Delay every REST response by this much."""
    rate_limit_every: int = 0
    """Answer every Nth REST request with 429."""
    rate_limit_retry_after_s: float | None = 1.0
    """The Retry-After of those periodic 429s; None sends them without the header."""
    server_error_every: int = 0
    """Answer every Nth REST request with a JSON error, HTTP 500."""
    html_error_every: int = 0
    """Answer every Nth REST request with a CDN-style HTML error page, HTTP 502."""
    hang_orders_every: int = 0
    """Place every Nth submitted order and never answer the request."""
    drop_orders_every: int = 0
    """Place every Nth submitted order, then close the connection without a reply."""
    wrong_shape_every: int = 0
    """Carry out every Nth request under ``wrong_shape_paths``, then answer it with valid JSON
    of the wrong shape."""
    wrong_shape_paths: tuple[str, ...] = ORDER_PREFIXES
    """Path prefixes the wrong-shape fault counts (default: order submissions)."""
    clock_skew_ms: int = 0
    """Server clock offset (Date header, auth timestamp window)."""
    drop_ws_every_s: float | None = None
    """Abruptly close every WebSocket this often."""
    reconnect_every_s: float | None = None
    """Send ``bts:request_reconnect`` to every WebSocket this often."""
    stall_channels: tuple[str, ...] = ()
    """Channels whose frames are withheld (``"*"``: every channel)."""
    stall_period_s: float | None = None
    """None: the stalls last for good. Else they are intermittent: the channels flow for this
    long, then are stalled for this long, and so on."""
    malformed_every_s: float | None = None
    """This often, corrupt the next frame of every channel that has subscribers."""
    drop_diffs_every: int = 0
    """Silently skip every Nth ``diff_order_book`` frame of each channel."""
    net_cut_s: float | None = None
    """How long each net cut lasts: connections refused, open ones aborted (both this and
    ``net_cut_every_s``, or neither)."""
    net_cut_every_s: float | None = None
    """How long the network stays up before each net cut (the first comes after this)."""
    chaos_seed: int | None = None
    """Play the chaos minute of this seed (:mod:`workstation.sim.chaos`) over and over."""

    def describe(self) -> list[str]:
        """One short phrase per armed fault, for the startup banner."""
        parts = []
        if self.delay_ms:
            parts.append(f"REST replies delayed {self.delay_ms} ms")
        if self.rate_limit_every:
            after = self.rate_limit_retry_after_s
            header = "no Retry-After" if after is None else f"Retry-After {after:g} s"
            parts.append(f"one REST request in {self.rate_limit_every} answered 429 ({header})")
        if self.server_error_every:
            parts.append(
                f"one REST request in {self.server_error_every} answered "
                f"{JSON_ERROR_STATUS} (JSON error)"
            )
        if self.html_error_every:
            parts.append(
                f"one REST request in {self.html_error_every} answered "
                f"{HTML_ERROR_STATUS} (HTML error page)"
            )
        if self.hang_orders_every:
            parts.append(
                f"one order submission in {self.hang_orders_every} placed but never answered"
            )
        if self.drop_orders_every:
            parts.append(
                f"one order submission in {self.drop_orders_every} placed, "
                "then its connection dropped"
            )
        if self.wrong_shape_every:
            where = ", ".join(self.wrong_shape_paths)
            parts.append(
                f"one request in {self.wrong_shape_every} under {where} carried out, "
                f"then answered 200 {WRONG_SHAPE_BODY}"
            )
        if self.clock_skew_ms:
            parts.append(f"clock skewed {self.clock_skew_ms:+d} ms")
        if self.drop_ws_every_s:
            parts.append(f"WebSockets dropped every {self.drop_ws_every_s:g} s")
        if self.reconnect_every_s:
            parts.append(f"bts:request_reconnect every {self.reconnect_every_s:g} s")
        if self.stall_channels:
            parts.append(self._describe_stall())
        if self.malformed_every_s:
            parts.append(
                f"next frame of every subscribed channel malformed every "
                f"{self.malformed_every_s:g} s"
            )
        if self.drop_diffs_every:
            parts.append(
                f"one diff_order_book frame in {self.drop_diffs_every} dropped (per channel)"
            )
        if self.net_cut_s and self.net_cut_every_s:
            parts.append(
                f"network cut for {self.net_cut_s:g} s after every {self.net_cut_every_s:g} s "
                "up (connections refused, open ones dropped)"
            )
        if self.chaos_seed is not None:
            parts.append(
                f"the chaos minute of seed {self.chaos_seed} ({MINUTE_S:g} s), over and over:"
            )
            parts.extend(step.describe() for step in chaos_minute(self.chaos_seed))
        return parts

    def _describe_stall(self) -> str:
        channels = sorted(set(self.stall_channels))
        what = "every channel" if "*" in channels else ", ".join(channels)
        period = self.stall_period_s
        if period is None:
            return f"frames of {what} withheld"
        return f"frames of {what} withheld for {period:g} s in every {2 * period:g} s"
