"""The low-bandwidth mode as a trader sees it, and the repaints that keep terminal bytes down.

On the fake facade: fewer levels, the slower paces, no flash on a changed level, the SSH hint
said once then gone; and that a change repaints its own cells only, down to the bytes the
main screen sends the terminal for a partial update (``TrimmedScreen``). The bytes of the
whole app in a pty are measured by ``tests/integration/test_tty_bytes.py``.
"""

from __future__ import annotations

import gc
import itertools
import random
from collections.abc import Callable
from decimal import Decimal

from hypothesis import example, given
from hypothesis import strategies as st
from rich.console import Console
from rich.control import Control
from rich.segment import ControlType, Segment
from rich.style import Style
from textual._compositor import ChopsUpdate, Compositor
from textual.geometry import Region
from textual.pilot import Pilot
from textual.strip import Strip
from textual.widgets.data_table import ColumnKey

from workstation.domain.common import Side
from workstation.ui.app import WorkstationApp, build_app
from workstation.ui.drawn_lines import DrawnLines, changed_span
from workstation.ui.options import AppOptions
from workstation.ui.pace import LOW_BANDWIDTH
from workstation.ui.panes.book import OrderBookView
from workstation.ui.panes.orders import OpenOrdersView
from workstation.ui.panes.status import HINT_S, LOW_BANDWIDTH_HINT, StatusBar
from workstation.ui.panes.tape import TradesTapeView
from workstation.ui.theme import MONO_THEME
from workstation.ui.trimmed_screen import (
    TrimmedChopsUpdate,
    TrimmedCompositor,
    TrimmedScreen,
    span_text,
)

from .fake_services import FROZEN, FakeServices, order, snapshot, trade
from .harness import until

D = Decimal


def deep_book(amount_at_touch: str = "0.5") -> list[tuple[str, str]]:
    return [("60000.00", amount_at_touch)] + [(f"{60000 - n}.00", "1") for n in range(1, 20)]


def fake(bid_touch: str = "0.5") -> FakeServices:
    services = FakeServices()
    asks = [(f"{60001 + n}.00", "1") for n in range(20)]
    services.add_pair(
        "btcusd",
        snapshot("btcusd", bids=deep_book(bid_touch), asks=asks),
        trades=[trade(1, "60000.00", "0.01", Side.SELL), trade(2, "60001.00", "0.2", Side.BUY)],
    )
    return services


def priced_rows(book: OrderBookView) -> int:
    drawn = [book.render_line(y).text for y in range(book.size.height)]
    return sum(1 for line in drawn if line.strip()[:1].isdigit())


async def test_low_bandwidth_shows_fewer_levels_and_redraws_slower() -> None:
    for low, levels, paces in (
        (False, 12 * 2, (10.0, 10.0, 4.0)),
        (True, LOW_BANDWIDTH.book_levels * 2, (2.0, 1.0, 1.0)),  # type: ignore[operator]
    ):
        app = build_app(fake(), AppOptions(low_bandwidth=low))
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda app=app: app.current == "btcusd", "BTC/USD shown")
            await pilot.pause()
            book = app.query_one(OrderBookView)
            assert priced_rows(book) == levels
            tape, bar = app.query_one(TradesTapeView), app.query_one(StatusBar)
            assert (book.redraw_hz, tape.redraw_hz, bar.refresh_hz) == paces
            assert ("top 8" in str(book.border_subtitle)) is low
            await pilot.resize_terminal(80, 24)  # 4 levels fit: no "top 8", nothing is cut
            await pilot.pause()
            book.poll()
            assert priced_rows(book) == 4 * 2
            assert "top" not in str(book.border_subtitle)


