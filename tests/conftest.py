"""Shared test fixtures.

Recorded Bitstamp traffic lives outside the repository, in ../shared/fixtures/bitstamp (or
wherever BITSTAMP_FIXTURES points). A fresh clone does not have it: those tests skip with a
reason instead of failing, and everything else still runs.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(
    os.environ.get("BITSTAMP_FIXTURES", REPO.parent / "shared" / "fixtures" / "bitstamp")
)


@pytest.fixture
def recorded() -> Path:
    """The folder of recorded real Bitstamp traffic; skips the test when it is absent."""
    if not FIXTURES.is_dir():
        pytest.skip(f"recorded Bitstamp traffic not found at {FIXTURES} (set BITSTAMP_FIXTURES)")
    return FIXTURES
