"""The order journal: durable, WAL, append-only, and never a float."""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from workstation.domain.common import Side
from workstation.domain.order_vocabulary import Fill, OrderKind, TimeInForce, TrackState
from workstation.services.app_dirs import default_journal_path
from workstation.services.journal import (
    Journal,
    OrderTerms,
    fill_of,
    intent_terms,
    tracked_order_of,
)

T0 = dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC)

D = Decimal


def _intent(journal: Journal, cid: str, env: str = "sim", **overrides: object) -> None:
    fields: dict = {
        "env": env,
        "market": "btcusd",
        "side": Side.BUY,
        "kind": "limit",
        "amount": D("0.00000001"),
        "price": D("60000.10"),
        "detail": {"preview": {"cost": D("0.00060000100"), "fee": D("1E-10")}},
    }
    fields.update(overrides)
    journal.record_intent(cid, **fields)


def test_intent_survives_a_reopen_with_exact_decimals(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    with Journal(path, now=lambda: T0) as journal:
        _intent(journal, "a1")
        journal.record_event("a1", "ack", {"order_id": 17})
        journal.set_state("a1", TrackState.OPEN, order_id=1_900_000_000_000_123)
    with Journal(path) as journal:
        order = journal.order("a1")
        events = journal.events("a1")
    assert order is not None
    assert (order.amount, order.price, order.filled) == (D("0.00000001"), D("60000.1"), D(0))
    assert order.state is TrackState.OPEN
    assert order.order_id == 1_900_000_000_000_123
    assert order.created_at == T0
    assert [e.kind for e in events] == ["intent", "ack"]
    assert events[0].detail["preview"] == {"cost": "0.000600001", "fee": "0.0000000001"}
    assert events[0].detail["amount"] == "0.00000001"
    assert events[0].at == T0


def test_wal_mode_and_full_sync(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    with Journal(path) as journal:
        assert journal.journal_mode == "wal"
        _intent(journal, "w1")
        assert Path(f"{path}-wal").exists()


def test_intent_is_on_disk_when_the_process_dies_right_after(tmp_path: Path) -> None:
    """A process killed without closing the journal (no atexit, no close) loses nothing."""
    path = tmp_path / "j.sqlite3"
    script = (
        "import os, sys\n"
        "from decimal import Decimal\n"
        "from workstation.domain.common import Side\n"
        "from workstation.services.journal import Journal\n"
        "j = Journal(sys.argv[1])\n"
        "j.record_intent('crash-1', env='live', market='ethusd', side=Side.SELL, kind='limit',"
        " amount=Decimal('1.25'), price=Decimal('3500'))\n"
        "os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", script, str(path)], check=True, timeout=60)
    with Journal(path) as journal:
        [order] = journal.open_orders("live")
        assert (order.client_order_id, order.amount, order.side) == (
            "crash-1",
            D("1.25"),
            Side.SELL,
        )
        assert order.state is TrackState.PENDING
        assert [e.kind for e in journal.events("crash-1")] == ["intent"]


def test_no_float_is_ever_stored(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite3") as journal:
        _intent(journal, "f1")
        journal.record_event("f1", "fill", {"tid": 5, "price": D("60000.12345678")})
        journal.set_state("f1", TrackState.PARTIALLY_FILLED, filled=D("0.000000005"))
        with pytest.raises(TypeError, match="float"):
            journal.record_event("f1", "fill", {"price": 60000.5})
        with pytest.raises(TypeError, match="float"):
            _intent(journal, "f2", detail={"preview": {"nested": [1.5]}})
        rows = [*journal.raw_rows("orders"), *journal.raw_rows("events")]
        assert not [v for row in rows for v in row if isinstance(v, float)]
        assert [e.detail for e in journal.events("f1")][1] == {"tid": 5, "price": "60000.12345678"}
        order = journal.order("f1")
        assert order is not None
        assert order.filled == D("0.000000005")
        [stored] = [row for row in journal.raw_rows("orders") if row[0] == "f1"]
        assert (stored[5], stored[6], stored[9]) == ("0.00000001", "60000.1", "0.000000005")
        assert journal.order("f2") is None  # the failed intent left nothing behind


def test_events_are_append_only(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    with Journal(path) as journal:
        _intent(journal, "e1")
    db = sqlite3.connect(path)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute("UPDATE events SET kind = 'ack'")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute("DELETE FROM events")
    finally:
        db.close()


def test_open_orders_are_per_env_and_not_final(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite3") as journal:
        for cid, state in [
            ("p", TrackState.PENDING),
            ("o", TrackState.OPEN),
            ("pf", TrackState.PARTIALLY_FILLED),
            ("u", TrackState.UNKNOWN),
            ("f", TrackState.FILLED),
            ("c", TrackState.CANCELLED),
            ("x", TrackState.EXPIRED),
            ("r", TrackState.REJECTED),
        ]:
            _intent(journal, cid)
            journal.set_state(cid, state)
        _intent(journal, "other-env", env="live")
        assert {o.client_order_id for o in journal.open_orders("sim")} == {"p", "o", "pf", "u"}
        assert [o.client_order_id for o in journal.open_orders("live")] == ["other-env"]


def test_duplicate_intent_and_unknown_order_are_refused(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite3") as journal:
        _intent(journal, "d1")
        with pytest.raises(sqlite3.IntegrityError):
            _intent(journal, "d1", amount=D("2"))
        assert len(journal.events("d1")) == 1
        with pytest.raises(KeyError):
            journal.record_event("nope", "ack", {})
        with pytest.raises(KeyError):
            journal.set_state("nope", TrackState.OPEN)
        with pytest.raises(ValueError, match="event kind"):
            journal.record_event("d1", "teleported", {})


def test_default_path_is_in_the_user_data_dir() -> None:
    path = default_journal_path()
    assert path.name == "journal.sqlite3"
    assert "bitstamp-workstation" in str(path.parent)


def test_a_journal_from_before_the_lost_state_takes_it_and_keeps_its_rows(
    tmp_path: Path,
) -> None:
    from workstation.services import journal as journal_module

    path = tmp_path / "old.sqlite3"
    old_schema = journal_module._SCHEMA.replace(", 'lost'", "")  # as written then
    assert "'lost'" not in old_schema
    db = sqlite3.connect(path)
    db.executescript(old_schema)
    stamp = "2026-01-01T00:00:00+00:00"
    db.execute(
        "INSERT INTO orders (client_order_id, env, market, side, kind, amount, price, state,"
        " order_id, created_at, updated_at)"
        " VALUES ('a', 'sim', 'btcusd', 'buy', 'limit', '0.01', '60000', 'open', 7, ?, ?)",
        (stamp, stamp),
    )
    db.execute(
        "INSERT INTO events (client_order_id, env, at, kind, detail)"
        " VALUES ('a', 'sim', ?, 'intent', '{}')",
        (stamp,),
    )
    db.commit()
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("UPDATE orders SET state = 'lost'")
    db.close()

    with Journal(path) as journal:
        journal.set_state("a", TrackState.LOST, reason="the venue no longer knows it")
        row = journal.order("a")
        assert row is not None
        assert (row.state, row.order_id, row.amount) == (TrackState.LOST, 7, Decimal("0.01"))
        assert [e.kind for e in journal.events("a")] == ["intent"]
        journal.record_event("a", "reconciled", {"state": "lost"})
        assert journal.open_orders("sim") == []
        fk = journal._db.execute("PRAGMA foreign_keys").fetchone()
        assert fk == (1,)  # references are enforced again


def test_a_journal_written_before_issue_13_reads_back_as_domain_values(tmp_path: Path) -> None:
    # Rows exactly as the tracker wrote them up to issue 13: the intent kept the Bitstamp form
    # flags of a limit order under "options"; the fill event its order_status numbers.
    path = tmp_path / "old.sqlite3"
    Journal(path).close()  # the schema (unchanged by issue 13)
    at = T0.isoformat()
    intent = (
        '{"amount":"0.01","kind":"limit","market":"btcusd","options":{"expire_time":'
        '"1767323045000","gtd_order":"True"},"preview":{},"price":"60000","side":"buy"}'
    )
    fill = (
        '{"base_amount":"0.004","datetime":"2026-01-02T03:04:06+00:00","fee":"0.96",'
        '"price":"60000","quote_amount":"240","tid":77}'
    )
    db = sqlite3.connect(path, isolation_level=None)
    db.execute(
        "INSERT INTO orders VALUES ('old-1', 'sim', 'btcusd', 'buy', 'limit', '0.01', '60000',"
        " 'partially_filled', 9, '0.004', NULL, ?, ?)",
        (at, at),
    )
    for kind, detail in (("intent", intent), ("fill", fill)):
        db.execute(
            "INSERT INTO events (client_order_id, env, at, kind, detail)"
            " VALUES ('old-1', 'sim', ?, ?, ?)",
            (at, kind, detail),
        )
    db.close()
    with Journal(path) as journal:
        row = journal.order("old-1")
        events = journal.events("old-1")
    assert row is not None
    assert row.kind is OrderKind.LIMIT
    terms = intent_terms(events[0].detail)
    assert (terms.tif, terms.expire_ms, terms.amount_in_quote) == (
        TimeInForce.GTD,
        1767323045000,
        False,
    )
    assert fill_of(events[1]) == Fill(
        77,
        D("60000"),
        D("0.004"),
        D("240"),
        D("0.96"),
        dt.datetime.fromisoformat("2026-01-02T03:04:06+00:00"),
    )
    order = tracked_order_of(row, events)
    assert (order.kind, order.tif, order.filled, order.fill_tids) == (
        OrderKind.LIMIT,
        TimeInForce.GTD,
        D("0.004"),
        frozenset({77}),
    )


def test_a_new_intent_stores_the_terms_as_domain_values(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite3", now=lambda: T0) as journal:
        terms = OrderTerms(tif=TimeInForce.GTD, expire_ms=5, replaces="a0")
        _intent(journal, "a1", kind=OrderKind.LIMIT, terms=terms)
        _intent(journal, "a2", kind=OrderKind.INSTANT, price=None)
        first, second = journal.events("a1")[0].detail, journal.events("a2")[0].detail
    assert "options" not in first
    assert (first["tif"], first["expire_ms"], first["replaces"]) == ("gtd", 5, "a0")
    assert intent_terms(first) == terms
    assert "tif" not in second  # GTC says nothing, as before
    assert intent_terms(second) == OrderTerms()
