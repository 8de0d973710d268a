"""The workstation app: the order book, the tape and the status bar of the pairs you watch.

It never touches the network in an event handler: a worker connects (starting the embedded
simulator when there is no venue), and the market data service feeds models that widgets
read at a capped rate. Discrete changes (connection, stale/fresh, errors, our orders and
balances) arrive as Textual messages. Everything it knows about the exchange comes through
:mod:`workstation.services`; trading keys live in :mod:`.desk`.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.command import Hit, Hits, Provider
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import Worker

from ..domain.market_data import Ticker
from ..domain.markets import Market
from ..domain.order_vocabulary import TrackState
from ..paths import styles_path
from ..services.feed import MarketFeed
from ..services.hub import FeedChange, MarketHub
from ..services.journal import Journal
from ..services.logs import report_crash
from ..services.session import Session
from ..services.trading import TradingChange, TradingService
from ..services.venue import EmbeddedSim, Venue
from .balancesview import BalancesView
from .bookview import OrderBookView
from .desk import TradingDesk
from .fmt import ticker_text
from .ordersview import OpenOrdersView
from .panes import Panes
from .screens import HelpScreen, PairPicker
from .statusbar import StatusBar
from .tapeview import TradesTapeView
from .theme import MONO_THEME, register_themes

__all__ = ["DEFAULT_MARKET", "WorkstationApp", "run_app"]

DEFAULT_MARKET = "btcusd"


@dataclass
class FeedChanged(Message):
    """A service-side change the screen should reflect."""

    change: FeedChange


@dataclass
class TradingChanged(Message):
    """Our orders, balances or the submit gate changed."""

    change: TradingChange


class PairCommands(Provider):
    """``Show ETH/USD`` for every pair, in the command palette."""

    async def search(self, query: str) -> Hits:
        app = self.app
        assert isinstance(app, WorkstationApp)
        matcher = self.matcher(query)
        for market in sorted(app.markets.values(), key=lambda m: m.name):
            text = f"Show {market.name}"
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), lambda s=market.symbol: app.show(s))


class WorkstationApp(TradingDesk, App[None]):
    """Connects to ``venue`` (or starts the embedded simulator), shows the market and trades."""

    CSS_PATH = str(styles_path("app.tcss"))
    TITLE = "Bitstamp workstation"
    COMMANDS = App.COMMANDS | {PairCommands}
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help"),
        Binding("p", "pick_pair", "Pair"),
        Binding("left_square_bracket", "cycle(-1)", "Prev pair", show=False),
        Binding("right_square_bracket", "cycle(1)", "Next pair", show=False),
        Binding("x", "unwatch", "Unwatch", show=False),
        Binding("m", "toggle_mono", "Mono", show=False),
        Binding("b", "ticket('buy')", "Buy"),
        Binding("s", "ticket('sell')", "Sell"),
        Binding("l", "take('buy')", "Lift ask", show=False),
        Binding("h", "take('sell')", "Hit bid", show=False),
        Binding("o", "pane('orders')", "Orders"),
        Binding("4", "pane('balances')", "Balances"),
        Binding("1", "pane('book')", "Book", show=False),
        Binding("2", "pane('tape')", "Trades", show=False),
        Binding("3", "pane('orders')", "Orders", show=False),
        Binding("enter", "join_level", "Ticket at level", show=False),
    ]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]

    def __init__(
        self,
        venue: Venue | None = None,
        *,
        seed: int | None = None,
        pairs: tuple[str, ...] = (DEFAULT_MARKET,),
        mono: bool = False,
        confirm: bool = True,
        journal_path: Path | None = None,
    ) -> None:
        super().__init__()
        self._venue = venue
        self._env = venue.env if venue else "sim"
        self.confirm_orders = confirm or self._env == "live"
        self._journal_path = journal_path
        self.journal: Journal | None = None
        self._tickers: dict[str, Ticker] = {}
        self.order_states: dict[str, tuple[TrackState, Decimal]] = {}
        self.balance_rounds = 0
        """Rounds of balance pricing done (tests wait for the first)."""
        self._pricer: Worker[None] | None = None
        self.trading: TradingService | None = None
        self._seed = seed
        self._initial_pairs = pairs
        self._mono = mono
        self.hub: MarketHub | None = None
        self._session: Session | None = None
        self.markets: dict[str, Market] = {}
        self.watched: list[str] = []
        self.current: str | None = None
        self.quitting = False
        """Set once the app is exiting: no key's action runs any more."""
        self._read_on: deque[tuple[events.Key, Screen[object] | None]] = deque(maxlen=16)
        """The last keys read and the screen each was read on (see ``on_key``)."""

    def compose(self) -> ComposeResult:
        yield Static("", id="pairs")
        with Panes(id="main"):
            yield OrderBookView(id="book")
            yield TradesTapeView(id="tape")
            yield BalancesView(id="balances")
            yield OpenOrdersView(lambda: self.markets, id="orders")
        yield StatusBar(self._venue.env if self._venue else "sim", id="status")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.set_interval(1.0, self._draw_pairs_if_ready)
        register_themes(self)
        if self._mono:
            self.theme = MONO_THEME
        self.query_one(OrderBookView).focus()
        self._connector = self.run_worker(
            self._connect(), exclusive=True, exit_on_error=False, name="connect"
        )

    async def on_unmount(self) -> None:
        """Close the session (sockets, simulator) before the loop ends, whatever ends it.

        In order: the services' streams and tasks; then the connect worker, whose request in
        flight (if any) ends while the REST client can still close its connection; then the
        REST client. Done here, outside the worker: on shutdown Textual may cancel workers
        again while they clean up, and an interrupted cleanup leaks connections."""
        if self._pricer is not None:
            self._pricer.cancel()
            with contextlib.suppress(Exception):
                await self._pricer.wait()
        if self.trading is not None:
            with contextlib.suppress(Exception):
                await self.trading.close()
        if self._session is not None:
            with contextlib.suppress(Exception):
                await self._session.close_streams()
        self._connector.cancel()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(5):
                await self._connector.wait()
        if self._session is not None:
            with contextlib.suppress(Exception):
                await self._session.close()
        if self.journal is not None:
            self.journal.close()

    async def _connect(self) -> None:
        status = self.query_one(StatusBar)
        try:
            await self._open(status)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - shown to the trader: the app stays usable to quit
            status.note = f"could not connect: {exc}"
            status.redraw()
            self.notify(f"Could not connect: {exc}", severity="error", timeout=30)

    async def _open(self, status: StatusBar) -> None:
        async with contextlib.AsyncExitStack() as stack:
            if self._venue is None:
                status.note = "starting the simulator…"
                journal = self._journal_path or Journal.default_path()
                sim = EmbeddedSim(seed=self._seed, journal_path=journal)
                venue = await stack.enter_async_context(sim)
            else:
                venue = self._venue
            status.env = self._env = venue.env
            self.confirm_orders = self.confirm_orders or venue.env == "live"
            session = self._session = await stack.enter_async_context(Session(venue))
            status.rest = session.rest_stats
            status.note = f"connecting to {venue.rest_url}"
            status.reach = session.reach  # the host, since when and the next retry, if down
            self.hub = await session.open_market_hub(lambda c: self.post_message(FeedChanged(c)))
            self.markets = session.markets
            status.hub = self.hub
            status.note = ""
            for symbol in self._initial_pairs:
                if symbol in self.markets:
                    await self.hub.watch(symbol)
                    self.watched.append(symbol)
            if self.watched:
                await self._show(self.watched[0])
            if venue.has_credentials:
                try:
                    await self._open_trading(session, venue)
                except Exception as exc:  # noqa: BLE001 - the market stays on screen without it
                    self.notify(f"Trading unavailable: {exc}", severity="error", timeout=30)
            await asyncio.Event().wait()  # hold the session (and simulator) until exit

    async def _open_trading(self, session: Session, venue: Venue) -> None:
        """Journal, order tracker, private stream, balances: after the market is on screen."""
        path = self._journal_path or Journal.default_path()
        self.journal = Journal(path)  # it makes its folder, owner-only
        self.trading = TradingService(
            session.rest,
            venue.ws_url,
            self.journal,
            venue.journal_env,
            self.markets,
            listener=lambda change: self.post_message(TradingChanged(change)),
        )
        self.query_one(StatusBar).trading = self.trading
        await self.trading.start()
        for symbol in self.watched:
            await self.trading.watch(symbol)
        self._draw_account()
        self._pricer = self.run_worker(self._price_balances(), group="prices", exit_on_error=False)

    # -- keys --------------------------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            self._read_on.append((event, self.screen_stack[-1] if self.screen_stack else None))
        await super().on_event(event)

    def exit(self, *args: Any, **kwargs: Any) -> None:
        """Exit, and from now on run no key's action: `q` and the keys typed right after it
        (a burst, a paste, a slow SSH link) must end the app, not open a ticket on its way
        out (a screen pushed then never composes, and the app crashed)."""
        self.quitting = True
        super().exit(*args, **kwargs)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return False if self.quitting else super().check_action(action, parameters)

    def on_key(self, event: events.Key) -> None:
        """One key, one action: a key that closed or opened a screen on its way is spent.

        Textual checks the bindings (``App._on_key``) after a key has gone through the focused
        widget and its screen, against the screen on top *then*. When a handler on the way
        dismissed its screen (the ticket's Enter that sends), that check would run the binding
        of the screen beneath as well: Enter opened a ticket at the book cursor."""
        for read, screen in self._read_on:
            if read is event:
                if screen is not (self.screen_stack[-1] if self.screen_stack else None):
                    event.prevent_default()  # skips App._on_key, the binding check
                return

    # -- pairs -------------------------------------------------------------------------------

    def show(self, symbol: str) -> None:
        """Show ``symbol`` (watching it if needed), from a key, the picker or the palette."""
        self.run_worker(self._show(symbol), group="pairs", exit_on_error=False)

    async def _show(self, symbol: str) -> None:
        hub = self.hub
        if hub is None or symbol not in self.markets:
            return
        feed = await hub.watch(symbol)
        if symbol not in self.watched:
            self.watched.append(symbol)
        self.current = symbol
        self._present(feed)
        if self.trading is not None:
            await self.trading.watch(symbol)

    def _present(self, feed: MarketFeed) -> None:
        self.query_one(OrderBookView).show(feed)
        self.query_one(TradesTapeView).show(feed)
        self.query_one(StatusBar).feed = feed
        self._draw_pairs()
        self._draw_account()

    def _draw_pairs(self) -> None:
        """The watched pairs (the shown one highlighted) and the shown pair's 24 h ticker."""
        names = []
        for symbol in self.watched:
            name = self.markets[symbol].name
            names.append(f"[reverse] {name} [/]" if symbol == self.current else f" {name} ")
        text = " ".join(names)
        feed = self.hub.feeds.get(self.current) if self.hub and self.current else None
        if feed is not None and feed.ticker is not None:
            text += "   " + ticker_text(feed.ticker, feed.market)
        for pairs in self.query("#pairs").results(Static):  # none while shutting down
            pairs.update(text, layout=False)

    def _draw_pairs_if_ready(self) -> None:
        if self.current is not None:
            self._draw_pairs()

    def action_pick_pair(self) -> None:
        if not self.markets:
            return
        self.push_screen(
            PairPicker(list(self.markets.values()), self.current or DEFAULT_MARKET),
            lambda symbol: self.show(symbol) if symbol else None,
        )

    def action_cycle(self, step: int) -> None:
        if self.current is None or len(self.watched) < 2:
            return
        index = (self.watched.index(self.current) + step) % len(self.watched)
        self.show(self.watched[index])

    def action_unwatch(self) -> None:
        if self.current is None or len(self.watched) < 2 or self.hub is None:
            return
        symbol = self.current
        index = self.watched.index(symbol)
        self.watched.remove(symbol)
        self.show(self.watched[index % len(self.watched)])
        self.run_worker(self.hub.unwatch(symbol), group="pairs", exit_on_error=False)

    # -- the rest ------------------------------------------------------------------------------

    def action_pane(self, pane: str) -> None:
        """Keys 1-4: focus a pane, bringing it into view where it shares its place."""
        if len(self.screen_stack) == 1:
            self.query_one(f"#{pane}").focus()

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_toggle_mono(self) -> None:
        self.theme = "textual-dark" if self.theme == MONO_THEME else MONO_THEME

    # -- account -------------------------------------------------------------------------------

    def _draw_account(self) -> None:
        trading = self.trading
        if trading is None or not self.query(OpenOrdersView):  # not yet, or shutting down
            return
        self.query_one(OpenOrdersView).show(trading.open_orders())
        quote = self.markets[self.current].quote if self.current in self.markets else "USD"
        balances = self.query_one(BalancesView)
        balances.price_of = self._price_of
        balances.show(trading.balances, quote)

    def _price_of(self, currency: str, quote: str) -> Decimal | None:
        """``currency`` in ``quote`` for the balances' value: the mid of a watched book, else
        the mid of the pair's ticker (polled slowly by :meth:`_price_balances`)."""
        symbol = f"{currency}{quote}".lower()
        feed = self.hub.feeds.get(symbol) if self.hub else None
        if feed is not None and not feed.stale:
            bid, ask = feed.book.best_bid(), feed.book.best_ask()
            if bid is not None and ask is not None:
                return (bid + ask) / 2
        ticker = self._tickers.get(symbol)
        if ticker is None or not (ticker.bid > 0 and ticker.ask > 0):
            return None
        return (ticker.bid + ticker.ask) / 2

    async def _price_balances(self) -> None:
        """Every 15 s, the ticker of each pair that prices a held currency and has no watched
        book: a handful of requests, far inside the rate budget."""
        while True:
            session, trading = self._session, self.trading
            if session is not None and trading is not None and self.current in self.markets:
                quote = self.markets[self.current].quote
                for balance in list(trading.balances.values()):
                    symbol = f"{balance.currency}{quote}".lower()
                    watched = self.hub is not None and symbol in self.hub.feeds
                    if symbol not in self.markets or watched or not balance.total:
                        continue
                    with contextlib.suppress(Exception):  # no price: the value shows "-"
                        self._tickers[symbol] = await session.ticker(symbol)
                self.balance_rounds += 1
                self._draw_account()
            await asyncio.sleep(15)

    def on_trading_changed(self, message: TradingChanged) -> None:
        change = message.change
        if change.kind == "order" and change.order is not None:
            self.notice(change.order)
        elif change.kind == "error":
            self.notify(change.detail, severity="warning", timeout=6)
        self._draw_account()
        for bar in self.query(StatusBar).results(StatusBar):
            bar.redraw()

    def on_feed_changed(self, message: FeedChanged) -> None:
        change = message.change
        if change.kind == "error":
            self.notify(change.detail, severity="warning", timeout=4)
        elif change.kind == "state" and change.symbol == self.current:
            self.query_one(OrderBookView).poll()


def run_app(
    *,
    venue: Venue | None = None,
    seed: int | None = None,
    mono: bool = False,
    confirm: bool = True,
    journal_path: Path | None = None,
    log_file: Path | None = None,
) -> int:
    """Run the app until the trader quits; the exit status: 0, or 1 after a crash.

    Textual catches an unhandled exception, ends the app and prints a traceback *with the
    local variables of every frame*, where a key or a secret can sit. That printout is
    dropped: the traceback goes to the log (masked) and stderr gets one line naming the file.
    """
    app = WorkstationApp(venue, seed=seed, mono=mono, confirm=confirm, journal_path=journal_path)
    app.error_console = Console(file=io.StringIO())  # Textual's traceback, locals and all
    app.run()
    crash = getattr(app, "_exception", None)  # Textual keeps the first unhandled exception
    if crash is not None:
        return report_crash(crash, log_file)
    return app.return_code or 0
