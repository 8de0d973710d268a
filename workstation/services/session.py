"""One environment's connection to Bitstamp (or the simulator), shared by every service.

A session owns the single REST client of its environment (one rate budget, one nonce
source, one count of 429s and latency) and hands out domain objects. Every service of the
session (market hub, order tracker, balances, the private feed's token) calls through
``session.rest``, so they all wait on ``session.budget`` and are counted in
``session.rest_stats``, which the facade's health view reports. Widgets never see the
client: services do.
"""

from __future__ import annotations

from collections.abc import Callable

from ..bitstamp.auth import Credentials
from ..bitstamp.errors import BitstampError
from ..bitstamp.ratelimit import RateBudget
from ..bitstamp.rest import RestClient
from ..bitstamp.reststats import RestStats
from ..bitstamp.stream import StreamClient
from ..domain.market_data import BookSnapshot, Ticker
from ..domain.markets import Market
from .events import MarketEvent
from .hub import MarketHub
from .reachability import Reachability
from .venue import Venue

__all__ = ["Session"]


class Session:
    """``async with Session(venue) as session:`` opens the clients; leaving closes them."""

    def __init__(self, venue: Venue) -> None:
        self.venue = venue
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
        hub, self.hub = self.hub, None
        if hub is not None:
            await hub.close()

    async def close(self) -> None:
        """Close the stream and the REST client; safe to call more than once."""
        await self.close_streams()
        await self.rest.aclose()
        if self.market_rest is not self.rest:
            await self.market_rest.aclose()

    async def open_market_hub(self, listener: Callable[[MarketEvent], object]) -> MarketHub:
        """Load the markets (the venue's: its rules are what orders are checked against),
        open the shared WebSocket and start the market data service. While the venue cannot
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
            self.markets = {m.symbol: m for m in await self.reach.retry(markets)}
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

    async def ticker(self, market: str) -> Ticker:
        return await self.market_rest.ticker(market)

    async def book_by_order(self, market: str) -> BookSnapshot | None:
        """The book order by order (``group=2``, reference 3.3), for a preview whose fees are
        the exchange's to the last decimal; None when it cannot be had right now."""
        try:
            return await self.market_rest.order_book(market, group=2)
        except BitstampError:
            return None
