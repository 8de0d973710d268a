"""The journal's files are readable by their owner only (issue 12 item 13): the database, the
WAL and shared-memory files SQLite puts beside it, and the folder when the journal makes it.
A journal left world-readable by an older version is tightened when it is opened."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from workstation.domain.common import Side
from workstation.services.journal import Journal


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """The common 022 umask: without our care every file would be readable by all."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_journal_and_its_folder_are_the_owners_only(
    tmp_path: Path, permissive_umask: None
) -> None:
    path = tmp_path / "made" / "by" / "us" / "journal.sqlite3"
    with Journal(path) as journal:
        journal.record_intent(
            "c1",
            env="sim",
            market="btcusd",
            side=Side.BUY,
            kind="limit",
            amount=Decimal("0.1"),
            price=Decimal("60000"),
        )
        files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
        assert all(f.exists() for f in files)
        assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
    assert mode(path.parent) == 0o700


def test_an_old_world_readable_journal_is_tightened_on_open(
    tmp_path: Path, permissive_umask: None
) -> None:
    tmp_path.chmod(0o755)
    path = tmp_path / "journal.sqlite3"
    Journal(path).close()
    for f in tmp_path.iterdir():
        f.chmod(0o644)
    with Journal(path):
        pass
    assert {f.name: mode(f) for f in tmp_path.iterdir()} == {
        f.name: 0o600 for f in tmp_path.iterdir()
    }
    assert mode(tmp_path) != 0o700  # a folder we did not make is left as it is
