"""One environment's connection to Bitstamp (or the simulator), shared by every service.

A session owns the single REST client of its environment (one rate budget, one nonce
source, one count of 429s and latency) and hands out domain objects. Every service of the
session (market hub, order tracker, balances, the private feed's token) calls through
``session.rest``, so they all wait on ``session.budget`` and are counted in
``session.rest_stats``, which the facade's health view reports. Widgets never see the
client: services do.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Collection

from ..bitstamp.auth import Credentials
from ..bitstamp.errors import BitstampError
from ..bitstamp.ratelimit import RateBudget
from ..bitstamp.rest import RestClient
from ..bitstamp.reststats import RestStats
from ..bitstamp.stream import StreamClient
from ..domain.market_data import BookSnapshot, Ticker
from ..domain.markets import Market
from .events import MarketDataError, MarketEvent
from .hub import MarketHub
from .markets_cache import MarketsCache
from .reachability import Reachability
from .venue import Venue

__all__ = ["Session"]

_log = logging.getLogger("workstation.services.session")


class Session:
    """``async with Session(venue) as session:`` opens the clients; leaving closes them."""

    def __init__(self, venue: Venue, *, markets_cache: MarketsCache | None = None) -> None:
        self.venue = venue
        self.markets_cache = markets_cache
        """The markets the last start saw (None: every start waits for the venue's)."""
        credentials = None
        if venue.api_key is not None and venue.api_secret is not None:
            credentials = Credentials(
                key=venue.api_key,
                secret=venue.api_secret,
                env=venue.env,
                host=venue.rest_host,
                port=venue.rest_port,  # bound to the host and port used, nothing else
            )
        self.budget = RateBudget()
        """Bitstamp's 400/s and 10,000 per 10 minutes, for every caller of this session."""
        self.rest_stats = RestStats()
        """Every 429 answered and the REST latency of every caller of this session."""
        self.rest = RestClient.for_url(
            venue.rest_url, credentials=credentials, budget=self.budget, stats=self.rest_stats
        )
        self.market_rest = self.rest
        """Where the book, tape and tickers are read: ``rest``, or for a venue whose market
        data comes from another exchange's host (sandbox without a WebSocket: live's) an
        unsigned client of that host, with that host's own budget."""
        if venue.market_rest_url is not None:
            self.market_rest = RestClient.for_url(
                venue.market_rest_url, budget=RateBudget(), stats=self.rest_stats
            )
        self.hub: MarketHub | None = None
        self.markets: dict[str, Market] = {}
        """The venue's markets by symbol (one dict for the session's life: it is updated in
        place, so every holder sees the venue's answer once it replaces the cached ones)."""
        self.markets_known = asyncio.Event()
        """Set once :attr:`markets` is the venue's own answer, not the cache's: orders wait
        for it (their rules are checked against these)."""
        self._confirming: asyncio.Task[None] | None = None
        self._markets_failed: Exception | None = None
        self.reach = Reachability(venue.rest_url)
        """Whether the venue's REST host answers: shown on the status bar, gates new orders."""
        self.market_reach = self.reach
        """Whether the market data's REST host answers (``reach`` unless it is another's)."""
        if self.market_rest is not self.rest:
            self.market_reach = Reachability(venue.market_data_from)

    async def __aenter__(self) -> Session:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close_streams(self) -> None:
        """Stop the market data service (its stream and tasks); the REST client stays open
        so requests still in flight elsewhere can end cleanly before :meth:`close`."""
        confirming, self._confirming = self._confirming, None
        if confirming is not None:
            confirming.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await confirming
        hub, self.hub = self.hub, None
        if hub is not None:
            await hub.close()

    async def close(self) -> None:
        """Close the stream and the REST client; safe to call more than once."""
        await self.close_streams()
        await self.rest.aclose()
        if self.market_rest is not self.rest:
            await self.market_rest.aclose()

    async def open_market_hub(
        self, listener: Callable[[MarketEvent], object], pairs: Collection[str] = ()
    ) -> MarketHub:
        """Start the market data service: from the markets the last start saw when they have
        every one of ``pairs`` (:meth:`_open_from_cache`), else as follows. Load the markets
        (the venue's: its rules are what orders are checked against), open the shared
        WebSocket and start the market data service. While the venue cannot
        be reached (or refuses: a 429, a 5xx, a reply that does not parse) the markets are
        asked again after a growing pause; :attr:`reach` says so.

        The WebSocket starts opening with the first ask for the markets (neither needs the
        other): a pair's subscription then leaves as soon as the markets are in, not one
        handshake later, which is a cold start's path to its first book. Its events wait in
        the stream's queue until the hub reads them. If that first ask fails (the venue is
        down or refuses), the early stream is closed: while the venue is waited for, only the
        markets are asked (a stream retrying beside them would fill its queue with failed
        connections for the hub to replay), and the hub opens a new one once they are in.
        An open that is cancelled closes it too."""
        cached = self._cached_markets(pairs)
        if cached is not None:
            return await self._open_from_cache(listener, cached)
        opening = StreamClient(self.venue.ws_url)
        opening.start()
        early: StreamClient | None = opening

        async def drop_early() -> None:
            nonlocal early
            if early is not None:
                stream, early = early, None
                await stream.close()

        async def markets() -> list[Market]:
            try:
                return await self.rest.markets()
            except BaseException:
                await drop_early()
                raise

        try:
            self._adopt(await self.reach.retry(markets))
            self.markets_known.set()
        except BaseException:
            await drop_early()
            raise
        self.hub = MarketHub(
            self.market_rest,
            early or StreamClient(self.venue.ws_url),
            self.markets,
            listener=listener,
            reach=self.market_reach,
        )
        await self.hub.start()
        return self.hub

    def _cached_markets(self, pairs: Collection[str]) -> list[Market] | None:
        if self.markets_cache is None or not pairs:
            return None
        cached = self.markets_cache.read(self.venue.env)
        if cached is None or not set(pairs) <= {m.symbol for m in cached}:
            return None  # a pair the last start did not see: the venue's answer decides
        return cached

    async def _open_from_cache(
        self, listener: Callable[[MarketEvent], object], cached: list[Market]
    ) -> MarketHub:
        """The hub starts on the markets the last start saw: the pairs subscribe at once and
        the venue's top 100 is the first book (no REST on the way). The hub's REST (the
        snapshot, the tape, the ticker) and the venue's markets wait until the first book is
        drawn (:meth:`MarketHub.release_rest`); the venue's markets then replace the cached
        ones, and a watched pair whose rules changed is subscribed afresh with them."""
        self.markets.update((m.symbol, m) for m in cached)
        hub = self.hub = MarketHub(
            self.market_rest,
            StreamClient(self.venue.ws_url),
            self.markets,
            listener=listener,
            reach=self.market_reach,
            hold_rest=True,
        )
        await hub.start()
        self._confirming = asyncio.create_task(self._confirm_markets(hub), name="markets")
        return hub

    async def _confirm_markets(self, hub: MarketHub) -> None:
        await hub.rest_released()
        try:
            fresh = await self.reach.retry(self.rest.markets)
        except Exception as exc:  # noqa: BLE001 - told; the market stays on, trading does not
            _log.exception("markets: the venue's answer could not be read")
            hub.tell(MarketDataError(f"markets: {exc}"))
            self._markets_failed = exc
            self.markets_known.set()
            return
        before = dict(self.markets)
        self._adopt(fresh)
        try:  # the feeds follow the venue's rules before anything may trade on them
            for symbol in list(hub.feeds):
                market = self.markets.get(symbol)
                if market is None:
                    _log.warning("market %s: no longer listed by the venue", symbol)
                    hub.tell(MarketDataError(f"{symbol} is no longer listed by the venue"))
                    await hub.unwatch(symbol)
                elif market != before.get(symbol):
                    _log.info("market %s: rules changed since the last start", symbol)
                    await hub.unwatch(symbol)
                    await hub.watch(symbol)
        finally:
            self.markets_known.set()

    async def venue_markets(self) -> None:
        """Return once :attr:`markets` is the venue's answer; raise what kept it from being
        read (the cached markets stay for the market data, nothing is traded on them)."""
        await self.markets_known.wait()
        if self._markets_failed is not None:
            raise self._markets_failed

    def _adopt(self, markets: list[Market]) -> None:
        """The venue's markets: in :attr:`markets` (in place), and saved for the next start."""
        self.markets.clear()
        self.markets.update((m.symbol, m) for m in markets)
        if self.markets_cache is not None:
            self.markets_cache.save(self.venue.env, markets)

    async def ticker(self, market: str) -> Ticker:
        return await self.market_rest.ticker(market)

    async def book_by_order(self, market: str) -> BookSnapshot | None:
        """The book order by order (``group=2``, reference 3.3), for a preview whose fees are
        the exchange's to the last decimal; None when it cannot be had right now."""
        try:
            return await self.market_rest.order_book(market, group=2)
        except BitstampError:
            return None
