"""The workstation app: the order book, the tape and the status bar of the pairs you watch.

It never touches the network in an event handler: every call to the services runs as a
command in a worker (:meth:`WorkstationApp.run_command`, one handler tells the trader what
failed), and the panes read the services' views at a capped rate. Discrete changes
(connection, stale/fresh, errors, our orders and balances) arrive as typed events, posted as
one Textual message. Everything it knows about the exchange comes through one
:class:`~workstation.services.facade.Services`, handed to ``build_app`` (the CLI's real one, a
test's fake); trading keys live in :mod:`.desk`.
"""

from __future__ import annotations

import gc
import io
from collections import deque
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.command import Hit, Hits, Provider
from textual.message import Message
from textual.screen import Screen
from textual.theme import Theme
from textual.worker import Worker, WorkerState

from ..domain.common import Side
from ..paths import styles_path
from ..services.events import (
    AccountChanged,
    FeedStateChanged,
    MarketDataError,
    MarketsOpened,
    OrderChanged,
    ServiceEvent,
    TradingError,
    TradingOpened,
    TradingUnavailable,
)
from ..services.facade import Services
from .commands import CommandFailure
from .desk import TradingDesk
from .desk_memory import DeskMemory
from .keys_footer import KeysFooter
from .kill_switch import KILL_KEY, KillSwitch
from .options import DEFAULT_MARKET, AppOptions
from .pace import pace_for
from .panes.balances import BalancesView
from .panes.book import OrderBookView
from .panes.grid import Panes
from .panes.orders import OpenOrdersView
from .panes.pairs import PairsLine
from .panes.status import LOW_BANDWIDTH_HINT, StatusBar
from .panes.tape import TradesTapeView
from .theme import MONO_THEME, register_themes
from .trimmed_screen import TrimmedScreen

__all__ = [
    "FULL_COLLECTION_AFTER",
    "WorkstationApp",
    "build_app",
    "prepare_collector_for_the_run",
    "run_app",
]

KEYS_AT_LATEST_S = 1.0
"""The footer's keys are shown once the book shows prices, or this long after the start."""


class PairCommands(Provider):
    """``Show ETH/USD`` for every pair, in the command palette."""

    async def search(self, query: str) -> Hits:
        app = self.app
        assert isinstance(app, WorkstationApp)
        matcher = self.matcher(query)
        for market in sorted(app.services.markets.values(), key=lambda m: m.name):
            text = f"Show {market.name}"
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), lambda s=market.symbol: app.show(s))


def breakpoint_class(cells: int, breakpoints: list[tuple[int, str]] | None) -> str | None:
    """The class of the highest breakpoint at or below ``cells``, as Textual's screen picks
    it on a resize (``Screen._get_breakpoint_classes``)."""
    for threshold, name in sorted(breakpoints or [], reverse=True):
        if cells >= threshold:
            return name
    return None


