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


@pytest.fixture(autouse=True)
def private_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Every test gets its own user data directory (platformdirs reads XDG_DATA_HOME), so no
    test ever writes the trader's real journal."""
    data = tmp_path_factory.mktemp("data")
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    return data
