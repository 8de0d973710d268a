"""One venue's services behind one object: what the UI may do and what it may read.

:class:`VenueServices` builds and owns everything of one environment: the embedded simulator
when no venue is given, the :class:`~.session.Session` (one REST client), the market hub, and
when the venue has keys the order journal, the trading service and the balances' valuation.
The UI types against :class:`Services`, which a test can implement with domain values alone
(no sockets).

- Commands (``async``): ``open``/``close``, ``watch``/``unwatch``, ``submit``, ``amend``,
  ``cancel``, ``cancel_all``, ``kill``, ``book_by_order``. A refused command raises one of
  :mod:`.refusals` (``SubmitsBlocked``, ``CancelFailed``, ...), for the UI to tell the trader.
- Views (plain calls): :meth:`market`, :meth:`health`, :meth:`account` (:mod:`.views`).
  Building a view never does I/O and never changes state.
- Events: one listener (:meth:`listen`) gets typed values (:mod:`.events`): the hub's and
  the trading service's as they are, and the facade's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..bitstamp.reststats import LatencyWindow, RestStats
from ..bitstamp.transport import warm_up
from ..domain.guards import DEFAULT_LIMITS, Breach, Guard, GuardLimits, breaches, mid_of
from ..domain.market_data import BookSnapshot
from ..domain.markets import Market
from ..domain.order_vocabulary import OrderKind
from ..domain.tracked_order import CancelReport, TrackedOrder
from .app_dirs import default_journal_path
from .events import (
    FeedStateChanged,
    MarketsOpened,
    PricesChanged,
    ServiceEvent,
    TradingOpened,
    TradingUnavailable,
)
from .feed import FeedState
from .hub import MarketHub
from .keys import KEYS_FROM_ENVIRONMENT
from .markets_cache import MarketsCache, default_markets_cache_path
from .refusals import GuardRefused
from .session import Session
from .venue import EmbeddedSim, Venue
from .views import AccountView, HealthView, Latency, MarketView, StreamState

if TYPE_CHECKING:
    from ..domain.order_request import OrderRequest
    from .journal import Journal
    from .trading import TradingService
    from .valuation import Valuation

# The journal (with sqlite3), the trading service and the valuation are imported when trading
# opens, once the first book is live: a start's path to that book does not need them.

__all__ = ["Services", "VenueServices"]

_log = logging.getLogger("workstation.services.facade")

Listener = Callable[[ServiceEvent], None]

BOOK_FIRST_S = 1.0
"""Trading opens once a watched pair's book is live, or after this many seconds of waiting.

At a cold start the account's first reads (fees, balances, open orders, the stream token),
their replies and the panes they fill cost the event loop 0.1-0.15 s, measured: done before
the book's snapshot is in, they stood between the trader and the first book. After it, the
account panes fill a moment later. The wait is bounded so a market that cannot sync (a stream
refused, a stalled snapshot) never keeps the account, and the kill switch, away."""

BOOK_PAINT_S = 0.05
"""Once the book is live, trading waits this long more: the UI's redraw of that book (at most
1/40 s away, its paint a few ms) runs first, not after the trading side's imports, the
journal's opening and the account's first requests (~10 ms of the loop, measured)."""


class Services(Protocol):
    """What the UI asks of one venue's services (see the module docstring)."""

    @property
    def env(self) -> str:
        """``sim``, ``sandbox`` or ``live`` (``sim`` until an embedded simulator runs)."""
        ...

    @property
    def markets(self) -> Mapping[str, Market]:
        """The venue's markets by symbol; empty until :meth:`open` loaded them."""
        ...

    @property
    def guards(self) -> GuardLimits:
        """The guards of this environment (what :meth:`submit` refuses orders outside of)."""
        ...

    def listen(self, listener: Listener) -> None: ...
    def on_market_moved(self, moved: Callable[[str], None]) -> None: ...
    def book_shown(self) -> None:
        """The screen drew the first book: the services' REST may go (see
        :meth:`VenueServices.book_shown`)."""
        ...

    async def open(self, pairs: Sequence[str]) -> None: ...
    async def close(self) -> None: ...
    async def watch(self, symbol: str) -> bool: ...
    async def unwatch(self, symbol: str) -> None: ...
    def value_in(self, quote: str) -> None: ...
    async def submit(
        self,
        request: OrderRequest,
        *,
        preview: dict[str, Any] | None = None,
        accepted: frozenset[Guard] = frozenset(),
    ) -> TrackedOrder: ...
    async def amend(
        self,
        client_order_id: str,
        *,
        price: Decimal | None,
        amount: Decimal | None,
        accepted: frozenset[Guard] = frozenset(),
    ) -> TrackedOrder: ...
    async def cancel(self, client_order_id: str) -> TrackedOrder: ...
    async def cancel_all(self, market: str | None) -> CancelReport: ...
    async def kill(self) -> CancelReport: ...
    async def book_by_order(self, symbol: str) -> BookSnapshot | None: ...
    def market(self, symbol: str) -> MarketView | None: ...
    def health(self) -> HealthView: ...
    def account(self, quote: str) -> AccountView | None: ...