async def test_a_changed_level_repaints_its_own_cells_and_does_not_flash() -> None:
    services = fake()
    app = build_app(services, AppOptions(low_bandwidth=True))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.current == "btcusd", "BTC/USD shown")
        await pilot.pause()
        book = app.query_one(OrderBookView)
        book.blur()  # no cursor: every bid row in its side's own style
        await pilot.pause()
        before = [book.render_line(y) for y in range(book.size.height)]
        refreshed: list[Region] = []
        real_refresh = book.refresh

        def spy(*regions: Region, **kwargs: bool) -> OrderBookView:
            refreshed.extend(regions)
            return real_refresh(*regions, **kwargs)

        book.refresh = spy  # type: ignore[method-assign]
        pair = services.pairs["btcusd"]
        pair.book.load(
            snapshot("btcusd", bids=deep_book("0.75"), asks=[]).bids,
            [(D(60001 + n), D(1)) for n in range(20)],
            pair.book.timestamp_us + 1,
        )
        pair.version += 1
        book.poll()
        after = [book.render_line(y) for y in range(book.size.height)]
        changed = [y for y in range(len(after)) if after[y].text != before[y].text]
        # the touch's amount, and every bid's running total and value under it, and no other
        assert changed
        assert {region.y for region in refreshed} == set(changed)
        assert all(region.height == 1 and region.width < book.size.width for region in refreshed)
        touch = next(y for y in changed if "0.75" in after[y].text)
        price_cells = len(after[touch].text) - len(after[touch].text.lstrip()) + 8
        (at_touch,) = [region for region in refreshed if region.y == touch]
        assert at_touch.x >= price_cells  # its price stays: amount, total, value and bar only
        # no flash: the changed row is styled like an unchanged bid row
        unchanged = next(y for y in range(touch + 1, len(after)) if "59995.00" in after[y].text)
        assert [s.style for s in after[touch]] == [s.style for s in after[unchanged]]


async def test_the_ssh_hint_is_said_once_then_gone() -> None:
    app = build_app(fake(), AppOptions(low_bandwidth_hint=True))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.current == "btcusd", "BTC/USD shown")
        bar = app.query_one(StatusBar)
        bar.redraw()
        assert LOW_BANDWIDTH_HINT in str(bar.render())
        start = bar.hint_until - HINT_S
        bar.now = lambda: start + HINT_S + 0.1
        bar.redraw()
        assert LOW_BANDWIDTH_HINT not in str(bar.render())
        bar.now = lambda: start + 1  # even a clock that went back does not bring it back
        bar.redraw()
        assert LOW_BANDWIDTH_HINT not in str(bar.render())


async def test_no_ssh_hint_in_low_bandwidth_mode() -> None:
    app = build_app(fake(), AppOptions(low_bandwidth=True, low_bandwidth_hint=True))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.current == "btcusd", "BTC/USD shown")
        bar = app.query_one(StatusBar)
        bar.redraw()
        assert "low-bandwidth" not in str(bar.render())


async def test_the_main_screen_trims_partial_updates() -> None:
    app = build_app(fake(), AppOptions())
    async with app.run_test(size=(120, 40)):
        assert isinstance(app.screen, TrimmedScreen)


async def main_compositor(app: WorkstationApp, pilot: Pilot[None]) -> TrimmedCompositor:
    """The main screen's compositor, once BTC/USD is shown and painted."""
    await until(pilot, lambda: app.current == "btcusd", "BTC/USD shown")
    await pilot.pause()
    compositor = app.screen._compositor
    assert isinstance(compositor, TrimmedCompositor)
    return compositor


async def test_a_partial_update_writes_what_textuals_own_would_trimmed() -> None:
    """The trimmed compositor renders of each widget only the changed lines it covers;
    what it writes must be exactly Textual's full render of the same update, trimmed: for
    changes anywhere on the screen, across panes, and under a notification on top."""
    services = fake()
    services.orders = [order("a" * 32, Side.BUY, "0.25", "59950")]
    app = build_app(services, AppOptions())
    rng = random.Random(5)
    async with app.run_test(size=(120, 40)) as pilot:
        compositor = await main_compositor(app, pilot)
        for toast in (False, True):
            if toast:
                app.notify("an order was filled", timeout=30)
                await pilot.pause(0.2)
            for _ in range(150):
                regions = []
                for _ in range(rng.randint(1, 4)):
                    x, y = rng.randrange(120), rng.randrange(40)
                    width, height = rng.randint(1, 120 - x), rng.randint(1, min(5, 40 - y))
                    regions.append(Region(x, y, width, height))
                compositor._dirty_regions.update(regions)
                ours = compositor.render_partial_update()
                compositor._dirty_regions.update(regions)
                theirs = Compositor.render_partial_update(compositor)
                assert ours is not None
                assert theirs is not None
                trimmed = TrimmedChopsUpdate(theirs.chops, theirs.spans, theirs.chop_ends)
                assert ours.render_segments(app.console) == trimmed.render_segments(app.console)