class WorkstationApp(App[None]):
    """Shows the market of one venue's ``services`` and trades through them."""

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
        Binding(KILL_KEY, "kill_switch", "Kill all", priority=True),
    ]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]

    @dataclass
    class ServicesChanged(Message):
        """Something the services told (posted from their listener, handled here)."""

        event: ServiceEvent

    def __init__(self, services: Services, options: AppOptions) -> None:
        super().__init__()
        self.services = services
        self.options = options
        self.desk = TradingDesk(self, services)
        self.kill_switch = KillSwitch(self, services)
        self.watched: list[str] = []
        self.current: str | None = None
        self.quitting = False
        """Set once the app is exiting: no key's action runs any more."""
        self._read_on: deque[tuple[events.Key, Screen[object] | None]] = deque(maxlen=16)
        """The last keys read and the screen each was read on (see ``on_key``)."""
        self._commands: dict[Worker[None], CommandFailure] = {}
        self._connector: Worker[None] | None = None
        self.mono_chosen = options.mono
        """The theme the trader chose is the monochrome one (kept with the layout)."""
        self._start_theme: str | None = None
        """The theme set at mount, until Textual has published it."""
        self.memory = DeskMemory(self, options.remember)
        self._moved_panes: tuple[OrderBookView | TradesTapeView, ...] = ()
        """The panes nudged when the pair they show moves (normal mode)."""

    @property
    def confirm_orders(self) -> bool:
        """Every order is reviewed before it is sent: asked for, or live money."""
        return self.options.confirm or self.services.env == "live"

    @property
    def sixteen_colours(self) -> bool:
        """The terminal has 16 colours, as Textual reads TERM and COLORTERM (``linux``,
        ``screen``, ``xterm``). Headless (tests, snapshots) there is no terminal: never."""
        return not self.is_headless and self.console.color_system == "standard"

    @property
    def quote(self) -> str:
        """The quote currency of the pair shown (balances are valued in it)."""
        market = self.services.markets.get(self.current) if self.current else None
        return market.quote if market is not None else "USD"

    def get_default_screen(self) -> Screen[Any]:
        """The main screen sends the terminal only the cells that changed. It is made with
        the breakpoint classes of the terminal's size, which Textual would set on its first
        resize: the stylesheet's first pass already fits them, and that resize changes no
        class, where it restyled the whole desk (~8 ms of a start)."""
        width, height = self.size
        fitting = (
            breakpoint_class(width, self.HORIZONTAL_BREAKPOINTS),
            breakpoint_class(height, self.VERTICAL_BREAKPOINTS),
        )
        return TrimmedScreen(id="_default", classes=" ".join(c for c in fitting if c))

    def compose(self) -> ComposeResult:
        pace = pace_for(
            low_bandwidth=self.options.low_bandwidth, refresh_hz=self.options.refresh_hz
        )
        yield PairsLine(self.services, id="pairs")
        with Panes(id="main"):
            book = OrderBookView(
                self.services,
                groups=self.options.groups,
                redraw_hz=pace.book_hz,
                move_hz=pace.move_hz,
                levels=pace.book_levels,
                id="book",
            )
            self.memory.groups = book.groups
            yield book
            yield TradesTapeView(
                self.services, redraw_hz=pace.tape_hz, move_hz=pace.move_hz, id="tape"
            )
            yield BalancesView(id="balances")
            yield OpenOrdersView(lambda: self.services.markets, id="orders")
        yield StatusBar(self.services, refresh_hz=pace.status_hz, id="status")
        yield KeysFooter(held=True, compact=True)  # released by _show_keys

    def on_mount(self) -> None:
        register_themes(self)
        if self.sixteen_colours:
            self.add_class("-ansi16")  # styles/app.tcss: what stays apart in 16 colours
        if self.options.mono or self.options.no_color:
            self.theme = MONO_THEME  # published later (call_next): see _theme_chosen
            self._start_theme = MONO_THEME
        self.theme_changed_signal.subscribe(self, self._theme_chosen)
        if self.options.notice:
            self.notify(self.options.notice, severity="warning", timeout=15)
        if self.options.low_bandwidth_hint and not self.options.low_bandwidth:
            self.query_one(StatusBar).show_hint(LOW_BANDWIDTH_HINT)
        self.query_one(OrderBookView).focus()
        health = self.services.health()
        if health.watch_only:  # no keys: say so where the account would be
            self.query_one(OpenOrdersView).need_keys(health.add_keys)
            self.query_one(BalancesView).need_keys(health.add_keys)
        self.services.listen(self._told)
        book, tape = self.query_one(OrderBookView), self.query_one(TradesTapeView)
        if book.cap is not None or tape.cap is not None:
            self._moved_panes = (book, tape)
            self.services.on_market_moved(self._market_moved)
        self.set_timer(KEYS_AT_LATEST_S, self._show_keys)
        self._connector = self.run_command(
            self.services.open(self.options.pairs), CommandFailure("Could not connect", 30)
        )

    def on_order_book_view_prices_shown(self, _: OrderBookView.PricesShown) -> None:
        self.call_after_refresh(self._book_drawn)  # once the book's first prices are written

    def _book_drawn(self) -> None:
        self.services.book_shown()  # the services' REST held for the first book may go
        self._show_keys()

    def _show_keys(self) -> None:
        """Build the footer's keys: once the book's first prices are on the screen (a
        start's first frames go to what the trader waits for), or :data:`KEYS_AT_LATEST_S`
        after the start when there are none yet."""
        for footer in self.query(KeysFooter).results(KeysFooter):
            footer.release()

    def _market_moved(self, symbol: str) -> None:
        """A frame moved ``symbol``'s market (per frame: kept cheap, the panes cap redraws)."""
        for pane in self._moved_panes:
            pane.nudge(symbol)

    def _told(self, event: ServiceEvent) -> None:
        """The services' listener: their events become one message, handled in order."""
        self.post_message(self.ServicesChanged(event))

    async def on_unmount(self) -> None:
        """Close the services (streams, sessions, simulator) before the loop ends, whatever
        ends it: done here, outside any worker: on shutdown Textual may cancel workers again
        while they clean up, and an interrupted cleanup leaks connections. The desk's layout
        is kept first (it is written whenever it changes; this catches the last change)."""
        self.memory.keep()
        await self.services.close()

    # -- commands ------------------------------------------------------------------------------

    def run_command(self, work: Coroutine[Any, Any, None], failure: CommandFailure) -> Worker[None]:
        """Run ``work`` (a call to the services) in a worker; if it fails, the trader is told
        ``failure``'s text (:meth:`on_worker_state_changed`)."""
        worker = self.run_worker(work, group="commands", exit_on_error=False)
        self._commands[worker] = failure
        return worker

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place a command's failure is told to the trader."""
        worker = event.worker
        if event.state not in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            return
        failure = self._commands.pop(worker, None)
        if failure is None or event.state is not WorkerState.ERROR or worker.error is None:
            return
        error = worker.error
        if worker is self._connector:  # the status bar says it too, until the app quits
            for bar in self.query(StatusBar).results(StatusBar):
                bar.note = f"could not connect: {error}"
                bar.redraw()
        text, severity, timeout = failure.notice(error)
        self.notify(text, severity=severity, timeout=timeout)  # type: ignore[arg-type]

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
        """No action while quitting; none either under the key test, whose keys (the kill
        switch's, quit's) are being tried, not used."""
        if self.quitting or getattr(self.screen, "TRIES_KEYS", False):
            return False
        return super().check_action(action, parameters)

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
        if not await self.services.watch(symbol):
            return
        if symbol not in self.watched:
            self.watched.append(symbol)
        self.current = symbol
        self._present(symbol)
        self.memory.keep()

    def _present(self, symbol: str) -> None:
        name = self.services.markets[symbol].name
        self.query_one(OrderBookView).show(symbol, name)
        self.query_one(TradesTapeView).show(symbol, name)
        self.query_one(StatusBar).symbol = symbol
        self.services.value_in(self.quote)
        self._draw_pairs()
        self._draw_account()

    def _draw_pairs(self) -> None:
        for pairs in self.query(PairsLine).results(PairsLine):  # none while shutting down
            pairs.show(self.watched, self.current)

    def action_pick_pair(self) -> None:
        markets = self.services.markets
        if not markets:
            return
        from .screens.pair_picker import PairPicker  # the screens are imported when opened

        self.push_screen(
            PairPicker(list(markets.values()), self.current or DEFAULT_MARKET),
            lambda symbol: self.show(symbol) if symbol else None,
        )

    def action_cycle(self, step: int) -> None:
        if self.current is None or len(self.watched) < 2:
            return
        index = (self.watched.index(self.current) + step) % len(self.watched)
        self.show(self.watched[index])

    def action_unwatch(self) -> None:
        if self.current is None or len(self.watched) < 2:
            return
        symbol = self.current
        index = self.watched.index(symbol)
        self.watched.remove(symbol)
        self.show(self.watched[index % len(self.watched)])
        self.run_worker(self.services.unwatch(symbol), group="pairs", exit_on_error=False)

    # -- trading keys (the desk's) ---------------------------------------------------------

    def action_ticket(self, side: str) -> None:
        self.desk.open_ticket(Side(side))

    def action_take(self, side: str) -> None:
        """Lift the best ask (buy) or hit the best bid (sell): a ticket at the far touch."""
        self.desk.take(Side(side))

    def action_join_level(self) -> None:
        """Enter on a book level: a ticket at that price, on the level's side."""
        self.desk.join_level()

    def on_open_orders_view_cancel_asked(self, message: OpenOrdersView.CancelAsked) -> None:
        self.desk.cancel(message.order)

    def on_open_orders_view_amend_asked(self, message: OpenOrdersView.AmendAsked) -> None:
        self.desk.amend(message.order)

    def on_open_orders_view_cancel_all_asked(self, _: OpenOrdersView.CancelAllAsked) -> None:
        self.desk.ask_cancel_all()

    def action_kill_switch(self) -> None:
        """Cancel every open order on every pair, after one confirm (from any screen)."""
        self.kill_switch.press()

    # -- the rest ------------------------------------------------------------------------------

    def action_pane(self, pane: str) -> None:
        """Keys 1-4: focus a pane, bringing it into view where it shares its place."""
        if len(self.screen_stack) == 1:
            self.query_one(f"#{pane}").focus()

    def action_help(self) -> None:
        from .screens.help import HelpScreen

        self.push_screen(HelpScreen())

    def action_toggle_mono(self) -> None:
        self.theme = "textual-dark" if self.theme == MONO_THEME else MONO_THEME

    def _theme_chosen(self, theme: Theme) -> None:
        """A theme the trader picked (``m``, the palette) is kept with the desk's layout;
        the one the app started with is not a new choice (NO_COLOR's is no choice at all)."""
        started, self._start_theme = self._start_theme, None
        if theme.name != started:
            self.mono_chosen = theme.name == MONO_THEME
        self.memory.keep()

    def on_order_book_view_group_changed(self, _: OrderBookView.GroupChanged) -> None:
        self.memory.keep()

    # -- what the services tell ----------------------------------------------------------------

    def on_workstation_app_services_changed(self, message: ServicesChanged) -> None:
        event = message.event
        if isinstance(event, MarketsOpened):
            self.watched = list(event.pairs)
            if event.pairs:
                shown = self.options.shown
                self.show(shown if shown in event.pairs else event.pairs[0])
            elif (fallback := self._fallback_pair()) is not None:
                wanted = ", ".join(self.options.pairs) or "none"
                name = self.services.markets[fallback].name
                self.notify(f"None of the pairs asked for is traded here ({wanted}): {name}")
                self.show(fallback)
            return
        if isinstance(event, FeedStateChanged):
            if event.symbol == self.current:
                for book in self.query(OrderBookView).results(OrderBookView):  # none at exit
                    book.poll()
            return
        if isinstance(event, MarketDataError):
            self.notify(event.detail, severity="warning", timeout=4)
            return
        if isinstance(event, TradingUnavailable):
            self.desk.trading_unavailable()
            self.notify(f"Trading unavailable: {event.detail}", severity="error", timeout=30)
            return
        if isinstance(event, TradingOpened):
            self.call_after_refresh(self.desk.trading_opened)  # once the account is drawn
        if not isinstance(event, OrderChanged | TradingError | AccountChanged):
            return  # the stream's connection: the status bar reads it
        if isinstance(event, OrderChanged):
            self.desk.notice(event.order)
        elif isinstance(event, TradingError):
            self.notify(event.detail, severity="warning", timeout=6)
        self._draw_account()
        for bar in self.query(StatusBar).results(StatusBar):
            bar.redraw()

    def _fallback_pair(self) -> str | None:
        """The pair shown when none of those asked for exists at this venue."""
        markets = self.services.markets
        if DEFAULT_MARKET in markets:
            return DEFAULT_MARKET
        return min(markets, default=None)

    def _draw_account(self) -> None:
        """The open orders and balances panes, from the account view (none without keys)."""
        if not self.query(OpenOrdersView):  # shutting down
            return
        account = self.services.account(self.quote)
        if account is None:
            return
        self.query_one(OpenOrdersView).show(list(account.open_orders))
        self.query_one(BalancesView).show(account)


