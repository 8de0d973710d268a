"""The account's balances and trading fees, as the balances pane and the ticket read them.

Balances (``account_balances``, reference 4.1) are fetched at start and again whenever one
of our orders or the private stream says money may have moved. Those prompts come in bursts
(a market order that sweeps five levels sends a dozen events), so refreshes are throttled:
at most one request per ``min_interval_s``, and a prompt that arrives while one is in
flight or too soon after one is served by a single trailing request, so the last change is
never missed and no burst turns into a polling storm.

Fees (``fees/trading``, reference 4.2) are per market, in percent, and change rarely: fetched
once at start (retried with backoff if that fails).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal

from ..bitstamp.errors import BitstampError
from ..bitstamp.rest import RestClient
from ..domain.account import Balance, TradingFee

__all__ = ["AccountBook"]

_log = logging.getLogger("workstation.services.balances")


class AccountBook:
    """Balances by upper-case currency and fees by market, for one environment.

    Args:
        rest: the environment's REST client.
        on_change: called after a refresh that changed the balances.
        on_error: called with a short, secret-free text when a request failed.
        min_interval_s: the throttle: at most one balances request per this many seconds.
        clock, sleep: injected by tests.
    """

    def __init__(
        self,
        rest: RestClient,
        *,
        on_change: Callable[[], None] | None = None,
        on_error: Callable[[str], None] | None = None,
        min_interval_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.rest = rest
        self._on_change = on_change
        self._on_error = on_error
        self.min_interval_s = min_interval_s
        self._clock = clock
        self._sleep = sleep
        self._balances: dict[str, Balance] = {}
        self._fees: dict[str, TradingFee] = {}
        self._dirty = False
        self._last_request: float | None = None
        self._worker: asyncio.Task[None] | None = None
        self._fee_task: asyncio.Task[None] | None = None
        self._closed = False
        self.requests = 0
        """Balances requests sent (for the status line and tests)."""

    # -- reads ----------------------------------------------------------------------------

    @property
    def balances(self) -> dict[str, Balance]:
        """The latest balances by upper-case currency. A new dict after every change, never
        mutated: a caller may keep it as a snapshot."""
        return self._balances

    @property
    def fees(self) -> dict[str, TradingFee]:
        return self._fees

    def fee_percent(self, market: str, *, maker: bool = False) -> Decimal | None:
        """The account's taker (or maker) fee on ``market`` in percent; None until known."""
        fee = self._fees.get(market)
        if fee is None:
            return None
        return fee.maker_percent if maker else fee.taker_percent

    # -- balances -------------------------------------------------------------------------

    def request_refresh(self) -> None:
        """Ask for fresh balances: now if the throttle allows, else once it does."""
        if self._closed:
            return
        self._dirty = True
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._run(), name="balances-refresh")

    async def refresh(self) -> None:
        """Fresh balances, awaited (still throttled: it may wait up to ``min_interval_s``)."""
        self.request_refresh()
        if (worker := self._worker) is not None:
            await asyncio.shield(worker)

    async def _run(self) -> None:
        while self._dirty:
            if self._last_request is not None:
                wait = self._last_request + self.min_interval_s - self._clock()
                if wait > 0:
                    await self._sleep(wait)
            self._dirty = False
            self._last_request = self._clock()
            await self._fetch()

    async def _fetch(self) -> None:
        self.requests += 1
        try:
            rows = await self.rest.account_balances()
        except BitstampError as error:
            self._error(f"balances: {error.message}")
            return
        except Exception as error:  # noqa: BLE001 - a background refresh must not die silently
            _log.exception("balances refresh")
            self._error(f"balances: {type(error).__name__}: {error}")
            return
        balances = {b.currency.upper(): b for b in rows}
        if balances != self._balances:
            self._balances = balances
            if self._on_change is not None:
                self._on_change()

    # -- fees -----------------------------------------------------------------------------

    async def load_fees(self, *, retry_s: float = 2.0, cap_s: float = 60.0) -> bool:
        """Fetch every market's fee once. On failure, report it and keep trying in the
        background (``retry_s`` doubling up to ``cap_s``); returns whether they are known."""
        if await self._fetch_fees():
            return True
        if self._fee_task is None or self._fee_task.done():
            self._fee_task = asyncio.create_task(self._retry_fees(retry_s, cap_s), name="fees")
        return False

    async def _fetch_fees(self) -> bool:
        try:
            fees = await self.rest.trading_fees()
        except BitstampError as error:
            self._error(f"trading fees: {error.message}")
            return False
        except Exception as error:  # noqa: BLE001 - reported, retried
            _log.exception("trading fees")
            self._error(f"trading fees: {type(error).__name__}: {error}")
            return False
        self._fees = {f.market: f for f in fees}
        return True

    async def _retry_fees(self, delay: float, cap_s: float) -> None:
        while True:
            await self._sleep(delay)
            if await self._fetch_fees():
                if self._on_change is not None:
                    self._on_change()
                return
            delay = min(delay * 2, cap_s)

    # -- lifecycle ------------------------------------------------------------------------

    async def close(self) -> None:
        """Stop the trailing refresh and the fee retries; idempotent."""
        self._closed = True
        tasks = [t for t in (self._worker, self._fee_task) if t is not None]
        self._worker = self._fee_task = None
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def _error(self, text: str) -> None:
        _log.warning("%s", text)
        if self._on_error is not None:
            self._on_error(text)
