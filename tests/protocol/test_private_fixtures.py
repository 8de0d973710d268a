"""Private payloads recorded from real Bitstamp: parse every one, then re-encode with the
simulator's encoders and check the result has Bitstamp's keys and JSON types.

Sources (see the fixtures README): gocryptotrader's ``wsMyOrders.json`` (8 real
``private-my_orders`` frames, 2023: a market buy, a market sell, a limit sell filled at once)
and georlav's raw HTTP responses (2021-11: legacy balances, user transactions).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from workstation.bitstamp import account, order_frames
from workstation.bitstamp.fields import PayloadError
from workstation.domain.account import Balance
from workstation.domain.common import Side
from workstation.domain.orders import OrderEvent, OrderEventKind
from workstation.sim.wire.account import encode_legacy_balance, encode_user_transactions
from workstation.sim.wire.fields import dumps
from workstation.sim.wire.order_frames import encode_order_event_frame

D = Decimal
CREATED, CHANGED, DELETED = OrderEventKind


class _Frame(msgspec.Struct):
    data: msgspec.Raw  # the exact bytes, as stream_frames hands them over
    channel: str
    event: str


def _lines(recorded: Path) -> list[str]:
    lines = (recorded / "gocryptotrader" / "wsMyOrders.json").read_text().splitlines()
    return [line for line in lines if line.strip()]


def _frames(recorded: Path) -> list[dict]:
    return [json.loads(line) for line in _lines(recorded)]


def _http_body(recorded: Path, name: str) -> bytes:
    """The body of a raw HTTP response file: everything after the first blank line."""
    raw = (recorded / "georlav" / name).read_bytes()
    head, _, body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
    assert head.startswith(b"HTTP/")
    return body.strip()


def _event(line: str) -> OrderEvent:
    frame = msgspec.json.decode(line, type=_Frame)
    return order_frames.parse_order_event(frame.event, frame.channel, bytes(frame.data))


def _ev(
    kind: OrderEventKind,
    order_id: int,
    side: Side,
    price: str,
    amount: str,
    us: int,
    traded: str,
    at_create: str,
    client: str,
) -> OrderEvent:
    return OrderEvent(
        kind, "btcusd", order_id, side, D(price), D(amount), us, D(traded), D(at_create), client
    )


BUY, SELL, LIMIT = 1658864794234880, 1658870500933632, 1658869033291777
T_BUY, T_SELL = 1693831262313000, 1693832655550000

# Every recorded frame, as the domain should see it.
EXPECTED = [
    _ev(CREATED, BUY, Side.BUY, "999999999", "0", T_BUY, "0", "0", "test_market_buy"),
    _ev(CHANGED, BUY, Side.BUY, "25862", "0.00000001", T_BUY, "0.00038666", "0.00038667",
        "test_market_buy"),
    _ev(DELETED, BUY, Side.BUY, "25862", "0.00000001", T_BUY, "0", "0.00038667", "test_market_buy"),
    _ev(CREATED, SELL, Side.SELL, "0", "0", T_SELL, "0", "0", "test_market_sell"),
    _ev(CHANGED, SELL, Side.SELL, "25854", "0.00000001", T_SELL, "0.00038678", "0.00038679",
        "test_market_sell"),
    _ev(DELETED, SELL, Side.SELL, "25854", "0.00000001", T_SELL, "0", "0.00038679",
        "test_market_sell"),
    _ev(CREATED, LIMIT, Side.SELL, "25845", "0.00038692", 1693832297239000, "0", "0.00038692",
        "test_limit_sell"),
    _ev(DELETED, LIMIT, Side.SELL, "25845", "0", 1693832302664000, "0.00038692", "0.00038692",
        "test_limit_sell"),
]  # fmt: skip


def test_every_recorded_my_orders_frame_parses_to_exact_values(recorded: Path) -> None:
    frames = _frames(recorded)
    assert len(frames) == 8
    assert {f["channel"] for f in frames} == {"private-my_orders_btcusd-314159"}
    assert [_event(line) for line in _lines(recorded)] == EXPECTED


def test_the_string_twin_wins_over_the_json_number(recorded: Path) -> None:
    changed = _lines(recorded)[1]
    assert '"amount":1e-8,"amount_str":"0.00000001"' in changed
    assert f"{_event(changed).amount:f}" == "0.00000001"
    # The twin is what counts: a different string is read even beside the number.
    edited = changed.replace('"amount_str":"0.00000001"', '"amount_str":"0.00000002"')
    assert _event(edited).amount == D("0.00000002")
    edited = changed.replace('"price":25862', '"price":1')
    assert _event(edited).price == D(25862)


def test_re_encoded_my_orders_frames_match_the_recorded_keys_and_types(recorded: Path) -> None:
    for frame, event in zip(_frames(recorded), EXPECTED, strict=True):
        text = encode_order_event_frame(frame["event"], frame["channel"], event, 8, 0)
        ours = json.loads(text)
        assert list(ours) == list(frame) == ["data", "channel", "event"]
        theirs = frame["data"]
        # Ours is the 2026 shape: the 2023 keys in the same order, plus is_liquidation.
        assert [k for k in ours["data"] if k in theirs] == list(theirs)
        assert set(ours["data"]) - set(theirs) == {"is_liquidation"}
        assert {k: type(ours["data"][k]) for k in theirs} == {k: type(v) for k, v in theirs.items()}
        # datetime is the microtimestamp rounded to whole seconds, as Bitstamp does.
        assert ours["data"]["datetime"] == theirs["datetime"]
        for key in ("id", "microtimestamp", "amount_traded", "amount_at_create", "client_order_id"):
            assert ours["data"][key] == theirs[key], key
        assert D(ours["data"]["amount_str"]) == D(theirs["amount_str"])
        assert _event(text) == event


def test_legacy_balance_with_a_fee_number(recorded: Path) -> None:
    body = _http_body(recorded, "get_account_balance_200.txt")
    assert b'"fee": 0.2200' in body  # a bare JSON number beside string balances: skipped
    assert account.parse_legacy_balance(body) == [
        Balance("btc", D("156"), D("156"), D("0")),
        Balance("eur", D("0.01"), D("0.01"), D("0")),
    ]


def test_legacy_balances_of_every_currency(recorded: Path) -> None:
    body = _http_body(recorded, "get_account_balances_200.txt")
    balances = account.parse_legacy_balance(body)
    listed = re.findall(rb'"([a-z0-9]+)_balance"', body)
    assert [b.currency.encode() for b in balances] == listed
    assert len(balances) > 40
    by_currency = {b.currency: b for b in balances}
    assert by_currency["btc"] == Balance("btc", D(156), D(156), D(0))
    assert by_currency["dai"].total == D("0.00000")
    assert all(b.total == b.available + b.reserved for b in balances)
    # Re-encoded, the balance keys come back with the same string values.
    flat = json.loads(body)
    ours = json.loads(dumps(encode_legacy_balance(balances)))
    assert ours == {key: flat[key] for key in ours}
    parts = {"available", "balance", "reserved"}
    assert set(ours) == {key for key in flat if key.rpartition("_")[2] in parts}


def test_user_transactions_with_mixed_types(recorded: Path) -> None:
    body = _http_body(recorded, "get_user_transactions_200.txt")
    rows = account.parse_user_transactions(body)
    assert [tx.id for tx in rows] == [1, 2, 3, 4]
    deposit, trade = rows[0], rows[1]
    assert deposit.type_code == 0
    assert dict(deposit.amounts) == {"eur": D("250000.00")}
    assert (deposit.rate, deposit.market, deposit.order_id) == (None, None, None)
    assert trade.is_trade
    assert trade.amounts["xrp"] == D("1526.87974528")
    assert trade.amounts["eur"] == D("-250.00000")
    assert set(trade.amounts) == {"xrp", "eur"}  # "usd": 0 and "btc": 0 are untouched
    assert str(trade.rate) == "0.16332"  # a JSON number, read exactly
    assert (trade.market, trade.order_id, trade.fee) == ("xrpeur", 1, D("0.00"))
    assert trade.datetime.isoformat() == "2021-11-21T21:21:21+00:00"
    assert rows[3].amounts == {"xrp": D("-1227.28287000"), "eur": D("1049.38822")}


def test_user_transactions_re_encode_with_the_recorded_types(recorded: Path) -> None:
    body = _http_body(recorded, "get_user_transactions_200.txt")
    rows = account.parse_user_transactions(body)
    ours = json.loads(dumps(encode_user_transactions(rows, currencies=["usd", "btc"])))
    for mine, theirs in zip(ours[1:], json.loads(body)[1:], strict=True):  # the trades
        assert mine == theirs
    # The deposit's zero "btc_usd": "0.00" rate is dropped; everything else is kept.
    assert ours[0] == {k: v for k, v in json.loads(body)[0].items() if k != "btc_usd"}
    assert account.parse_user_transactions(dumps(ours)) == rows


def test_user_transactions_without_results_and_the_200_error(recorded: Path) -> None:
    empty = _http_body(recorded, "get_user_transactions_200_no_results.txt")
    assert account.parse_user_transactions(empty) == []
    error = _http_body(recorded, "get_user_transactions_200_with_validation_error.txt")
    with pytest.raises(PayloadError, match="user_transactions: Expected `array`, got `object`"):
        account.parse_user_transactions(error)
