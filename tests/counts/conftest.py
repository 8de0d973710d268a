"""The counts (issue 16, "Counts per `make test` run"): their size, their record, and the one
summary line at the end of the run.

``WORKSTATION_COUNTS_FACTOR`` multiplies every count (``make soak``: 25); each test reads its
own target from :func:`scaled`. A test records what it did with the ``count`` fixture; the
``pytest_terminal_summary`` hook prints the line, FAILED with the names when one failed.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .tally import Count, Tally

MEMORY_DIR = Path("/dev/shm")
"""A tmpfs on Linux: the journals of the counts live there when it exists."""
FACTOR_VARIABLE = "WORKSTATION_COUNTS_FACTOR"
_TALLY = pytest.StashKey[Tally]()
_RUN: list[Tally] = []
"""The run's tally (``pytest_runtest_logreport`` is given no config to find it in)."""


def counts_factor() -> int:
    """How many times the base counts this run does (1 unless the variable says otherwise)."""
    text = os.environ.get(FACTOR_VARIABLE, "1")
    if not text.isdigit() or int(text) < 1:
        raise pytest.UsageError(f"{FACTOR_VARIABLE} must be a whole number of 1 or more: {text!r}")
    return int(text)


def scaled(base: int) -> int:
    """A test's target: its base count times the run's factor."""
    return base * counts_factor()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_TALLY] = Tally(factor=counts_factor())
    _RUN[:] = [config.stash[_TALLY]]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Feed pytest's verdicts to the tally: a failure in any phase, a pass of the call."""
    if not _RUN:
        return
    tally = _RUN[0]
    if report.failed:
        tally.report(report.nodeid, "failed")
    elif report.skipped:
        tally.report(report.nodeid, "skipped")
    elif report.when == "call":
        tally.report(report.nodeid, "passed")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    line = terminalreporter.config.stash[_TALLY].summary()
    if line is not None:
        terminalreporter.write_line(line, bold=True, red="FAILED" in line)


@pytest.fixture
def count(request: pytest.FixtureRequest) -> Callable[[str, int], Count]:
    """``count(unit, target)``: start this test's count of ``unit``; the test adds to
    ``done`` as it goes (and sets ``note``)."""
    tally = request.config.stash[_TALLY]

    def start(unit: str, target: int) -> Count:
        return tally.start(unit, target, request.node.nodeid)

    return start


@pytest.fixture
def journal_dir(tmp_path: Path) -> Iterator[Path]:
    """Where a count's order journal lives: in memory (tmpfs) when the machine has one. The
    journal syncs every write to disk (``synchronous=FULL``); hundreds of orders a second on a
    CI disk would measure the disk, not the protocol. Elsewhere, the test's temp dir."""
    if not MEMORY_DIR.is_dir() or not os.access(MEMORY_DIR, os.W_OK):
        yield tmp_path
        return
    with tempfile.TemporaryDirectory(prefix="counts-journal-", dir=MEMORY_DIR) as folder:
        yield Path(folder)
