"""The workstation's log file: one rotating file, readable by its owner only, secrets masked.

What goes in: the request log (``workstation.bitstamp.rest``: endpoint, status, latency, nonce,
Bitstamp's request id and error code), the stream's connection changes and every feed's
resyncs (``workstation.bitstamp.stream``, ``workstation.services.hub``), each state an order
moves to (``workstation.services.orders``), and the traceback of a crash.

Why it is built this way:

- The file lives in the user log directory (platformdirs), one name, rotated by size
  (:class:`logging.handlers.RotatingFileHandler`), so it never grows without bound.
- Owner only: the file is opened with mode 0600 (every rotation too) and its folder is made
  0700 when we create it. A log names orders and balances: nobody else on the machine
  should read it.
- Masked: every key and secret a venue carries is registered with :func:`mask` when the
  venue is made, and :class:`SecretFilter` on the handler replaces them, and the values of the
  signature headers, in every message and traceback before a byte is written.
- Third-party loggers (httpx, websockets...) are held at WARNING whatever ``--log-level``
  says: at DEBUG they would write the frames of the private stream, tokens included.
"""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from ..bitstamp.secret import Secret
from .app_dirs import APP_NAME

if TYPE_CHECKING:
    from ..domain.tracked_order import TrackedOrder

__all__ = [
    "LEVELS",
    "LOG_FILE_NAME",
    "SecretFilter",
    "configure_logging",
    "default_log_dir",
    "log_order",
    "mask",
    "report_crash",
]

LOG_FILE_NAME = "workstation.log"
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
MAX_BYTES = 5_000_000
BACKUPS = 3
_QUIET = ("httpx", "httpcore", "websockets", "asyncio", "aiohttp", "hpack", "markdown_it")
_ORDERS = logging.getLogger("workstation.services.orders")
_MASK = "***"
_MIN_SECRET = 4
"""Shorter values are not masked: masking "ab" would shred every message and hide nothing."""

# Signature headers and the private stream's token, however they are printed: a header
# line, a dict's repr, JSON.
_HEADER_VALUE = re.compile(
    r"(?i)(x-auth(?:-signature)?|x-server-auth-signature|\bauth|\btoken)"
    r"""(['"]?\s*[:=]\s*['"]?)(?:BITSTAMP\s+)?[^\s'",}]+"""
)


def default_log_dir() -> Path:
    """The user log directory (platformdirs), e.g. ``~/.local/state/bitstamp-workstation/log``."""
    return Path(platformdirs.user_log_dir(APP_NAME))


class SecretFilter(logging.Filter):
    """Masks registered secrets and signature header values in a record's text and traceback.

    It renders the record (message with its arguments, exception, stack) and keeps only the
    masked text, so no formatter downstream can bring an unmasked value back.
    """

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()

    def add(self, *values: Secret | str | None) -> None:
        for held in values:
            value = held.reveal() if isinstance(held, Secret) else held
            if value and len(value.strip()) >= _MIN_SECRET:
                self._secrets.add(value.strip())

    def scrub(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, _MASK)
        return _HEADER_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}{_MASK}", text)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.scrub(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = self.scrub(record.stack_info)
        return True


_FILTER = SecretFilter()


def mask(*values: Secret | str | None) -> None:
    """Never write these values (keys, secrets) to the log: they show as ``***``."""
    _FILTER.add(*values)


class _OwnerOnlyFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating file whose every incarnation is created (and kept) with mode 0600."""

    def _open(self) -> io.TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(fd, 0o600)  # a file left by an older version may be world-readable
        return os.fdopen(fd, "a", encoding=self.encoding, errors=self.errors)


def configure_logging(log_file: Path, level: str = "INFO") -> Path:
    """Send the app's logging to ``log_file`` (rotating, 0600, masked) at ``level``.

    Replaces a handler set up by an earlier call. Returns ``log_file``.

    Raises:
        OSError: the folder or the file cannot be created.
    """
    missing = [f for f in (log_file.parent, *log_file.parent.parents) if not f.exists()]
    for folder in reversed(missing):  # every folder we make is ours only
        folder.mkdir(mode=0o700)
        folder.chmod(0o700)
    handler = _OwnerOnlyFileHandler(
        log_file, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
    )
    handler.addFilter(_FILTER)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.set_name(LOG_FILE_NAME)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == LOG_FILE_NAME]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(level)
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger(__name__).info("log opened at level %s", level)
    return log_file


def report_crash(error: BaseException, log_file: Path | None) -> int:
    """Log ``error`` with its traceback (masked) and write one short line to stderr naming the
    log file: never the message, which may quote anything. Returns the exit status, 1."""
    logging.getLogger("workstation").critical(
        "the workstation crashed", exc_info=(type(error), error, error.__traceback__)
    )
    where = f"; the details are in {log_file}" if log_file is not None else ""
    sys.stderr.write(f"workstation crashed ({type(error).__name__}){where}\n")
    sys.stderr.flush()
    return 1


def log_order(order: TrackedOrder) -> None:
    """One line each time an order changes: the order lifecycle, as the tracker sees it."""
    _ORDERS.info(
        "order %s (%s) %s: %s %s %s %s%s @ %s, filled %s, exchange id %s%s",
        order.client_order_id,
        order.env,
        order.state.value,
        order.side.value,
        order.kind,
        order.market,
        order.amount,
        " (quote)" if order.amount_in_quote else "",
        order.price if order.price is not None else "market",
        order.filled,
        order.order_id,
        f"; {order.reason}" if order.reason else "",
    )
