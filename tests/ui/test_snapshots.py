"""Snapshots of the main screen against a seeded simulator on a frozen clock.

Regenerate after an intended change with ``pytest tests/ui/test_snapshots.py
--snapshot-update`` and look at the SVGs in ``tests/ui/__snapshots__/`` before committing.
"""

from __future__ import annotations

import pytest

from workstation.ui.app import WorkstationApp

from .harness import SimThread, settle


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
def test_main_screen(snap_compare, size: tuple[int, int]) -> None:  # noqa: ANN001 - plugin
    with SimThread(seed=3) as venue:
        assert snap_compare(WorkstationApp(venue), terminal_size=size, run_before=settle)


def test_main_screen_monochrome_with_a_cursor(snap_compare) -> None:  # noqa: ANN001
    async def run_before(pilot) -> None:  # noqa: ANN001
        await settle(pilot)
        await pilot.press("down", "down", "down", "plus")
        await settle(pilot)

    with SimThread(seed=3) as venue:
        app = WorkstationApp(venue, mono=True)
        assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)