async def test_partial_updates_leave_no_strip_for_the_garbage_collector() -> None:
    """A pane's line is mostly one piece of its screen line; Textual's ``Strip.divide`` keeps
    ``[strip]`` in the strip's own cache for that, a cycle only a full collection frees (at
    ``--speed 100`` a 40-60 ms full collection every ~3 s). The trimmed compositor's updates
    leave strips that reference counting frees: none reaches the collector as garbage."""
    app = build_app(fake(), AppOptions())
    rng = random.Random(7)
    async with app.run_test(size=(120, 40)) as pilot:
        compositor = await main_compositor(app, pilot)

        def forget_lines() -> None:
            for widget in app.screen.walk_children(with_self=False):
                widget._styles_cache.clear()  # lines rendered anew, as after a change

        def strips_in_cycles(update: Callable[[], object]) -> int:
            forget_lines()  # and what the last paints left in cycles is garbage now:
            gc.collect()
            for _ in range(60):
                forget_lines()
                y = rng.randrange(40)
                compositor._dirty_regions.add(Region(0, y, 120, rng.randint(1, 40 - y)))
                update()
            gc.set_debug(gc.DEBUG_SAVEALL)
            try:
                gc.collect()
                return sum(isinstance(thing, Strip) for thing in gc.garbage)
            finally:
                gc.set_debug(0)
                gc.garbage.clear()

        assert strips_in_cycles(compositor.render_partial_update) == 0
        assert strips_in_cycles(lambda: Compositor.render_partial_update(compositor)) > 0


def test_a_partial_update_sends_only_the_changed_cells() -> None:
    """Textual's own update writes a chop from its left edge (the book's border) and moves
    the cursor to chops with nothing to write; the trimmed one writes the span only."""
    red = Style(color="red")
    book = Strip([Segment("|", None), Segment("  60000.00   0.50", red), Segment("|", None)])
    tape = Strip([Segment("tape", None)])
    chops = [{0: book, 19: tape}]
    spans = [(0, 14, 18)]  # the amount "0.50", inside the book
    console = Console(color_system="truecolor", force_terminal=True, width=40)
    ours = TrimmedChopsUpdate(chops, spans, [[19, 23]]).render_segments(console)
    amount = Strip([Segment("0.50", red)]).render(console)
    assert ours == Control.move_to(14, 0).segment.text + amount
    textual = ChopsUpdate(chops, spans, [[19, 23]]).render_segments(console)
    assert "60000.00" in textual
    assert "60000.00" not in ours
    assert len(ours) < len(textual)


_CHOP_STYLES = [
    None,
    Style(color="red"),
    Style(color="red"),  # equal to the one before, another object: runs join on equality
    Style(color="#00ff00", bgcolor="grey11", bold=True),
    Style(dim=True, link="https://www.bitstamp.net"),
]


@st.composite
def strips_and_spans(draw: st.DrawFn) -> tuple[Strip, int, int]:
    """A strip of styled segments (wide and zero-width characters and a cursor control
    among them) and a span that may start, end or lie outside it. No empty segment: Textual
    flags one as invalid, and ``crop`` keeps one at a strip's end as a pair of style codes."""
    texts = st.text(alphabet="ab 0.9|\u2502\u65e5\u0301", min_size=1, max_size=6)
    segments = draw(
        st.lists(
            st.builds(
                Segment,
                texts,
                st.sampled_from(_CHOP_STYLES),
                st.sampled_from([None] * 9 + [((ControlType.HIDE_CURSOR,),)]),
            ),
            max_size=8,
        )
    )
    strip = Strip(segments)
    start = draw(st.integers(0, strip.cell_length + 2))
    end = draw(st.integers(0, strip.cell_length + 3))
    return strip, start, end


_ACCENT = Segment("\u0301", _CHOP_STYLES[1])  # a combining accent alone: no cell


@given(strips_and_spans(), st.sampled_from(["truecolor", "256", "standard"]))
@example((Strip([_ACCENT, Segment("ab")]), 0, 2), "truecolor")  # the whole strip
@example((Strip([Segment("ab"), _ACCENT]), 1, 2), "truecolor")  # to its end
@example((Strip([Segment("ab", _CHOP_STYLES[1]), Segment("c", _CHOP_STYLES[2])]), 1, 3), "256")
def test_span_text_writes_what_crop_simplify_render_writes(
    case: tuple[Strip, int, int], color_system: str
) -> None:
    """The trimmed update writes each chop's span without making strips: what reaches the
    terminal is Textual's crop, rich's simplify and Textual's render, byte for byte, and
    nothing for a span that holds no cell of the strip."""
    strip, start, end = case
    console = Console(color_system=color_system, force_terminal=True, width=80)  # type: ignore[arg-type]
    part = strip.crop(start, end)
    expected = part.simplify().render(console) if part.cell_length else ""
    assert span_text(strip, start, end, console) == expected


