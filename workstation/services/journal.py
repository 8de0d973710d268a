"""The order journal: a crash-safe SQLite record of every order and everything that befell it.

One database file in the user data directory (``app_dirs.default_journal_path()``), shared by every
environment: each row carries its ``env``. Two tables:

- ``orders``: one row per order, keyed by the ``client_order_id`` we made locally; its current
  state, the exchange's order id once known, the filled amount and the reason of a rejection.
- ``events``: append-only (triggers refuse UPDATE and DELETE): intent, request, ack, fill,
  cancel, reject, unknown, reconciled; each with a JSON detail.

Why these choices:

- WAL with ``synchronous=FULL``: an intent must be on disk before its request leaves (the
  architecture's "journaled before the request leaves"), so a crash can never lose an order
  we may have placed. Orders are rare, so an fsync per write costs nothing that matters.
- The journal stores the domain's order vocabulary (``workstation.domain.order_vocabulary``):
  the kind in its column, the time in force, GTD expiry and quote sizing in the intent's
  detail, each fill's numbers in its ``fill`` event, and reads them back as domain values
  (:func:`intent_terms`, :func:`fill_of`, and a whole order's :func:`tracked_order_of`).
  Never a wire field: intents written before this (up to issue 13) kept a limit order's
  Bitstamp form flags under ``options``, and those are still read (:data:`_OLD_FORM_FLAGS`).
- Money is text, never REAL: amounts and prices are stored with ``plain()`` and read back
  with ``parse_decimal``; JSON details refuse floats outright.
- The journal is synchronous and small; the tracker calls it inline (a write is one short
  transaction), which keeps "durable before the request" a plain sequence of statements.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from dataclasses import fields
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec

from ..bitstamp.errors import BitstampError
from ..domain.common import Side
from ..domain.numbers import parse_decimal, plain
from ..domain.order_vocabulary import Fill, OrderKind, TimeInForce, TrackState
from ..domain.tracked_order import TrackedOrder

__all__ = [
    "EVENT_KINDS",
    "Journal",
    "JournalEvent",
    "JournalOrder",
    "OrderTerms",
    "error_detail",
    "fill_of",
    "intent_terms",
    "to_json",
    "tracked_order_of",
    "tracked_order_of_row",
]

EVENT_KINDS = ("intent", "request", "ack", "fill", "cancel", "reject", "unknown", "reconciled")
_FILL_FIELDS = ("tid", "price", "base_amount", "quote_amount", "fee", "datetime")

_OLD_FORM_FLAGS = (
    ("daily_order", TimeInForce.DAILY),
    ("ioc_order", TimeInForce.IOC),
    ("fok_order", TimeInForce.FOK),
    ("moc_order", TimeInForce.MOC),
    ("gtd_order", TimeInForce.GTD),
)
"""How intents written before issue 13 said a limit order's time in force: the Bitstamp form
flags it was sent with, under ``options`` (with ``expire_time`` for GTD)."""


_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS orders (
    client_order_id TEXT PRIMARY KEY,
    env TEXT NOT NULL,
    market TEXT NOT NULL,
    side TEXT NOT NULL CHECK (side IN ('buy', 'sell')),
    kind TEXT NOT NULL,
    amount TEXT NOT NULL,
    price TEXT,
    state TEXT NOT NULL CHECK (state IN ({", ".join(repr(s.value) for s in TrackState)})),
    order_id INTEGER,
    filled TEXT NOT NULL DEFAULT '0',
    reason TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS orders_env_state ON orders (env, state);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    client_order_id TEXT NOT NULL REFERENCES orders (client_order_id),
    env TEXT NOT NULL,
    at TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ({", ".join(repr(k) for k in EVENT_KINDS)})),
    detail TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS events_order ON events (client_order_id, seq);
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the events table is append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the events table is append-only'); END;
"""


