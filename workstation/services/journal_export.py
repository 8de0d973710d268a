"""The order journal as CSV: one row per event, joined with its order, for audits and taxes.

The journal is opened read-only (SQLite URI ``mode=ro``): an export never creates a journal
that is not there, never writes to one that is, and can run while the app is trading (WAL
lets a reader see the last committed state without blocking the writer). One SELECT reads
every row, so the export is one consistent snapshot.

Money leaves exactly as stored: the journal keeps amounts and prices as text (``plain()``),
and this module copies that text, never parsing it; a REAL where text belongs is refused
rather than printed. ``detail`` is the event's JSON as stored (keys sorted, Decimals as
strings). Timestamps are ISO 8601 in UTC.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from ..bitstamp.fields import market_name

__all__ = [
    "EXPORT_COLUMNS",
    "JournalExportError",
    "JournalMissingError",
    "export_csv",
    "journal_rows",
    "open_read_only",
]

EXPORT_COLUMNS = (
    "seq",
    "at",
    "env",
    "event",
    "client_order_id",
    "order_id",
    "market",
    "side",
    "kind",
    "amount",
    "unit",
    "price",
    "state",
    "filled",
    "reason",
    "created_at",
    "updated_at",
    "detail",
)
"""The CSV header. ``event`` is the event's kind (intent, ack, fill...); ``kind`` the order's
(limit, market...). The order fields (``state``, ``filled``...) are the order's *current*
values, repeated on each of its events; ``at`` is when the event was written. ``unit`` is the
currency of ``amount``: the quote for an order sized in the quote (every instant buy, an
instant sell in ``amount_in_counter``), else the base (``quote``/``base`` when the market's
symbol does not split). ``filled`` is always in the base; ``price`` in the quote."""

_TIMES = frozenset({"at", "created_at", "updated_at"})

_SELECT = """
SELECT e.seq, e.at, e.env, e.kind, e.client_order_id, o.order_id, o.market, o.side, o.kind,
       o.amount, i.detail, o.price, o.state, o.filled, o.reason, o.created_at, o.updated_at,
       e.detail
FROM events AS e LEFT JOIN orders AS o ON o.client_order_id = e.client_order_id
LEFT JOIN events AS i ON i.client_order_id = e.client_order_id AND i.kind = 'intent'
{where}
ORDER BY e.seq
"""
"""``unit`` is read from the order's intent detail (``amount_in_quote``) and its market."""


class JournalExportError(RuntimeError):
    """The journal could not be read; the message says why and names the file."""


class JournalMissingError(JournalExportError):
    """There is no journal at the path (nothing was ever traded with it)."""


def open_read_only(path: Path | str) -> sqlite3.Connection:
    """Open the journal at ``path`` for reading only; it is never created or written.

    Raises:
        JournalMissingError: no file at ``path``.
        JournalExportError: the file cannot be opened as a journal.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise JournalMissingError(f"no journal at {path}")
    uri = path.resolve().as_uri() + "?mode=ro"
    try:
        db = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as exc:
        raise JournalExportError(f"cannot open the journal at {path}: {exc}") from None
    try:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    except sqlite3.Error as exc:
        db.close()
        raise JournalExportError(f"{path} is not a journal: {exc}") from None
    if not {"orders", "events"} <= tables:
        db.close()
        raise JournalExportError(f"{path} is not a workstation journal (no orders/events tables)")
    return db


def journal_rows(db: sqlite3.Connection, *, env: str | None = None) -> Iterator[tuple[str, ...]]:
    """The export rows (as :data:`EXPORT_COLUMNS`), oldest event first, every cell text.

    ``env`` keeps one scope: an exact ``env`` (``live``, ``sim@127.0.0.1:8765``...), and
    ``sim`` also takes every simulator scope (``sim@...``).
    """
    where = ""
    args: tuple[str, ...] = ()
    if env is not None:
        where = "WHERE e.env = ? OR (? = 'sim' AND substr(e.env, 1, 4) = 'sim@')"
        args = (env, env)
    try:
        cursor = db.execute(_SELECT.format(where=where), args)
        for row in cursor:
            cells = list(row)
            at = EXPORT_COLUMNS.index("unit")
            cells[at] = _unit(cells[EXPORT_COLUMNS.index("market")], cells[at])
            yield tuple(
                _time(v) if name in _TIMES else _text(v, name)
                for name, v in zip(EXPORT_COLUMNS, cells, strict=True)
            )
    except sqlite3.Error as exc:
        raise JournalExportError(f"cannot read the journal: {exc}") from None


def export_csv(db: sqlite3.Connection, out: TextIO, *, env: str | None = None) -> int:
    """Write the header and every row to ``out``; returns the number of rows (no header)."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    for row in journal_rows(db, env=env):
        writer.writerow(row)
        count += 1
    return count


def _unit(market: object, intent_detail: object) -> str | None:
    """The currency of an order's ``amount``: quote when its intent says it was sized in the
    quote, else base; the market's symbol split as the wire does (``btcusd`` -> BTC, USD)."""
    if market is None:
        return None
    try:
        in_quote = bool(json.loads(str(intent_detail or "{}")).get("amount_in_quote"))
    except (ValueError, AttributeError):
        in_quote = False
    try:
        base, quote = market_name(str(market)).split("/", 1)
    except ValueError:
        return "quote" if in_quote else "base"
    return quote if in_quote else base


def _text(value: object, column: str) -> str:
    if value is None:
        return ""
    if isinstance(value, float):  # STRICT tables make this impossible; refuse, never print it
        raise JournalExportError(f"a float in the journal's {column} column: {value!r}")
    return str(value)


def _time(value: object) -> str:
    """An ISO 8601 timestamp in UTC (the journal writes UTC; a naive stamp is taken as UTC)."""
    if value is None:
        return ""
    try:
        stamp = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)  # not a timestamp we wrote: pass it on as it is rather than guess
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return stamp.astimezone(dt.UTC).isoformat()