def test_changed_span_compares_cells_in_place() -> None:
    def line(text: str) -> Strip:
        return Strip([Segment(text)])

    assert changed_span(None, line("abc")) == (0, 3)
    assert changed_span(line("abc"), line("abc")) is None
    assert changed_span(line("abcdef"), line("abXdef")) == (2, 3)
    # a shorter line: the cells it no longer covers changed too (the status bar's tail)
    assert changed_span(line("p50 105/231 ms"), line("p50 99/231 ms")) == (4, 14)
    assert changed_span(line("ab"), line("abcd")) == (2, 4)
    red = Strip([Segment("ab"), Segment("c", Style(color="red"))])
    assert changed_span(line("abc"), red) == (2, 3)  # a style alone is a change
    # no cells on either side, however the segments are cut: nothing changed
    assert changed_span(Strip([]), Strip([Segment("")])) is None
    assert changed_span(Strip([Segment("", Style(bold=True))]), Strip([])) is None


def test_drawn_lines_keep_what_was_drawn_and_report_the_changes() -> None:
    drawn = DrawnLines()
    first = [(0, Strip([Segment("bid 1")])), (1, Strip([Segment("ask 2")]))]
    assert drawn.changes(first) == [Region(0, 0, 5, 1), Region(0, 1, 5, 1)]
    assert drawn.changes(first) == []
    assert drawn.changes([(1, Strip([Segment("ask 3")]))]) == [Region(4, 1, 1, 1)]
    drawn.forget()
    assert drawn.changes([(1, Strip([Segment("ask 3")]))]) == [Region(0, 1, 5, 1)]


def _cells_span(old: Strip, new: Strip) -> tuple[int, int] | None:
    """The plain cell-by-cell comparison the fast path must agree with."""
    before = [(c, s.style) for s in old for c in s.text]
    after = [(c, s.style) for s in new for c in s.text]
    size = max(len(before), len(after))
    before += [("\x00", None)] * (size - len(before))
    after += [("\x00", None)] * (size - len(after))
    changed = [i for i in range(size) if before[i] != after[i]]
    return (changed[0], changed[-1] + 1) if changed else None


_STYLES = [None, Style(color="red"), Style(bold=True)]
_segments = st.lists(
    st.tuples(st.text(alphabet="0123456789. ", max_size=12), st.sampled_from(_STYLES)),
    min_size=1,
    max_size=3,
)


@given(
    old=_segments,
    edits=st.lists(st.tuples(st.integers(0, 40), st.sampled_from("0189 .")), max_size=6),
)
def test_changed_span_of_same_shaped_lines_agrees_with_a_cell_by_cell_compare(
    old: list[tuple[str, Style | None]], edits: list[tuple[int, str]]
) -> None:
    """A book row whose amount changed and whose bar did not move keeps its shape (the same
    styles over the same lengths): the fast path compares the texts alone, and must find
    the very cells a cell-by-cell compare finds."""
    text = "".join(t for t, _ in old)
    changed = list(text)
    for at, char in edits:
        if changed:
            changed[at % len(changed)] = char
    new, start = [], 0
    for piece, style in old:
        new.append((("".join(changed))[start : start + len(piece)], style))
        start += len(piece)
    a = Strip([Segment(t, s) for t, s in old])
    b = Strip([Segment(t, s) for t, s in new])
    assert changed_span(a, b) == _cells_span(a, b)


@given(old=_segments, new=_segments)
def test_changed_span_of_any_two_lines_agrees_with_a_cell_by_cell_compare(
    old: list[tuple[str, Style | None]], new: list[tuple[str, Style | None]]
) -> None:
    a = Strip([Segment(t, s) for t, s in old])
    b = Strip([Segment(t, s) for t, s in new])
    assert changed_span(a, b) == _cells_span(a, b)


