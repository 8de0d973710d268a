"""No text crashes the ticket: arbitrary text typed or pasted into every field of the real
buy, sell and amend screens, with every kind and time in force, against a still simulator.

One app and one simulator serve every example: they run in a thread of their own, and each
example drives the app's pilot there. An example types or pastes, lets the ticket evaluate,
asks for the review (Enter) and backs out (Esc), so nothing is ever sent; the app must still
run, show a message for anything it cannot send, and be back on its main screen.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Awaitable, Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from textual import events
from textual.pilot import Pilot
from textual.widgets import Input

from workstation.bitstamp.secret import Secret
from workstation.domain.common import Side
from workstation.domain.order_request import OrderRequest
from workstation.domain.order_vocabulary import OrderKind
from workstation.services.facade import VenueServices
from workstation.services.venue import Venue
from workstation.sim.exchange import SimExchange
from workstation.sim.server import SimServer
from workstation.ui.app import WorkstationApp, build_app
from workstation.ui.choice import Choice
from workstation.ui.panes.orders import OpenOrdersView
from workstation.ui.screens.ticket import TicketScreen

from .harness import real, until
from .test_trading import ready, text_of

D = Decimal
EXAMPLE_TIMEOUT_S = 30


class DeskThread:
    """The app against a still simulator, held open in a thread's event loop."""

    def __init__(self, journal: Path) -> None:
        self.journal = journal
        self.app: WorkstationApp | None = None
        self.pilot: Pilot | None = None
        self.sim: SimServer | None = None
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._context: contextvars.Context | None = None
        self._failed: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="desk", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._hold())
        except BaseException as error:  # noqa: BLE001 - reported by the test that waits
            self._failed = error
            self._ready.set()
        finally:
            self._loop.close()

    async def _hold(self) -> None:
        self._stop = asyncio.Event()
        async with SimServer(SimExchange(seed=11, speed=0, history_s=900)) as sim:
            demo = sim.exchange.demo
            venue = Venue(
                "sim", sim.rest_url, sim.ws_url, Secret(demo.api_key), Secret(demo.secret)
            )
            app = build_app(VenueServices(venue, journal_path=self.journal))
            async with app.run_test(size=(120, 40)) as pilot:
                await until(pilot, lambda: ready(app), "trading to be ready")
                assert real(app).trading is not None
                bid = sim.exchange.engines["btcusd"].best_bid()
                assert bid is not None
                request = OrderRequest("btcusd", Side.BUY, OrderKind.LIMIT, D("0.01"), bid - 50)
                await real(app).trading.submit(request)  # an order to amend
                await until(pilot, lambda: bool(app.query_one(OpenOrdersView).orders), "order")
                self.app, self.pilot, self.sim = app, pilot, sim
                self._context = contextvars.copy_context()  # the running app's (active_app)
                self._ready.set()
                await self._stop.wait()
                await pilot.press("q")

    def __enter__(self) -> DeskThread:
        self._thread.start()
        if not self._ready.wait(60) or self._failed is not None:
            raise RuntimeError(f"the app did not start: {self._failed!r}")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    def run(self, step: Callable[[WorkstationApp, Pilot], Awaitable[None]]) -> None:
        assert self.app is not None
        assert self.pilot is not None
        app, pilot, context = self.app, self.pilot, self._context
        assert context is not None

        async def in_the_app() -> None:
            await asyncio.get_running_loop().create_task(step(app, pilot), context=context.copy())

        asyncio.run_coroutine_threadsafe(in_the_app(), self._loop).result(EXAMPLE_TIMEOUT_S)


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DeskThread]:
    with DeskThread(tmp_path_factory.mktemp("desk") / "journal.sqlite3") as held:
        yield held


_digits = st.text("0123456789", min_size=1, max_size=42)
_number = st.builds(lambda a, b: f"{a}.{b}", _digits, _digits)
TEXT = st.one_of(
    st.text(max_size=30),  # any unicode, control characters included
    _digits,  # huge
    _number,
    st.builds(lambda n: "0." + "0" * n + "1", st.integers(0, 40)),  # tiny
    st.builds(lambda a, e: f"{a}e{e}", _number, st.integers(-99999, 99999)),  # exponents
    st.builds("{}%".format, st.one_of(_digits, _number)),
    st.sampled_from(["max", "25%", "+1d", "+9999d", "2026-12-31 18:00", "NaN", "-1", "1,000"]),
    st.lists(st.sampled_from(["9" * 19, "0", ".", "%", "e", "\x00", "\n", "\u0663", " "])).map(
        "".join
    ),  # pastes
)


def _typeable(text: str) -> bool:
    """Short printable text is typed key by key (each key re-evaluates the ticket, about 0.1 s
    on a busy machine); the rest is pasted. The domain's own property test
    (``tests/unit/test_ticket.py``) covers the same space with hundreds of examples."""
    return len(text) <= 8 and all(c.isprintable() for c in text)


async def _example(
    app: WorkstationApp,
    pilot: Pilot,
    *,
    screen_kind: str,
    kind: int,
    tif: int,
    field: str,
    text: str,
    paste: bool,
) -> None:
    assert len(app.screen_stack) == 1, "the previous example left a screen open"
    if screen_kind == "amend":
        app.query_one(OpenOrdersView).focus()
        await pilot.press("a")
    else:
        await pilot.press("b" if screen_kind == "buy" else "s")
    screen = app.screen
    assert isinstance(screen, TicketScreen)
    if screen_kind != "amend":
        choice = screen.query_one("#kind", Choice)
        choice.index = kind % len(choice.options)
        screen.query_one("#tif", Choice).index = tif
        await pilot.pause()
    target = screen.query_one(f"#{field}", Input)
    if not target.parent or not target.parent.display:
        target = screen.query_one("#amount", Input)  # this kind has no such field
    target.focus()
    target.value = ""
    await pilot.pause()
    if paste:
        app.post_message(events.Paste(text))
    else:
        await pilot.press(*text)
    await pilot.pause()
    screen.evaluate()
    check = screen.check
    assert check is not None
    if check.request is None:  # whatever stands in the way is said
        assert "\u2716" in text_of(screen, "#ticket-problems"), target.value
    await pilot.press("enter")  # the review, never the send
    await pilot.press("escape", "escape")
    await until(pilot, lambda: len(app.screen_stack) == 1, "the ticket to close")
    assert app.return_code is None, "the app ended"


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@example("buy", 0, 0, "amount", "10000000000000000000", False)  # the reported crash
@given(
    screen_kind=st.sampled_from(["buy", "sell", "amend"]),
    kind=st.integers(0, 3),
    tif=st.integers(0, 5),
    field=st.sampled_from(["amount", "price", "expiry"]),
    text=TEXT,
    paste=st.booleans(),
)
def test_any_text_in_any_field_of_the_ticket_and_the_amend_screen(
    desk: DeskThread,
    screen_kind: str,
    kind: int,
    tif: int,
    field: str,
    text: str,
    paste: bool,
) -> None:
    paste = paste or not _typeable(text)

    async def step(app: WorkstationApp, pilot: Pilot) -> None:
        await _example(
            app,
            pilot,
            screen_kind=screen_kind,
            kind=kind,
            tif=tif,
            field=field,
            text=text,
            paste=paste,
        )

    desk.run(step)
    assert desk.sim is not None
    assert len(desk.sim.exchange.open_orders("demo", None)) == 1  # nothing was ever sent
