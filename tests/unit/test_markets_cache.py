"""The markets the last start saw: read back as they were saved, for that environment only;
a file that is missing, damaged or another environment's is a miss (the start then waits for
the venue's markets), never an error that stops a start."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from workstation.services.markets_cache import MarketsCache, default_markets_cache_path
from workstation.sim.catalog import DEFAULT_MARKETS


def test_saved_markets_read_back_equal_for_the_same_environment(tmp_path: Path) -> None:
    cache = MarketsCache(tmp_path / "cache" / "markets.json")
    assert cache.read("sim") is None  # nothing saved yet
    cache.save("sim", DEFAULT_MARKETS)
    assert cache.read("sim") == list(DEFAULT_MARKETS)
    assert cache.read("live") is None  # another environment
    assert [p.name for p in cache.path.parent.iterdir()] == ["markets.json"]  # no temp left


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) // 2],  # cut short
        lambda text: text.replace('"quote_decimals":2', '"quote_decimals":-2', 1),  # a rule off
        lambda text: text.replace('"markets":[', '"markets":[7,', 1),  # not a market
        lambda text: "",
    ],
)
def test_a_damaged_file_is_a_miss_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, damage
) -> None:
    cache = MarketsCache(tmp_path / "markets.json")
    cache.save("sim", DEFAULT_MARKETS)
    cache.path.write_text(damage(cache.path.read_text()))
    with caplog.at_level(logging.WARNING, "workstation.services.markets_cache"):
        assert cache.read("sim") is None
    assert "not used" in caplog.text


def test_a_cache_that_cannot_be_written_changes_nothing_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "file").write_text("")
    cache = MarketsCache(tmp_path / "file" / "markets.json")  # its folder is a file
    with caplog.at_level(logging.WARNING, "workstation.services.markets_cache"):
        cache.save("sim", DEFAULT_MARKETS)
    assert "not written" in caplog.text
    assert cache.read("sim") is None


def test_the_default_file_is_in_the_user_cache_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_markets_cache_path() == tmp_path / "bitstamp-workstation" / "markets.json"
