"""What the balances are worth: each currency priced in the quote currency the trader reads.

The price of a currency is the mid of its watched book when that book is live, else the mid
of its pair's ticker, polled slowly (every ``EVERY_S``, only for pairs that price a held
currency and have no watched book: a handful of requests, far inside the rate budget).
A currency with no such pair has no price: the pane shows no value rather than a guess.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal

from ..domain.account import Balance
from ..domain.market_data import Ticker
from ..domain.markets import Market
from .feed import MarketFeed

__all__ = ["EVERY_S", "Valuation"]

_log = logging.getLogger("workstation.services.valuation")

EVERY_S = 15.0


class Valuation:
    """Prices for the balances. ``run()`` polls the tickers until cancelled."""

    def __init__(
        self,
        markets: Mapping[str, Market],
        feeds: Mapping[str, MarketFeed],
        ticker: Callable[[str], Awaitable[Ticker]],
        balances: Callable[[], Mapping[str, Balance]],
        *,
        on_change: Callable[[], None],
        every_s: float = EVERY_S,
    ) -> None:
        self._markets = markets
        self._feeds = feeds
        self._ticker = ticker
        self._balances = balances
        self._on_change = on_change
        self._every_s = every_s
        self._tickers: dict[str, Ticker] = {}
        self.quote: str | None = None
        """The currency values are told in (the quote of the pair shown); None: not yet."""
        self.polled = False
        """A round of ticker polling is done (the values are as complete as they get)."""

    def price_of(self, currency: str, quote: str) -> Decimal | None:
        """``currency`` in ``quote``: the mid of a watched live book, else of the ticker."""
        symbol = f"{currency}{quote}".lower()
        feed = self._feeds.get(symbol)
        if feed is not None and not feed.stale:
            bid, ask = feed.book.best_bid(), feed.book.best_ask()
            if bid is not None and ask is not None:
                return (bid + ask) / 2
        ticker = self._tickers.get(symbol)
        if ticker is None or not (ticker.bid > 0 and ticker.ask > 0):
            return None
        return (ticker.bid + ticker.ask) / 2

    def prices(self, quote: str) -> dict[str, Decimal]:
        """The price in ``quote`` of every other held currency that has one."""
        prices: dict[str, Decimal] = {}
        for balance in self._balances().values():
            currency = balance.currency.upper()
            price = None if currency == quote else self.price_of(currency, quote)
            if price is not None:
                prices[currency] = price
        return prices

    async def run(self) -> None:
        """Every ``every_s``, the ticker of each pair that prices a held currency in the
        current quote and has no watched book."""
        while True:
            quote = self.quote
            if quote is not None:
                for balance in list(self._balances().values()):
                    symbol = f"{balance.currency}{quote}".lower()
                    if symbol not in self._markets or symbol in self._feeds or not balance.total:
                        continue
                    try:
                        self._tickers[symbol] = await self._ticker(symbol)
                    except Exception as exc:  # noqa: BLE001 - no price: the value shows "-"
                        _log.info("no ticker for %s to value balances: %s", symbol, exc)
                self.polled = True
                self._on_change()
            await asyncio.sleep(self._every_s)