@given(
    text=st.text(alphabet="0123456789. ", min_size=1, max_size=30),
    edits=st.lists(st.tuples(st.integers(0, 40), st.sampled_from("0189 .")), max_size=4),
    cuts=st.tuples(
        st.lists(st.integers(1, 29), max_size=3), st.lists(st.integers(1, 29), max_size=3)
    ),
    styles=st.tuples(
        st.lists(st.sampled_from(_STYLES), min_size=4, max_size=4),
        st.lists(st.sampled_from(_STYLES), min_size=4, max_size=4),
    ),
)
def test_changed_span_where_a_bar_moved_agrees_with_a_cell_by_cell_compare(
    text: str,
    edits: list[tuple[int, str]],
    cuts: tuple[list[int], list[int]],
    styles: tuple[list[Style | None], list[Style | None]],
) -> None:
    """Lines of the same length cut into differently styled runs (a depth bar whose edge
    moved): the styles are compared run by run and must find the cells a cell compare finds."""
    changed = list(text)
    for at, char in edits:
        changed[at % len(changed)] = char

    def line(chars: str, at: list[int], looks: list[Style | None]) -> Strip:
        edges = [0, *sorted({c for c in at if c < len(chars)}), len(chars)]
        return Strip(
            [Segment(chars[a:b], looks[n]) for n, (a, b) in enumerate(itertools.pairwise(edges))]
        )

    a = line(text, cuts[0], styles[0])
    b = line("".join(changed), cuts[1], styles[1])
    assert changed_span(a, b) == _cells_span(a, b)


def test_drawn_lines_reuse_a_line_drawn_from_the_same_key() -> None:
    drawn = DrawnLines()
    row = Strip([Segment("60000.00  0.5")])
    assert not drawn.same(3, ("bid", 1))
    assert drawn.change(3, row, ("bid", 1)) == Region(0, 3, 13, 1)
    assert drawn.same(3, ("bid", 1))
    assert drawn.drawn(3, ("bid", 1)) is row
    assert drawn.drawn(3, ("bid", 2)) is None  # other inputs: formatted again
    assert not drawn.same(3, None)  # a line without a key is never taken as drawn
    drawn.keep(3, row)  # kept without a key: the old key no longer vouches for it
    assert drawn.drawn(3, ("bid", 1)) is None
    drawn.change(4, row, ("ask", 1))
    drawn.forget()
    assert drawn.drawn(4, ("ask", 1)) is None


async def test_a_theme_change_repaints_the_book_in_the_new_styles() -> None:
    """The book reuses the lines it drew while their inputs stay the same; new styles are
    not among those inputs, so a theme change must not leave the old colours on screen."""
    app = build_app(fake(), AppOptions())
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.current == "btcusd", "BTC/USD shown")
        await pilot.pause()
        book = app.query_one(OrderBookView)
        bid = next(y for y in range(book.size.height) if "59995.00" in book.render_line(y).text)
        before = [s.style for s in book.render_line(bid)]
        await pilot.press("m")  # the monochrome theme
        await until(pilot, lambda: app.theme == MONO_THEME, "the monochrome theme")
        await pilot.pause()
        after = [s.style for s in book.render_line(bid)]
        assert "59995.00" in book.render_line(bid).text
        assert after != before


async def test_open_orders_rewrite_only_the_ages_that_moved() -> None:
    services = fake()
    services.orders = [
        order("a" * 32, Side.BUY, "0.25", "59950"),
        order("b" * 32, Side.SELL, "0.1", "60100"),
    ]
    app = build_app(services, AppOptions())
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.current == "btcusd", "BTC/USD shown")
        pane = app.query_one(OpenOrdersView)
        created = FROZEN.timestamp()
        pane.clock = lambda: created + 42
        pane.show(pane.orders)
        await pilot.pause()
        refreshed: list[tuple[Region, ...]] = []
        real_refresh = pane.refresh

        def spy(*regions: Region, **kwargs: bool) -> OpenOrdersView:
            refreshed.append(regions)
            return real_refresh(*regions, **kwargs)

        pane.refresh = spy  # type: ignore[method-assign]
        pane._tick()  # the same second: nothing
        assert refreshed == []
        pane.clock = lambda: created + 43
        pane._tick()
        assert [str(pane.get_row_at(row)[6]) for row in range(pane.row_count)] == ["43s", "43s"]
        assert refreshed  # the two Age cells, each alone, never the whole table
        age_width = pane.columns[ColumnKey("Age")].get_render_width(pane)
        assert [(r.y, r.width) for (r,) in refreshed] == [(1, age_width), (2, age_width)]
        assert pane.get_row_at(0)[:3][0] == "BTC/USD"


async def test_an_empty_open_orders_pane_writes_nothing_on_its_tick() -> None:
    app = build_app(fake(), AppOptions())
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.current == "btcusd", "BTC/USD shown")
        pane = app.query_one(OpenOrdersView)
        await pilot.pause()
        refreshed: list[tuple[Region, ...]] = []
        pane.refresh = lambda *regions, **kwargs: refreshed.append(regions) or pane  # type: ignore[method-assign]
        pane.clock = lambda: FROZEN.timestamp() + 3600
        pane._tick()
        assert refreshed == []
