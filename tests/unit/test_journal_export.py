"""``workstation journal export``: every event as a CSV row, money as stored, read-only.

The journal is filled through the real :class:`Journal` API on a temporary file; the export
runs in-process through ``cli.main``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from workstation import cli
from workstation.domain.common import Side
from workstation.domain.order_vocabulary import TrackState
from workstation.services.journal import EVENT_KINDS, Journal
from workstation.services.journal_export import EXPORT_COLUMNS, journal_rows, open_read_only

D = Decimal
PLUS_2 = dt.timezone(dt.timedelta(hours=2))
EMBEDDED = "sim@embedded-0123abcd"


class Clock:
    """A clock a second apart per reading, in UTC+2 (the export must still say UTC)."""

    def __init__(self) -> None:
        self.t = dt.datetime(2026, 3, 4, 12, 0, 0, 250000, tzinfo=PLUS_2)

    def __call__(self) -> dt.datetime:
        self.t += dt.timedelta(seconds=1)
        return self.t


def fill(path: Path) -> None:
    """Three orders over two scopes, with every event kind the journal knows."""
    with Journal(path, now=Clock()) as j:
        j.record_intent(
            "live-1",
            env="live",
            market="btcusd",
            side=Side.BUY,
            kind="limit",
            amount=D("0.00000001"),
            price=D("123456789.123456789012"),
            detail={"preview": {"cost": D("1.23456789123456789012"), "fee": D("1E-10")}},
        )
        j.record_event("live-1", "request", {"path": "/api/v2/buy/btcusd/"})
        j.record_event("live-1", "ack", {"order_id": 1789})
        j.set_state("live-1", TrackState.OPEN, order_id=1789)
        j.record_event("live-1", "fill", {"tid": 55, "amount": D("0.000000005"), "price": D("2")})
        j.set_state("live-1", TrackState.PARTIALLY_FILLED, filled=D("0.000000005"))
        j.record_event("live-1", "cancel", {"remaining": D("0.000000005")})
        j.set_state("live-1", TrackState.CANCELLED)

        j.record_intent(
            "live-2",
            env="live",
            market="ethbtc",
            side=Side.SELL,
            kind="market",
            amount=D("3.10"),
            price=None,
        )
        j.record_event("live-2", "request", {})
        j.record_event("live-2", "unknown", {"error": "timeout"})
        j.set_state("live-2", TrackState.UNKNOWN)
        j.record_event("live-2", "reconciled", {"found": False})
        j.record_event("live-2", "reject", {"reason": "Minimum order size is 20 USD."})
        j.set_state("live-2", TrackState.REJECTED, reason="Minimum order size is 20 USD.")

        j.record_intent(
            "sim-1",
            env=EMBEDDED,
            market="xrpusd",
            side=Side.BUY,
            kind="limit",
            amount=D("20"),
            price=D("0.50001"),
        )


def export(path: Path, *args: str) -> list[dict[str, str]]:
    out = path.parent.parent / "out.csv"
    assert cli.main(["journal", "export", "--csv", str(out), "--journal", str(path), *args]) == 0
    with out.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames or ()) == EXPORT_COLUMNS
        return list(reader)


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    path = tmp_path / "data" / "journal.sqlite3"
    fill(path)
    return path


def test_every_event_is_a_row_with_its_order_and_exact_money(
    journal: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = export(journal)
    assert capsys.readouterr().out == f"wrote 11 rows to {journal.parent.parent / 'out.csv'}\n"
    assert {r["event"] for r in rows} == set(EVENT_KINDS)
    assert [(r["client_order_id"], r["event"]) for r in rows] == [
        ("live-1", "intent"),
        ("live-1", "request"),
        ("live-1", "ack"),
        ("live-1", "fill"),
        ("live-1", "cancel"),
        ("live-2", "intent"),
        ("live-2", "request"),
        ("live-2", "unknown"),
        ("live-2", "reconciled"),
        ("live-2", "reject"),
        ("sim-1", "intent"),
    ]
    intent = rows[0]
    assert {k: intent[k] for k in EXPORT_COLUMNS if k not in ("detail",)} == {
        "seq": "1",
        "at": "2026-03-04T10:00:01.250000+00:00",
        "env": "live",
        "event": "intent",
        "client_order_id": "live-1",
        "order_id": "1789",
        "market": "btcusd",
        "side": "buy",
        "kind": "limit",
        "amount": "0.00000001",
        "unit": "BTC",
        "price": "123456789.123456789012",
        "state": "cancelled",
        "filled": "0.000000005",
        "reason": "",
        "created_at": "2026-03-04T10:00:01.250000+00:00",
        "updated_at": "2026-03-04T10:00:08.250000+00:00",
    }
    # The preview numbers the trader saw, exact (a float would have lost digits of these).
    assert json.loads(intent["detail"])["preview"] == {
        "cost": "1.23456789123456789012",
        "fee": "0.0000000001",
    }
    fill_row = rows[3]
    assert json.loads(fill_row["detail"]) == {"amount": "0.000000005", "price": "2", "tid": 55}
    market = rows[5]
    assert (market["kind"], market["side"], market["amount"], market["price"]) == (
        "market",
        "sell",
        "3.1",
        "",
    )
    assert rows[-1]["reason"] == ""
    assert rows[9]["reason"] == "Minimum order size is 20 USD."
    assert rows[-1]["env"] == EMBEDDED
    assert all(r["at"].endswith("+00:00") for r in rows)


def test_detail_is_the_stored_json_text(journal: Path) -> None:
    rows = export(journal)
    with sqlite3.connect(journal) as db:
        stored = [d for (d,) in db.execute("SELECT detail FROM events ORDER BY seq")]
    db.close()
    assert [r["detail"] for r in rows] == stored


@pytest.mark.parametrize(
    ("scope", "orders"),
    [
        ("live", {"live-1", "live-2"}),
        ("sim", {"sim-1"}),
        (EMBEDDED, {"sim-1"}),
        ("sandbox", set()),
    ],
)
def test_env_keeps_one_scope(journal: Path, scope: str, orders: set[str]) -> None:
    assert {r["client_order_id"] for r in export(journal, "--env", scope)} == orders


def test_dash_writes_csv_to_stdout_and_the_count_to_stderr(
    journal: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["journal", "export", "--csv", "-", "--journal", str(journal)]) == 0
    out, err = capsys.readouterr()
    assert err == "wrote 11 rows\n"
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 11
    assert out.splitlines()[0] == ",".join(EXPORT_COLUMNS)
    assert rows[0]["price"] == "123456789.123456789012"


def test_the_export_does_not_touch_the_journal(journal: Path) -> None:
    before = (journal.read_bytes(), journal.stat().st_mtime_ns)
    export(journal)
    export(journal, "--env", "live")
    assert (journal.read_bytes(), journal.stat().st_mtime_ns) == before


def test_the_export_reads_a_journal_in_use_and_leaves_the_writer_free(journal: Path) -> None:
    with Journal(journal, now=Clock()) as writer:
        writer.record_event("sim-1", "ack", {"order_id": 9})  # committed, still in the WAL
        assert journal.with_name(journal.name + "-wal").exists()
        rows = export(journal)
        assert [r["event"] for r in rows if r["client_order_id"] == "sim-1"] == ["intent", "ack"]
        writer.record_event("sim-1", "cancel", {})  # the reader holds no lock
    assert len(export(journal)) == 13


def test_a_missing_journal_is_a_clear_error_and_is_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "nowhere" / "journal.sqlite3"
    out = tmp_path / "out.csv"
    assert cli.main(["journal", "export", "--csv", str(out), "--journal", str(path)]) == 1
    assert capsys.readouterr().err == (
        f"workstation journal: no journal at {path}: nothing has been traded with it yet "
        "(or give --journal PATH)\n"
    )
    assert not path.parent.exists()
    assert not out.exists()


def test_a_file_that_is_not_a_journal_is_refused_unchanged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a database at all, just some text that is long enough" * 20)
    before = path.read_bytes()
    assert cli.main(["journal", "export", "--csv", "-", "--journal", str(path)]) == 1
    assert capsys.readouterr().err.startswith(f"workstation journal: {path} is not a journal")
    empty = tmp_path / "empty.sqlite3"
    sqlite3.connect(empty).close()  # an empty file: a valid database without our tables
    assert cli.main(["journal", "export", "--csv", "-", "--journal", str(empty)]) == 1
    assert "is not a workstation journal" in capsys.readouterr().err
    assert path.read_bytes() == before


def test_the_journal_cannot_be_the_csv_file(
    journal: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = journal.read_bytes()
    argv = ["journal", "export", "--csv", str(journal), "--journal", str(journal)]
    assert cli.main(argv) == 2
    assert "is the journal itself" in capsys.readouterr().err
    assert journal.read_bytes() == before


def test_a_float_smuggled_into_a_money_column_is_refused(tmp_path: Path) -> None:
    """The tables are STRICT, so only a non-journal database can hold one: never print it."""
    path = tmp_path / "loose.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE orders (client_order_id, env, market, side, kind, amount, price, state,"
        " order_id, filled, reason, created_at, updated_at);"
        "CREATE TABLE events (seq INTEGER PRIMARY KEY, client_order_id, env, at, kind, detail);"
        "INSERT INTO orders VALUES ('x', 'live', 'btcusd', 'buy', 'limit', 0.1, 1.0, 'open',"
        " NULL, '0', NULL, '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00');"
        "INSERT INTO events VALUES (1, 'x', 'live', '2026-01-01T00:00:00+00:00', 'intent', '{}');"
    )
    db.commit()
    db.close()
    reader = open_read_only(path)
    try:
        with pytest.raises(RuntimeError, match="a float in the journal's amount column"):
            list(journal_rows(reader))
    finally:
        reader.close()


def test_every_amount_names_its_unit(tmp_path: Path) -> None:
    """Issue 12 item 8: an instant buy of 5000 USD is 5000 USD, not 5000 BTC; the amount's
    currency is in the ``unit`` column: the quote currency for an order sized in the quote
    (every instant buy, an instant sell with ``amount_in_counter``), else the base."""
    path = tmp_path / "journal.sqlite3"
    orders = [  # cid, market, side, kind, amount, sized in the quote
        ("instant-buy", "btcusd", Side.BUY, "instant", "5000", True),
        ("instant-sell-quote", "ethbtc", Side.SELL, "instant", "0.5", True),
        ("instant-sell", "btcusdt", Side.SELL, "instant", "0.01", False),
        ("market-buy", "usdcusd", Side.BUY, "market", "25", False),
        ("limit-sell", "xrpeur", Side.SELL, "limit", "100", False),
        ("odd-market", "abcxyz", Side.BUY, "instant", "7", True),
    ]
    with Journal(path) as j:
        for cid, market, side, kind, amount, in_quote in orders:
            detail = {"amount_in_quote": True} if in_quote else {}
            j.record_intent(
                cid,
                env="live",
                market=market,
                side=side,
                kind=kind,
                amount=D(amount),
                price=D("2") if kind == "limit" else None,
                detail=detail,
            )
            j.record_event(cid, "fill", {"tid": 1})
    rows = export(path)
    units = {(r["client_order_id"], r["event"]): (r["amount"], r["unit"]) for r in rows}
    assert units == {
        ("instant-buy", "intent"): ("5000", "USD"),
        ("instant-buy", "fill"): ("5000", "USD"),
        ("instant-sell-quote", "intent"): ("0.5", "BTC"),
        ("instant-sell-quote", "fill"): ("0.5", "BTC"),
        ("instant-sell", "intent"): ("0.01", "BTC"),
        ("instant-sell", "fill"): ("0.01", "BTC"),
        ("market-buy", "intent"): ("25", "USDC"),
        ("market-buy", "fill"): ("25", "USDC"),
        ("limit-sell", "intent"): ("100", "XRP"),
        ("limit-sell", "fill"): ("100", "XRP"),
        # a market the export cannot split still says which side of the pair
        ("odd-market", "intent"): ("7", "quote"),
        ("odd-market", "fill"): ("7", "quote"),
    }
