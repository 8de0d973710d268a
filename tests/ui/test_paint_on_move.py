"""Book and tape paint a frame when the market moves, not at their timer's next tick.

The scheduling is asserted, not wall-clock delays (a loaded CI machine stretches those):
the first nudge after a quiet spell redraws on the loop's next turn, nudges under a stream
fold into one redraw ``1 / hz`` after the last, the last state is always drawn, and redraws
are never closer than the cap. In the app, the panes' timers are set to 100 s so only a
nudge can paint the change. Low bandwidth keeps its timers and asks for no nudges.
"""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import pytest

from workstation.domain.common import Side
from workstation.ui.app import WorkstationApp, build_app
from workstation.ui.options import AppOptions
from workstation.ui.pace import LOW_BANDWIDTH, MOVE_HZ
from workstation.ui.panes.book import OrderBookView
from workstation.ui.panes.tape import TradesTapeView
from workstation.ui.redraw_cap import RedrawCap
from workstation.ui.trimmed_screen import TrimmedChopsUpdate, TrimmedScreen

from .fake_services import FakeServices, snapshot, trade
from .harness import until

D = Decimal
ASKS = [("60001.00", "0.75"), ("60005.00", "1")]


def fake() -> FakeServices:
    services = FakeServices()
    services.add_pair(
        "btcusd",
        snapshot("btcusd", bids=[("60000.00", "0.5"), ("59999.00", "1")], asks=ASKS),
        trades=[trade(1, "60000.00", "0.01", Side.SELL)],
    )
    return services


def text(pane: OrderBookView | TradesTapeView) -> str:
    return "\n".join(pane.render_line(y).text for y in range(pane.size.height))


async def test_a_nudge_after_a_quiet_spell_redraws_on_the_next_turn_of_the_loop() -> None:
    now = [100.0]
    drawn: list[float] = []

    def redraw() -> None:
        drawn.append(now[0])
        cap.drew()

    cap = RedrawCap(redraw, 25, clock=lambda: now[0])
    cap.nudge()
    assert cap.delay == 0
    await asyncio.sleep(0)
    assert drawn == [100.0]
    now[0] = 101.0  # a quiet second: the next frame paints at once too
    cap.nudge()
    assert cap.delay == 0
    await asyncio.sleep(0)
    assert drawn == [100.0, 101.0]


async def test_a_burst_folds_into_one_trailing_redraw_a_gap_after_the_last() -> None:
    now = [100.0]
    drawn: list[float] = []

    def redraw() -> None:
        drawn.append(now[0])
        cap.drew()

    cap = RedrawCap(redraw, 25, clock=lambda: now[0])
    cap.nudge()
    await asyncio.sleep(0)
    now[0] = 100.01  # 10 ms after that redraw, 50 frames
    for _ in range(50):
        cap.nudge()
    assert cap.delay == pytest.approx(0.03)
    await asyncio.sleep(0)
    assert drawn == [100.0]  # not on the leading edge: the cap holds
    await asyncio.sleep(0.1)  # the trailing redraw is due 30 ms (of the loop's time) later
    assert drawn == [100.0, 100.01]
    assert cap.delay is None


async def test_under_a_stream_redraws_stay_a_gap_apart_and_the_last_state_is_drawn() -> None:
    state = [0]
    drawn: list[tuple[float, int]] = []

    def redraw() -> None:
        drawn.append((time.monotonic(), state[0]))
        cap.drew()

    cap = RedrawCap(redraw, 25)
    end = time.monotonic() + 0.4
    while time.monotonic() < end:  # a frame every 2 ms (or slower on a busy machine)
        state[0] += 1
        cap.nudge()
        await asyncio.sleep(0.002)
    await asyncio.sleep(cap.gap * 3)
    assert drawn[-1][1] == state[0]  # the trailing edge drew the last frame's state
    gaps = [b[0] - a[0] for a, b in zip(drawn, drawn[1:], strict=False)]
    assert min(gaps) >= cap.gap - 0.002  # the loop may wake a clock tick early, no more
    assert len(drawn) <= 0.4 * 25 + 2