def build_app(services: Services, options: AppOptions | None = None) -> WorkstationApp:
    """The app on ``services``: the real ones of a venue (the CLI builds them), or a test's."""
    return WorkstationApp(services, options or AppOptions())


def run_app(services: Services, options: AppOptions) -> int:
    """Run the app until the trader quits; its exit status. A crash is raised, for the
    caller to report (``cli_trading.start_app``: the log and one line on stderr).

    Textual catches an unhandled exception, ends the app and prints a traceback *with the
    local variables of every frame*, where a key or a secret can sit. That printout is
    dropped; the exception it kept is raised here instead, once the terminal is restored.
    """
    app = build_app(services, options)
    app.error_console = Console(file=io.StringIO())  # Textual's traceback, locals and all
    prepare_collector_for_the_run()
    app.run()
    crash = getattr(app, "_exception", None)  # Textual keeps the first unhandled exception
    if crash is not None:
        raise crash
    return app.return_code or 0


FULL_COLLECTION_AFTER = 100
"""Middle-generation collections between two full ones (Python's default: 10)."""


def prepare_collector_for_the_run() -> None:
    """Move every object alive now (the modules, classes and functions of Textual, httpx and
    ours: about 50,000) out of the garbage collector's sight (``gc.freeze``). They live as
    long as the process, yet a full collection walked them all: 35-60 ms with the event loop
    stopped, a few times a minute, which a trader saw as a book late by that much. Side by
    side in the running app (45 s, 3 pairs, speed 1): full collections max 49-51 -> 19-22 ms.

    Full collections then come ten times less often (:data:`FULL_COLLECTION_AFTER`): the app
    makes almost no cyclic garbage while it runs (86 objects in 10 s at ``--speed 100``, since
    the trimmed compositor stopped making every redrawn strip a cycle), so a full collection
    only walks the ~40,000 objects that live on (~30 ms with the loop stopped), and every ~3 s
    at ``--speed 100`` was a pause per 100 redraws for nothing found. See docs/decisions.md.
    The collector, paused for the start (``cli_trading.run_tui``), runs again from here."""
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_AFTER)
    gc.enable()
