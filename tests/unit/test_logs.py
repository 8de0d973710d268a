"""The log file (issue 12 item 13): where it is, who may read it, and that it never holds a
key or a secret. Every test writes to its own temp folder and removes its handler after."""

from __future__ import annotations

import logging
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workstation.bitstamp.secret import Secret
from workstation.services import logs
from workstation.services.venue import Venue

KEY = "AbCdEf0123456789AbCdEf0123456789"
SECRET = "pl4nted-S3CR3T-pl4nted-S3CR3T-99"


@pytest.fixture(autouse=True)
def _root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_default_folder_is_the_user_log_directory(tmp_path: Path) -> None:
    # the autouse fixture of tests/conftest.py points XDG_STATE_HOME at a temp folder
    folder = logs.default_log_dir()
    assert folder.parts[-2:] == ("bitstamp-workstation", "log")
    assert not folder.is_relative_to(Path.home() / ".local")


def test_the_log_and_its_folder_are_the_owners_only(tmp_path: Path) -> None:
    log_file = tmp_path / "new" / "deeper" / "workstation.log"
    logs.configure_logging(log_file, "INFO")
    logging.getLogger("workstation.test").info("hello")
    assert "hello" in log_file.read_text(encoding="utf-8")
    assert mode(log_file) == 0o600
    for folder in ("new", "new/deeper"):
        assert mode(tmp_path / folder) == 0o700


def test_an_old_world_readable_log_is_made_the_owners_only(tmp_path: Path) -> None:
    log_file = tmp_path / "workstation.log"
    log_file.write_text("from an older version\n", encoding="utf-8")
    log_file.chmod(0o644)
    logs.configure_logging(log_file)
    assert mode(log_file) == 0o600


def test_every_rotated_file_is_the_owners_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logs, "MAX_BYTES", 2_000)
    log_file = tmp_path / "workstation.log"
    logs.configure_logging(log_file)
    for n in range(200):
        logging.getLogger("workstation.test").info("line %d %s", n, "x" * 40)
    files = sorted(tmp_path.glob("workstation.log*"))
    assert len(files) == 1 + logs.BACKUPS
    assert all(mode(f) == 0o600 for f in files)
    assert all(f.stat().st_size <= 2_000 for f in files)


def test_the_level_decides_what_is_written(tmp_path: Path) -> None:
    log_file = tmp_path / "workstation.log"
    logs.configure_logging(log_file, "WARNING")
    logging.getLogger("workstation.test").info("quiet")
    logging.getLogger("workstation.test").warning("loud")
    text = log_file.read_text(encoding="utf-8")
    assert "loud" in text
    assert "quiet" not in text


def test_a_venues_keys_and_the_signature_headers_never_reach_the_file(tmp_path: Path) -> None:
    log_file = tmp_path / "workstation.log"
    logs.configure_logging(log_file, "DEBUG")
    Venue(
        "sim", "http://127.0.0.1:1", "ws://127.0.0.1:1/", Secret(KEY), Secret(SECRET)
    )  # registers both
    log = logging.getLogger("workstation.test")
    log.info("key %s secret %s", KEY, SECRET)
    log.info("headers %r", {"X-Auth": f"BITSTAMP {KEY}", "X-Auth-Signature": "ab12" * 16})
    log.info("X-Auth-Signature: %s", "cd34" * 16)
    log.info('{"event":"bts:subscribe","data":{"channel":"private-x-1","auth":"tok3n-v4lue"}}')
    try:
        raise RuntimeError(f"while signing with {SECRET}")
    except RuntimeError:
        log.exception("failed")
    httpx_log = logging.getLogger("httpx")
    httpx_log.info("a third-party request line, below its WARNING floor")
    text = log_file.read_text(encoding="utf-8")
    for leaked in (KEY, SECRET, "ab12" * 16, "cd34" * 16, "tok3n-v4lue"):
        assert leaked not in text
    assert "while signing with ***" in text
    assert "Traceback" in text
    assert "third-party" not in text


@given(st.text(min_size=0, max_size=40), st.text(min_size=0, max_size=40))
def test_the_filter_masks_a_secret_wherever_it_sits(before: str, after: str) -> None:
    scrubber = logs.SecretFilter()
    scrubber.add(SECRET, KEY)
    assert SECRET not in scrubber.scrub(before + SECRET + after)
    assert KEY not in scrubber.scrub(before + KEY + after)


def test_the_crash_report_is_one_line_naming_the_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log_file = tmp_path / "workstation.log"
    logs.configure_logging(log_file)
    logs.mask(SECRET)
    try:
        raise ValueError(f"bad {SECRET}")
    except ValueError as exc:
        status = logs.report_crash(exc, log_file)
    assert status == 1
    err = capsys.readouterr().err
    assert err == f"workstation crashed (ValueError); the details are in {log_file}\n"
    text = log_file.read_text(encoding="utf-8")
    assert "ValueError: bad ***" in text
    assert SECRET not in text