async def test_the_app_paints_a_moved_book_and_tape_without_waiting_for_a_tick() -> None:
    services = fake()
    # The panes' timers would tick in 100 s: only a nudge can paint within this test.
    app = build_app(services, AppOptions(refresh_hz=0.01))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.current == "btcusd", "BTC/USD shown")
        await pilot.pause()
        book, tape = app.query_one(OrderBookView), app.query_one(TradesTapeView)
        assert services.moved is not None
        assert book.cap is not None
        assert book.cap.gap == 1 / MOVE_HZ
        assert "60000.00" in text(book)

        pair = services.pairs["btcusd"]
        bids = snapshot("btcusd", bids=[("60000.40", "0.3")], asks=ASKS).bids
        pair.book.load(bids, snapshot("btcusd", bids=[], asks=ASKS).asks, 1_780_000_000_000_001)
        pair.version += 1
        services.move("ethusd")  # another pair moved: this pane is not redrawn for it
        assert book.cap.delay is None
        await pilot.pause()
        assert "60000.40" not in text(book)

        book.cap.drew()  # a redraw just now: the move must wait out the cap, then paint
        services.move("btcusd")
        assert book.cap.delay is not None
        assert 0 < book.cap.delay <= 1 / MOVE_HZ
        await until(pilot, lambda: "60000.40" in text(book), "the moved book painted")

        await asyncio.sleep(2 / MOVE_HZ)  # quiet spell: the next nudge is the leading edge
        assert tape.cap is not None
        pair.tape.merge([trade(2, "60002.00", "0.42", Side.BUY)])
        services.move("btcusd")  # (no await between: the tape's own timer cannot come first)
        assert tape.cap.delay == 0
        await until(pilot, lambda: "0.42" in text(tape), "the new trade painted")


def record_paints(app: WorkstationApp, monkeypatch: pytest.MonkeyPatch) -> list[set[int]]:
    """The screen lines of each partial update the app sends the terminal from now on."""
    painted: list[set[int]] = []
    real_display = app._display

    def display(screen: object, update: object) -> None:
        if isinstance(update, TrimmedChopsUpdate):
            painted.append({y for y, _, _ in update.spans})
        real_display(screen, update)  # type: ignore[arg-type]

    monkeypatch.setattr(app, "_display", display)
    return painted


def move_the_book(services: FakeServices) -> None:
    """The best bid moves to 59000.70 (the fake's book changes; nothing is told yet)."""
    pair = services.pairs["btcusd"]
    moved = snapshot("btcusd", bids=[("59000.70", "0.3")], asks=ASKS)
    pair.book.load(moved.bids, moved.asks, moved.timestamp_us)
    pair.version += 1


async def test_a_moved_book_and_tape_reach_the_screen_on_the_next_turn_of_the_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Not after Textual's four hops through message queues (each behind a stream's burst):
    the redraw a nudge causes is painted, book and tape in one screen update, on the loop's
    next turn."""
    services = fake()
    app = build_app(services, AppOptions(refresh_hz=0.01))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.current == "btcusd", "BTC/USD shown")
        await pilot.pause()
        await asyncio.sleep(2 / MOVE_HZ)  # a quiet spell: the nudge is the leading edge
        book, tape = app.query_one(OrderBookView), app.query_one(TradesTapeView)
        painted = record_paints(app, monkeypatch)
        move_the_book(services)
        services.pairs["btcusd"].tape.merge([trade(2, "60002.00", "0.42", Side.BUY)])
        services.move("btcusd")
        await asyncio.sleep(0)  # the caps' redraws (leading edge)
        await asyncio.sleep(0)  # the paint
        assert "59000.70" in text(book)
        assert "0.42" in text(tape)
        assert len(painted) == 1  # one update for both panes
        book_lines = set(range(book.region.y, book.region.bottom))
        tape_lines = set(range(tape.region.y, tape.region.bottom))
        assert painted[0] & book_lines
        assert painted[0] & tape_lines


async def test_a_redraw_is_painted_on_the_next_turn_though_its_idle_handler_came_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In the running app the pane's own idle handler usually runs before the paint (its
    wake-up is queued by the refresh, before the paint is): it posts the screen an update
    message and clears the widget's flag, and the paint must not wait for that message."""
    services = fake()
    app = build_app(services, AppOptions(refresh_hz=0.01))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.current == "btcusd", "BTC/USD shown")
        await pilot.pause()
        book = app.query_one(OrderBookView)
        screen = app.screen
        assert isinstance(screen, TrimmedScreen)
        painted = record_paints(app, monkeypatch)
        move_the_book(services)
        book.poll()  # its refresh queues the pane's wake-up (its idle handler) ...
        screen.paint_soon(book)  # ... before the paint
        await asyncio.sleep(0)
        assert len(painted) == 1


async def test_low_bandwidth_keeps_its_timers_and_asks_for_no_nudges() -> None:
    services = fake()
    app = build_app(services, AppOptions(low_bandwidth=True))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.current == "btcusd", "BTC/USD shown")
        book, tape = app.query_one(OrderBookView), app.query_one(TradesTapeView)
        assert services.moved is None
        assert book.cap is None
        assert tape.cap is None
        assert (book.redraw_hz, tape.redraw_hz) == (LOW_BANDWIDTH.book_hz, LOW_BANDWIDTH.tape_hz)
