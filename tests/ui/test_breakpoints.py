"""The desk's breakpoint classes (``-wide``/``-narrow``, ``-tall``/``-short``: the layout's
CSS reads them) are there from the first stylesheet pass, not set by Textual's first resize,
which restyled the whole desk at every start."""

from __future__ import annotations

import pytest

from workstation.ui.app import build_app
from workstation.ui.options import AppOptions

from .fake_services import FakeServices, snapshot

BOOK = snapshot("btcusd", bids=[("60000.00", "0.5")], asks=[("60001.00", "0.75")])


@pytest.mark.parametrize(
    ("size", "classes"),
    [((120, 40), {"-wide", "-tall"}), ((80, 24), {"-narrow", "-short"})],
)
async def test_the_desk_starts_with_the_breakpoint_classes_of_its_size(
    size: tuple[int, int], classes: set[str]
) -> None:
    """The main screen is made with the classes Textual's first resize would give it, so
    the stylesheet's first pass fits them and that resize restyles nothing."""
    services = FakeServices()
    services.add_pair("btcusd", BOOK)
    app = build_app(services, AppOptions())
    async with app.run_test(size=size) as pilot:
        made = app.get_default_screen()
        assert set(made.classes) == classes
        await pilot.pause()
        assert classes <= set(app.screen.classes)  # what Textual's resize says too
