"""Shared test fixtures.

Recorded Bitstamp traffic lives outside the repository, in ../shared/fixtures/bitstamp (or
wherever BITSTAMP_FIXTURES points). A fresh clone does not have it: those tests skip with a
reason instead of failing, and everything else still runs.
"""

from __future__ import annotations

import decimal
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web_app

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
    test ever writes the trader's real journal (nor reads the trader's config file)."""
    data = tmp_path_factory.mktemp("data")
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    monkeypatch.setenv("XDG_STATE_HOME", str(data / "state"))  # and its own log directory
    monkeypatch.setenv("XDG_CONFIG_HOME", str(data / "config"))  # never the trader's config
    monkeypatch.setenv("XDG_CACHE_HOME", str(data / "cache"))  # nor the markets they last saw
    return data


@pytest.fixture(autouse=True)
def _forget_aiohttp_middleware_chains():
    """aiohttp memoises middleware chains in a process-wide ``lru_cache(maxsize=1024)`` keyed
    on ``(handler, apps)`` (``aiohttp.web_app._cached_build_middleware``). Each test builds a
    fresh SimServer app, so every entry pins a whole stopped server and its SimExchange (100k+
    trades) until 1024 entries push it out: ~1.4 GB for test_order_tracker.py, ~8 GB for the
    suite. Drop the entries after each test (getattr: it is a private aiohttp detail)."""
    yield
    cache = getattr(web_app, "_cached_build_middleware", None)
    if cache is not None:
        cache.cache_clear()


def _decimal_state(context: decimal.Context) -> tuple[object, ...]:
    traps = tuple(sorted(signal.__name__ for signal, on in context.traps.items() if on))
    return context.prec, context.rounding, context.Emin, context.Emax, context.clamp, traps


@pytest.fixture(autouse=True)
def decimal_context_kept() -> Iterator[None]:
    """No test leaves the thread's decimal context changed: every later test would compute
    in it (a quantize rounding half up instead of half to even), and fail, or pass, by the
    order the tests ran in. The test that changed it fails; the next one starts clean."""
    before = decimal.getcontext().copy()
    yield
    after = decimal.getcontext()
    if _decimal_state(after) != _decimal_state(before):
        changed = f"{_decimal_state(before)} -> {_decimal_state(after)}"
        decimal.setcontext(before)
        pytest.fail(f"the test changed the decimal context: {changed}")