def _jsonable(value: Any) -> Any:
    """A JSON-ready copy of ``value`` with Decimals as exact strings; a float is an error."""
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value
    if isinstance(value, float):
        raise TypeError("floats are not allowed in the journal: use Decimal")
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, enum.Enum):
        return _jsonable(value.value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    raise TypeError(f"cannot journal a {type(value).__name__}")


def to_json(detail: Mapping[str, Any]) -> str:
    """Serialize an event detail: Decimal as plain text, keys sorted, floats refused."""
    return json.dumps(_jsonable(detail), sort_keys=True, separators=(",", ":"))


def _no_float(text: str) -> Any:
    raise ValueError(f"a float in the journal: {text}")


class JournalOrder(msgspec.Struct, frozen=True):
    """One row of ``orders`` as stored; amounts as exact Decimals."""

    client_order_id: str
    env: str
    market: str
    side: Side
    kind: OrderKind
    amount: Decimal
    price: Decimal | None
    state: TrackState
    order_id: int | None
    filled: Decimal
    reason: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


class JournalEvent(msgspec.Struct, frozen=True):
    """One row of ``events``; ``detail`` holds strings (Decimals were written as text)."""

    seq: int
    client_order_id: str
    env: str
    at: dt.datetime
    kind: str
    detail: dict[str, Any]


class OrderTerms(msgspec.Struct, frozen=True):
    """What an order's intent recorded beyond its row, as domain values."""

    tif: TimeInForce = TimeInForce.GTC
    expire_ms: int | None = None
    amount_in_quote: bool = False
    """The amount is in the quote currency (every instant buy, instant sells in quote)."""
    replaces: str | None = None
    """The ``client_order_id`` of the order this one replaced (an amend)."""
    external: bool = False
    """Placed elsewhere and adopted from what the exchange listed."""


PLAIN_TERMS = OrderTerms()
"""A good-till-cancelled order sized in the base currency, placed here: nothing more to say."""


def intent_terms(detail: Mapping[str, Any]) -> OrderTerms:
    """The terms an ``intent`` event's detail records; an intent written before issue 13
    says the time in force by its form flags (``options``)."""
    tif, expire = detail.get("tif"), detail.get("expire_ms")
    if tif is None:
        form = detail.get("options") or {}
        tif = next((t for name, t in _OLD_FORM_FLAGS if form.get(name)), TimeInForce.GTC)
        expire = form.get("expire_time")
    return OrderTerms(
        tif=TimeInForce(tif),
        expire_ms=None if expire is None else int(expire),
        amount_in_quote=bool(detail.get("amount_in_quote", False)),
        replaces=detail.get("replaces"),
        external=bool(detail.get("external", False)),
    )


def fill_of(event: JournalEvent) -> Fill | None:
    """The fill a ``fill`` event records (None for another event, or a fill without the
    exchange's ``tid``, which is never counted); written by :meth:`Journal.record_fill`."""
    detail = event.detail
    if event.kind != "fill" or "tid" not in detail:
        return None
    at = detail.get("datetime")
    return Fill(
        tid=int(detail["tid"]),
        price=parse_decimal(detail["price"], field="price"),
        base_amount=parse_decimal(detail["base_amount"], field="base_amount"),
        quote_amount=parse_decimal(detail["quote_amount"], field="quote_amount"),
        fee=parse_decimal(detail["fee"], field="fee"),
        datetime=event.at if at is None else dt.datetime.fromisoformat(at),
    )


def tracked_order_of(row: JournalOrder, events: list[JournalEvent]) -> TrackedOrder:
    """The snapshot of a journaled order: its row, its fills summed once each (by ``tid``;
    they are the truth, even if a crash came before the row's update) and the terms its
    intent recorded."""
    tids: set[int] = set()
    base = quote = fee = Decimal(0)
    terms = PLAIN_TERMS
    for event in events:
        if event.kind == "intent":
            terms = intent_terms(event.detail)
        elif (fill := fill_of(event)) is not None:
            tids.add(fill.tid)
            base += fill.base_amount
            quote += fill.quote_amount
            fee += fill.fee
    if tids:
        row = msgspec.structs.replace(row, filled=base)
    return tracked_order_of_row(
        row,
        frozenset(tids),
        filled_quote=quote,
        fee=fee,
        amount_in_quote=terms.amount_in_quote,
        tif=terms.tif,
        replaces=terms.replaces,
        external=terms.external,
    )


def tracked_order_of_row(
    row: JournalOrder, fill_tids: frozenset[int], **extra: Any
) -> TrackedOrder:
    """The snapshot of a journal row; ``extra`` sets the fields the row has no column for
    (``filled_quote``, ``fee``, ``amount_in_quote``, ``tif``, ``replaces``, ``external``)."""
    mine = {f.name for f in fields(TrackedOrder)}
    names = [name for name in JournalOrder.__struct_fields__ if name in mine]
    values = {name: getattr(row, name) for name in names}
    return TrackedOrder(**values, fill_tids=fill_tids, **extra)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _owner_only(path: Path) -> None:
    """The journal holds every order: only its owner may read it. Make the folder 0700 when it
    is ours to make, and the database 0600 before SQLite opens it (SQLite gives the -wal and
    -shm files the database's mode); tighten files an older version left readable by all."""
    if not path.parent.is_dir():
        path.parent.mkdir(parents=True, mode=0o700)
        path.parent.chmod(0o700)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if file.exists() and file.stat().st_mode & 0o077:
            file.chmod(0o600)


class Journal:
    """``Journal(path)`` opens (and creates) the database; ``close()`` when done.

    Args:
        path: the database file; its folder is created when missing.
        now: the wall clock for timestamps (timezone-aware UTC); injected by tests.
    """

    def __init__(self, path: Path | str, *, now: Callable[[], dt.datetime] = _utcnow) -> None:
        self.path = Path(path)
        _owner_only(self.path)
        self._now = now
        # Autocommit mode: every write below opens its own explicit transaction.
        self._db = sqlite3.connect(self.path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)
        self._allow_every_state()

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def journal_mode(self) -> str:
        return str(self._db.execute("PRAGMA journal_mode").fetchone()[0])

    def now(self) -> dt.datetime:
        return self._now()

    # -- writes -------------------------------------------------------------------------------

    def record_intent(
        self,
        client_order_id: str,
        *,
        env: str,
        market: str,
        side: Side,
        kind: OrderKind,
        amount: Decimal,
        price: Decimal | None,
        terms: OrderTerms = PLAIN_TERMS,
        detail: Mapping[str, Any] | None = None,
        created_at: dt.datetime | None = None,
    ) -> dt.datetime:
        """Write a new PENDING order and its intent event; on disk (fsync) when this returns.

        ``terms`` (time in force, quote sizing, what it replaces, placed elsewhere) go into
        the intent's detail, read back by :func:`intent_terms`; ``detail`` carries the rest,
        e.g. the preview numbers the trader saw. Returns the time
        stamped on the row (the reconciler measures the exchange's grace period from it).
        ``created_at`` (an order placed elsewhere: when the exchange says it was created)
        replaces the clock for the row's ``created_at`` only.
        Raises ``sqlite3.IntegrityError`` when the ``client_order_id`` is already journaled.
        """
        at = self._now()
        stamp = at.isoformat()
        kind = OrderKind(kind)
        row = (
            client_order_id,
            env,
            market,
            side.value,
            kind.value,
            plain(amount),
            None if price is None else plain(price),
            TrackState.PENDING.value,
            stamp if created_at is None else created_at.isoformat(),
            stamp,
        )
        event = dict(detail or {})
        event.update(market=market, side=side, kind=kind, amount=amount, price=price)
        event.update(_terms_detail(terms))
        with self._transaction():
            self._db.execute(
                "INSERT INTO orders (client_order_id, env, market, side, kind, amount, price,"
                " state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            self._insert_event(client_order_id, env, stamp, "intent", event)
        return at

    def record_event(
        self, client_order_id: str, kind: str, detail: Mapping[str, Any] | None = None
    ) -> None:
        """Append one event to an order's timeline (the order must be journaled)."""
        if kind not in EVENT_KINDS:
            raise ValueError(f"unknown journal event kind {kind!r}")
        env = self._env_of(client_order_id)
        with self._transaction():
            self._insert_event(client_order_id, env, self._now().isoformat(), kind, detail or {})

    def record_fill(self, client_order_id: str, fill: Fill) -> None:
        """Append one fill of an order (read back by :func:`fill_of`)."""
        self.record_event(client_order_id, "fill", {k: getattr(fill, k) for k in _FILL_FIELDS})

    def set_state(
        self,
        client_order_id: str,
        state: TrackState,
        *,
        order_id: int | None = None,
        filled: Decimal | None = None,
        reason: str | None = None,
    ) -> None:
        """Move an order to ``state``; the other fields change only when given."""
        sets = ["state = ?", "updated_at = ?"]
        args: list[Any] = [state.value, self._now().isoformat()]
        for column, value in (
            ("order_id", order_id),
            ("filled", None if filled is None else plain(filled)),
            ("reason", reason),
        ):
            if value is not None:
                sets.append(f"{column} = ?")
                args.append(value)
        with self._transaction():
            cursor = self._db.execute(
                f"UPDATE orders SET {', '.join(sets)} WHERE client_order_id = ?",
                (*args, client_order_id),
            )
            if cursor.rowcount != 1:
                raise KeyError(client_order_id)

    # -- reads ---------------------------------------------------------------------------------

    def order(self, client_order_id: str) -> JournalOrder | None:
        row = self._db.execute(
            "SELECT * FROM orders WHERE client_order_id = ?", (client_order_id,)
        ).fetchone()
        return None if row is None else self._order(row)

    def open_orders(self, env: str) -> list[JournalOrder]:
        """The orders of ``env`` not in a final state (pending, open, partial, unknown)."""
        final = [s.value for s in TrackState if s.is_final]
        rows = self._db.execute(
            f"SELECT * FROM orders WHERE env = ? AND state NOT IN ({', '.join('?' * len(final))})"
            " ORDER BY created_at, client_order_id",
            (env, *final),
        )
        return [self._order(row) for row in rows]

    def scopes_with_open_orders(self) -> list[str]:
        """Every venue scope (``env``) that has an order not in a final state."""
        final = [s.value for s in TrackState if s.is_final]
        rows = self._db.execute(
            f"SELECT DISTINCT env FROM orders WHERE state NOT IN ({', '.join('?' * len(final))})"
            " ORDER BY env",
            final,
        )
        return [str(row[0]) for row in rows]

    def events(self, client_order_id: str) -> list[JournalEvent]:
        """An order's timeline, oldest first."""
        rows = self._db.execute(
            "SELECT seq, client_order_id, env, at, kind, detail FROM events"
            " WHERE client_order_id = ? ORDER BY seq",
            (client_order_id,),
        )
        return [
            JournalEvent(
                seq=seq,
                client_order_id=cid,
                env=env,
                at=dt.datetime.fromisoformat(at),
                kind=kind,
                detail=json.loads(detail, parse_float=_no_float),
            )
            for seq, cid, env, at, kind, detail in rows
        ]

    def raw_rows(self, table: str) -> Iterable[tuple[Any, ...]]:
        """Every row of ``orders`` or ``events`` as stored (for audits and tests)."""
        if table not in ("orders", "events"):
            raise ValueError(table)
        return self._db.execute(f"SELECT * FROM {table}").fetchall()

    # -- internals ------------------------------------------------------------------------------

    def _allow_every_state(self) -> None:
        """Rebuild ``orders`` when its state CHECK predates a state (a journal written by an
        older version): SQLite cannot alter a CHECK, so the rows move to a new table."""
        (sql,) = self._db.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'orders'"
        ).fetchone()
        if all(repr(state.value) in sql for state in TrackState):
            return
        create = _SCHEMA.split(";")[0].replace("IF NOT EXISTS orders", "orders_new")
        self._db.execute("PRAGMA foreign_keys=OFF")  # a no-op inside a transaction
        try:
            with self._transaction():
                self._db.execute(create)
                self._db.execute("INSERT INTO orders_new SELECT * FROM orders")
                self._db.execute("DROP TABLE orders")
                self._db.execute("ALTER TABLE orders_new RENAME TO orders")
                self._db.execute("CREATE INDEX orders_env_state ON orders (env, state)")
                if self._db.execute("PRAGMA foreign_key_check").fetchall():
                    raise sqlite3.IntegrityError("journal rebuild broke a reference")
        finally:
            self._db.execute("PRAGMA foreign_keys=ON")

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)

    def _insert_event(
        self, client_order_id: str, env: str, at: str, kind: str, detail: Mapping[str, Any]
    ) -> None:
        self._db.execute(
            "INSERT INTO events (client_order_id, env, at, kind, detail) VALUES (?, ?, ?, ?, ?)",
            (client_order_id, env, at, kind, to_json(detail)),
        )

    def _env_of(self, client_order_id: str) -> str:
        row = self._db.execute(
            "SELECT env FROM orders WHERE client_order_id = ?", (client_order_id,)
        ).fetchone()
        if row is None:
            raise KeyError(client_order_id)
        return str(row[0])

    @staticmethod
    def _order(row: tuple[Any, ...]) -> JournalOrder:
        (cid, env, market, side, kind, amount, price, state, order_id, filled, reason, c, u) = row
        return JournalOrder(
            client_order_id=cid,
            env=env,
            market=market,
            side=Side(side),
            kind=OrderKind(kind),
            amount=parse_decimal(amount, field="amount"),
            price=None if price is None else parse_decimal(price, field="price"),
            state=TrackState(state),
            order_id=order_id,
            filled=parse_decimal(filled, field="filled"),
            reason=reason,
            created_at=dt.datetime.fromisoformat(c),
            updated_at=dt.datetime.fromisoformat(u),
        )


def _terms_detail(terms: OrderTerms) -> dict[str, Any]:
    """The intent detail's keys for ``terms``; a default says nothing (as before issue 13)."""
    detail: dict[str, Any] = {}
    if terms.tif is not TimeInForce.GTC:
        detail["tif"] = terms.tif
    if terms.expire_ms is not None:
        detail["expire_ms"] = terms.expire_ms
    if terms.amount_in_quote:
        detail["amount_in_quote"] = True
    if terms.replaces is not None:
        detail["replaces"] = terms.replaces
    if terms.external:
        detail["external"] = True
    return detail


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (or ``ROLLBACK`` on error) on an autocommit connection."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self._db.execute("ROLLBACK" if exc_type is not None else "COMMIT")


def error_detail(error: BitstampError) -> dict[str, Any]:
    """What the journal keeps of an error: its type, message and codes (never a request)."""
    detail: dict[str, Any] = {"error": type(error).__name__, "reason": error.message}
    for name in ("http_status", "code", "response_code", "endpoint"):
        if getattr(error, name) is not None:
            detail[name] = getattr(error, name)
    return detail