class VenueServices:
    """The real services of ``venue`` (None: an embedded simulator started by :meth:`open`).

    Args:
        venue: where to connect; None starts ``workstation sim`` in a child process.
        seed: the embedded simulator's seed.
        journal_path: the order journal (default: the user's data folder).
        guards: each environment's guards (default: the built-in ones); the venue's apply.
        embedded: the simulator to use when ``venue`` is None, already spawned by the caller
            (the CLI starts it before loading the UI: see :meth:`EmbeddedSim.spawn`); None:
            one is started by :meth:`open`. Either way these services stop it.
    """

    def __init__(
        self,
        venue: Venue | None = None,
        *,
        seed: int | None = None,
        journal_path: Path | None = None,
        guards: Mapping[str, GuardLimits] = DEFAULT_LIMITS,
        embedded: EmbeddedSim | None = None,
        markets_cache: MarketsCache | None = None,
    ) -> None:
        self.venue = venue
        self._embedded = embedded
        self._guards = guards
        self._env = venue.env if venue else "sim"
        self._watch_only = venue is not None and not venue.has_credentials
        """A venue without keys is watched: market data only, nothing signed."""
        self._seed = seed
        self._journal_path = journal_path
        self._markets_cache = markets_cache or MarketsCache(default_markets_cache_path())
        self._listener: Listener | None = None
        self._moved: Callable[[str], None] | None = None
        self.note = "starting…"
        """What the services are doing while there is no market yet."""
        self.session: Session | None = None
        self.hub: MarketHub | None = None
        self.journal: Journal | None = None
        self.trading: TradingService | None = None
        self.valuation: Valuation | None = None
        self.rest_stats: RestStats | None = None
        """The figures the health view reports (the session's; a test may hand still ones)."""
        self._markets: dict[str, Market] = {}
        self._watched: list[str] = []
        self._book_live = asyncio.Event()
        """Set when a watched pair's book first goes live (trading waits for it)."""
        self._quote: str | None = None
        self._stack = contextlib.AsyncExitStack()
        self._opening: asyncio.Task[Any] | None = None
        self._pricer: asyncio.Task[None] | None = None
        self._warming: asyncio.Future[None] | None = None
        """The HTTP client's imports in a worker thread (an embedded simulator's start)."""

    @property
    def env(self) -> str:
        return self._env

    @property
    def markets(self) -> Mapping[str, Market]:
        return self._markets

    @property
    def guards(self) -> GuardLimits:
        return self._guards[self._env]

    def listen(self, listener: Listener) -> None:
        """Tell ``listener`` every change from now on (called on the event loop)."""
        self._listener = listener

    def on_market_moved(self, moved: Callable[[str], None]) -> None:
        """Call ``moved(symbol)`` (on the event loop) each time a frame changes a watched
        pair's book or tape: per frame, so the UI can redraw at once and cap the rate itself;
        not an event (the listener's are few, and every one is a message)."""
        self._moved = moved

    def book_shown(self) -> None:
        """The screen drew the first book. A start from the cached markets holds the market
        data's REST until then (the HTTP client's imports and the snapshot's parse are CPU
        the first book would wait for): it goes now. Harmless at any other time."""
        if self.hub is not None:
            self.hub.release_rest()

    # -- lifecycle ----------------------------------------------------------------------------

    async def open(self, pairs: Sequence[str]) -> None:
        """Start the simulator (no venue), the session and the market hub, watch ``pairs``
        (those the venue has: :class:`MarketsOpened`), then, when the venue has keys, the
        journal, trading and valuation (a failure there is :class:`TradingUnavailable`: the
        market stays on). While the venue cannot be reached the markets are asked again
        (``Session.open_market_hub``); any other failure is raised, after undoing what was
        started. :meth:`close` cancels an open still on its way."""
        self._opening = asyncio.current_task()
        try:
            await self._open(pairs)
        except asyncio.CancelledError:
            raise
        except Exception:
            await self._stack.aclose()
            raise
        finally:
            self._opening = None

    async def _open(self, pairs: Sequence[str]) -> None:
        if self.venue is None:
            self.note = "starting the simulator…"
            journal = self._journal_path or default_journal_path()
            sim = self._embedded or EmbeddedSim(seed=self._seed, journal_path=journal)
            # pay the HTTP client's imports while the simulator starts, in a worker thread;
            # not waited for: a start from the cached markets needs them only after its first
            # book, and a first request before they are in waits on the import lock alone
            self._warming = asyncio.ensure_future(asyncio.to_thread(_warm_up_http))
            venue = await self._stack.enter_async_context(sim)
        else:
            venue = self.venue
        self._env = venue.env
        session = self.session = await self._stack.enter_async_context(
            Session(venue, markets_cache=self._markets_cache)
        )
        self.rest_stats = session.rest_stats
        self.note = f"connecting to {venue.rest_url}"
        hub = self.hub = await session.open_market_hub(self._emit, pairs)
        hub.moved = self._moved
        self._markets = session.markets
        self.note = ""
        for symbol in pairs:
            if symbol in self._markets:
                await hub.watch(symbol)
                self._watched.append(symbol)
        if self._quote is None and self._watched:
            self._quote = self._markets[self._watched[0]].quote
        self._emit(MarketsOpened(tuple(self._watched)))
        if venue.has_credentials:
            await self._book_first()
            try:
                await session.venue_markets()  # orders are checked against the venue's rules
                await self._open_trading(session, venue, hub)
            except Exception as exc:  # noqa: BLE001 - the market stays on screen without it
                _log.warning("trading unavailable: %s", exc)
                self._emit(TradingUnavailable(str(exc)))

    async def _book_first(self) -> None:
        """Wait until a watched pair's book is live and drawn (:data:`BOOK_PAINT_S`), at most
        :data:`BOOK_FIRST_S`."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(BOOK_FIRST_S):
                await self._book_live.wait()
                await asyncio.sleep(BOOK_PAINT_S)

    async def _open_trading(self, session: Session, venue: Venue, hub: MarketHub) -> None:
        """Journal, order tracker, private stream, balances: after the market is on."""
        from .journal import Journal
        from .trading import TradingService
        from .valuation import Valuation

        path = self._journal_path or default_journal_path()
        self.journal = Journal(path)  # it makes its folder, owner-only
        trading = self.trading = TradingService(
            session.rest,
            venue.ws_url if venue.orders_stream else None,  # None: orders followed by REST
            self.journal,
            venue.journal_env,
            self._markets,
            listener=self._emit,
        )
        await trading.start()
        for symbol in list(self._watched):
            await trading.watch(symbol)
        self.valuation = Valuation(
            self._markets,
            hub.feeds,
            session.ticker,
            lambda: trading.balances,
            on_change=lambda: self._emit(PricesChanged()),
        )
        self.valuation.quote = self._quote
        self._emit(TradingOpened())
        self._pricer = asyncio.create_task(self.valuation.run(), name="valuation")
        self._pricer.add_done_callback(_report_end)

    async def close(self) -> None:
        """Stop everything, in order: the valuation, trading, the market streams; then an
        open still on its way (its request in flight ends while the REST client can still
        close its connection); then the session's REST client and the simulator; last the
        journal. Safe to call whatever :meth:`open` got to."""
        if self._pricer is not None:
            self._pricer.cancel()
            await asyncio.wait({self._pricer})
        if self.trading is not None:
            await _logged(self.trading.close(), "closing trading")
        if self.session is not None:
            await _logged(self.session.close_streams(), "closing the market streams")
        opening = self._opening
        if opening is not None and not opening.done():
            opening.cancel()
            await asyncio.wait({opening}, timeout=5)
        await _logged(self._stack.aclose(), "closing the session and the simulator")
        if self._embedded is not None:  # spawned for us but never entered: stop it too
            await _logged(self._embedded.stop(), "stopping the simulator")
        if self.session is not None:
            await _logged(self.session.close(), "closing the session")
        if self.journal is not None:
            self.journal.close()
        if self._warming is not None:  # its thread ends by itself; nothing is left running
            await asyncio.wait({self._warming})

    # -- commands -------------------------------------------------------------------------------

    async def watch(self, symbol: str) -> bool:
        """Follow ``symbol``'s market (and our orders on it); False if there is no such pair
        (or no market data yet)."""
        hub = self.hub
        if hub is None or symbol not in self._markets:
            return False
        await hub.watch(symbol)
        if symbol not in self._watched:
            self._watched.append(symbol)
        if self.trading is not None:
            await self.trading.watch(symbol)
        return True

    async def unwatch(self, symbol: str) -> None:
        if symbol in self._watched:
            self._watched.remove(symbol)
        if self.hub is not None:
            await self.hub.unwatch(symbol)

    def value_in(self, quote: str) -> None:
        """Value the balances in ``quote`` from now on (the quote of the pair shown)."""
        self._quote = quote
        if self.valuation is not None:
            self.valuation.quote = quote

    async def submit(
        self,
        request: OrderRequest,
        *,
        preview: dict[str, Any] | None = None,
        accepted: frozenset[Guard] = frozenset(),
    ) -> TrackedOrder:
        """Send ``request`` unless it is outside a guard of this environment, checked here
        on the live book as it is now (the ticket is not the only gate). Outside LIVE any
        breach refuses it; on LIVE a breach passes only when its guard is in ``accepted``
        (the trader's explicit extra confirmation), and is then journaled with the order.

        Raises:
            GuardRefused: before anything is journaled or sent.
        """
        trading = self._trading()
        if found := self._guarded(request, accepted):
            preview = {**(preview or {}), "guards_overridden": _names(found)}
        return await trading.submit(request, preview=preview)

    def _guarded(self, request: OrderRequest, accepted: frozenset[Guard]) -> tuple[Breach, ...]:
        """The breaches of ``request`` the trader accepted on LIVE (logged); raises
        :class:`GuardRefused` for any other."""
        found = self.guard_breaches(request)
        if not found:
            return ()
        text = "; ".join(str(b) for b in found)
        if self._env != "live" or not {b.guard for b in found} <= accepted:
            _log.warning("refused by a guard: %s", text)
            raise GuardRefused(found, env=self._env)
        _log.warning("sent outside a guard, accepted on live: %s", text)
        return found

    def guard_breaches(self, request: OrderRequest) -> tuple[Breach, ...]:
        """The guards ``request`` is outside of on the live book now (no I/O)."""
        market = self._markets.get(request.market)
        if market is None:
            raise ValueError(f"no market {request.market!r} on this venue")
        view = self.market(request.market)
        book = None if view is None or view.stale else view.book
        mid = mid_of(book)
        walked = None
        if book is not None and request.kind is not OrderKind.LIMIT:
            from ..domain.preview import preview_market  # not at a start: no order is checked

            amount = {"quote_amount" if request.in_quote else "amount": request.amount}
            try:
                walked = preview_market(
                    book, market, request.side, fee_percent=Decimal(0), **amount
                )
            except ValueError:
                walked = None  # an amount off the lot: the exchange refuses it anyway
        return breaches(request, market, mid=mid, preview=walked, limits=self.guards)

    async def amend(
        self,
        client_order_id: str,
        *,
        price: Decimal | None,
        amount: Decimal | None,
        accepted: frozenset[Guard] = frozenset(),
    ) -> TrackedOrder:
        """Replace a resting limit order, unless its new terms are outside a guard (as for
        :meth:`submit`: the amended order is a new order at the exchange)."""
        trading = self._trading()
        old = trading.tracker.get(client_order_id)
        new_price = price if price is not None else old.price
        new_amount = amount if amount is not None else old.remaining
        if old.kind is OrderKind.LIMIT and new_price and new_price > 0 and new_amount > 0:
            from ..domain.order_request import OrderRequest

            terms = OrderRequest(old.market, old.side, OrderKind.LIMIT, new_amount, new_price)
            self._guarded(terms, accepted)
        return await trading.amend(client_order_id, price=price, amount=amount)

    async def cancel(self, client_order_id: str) -> TrackedOrder:
        return await self._trading().cancel(client_order_id)

    async def cancel_all(self, market: str | None) -> CancelReport:
        return await self._trading().cancel_all(market)

    async def kill(self) -> CancelReport:
        """The kill switch (``TradingService.kill``): every open order on every pair, and
        the submits on their way; new orders and amends refused until it has ended."""
        return await self._trading().kill()

    async def book_by_order(self, symbol: str) -> BookSnapshot | None:
        """The book order by order, for a preview with the exchange's exact fees; None
        when it cannot be had right now."""
        session = self.session
        return None if session is None else await session.book_by_order(symbol)

    def _trading(self) -> TradingService:
        if self.trading is None:
            if self._watch_only:
                raise RuntimeError(f"watch only: no API keys; add them with {self._add_keys()}")
            raise RuntimeError("trading is unavailable for this environment")
        return self.trading

    def _add_keys(self) -> str:
        """How this environment gets keys: the keyring for Bitstamp's, the environment
        variables for an attached simulator."""
        if self._env in ("sandbox", "live"):
            return f"`workstation keys set --env {self._env}`"
        return "BITSTAMP_API_KEY and BITSTAMP_API_SECRET set for `workstation --sim-url`"

    # -- views ----------------------------------------------------------------------------------

    def market(self, symbol: str) -> MarketView | None:
        """The watched pair ``symbol`` now; None when it is not watched."""
        feed = self.hub.feeds.get(symbol) if self.hub is not None else None
        if feed is None:
            return None
        stale = feed.stale
        health = feed.health
        return MarketView(
            market=feed.market,
            book=feed.book,
            version=feed.version,
            tape=feed.tape,
            tape_version=feed.tape.version,
            ticker=feed.ticker,
            live=feed.state is FeedState.LIVE,
            stale=stale,
            stale_reason=feed.stale_reason if stale else "",
            tape_stale=feed.tape_stale,
            last_message_at=health.last_message_at,
            reconnects=health.reconnects,
            resyncs=health.resyncs,
        )

    def health(self) -> HealthView:
        hub, trading = self.hub, self.trading
        reach = self.session.reach if self.session is not None else None
        shown = reach  # the venue's host, else the market data's (another's) when it is down
        if reach is not None and self.session is not None and not reach.down:
            shown = self.session.market_reach
        stats = self.rest_stats or RestStats()
        return HealthView(
            env=self._env,
            note=self.note,
            connection=None if hub is None else StreamState(hub.connection.value),
            reach_down=shown is not None and shown.down,
            reach_text=shown.describe() if shown is not None and shown.down else "",
            reach_reason=None if reach is None else reach.reason,
            rate_limited=stats.rate_limited,
            rest_market=_latency(stats.market_data),
            rest_trading=_latency(stats.trading),
            trading=trading is not None,
            private_connected=trading is not None and trading.private_connected,
            gate_reason=None if trading is None else trading.gate_reason,
            watch_only=self._watch_only,
            add_keys=self._add_keys() if self._watch_only else "",
            orders_polled=trading is not None and trading.orders_polled,
            market_from="live" if self.venue is not None and self.venue.market_rest_url else "",
            keys_from_environment=(
                self.venue is not None and self.venue.keys_from == KEYS_FROM_ENVIRONMENT
            ),
            server_errors=stats.server_errors,
            # trading opens at the end of open() when the venue has keys (the embedded one has)
            trading_starting=self._opening is not None and trading is None and not self._watch_only,
        )

    def account(self, quote: str) -> AccountView | None:
        """Our orders and balances, valued in ``quote``; None without trading."""
        trading = self.trading
        if trading is None:
            return None
        valuation = self.valuation
        return AccountView(
            open_orders=tuple(trading.open_orders()),
            balances=trading.balances,
            taker_fees={m: fee.taker_percent for m, fee in trading.account.fees.items()},
            quote=quote,
            prices={} if valuation is None else valuation.prices(quote),
            prices_polled=valuation is not None and valuation.polled,
        )

    # -- events ---------------------------------------------------------------------------------

    def _emit(self, event: ServiceEvent) -> None:
        """Tell the listener: the hub's and the trading service's events, as they are, and
        the facade's own."""
        if isinstance(event, FeedStateChanged) and event.detail == "live":
            self._book_live.set()
        if self._listener is not None:
            self._listener(event)


def _names(found: Sequence[Breach]) -> str:
    return ", ".join(b.key for b in found)


def _latency(window: LatencyWindow) -> Latency | None:
    p50, p95 = window.percentile(50), window.percentile(95)
    return None if p50 is None or p95 is None else Latency(p50, p95)


async def _logged(step: Awaitable[object], what: str) -> None:
    """One step of a shutdown: a failure is logged and the next step still runs."""
    try:
        await step
    except Exception:  # noqa: BLE001 - the rest of the shutdown must run
        _log.exception("%s failed", what)


def _report_end(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and (error := task.exception()) is not None:
        _log.error("%s stopped: %r", task.get_name(), error)


def _warm_up_http() -> None:
    """:func:`~workstation.bitstamp.transport.warm_up`, which only saves time: a failure is
    logged, and the first request imports what it needs as it always would."""
    try:
        warm_up()
    except Exception:  # noqa: BLE001 - logged; the start goes on without it
        _log.exception("warming up the HTTP client's imports failed")
